"""Makes the screenshots in this folder: the banner, a placeholder and the notice page of the demo,
desktop (1280x800) and phone (375x812), English and Japanese. Run from the repository root:

    .venv/bin/python docs/screenshots/shoot.py

No network: every third-party name fails to resolve (the placeholders stand in for them anyway).
With `pngquant` installed (Debian: apt-get install pngquant) the images are made about three times
smaller (64 colours are plenty for text on flat colours)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from playwright.sync_api import sync_playwright

from gatekeeper.demo.app import demo_app
from gatekeeper.demo.server import serve_app
from scanner.browser import Chromium, context_options

HERE = Path(__file__).parent
SCREENS = {"desktop": (1280, 800), "phone": (375, 812)}


def main() -> None:
    options = {"privacy_policy_url": "/privacy", "operator_name": "Midori City Office"}
    app = demo_app("screenshots-" + "k" * 32, **options)
    with (
        serve_app(app, lifespan="off") as base,
        Chromium(host_map={}, block_unmapped=True) as chromium,
        sync_playwright() as pw,
    ):
        browser = chromium.connect(pw)
        for screen, (width, height) in SCREENS.items():
            for lang in ("en", "ja"):
                context = browser.new_context(
                    **context_options(
                        viewport={"width": width, "height": height},
                        locale=lang,
                        reduced_motion="reduce",
                        extra_http_headers={"Accept-Language": lang},
                    )
                )
                page = context.new_page()
                page.goto(f"{base}/access?lang={lang}")
                page.wait_for_function("window.__gk === 1")
                page.screenshot(path=HERE / f"banner-{screen}-{lang}.png")
                page.locator(".gk button[value=none]").click()
                page.wait_for_function("document.querySelector('.gk').dataset.gkDecided == '1'")
                page.locator("#gk-ph-0").screenshot(path=HERE / f"placeholder-{screen}-{lang}.png")
                page.goto(f"{base}/_gatekeeper/disclosure?lang={lang}")
                page.screenshot(path=HERE / f"disclosure-{screen}-{lang}.png")
                context.close()
    pngquant = shutil.which("pngquant")
    if pngquant:
        pngs = sorted(str(p) for p in HERE.glob("*.png"))
        subprocess.run([pngquant, "--force", "--ext", ".png", "--speed", "1", "64", *pngs], check=True)


if __name__ == "__main__":
    main()
