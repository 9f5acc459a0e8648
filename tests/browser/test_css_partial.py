"""A style sheet or style attribute with one non-granted URL keeps everything else (issue 14 §3), in
Chromium behind the real middleware: the other rules apply (computed style), the URL is not requested;
after "Accept all" the loader puts it back in place (or, under the enforced CSP and without JavaScript,
the page served after the choice has it live)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from test_loader import ours

from gatekeeper.middleware import Gatekeeper

YT = "https://i.ytimg.com/vi/"  # YouTube's thumbnails: a declared service
PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>News</title>
<style>
@import url({YT}sheet/imported.css);
.hero {{ background-image: url({YT}x/hero.png); height: 41px }}
/* url({YT}comment/no.png) */
.box {{ color: rgb(1, 2, 3); width: 123px; font-family: "url(x)" }}
.ad {{ background: rgb(9, 9, 9) url(https://cdn.stranger.example/ad.png) no-repeat; min-height: 5px }}
.set {{ background-image: -webkit-image-set("{YT}s/set.png" 1x); border-top: 3px solid rgb(1, 1, 1) }}
@font-face {{ font-family: F;
  src: url(https://cdn.stranger.example/f.woff2) format("woff2"), url(/own.woff2) }}
.f {{ font-family: F, serif }}
</style></head><body>
<div class="set" id="set">set</div><p class="f">font</p>
<div class="hero" id="hero">hero</div>
<div class="box" id="box">box</div>
<div class="ad" id="ad">ad</div>
<div id="inline"
 style="color: rgb(4, 5, 6); background-image: url(&quot;{YT}y/inline.png&quot;); width: 77px">x</div>
<svg width="20" height="20"><style>.s {{ fill: rgb(7, 8, 9) }} .t {{ fill: url({YT}z/svg.png) }}</style>
<rect id="rect" class="s" width="20" height="20"/></svg>
<p id="end">Thank you.</p>
</body></html>"""

URLS = {"/vi/sheet/imported.css", "/vi/x/hero.png", "/vi/y/inline.png", "/vi/s/set.png"}


def computed(page: Any, element: str, prop: str) -> str:
    return str(page.evaluate(f"getComputedStyle(document.getElementById('{element}'))['{prop}']"))


def assert_the_rest_applies(page: Any) -> None:
    assert computed(page, "hero", "height") == "41px"
    assert computed(page, "box", "color") == "rgb(1, 2, 3)" and computed(page, "box", "width") == "123px"
    assert computed(page, "ad", "backgroundColor") == "rgb(9, 9, 9)"
    assert computed(page, "ad", "minHeight") == "5px"
    assert computed(page, "inline", "color") == "rgb(4, 5, 6)" and computed(page, "inline", "width") == "77px"
    assert computed(page, "rect", "fill") == "rgb(7, 8, 9)"
    assert computed(page, "set", "borderTopWidth") == "3px"


FONTS: list[str] = []  # the site's own font, asked for when the source before it fetches nothing


def app() -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE)

    async def font(request: Request) -> Response:
        FONTS.append(request.url.path)
        return Response(b"", media_type="font/woff2")

    return Starlette(routes=[Route("/", page), Route("/own.woff2", font)])


def site(csp: str) -> Gatekeeper:
    return Gatekeeper(
        app(),
        secret_keys=["integration-test-key-0123456789"],
        services={"services": [{"id": "youtube"}]},
        csp=csp,  # type: ignore[arg-type]
    )


def fetched(stub: Any, base: str) -> set[str]:
    return {h.path for h in ours(stub, base) if h.host == "i.ytimg.com"}


def test_bare_page_control(serve, stub, page):
    """Without gatekeeper the same page fetches every URL: the test below would see them."""
    base = serve(app())
    page.goto(base + "/", wait_until="load")
    for path in URLS:
        stub.wait_for("i.ytimg.com", path)
    stub.wait_for("cdn.stranger.example", "/ad.png")
    assert_the_rest_applies(page)


@pytest.mark.parametrize("csp", ["enforce", "report-only"])
def test_only_the_url_is_inert(serve, stub, page, csp):
    FONTS.clear()
    base = serve(site(csp))
    page.goto(base + "/", wait_until="load")
    page.wait_for_timeout(400)
    assert ours(stub, base) == []  # not one request, whatever the CSP says
    assert FONTS == ["/own.woff2"]  # @font-face: the next source in the list is tried
    assert_the_rest_applies(page)
    assert "[gk]" in computed(page, "hero", "backgroundImage")
    assert page.locator("style[data-gk-css]").count() == 2  # the HTML and the SVG style sheet


def test_accept_all_restores_in_place(serve, stub, page):
    base = serve(site("off"))
    page.goto(base + "/", wait_until="load")
    page.evaluate("window.__mark = 1")
    page.locator(".gk button[value=all]").click()
    for path in URLS:
        stub.wait_for("i.ytimg.com", path)
    page.wait_for_function("!document.querySelector('[data-gk-css][style*=\"[gk]\"]')")
    assert page.evaluate("window.__mark") == 1  # no reload
    assert computed(page, "hero", "backgroundImage") == f'url("{YT}x/hero.png")'
    assert computed(page, "inline", "backgroundImage") == f'url("{YT}y/inline.png")'
    assert_the_rest_applies(page)
    page.wait_for_timeout(300)
    # an undeclared host never comes back; nor does what never was a URL
    assert {h.host for h in ours(stub, base)} == {"i.ytimg.com"}
    assert not any("comment" in p for p in fetched(stub, base))


@pytest.mark.parametrize("javascript", [True, False])
def test_accept_all_under_the_enforced_csp(serve, stub, browser_context, javascript):
    base = serve(site("enforce"))
    page = browser_context(javascript=javascript).new_page()
    page.goto(base + "/", wait_until="load")
    with page.expect_navigation():
        page.locator(".gk button[value=all]").click()  # a reload with JS, the form's 303 without
    page.wait_for_load_state("load")
    for path in URLS:
        stub.wait_for("i.ytimg.com", path)
    assert computed(page, "hero", "backgroundImage") == f'url("{YT}x/hero.png")'
    assert_the_rest_applies(page)
    assert {h.host for h in ours(stub, base)} == {"i.ytimg.com"}
