"""The browser test infrastructure does what the other tests rely on (ENVIRONMENT.md, proven here)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from scanner.browser import BrowserNotFound, Chromium, find_chromium, host_resolver_rules


def html_app(body: str) -> Starlette:
    async def index(request: Any) -> HTMLResponse:
        return HTMLResponse(f"<!doctype html><html><head><title>t</title></head><body>{body}</body></html>")

    return Starlette(routes=[Route("/", index)])


def test_third_party_script_and_pixel_reach_the_stub(serve, stub, page):
    base = serve(
        html_app(
            '<script src="https://platform.twitter.com/widgets.js"></script>'
            '<img src="https://www.facebook.com/tr?id=1" alt="">'
        )
    )
    page.goto(base + "/", wait_until="load")

    script = stub.wait_for("platform.twitter.com", "/widgets.js")
    pixel = stub.wait_for("www.facebook.com", "/tr?id=1")
    assert script.scheme == pixel.scheme == "https"
    assert script.headers["sec-fetch-dest"] == "script"
    assert pixel.headers["sec-fetch-dest"] == "image"
    assert script.headers["referer"].startswith(base)
    # the stub answered plausibly: the image decoded as a 1x1 picture
    assert page.evaluate("document.images[0].naturalWidth") == 1


def test_plain_http_and_custom_answers(serve, stub, page):
    stub.route("http://cdn.example.net/app.js", "window.stubbed = 42;")
    base = serve(html_app('<script src="http://cdn.example.net/app.js"></script>'))
    page.goto(base + "/")
    assert page.evaluate("window.stubbed") == 42
    assert stub.hits_for("cdn.example.net")[0].scheme == "http"


def test_unmapped_host_fails_fast_without_dns(serve, stub, browser_context):
    base = serve(
        html_app(
            '<script src="https://platform.twitter.com/widgets.js"></script>'
            '<img src="https://tracker.unmapped.example/p.gif" alt="">'
        )
    )
    page = browser_context(hosts=["platform.twitter.com"]).new_page()
    failed: list[Any] = []
    page.on("requestfailed", lambda r: failed.append(r))
    started = time.monotonic()
    page.goto(base + "/", wait_until="load")
    elapsed = time.monotonic() - started

    stub.wait_for("platform.twitter.com")
    assert "tracker.unmapped.example" not in stub.hosts
    assert [(r.url, r.failure) for r in failed] == [
        ("https://tracker.unmapped.example/p.gif", "net::ERR_NAME_NOT_RESOLVED")
    ]
    assert elapsed < 3  # no resolver timeout: ~NOTFOUND answers at once


def test_third_party_cookie_from_a_widget_iframe_is_observable(serve, stub, browser_context):
    stub.route("https://widget.example.com/frame", "<p>widget</p>", content_type="text/html")
    stub.set_cookie("https://widget.example.com/frame", "wid=abc; Path=/; SameSite=None; Secure; Max-Age=600")
    base = serve(html_app('<iframe src="https://widget.example.com/frame"></iframe>'))
    context = browser_context()
    page = context.new_page()
    offered = record_offered_cookies(context, page)
    page.goto(base + "/", wait_until="load")
    stub.wait_for("widget.example.com", "/frame")
    page.wait_for_timeout(100)

    jar = {(c["domain"], c["name"]) for c in context.cookies()}
    assert ("widget.example.com", "wid") in jar
    assert any("wid=abc" in header and not blocked for header, blocked in offered)


def test_default_chromium_blocks_it_and_devtools_says_why(serve, stub, playwright, chromium):
    """The contrast: Playwright's own launch (no profile preference) blocks the same cookie, and the
    DevTools extra-info event reports it with a reason. That is what the scanner records."""
    stub.set_cookie("https://widget.example.com/frame", "wid=abc; Path=/; SameSite=None; Secure")
    base = serve(html_app('<iframe src="https://widget.example.com/frame"></iframe>'))
    plain = playwright.chromium.launch(executable_path=chromium.executable, args=chromium.args)
    try:
        context = plain.new_context(ignore_https_errors=True)
        page = context.new_page()
        offered = record_offered_cookies(context, page)
        page.goto(base + "/", wait_until="load")
        stub.wait_for("widget.example.com", "/frame")
        page.wait_for_timeout(100)
        assert not [c for c in context.cookies() if c["name"] == "wid"]
        reasons = [r for header, blocked in offered if "wid=abc" in header for r in blocked]
        assert reasons, offered
    finally:
        plain.close()


def record_offered_cookies(context: Any, page: Any) -> list[tuple[str, list[str]]]:
    """(Set-Cookie header, blocked reasons) per response, from DevTools' extra-info events."""
    offered: list[tuple[str, list[str]]] = []
    cdp = context.new_cdp_session(page)

    def on_extra(event: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in event.get("headers", {}).items()}
        if "set-cookie" in headers:
            reasons = [r for b in event.get("blockedCookies", []) for r in b.get("blockedReasons", [])]
            offered.append((headers["set-cookie"], reasons))

    cdp.on("Network.responseReceivedExtraInfo", on_extra)
    cdp.send("Network.enable")
    return offered


def test_javascript_can_be_disabled(serve, browser_context):
    base = serve(html_app("<script>document.title = 'js ran'</script>"))
    page = browser_context(javascript=False).new_page()
    page.goto(base + "/")
    assert page.title() == "t"


def test_host_resolver_rules():
    assert host_resolver_rules({"*.twitter.com": 8443, "twitter.com": "127.0.0.1:8443"}) == (
        "MAP *.twitter.com 127.0.0.1:8443, MAP twitter.com 127.0.0.1:8443, MAP * ~NOTFOUND, "
        "EXCLUDE 127.0.0.1, EXCLUDE localhost, EXCLUDE [::1]"
    )
    assert host_resolver_rules({}, block_unmapped=False) == ""


def test_debian_wrapper_script_is_unwrapped(tmp_path):
    binary = tmp_path / "lib" / "chromium" / "chromium"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    wrapper = tmp_path / "chromium"
    wrapper.write_text(
        f"#!/bin/sh\nAPPNAME=chromium\nLIBDIR={tmp_path}/lib/$APPNAME\nexec $LIBDIR/$APPNAME\n"
    )
    wrapper.chmod(0o755)
    assert find_chromium(wrapper) == str(binary)
    assert find_chromium(binary) == str(binary)


def test_missing_browser_is_a_clear_error(tmp_path):
    with pytest.raises(BrowserNotFound, match=r"no executable there.*apt-get install chromium"):
        find_chromium(tmp_path / "nope")
    with pytest.raises(BrowserNotFound, match="no executable"):
        Chromium(tmp_path / "nope")
