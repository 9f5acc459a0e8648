"""The loader brings back an SVG <style> and <script> made inert whole (their namespace is SVG's, so
the loader must not take them for elements it only has to rename): after "Accept all" the sheet
applies and the script is fetched, in place, in Chromium. A bare-page control shows both would."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from test_loader import ours

from gatekeeper.middleware import Gatekeeper

# a character reference in the sheet: the rewriter cannot mark the URL alone, so the whole sheet waits
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Map</title></head><body>
<svg width="20" height="20">
<style>&#114;ect { fill: rgb(7, 8, 9) } .t { fill: url(https://i.ytimg.com/vi/svg/sheet.png) }</style>
<script href="https://www.youtube.com/iframe_api?svg=1"></script>
<rect id="rect" width="20" height="20"/></svg>
<p>Thank you.</p>
</body></html>"""


def app() -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE)

    return Starlette(routes=[Route("/", page)])


def fill(page: Any) -> str:
    return str(page.evaluate("getComputedStyle(document.getElementById('rect')).fill"))


def test_bare_page_control(serve, stub, page):
    base = serve(app())
    page.goto(base + "/", wait_until="load")
    stub.wait_for("www.youtube.com", "/iframe_api")
    assert fill(page) == "rgb(7, 8, 9)"


def test_accept_all_brings_back_an_svg_style_and_script(serve, stub, page):
    gk = Gatekeeper(
        app(), secret_keys=["integration-test-key-0123456789"], services={"services": [{"id": "youtube"}]},
        csp="off",
    )  # fmt: skip
    base = serve(gk)
    page.goto(base + "/", wait_until="load")
    page.wait_for_timeout(300)
    assert ours(stub, base) == []
    assert fill(page) != "rgb(7, 8, 9)"  # the whole sheet waits
    page.evaluate("window.__mark = 1")
    page.locator(".gk button[value=all]").click()
    stub.wait_for("www.youtube.com", "/iframe_api")
    page.wait_for_function("getComputedStyle(document.getElementById('rect')).fill == 'rgb(7, 8, 9)'")
    assert page.evaluate("window.__mark") == 1  # in place, no reload
