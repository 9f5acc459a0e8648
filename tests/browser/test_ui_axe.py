"""axe-core (installed from npm by ./run test, read from GATEKEEPER_AXE) finds no WCAG 2.2 A/AA
violation in the banner's two layers, the placeholders and the notice page, at 1280x800 and 375x812,
English and Japanese; and a control page with a known violation shows the run would report one."""

# ruff: noqa: F401, F811 (fixtures imported from ui_support are used as arguments)
from __future__ import annotations

import pytest
from ui_support import LANGS, SCREENS, axe, axe_script, demo, new_page, ready, vendors

MATRIX = [(screen, lang) for screen in SCREENS for lang in LANGS]


@pytest.mark.parametrize(("screen", "lang"), MATRIX)
def test_no_violations(browser_context, axe_script, demo, vendors, screen, lang):
    page = new_page(browser_context, screen, lang, bypass_csp=True)
    found = {}
    page.goto(f"{demo}/access?lang={lang}")
    ready(page)
    found["banner"] = axe(page, axe_script, [".gk", ".gk-ph"])
    page.locator(".gk-more > summary").click()
    found["settings"] = axe(page, axe_script, [".gk"])
    page.goto(f"{demo}/news/3?lang={lang}")
    ready(page)
    found["share links"] = axe(page, axe_script, [".gk-ph"])
    page.goto(f"{vendors}/?lang={lang}")
    ready(page)
    found["vendor embeds"] = axe(page, axe_script, [".gk-ph"])
    page.goto(f"{demo}/_gatekeeper/disclosure?lang={lang}")
    found["notice"] = axe(page, axe_script)
    assert {k: v for k, v in found.items() if v} == {}


def test_control_a_known_violation_is_reported(browser_context, axe_script, demo):
    page = new_page(browser_context, "desktop", "en", bypass_csp=True)
    page.goto(f"{demo}/access?lang=en")
    page.evaluate("document.querySelector('.gk button[value=all]').style.color = '#5577cc'")
    assert "color-contrast" in {v["id"] for v in axe(page, axe_script, [".gk"])}
