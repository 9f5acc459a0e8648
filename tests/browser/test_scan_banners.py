"""Banner detection in Chromium: gatekeeper's, the known consent platforms' markup, and banners found by
their button words in English, Japanese, German and French; what is not a banner stays unfound."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from scanner.banners import DETECT_SCRIPT, detect_args, find_banner
from scanner.browser import Chromium

FIXED = 'style="position:fixed;bottom:0;left:0;right:0;background:#eee;padding:8px"'


def box(inner: str, attrs: str = "") -> str:
    return f"<div {attrs} {FIXED}>{inner}</div>"


GATEKEEPER = """
<div class="gk" data-gk-snippet data-gk-decided="0"><details class="gk-box" data-gk-box open>
<summary class="gk-reopen">Privacy settings</summary>
<section class="gk-panel" role="dialog" data-gk-banner><form method="post" action="/_gatekeeper/consent">
<p>This site uses services that need your consent.</p>
<button type="submit" name="choice" value="all">Accept all</button>
<button type="submit" name="choice" value="none">Reject all</button></form></section></details></div>
"""

# (markup, kind, accept found, reject found on the first layer)
CASES: dict[str, tuple[str, str, bool, bool]] = {
    "gatekeeper": (GATEKEEPER, "gatekeeper", True, True),
    "onetrust": (
        box('<p>We use cookies.</p><button id="onetrust-accept-btn-handler">Accept All Cookies</button>'
            '<button id="onetrust-reject-all-handler">Reject All</button>', 'id="onetrust-banner-sdk"'),
        "onetrust", True, True,
    ),
    "onetrust without reject": (
        box('<p>We use cookies.</p><button id="onetrust-pc-btn-handler">Cookie Settings</button>'
            '<button id="onetrust-accept-btn-handler">Accept All Cookies</button>',
            'id="onetrust-banner-sdk"'),
        "onetrust", True, False,
    ),
    "cookiebot": (
        box('<button id="CybotCookiebotDialogBodyButtonDecline">Deny</button>'
            '<button id="CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll">Allow all</button>',
            'id="CybotCookiebotDialog"'),
        "cookiebot", True, True,
    ),
    "didomi": (
        box('<button id="didomi-notice-agree-button">Agree and close</button>'
            '<button id="didomi-notice-disagree-button">Disagree and close</button>',
            'id="didomi-notice"'),
        "didomi", True, True,
    ),
    "usercentrics (shadow DOM)": (
        '<div id="usercentrics-root"></div><script>'
        'const r = document.getElementById("usercentrics-root").attachShadow({mode: "open"});'
        f'r.innerHTML = `<div {FIXED}><button data-testid="uc-deny-all-button">Deny</button>'
        '<button data-testid="uc-accept-all-button">Accept All</button></div>`;</script>',
        "usercentrics", True, True,
    ),
    "klaro": (
        '<div class="klaro">' + box('<button class="cm-btn cn-decline">I decline</button>'
        '<button class="cm-btn cm-btn-success">That\'s ok</button>', 'class="cookie-notice"') + "</div>",
        "klaro", True, True,
    ),
    "tarteaucitron": (
        box('<button id="tarteaucitronPersonalize2">OK, accept all</button>'
            '<button id="tarteaucitronAllDenied2">Deny all cookies</button>', 'id="tarteaucitronAlertBig"'),
        "tarteaucitron", True, True,
    ),
    "cookieconsent v3": (
        '<div id="cc-main">' + box('<button data-role="all">Accept all</button>'
        '<button data-role="necessary">Reject all</button>', 'class="cm"') + "</div>",
        "cookieconsent", True, True,
    ),
    "osano": (
        box('<button class="osano-cm-denyAll">Deny</button>'
            '<button class="osano-cm-accept-all">Accept</button>', 'class="osano-cm-dialog"'),
        "osano", True, True,
    ),
    "complianz": (
        box('<button class="cmplz-btn cmplz-accept">Accept</button>'
            '<button class="cmplz-btn cmplz-deny">Deny</button>', 'class="cmplz-cookiebanner"'),
        "complianz", True, True,
    ),
    "words, English": (
        box("<p>We use cookies to improve your experience.</p><button>Accept only necessary</button>"
            "<button>Accept all cookies</button>", 'class="notice"'),
        "text", True, True,
    ),
    "words, Japanese": (
        box("<p>当サイトではクッキーを使用しています。</p><button>すべて同意する</button>"
            "<button>必要なもののみ</button>", 'id="cookie-bar"'),
        "text", True, True,
    ),
    "words, German": (
        box("<p>Wir verwenden Cookies.</p><a href='#' role='button'>Alle akzeptieren</a>"
            "<a href='#' role='button'>Ablehnen</a>", 'role="dialog"'),
        "text", True, True,
    ),
    "words, French": (
        box("<p>Ce site utilise des cookies et traceurs.</p><button>Tout accepter</button>"
            "<button>Continuer sans accepter</button>", 'class="bandeau"'),
        "text", True, True,
    ),
    "words, accept only": (
        box("<p>This website uses cookies.</p><button>Got it</button>", 'class="cookie-notice"'),
        "text", True, False,
    ),
}  # fmt: skip

NOT_BANNERS = {
    "no banner": "<h1>Hello</h1><p>Accept our apologies.</p><button>OK</button>",
    "a newsletter box": box("<p>Subscribe to our newsletter!</p><button>Accept</button>", 'role="dialog"'),
    "a hidden cookie banner": '<div id="cookie-notice" style="display:none"><button>Accept</button></div>',
}


@pytest.mark.parametrize("name", list(CASES))
def test_known_banners_and_words(page, name):
    markup, kind, accept, reject = CASES[name]
    page.set_content(f"<!doctype html><html><body><main>Page text</main>{markup}</body></html>")
    found = page.evaluate(DETECT_SCRIPT, detect_args())
    assert found is not None, name
    assert (found["kind"], found["accept"], found["reject"]) == (kind, accept, reject)
    if accept:  # the marked button is the one Playwright will click, even inside a shadow root
        assert page.locator('[data-gk-scan="accept"]').count() == 1
        assert page.locator('[data-gk-scan="accept"]').is_visible()


@pytest.mark.parametrize("name", list(NOT_BANNERS))
def test_what_is_not_a_banner(page, name):
    page.set_content(f"<!doctype html><html><body>{NOT_BANNERS[name]}</body></html>")
    assert page.evaluate(DETECT_SCRIPT, detect_args()) is None


def run_async(chromium: Chromium, check: Any) -> Any:
    """Run `check(browser)` with the async API (as the scanner does) in its own thread: the sync
    API of the tests keeps an event loop in this one."""
    from playwright.async_api import async_playwright

    box_: dict[str, Any] = {}

    async def main() -> None:
        async with async_playwright() as pw:
            browser = await chromium.connect_async(pw)
            try:
                box_["value"] = await check(browser)
            finally:
                await browser.close()

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as e:
            box_["error"] = e

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in box_:
        raise box_["error"]
    return box_["value"]


def test_find_banner_in_a_frame_and_reopen_after_a_choice(chromium, serve, stub):
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    stub.route(
        "https://cmp.example.net/banner",
        "<!doctype html><body>"
        + box("<p>We use cookies.</p><button>Reject all</button><button>Accept all</button>")
        + "</body>",
        content_type="text/html",
    )

    async def framed(request: Any) -> HTMLResponse:
        return HTMLResponse(
            '<!doctype html><body><h1>Shop</h1><iframe src="https://cmp.example.net/banner" '
            'style="position:fixed;bottom:0;width:100%;height:120px;border:0"></iframe></body>'
        )

    async def decided(request: Any) -> HTMLResponse:
        return HTMLResponse(GATEKEEPER.replace(" open>", ">").replace('decided="0"', 'decided="1"'))

    base = serve(Starlette(routes=[Route("/framed", framed), Route("/decided", decided)]))

    async def check(browser: Any) -> Any:
        context = await browser.new_context(ignore_https_errors=True)
        page = await context.new_page()
        await page.goto(base + "/framed")
        in_frame = await find_banner(page)
        await page.goto(base + "/decided")
        closed = await find_banner(page)
        reopenable = await find_banner(page, reopen=True)
        assert reopenable is not None
        await reopenable.button("reopen").click()
        reopened = await find_banner(page)
        await context.close()
        return in_frame, closed, reopenable, reopened

    in_frame, closed, reopenable, reopened = run_async(chromium, check)
    assert in_frame is not None and in_frame.kind == "text" and in_frame.has_reject
    assert "cmp.example.net" in in_frame.frame.url
    assert closed is None  # a closed gatekeeper banner is no banner on the page...
    assert reopenable.has_reopen and not reopenable.has_reject  # ...but it can be reopened
    assert reopened is not None and reopened.has_accept and reopened.has_reject
