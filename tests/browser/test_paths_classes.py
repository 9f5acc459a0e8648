"""One run over every class of response issue 10 found, in Chromium: no third-party request before
consent, and the banner there and working (XHTML pages, read as XML, too: tests/browser/test_xhtml.py
has more). The bare-page controls for each class are in test_paths_responses.py."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from gatekeeper import Gatekeeper

KEY = "paths-classes-secret-0123456789"
SERVICES: dict[str, Any] = {"services": [{"id": "youtube"}]}
TRACKER = "tracker.example"
CT = b"content-type"
PAGE = (
    b"<!doctype html><html><head><title>c</title></head><body><p>class</p>"
    b'<img src="https://tracker.example/c.gif" alt=""><script>fetch("https://tracker.example/f")</script>'
    b"</body></html>"
)
XHTML = (
    b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head>'
    b'<body><img src="https://tracker.example/x.gif" alt=""/></body></html>'
)
NONCE_PAGE = PAGE.replace(b"<script>", b'<script nonce="n0">')
WS_PAGE = PAGE + b"<script>new WebSocket('ws://' + location.host + '/ws')</script>"

CLASSES: dict[str, tuple[list[tuple[bytes, bytes]], bytes, bool]] = {
    "text-html": ([(CT, b"text/html")], PAGE, True),
    "no-type": ([], PAGE, True),
    "two-types": ([(CT, b"text/plain"), (CT, b"text/html")], PAGE, True),
    "type-list": ([(CT, b"text/plain, text/html")], PAGE, True),
    "gzip": ([(CT, b"text/html"), (b"content-encoding", b"gzip")], gzip.compress(PAGE), True),
    "gzip-gzip": (
        [(CT, b"text/html"), (b"content-encoding", b"gzip, gzip")],
        gzip.compress(gzip.compress(PAGE)),
        True,
    ),
    "app-csp-nonce": (
        [(CT, b"text/html"), (b"content-security-policy", b"script-src 'nonce-n0' 'strict-dynamic'")],
        NONCE_PAGE,
        True,
    ),
    "websocket": ([(CT, b"text/html")], WS_PAGE, True),
    "xhtml": ([(CT, b"application/xhtml+xml")], XHTML, True),
    "xhtml-as-xml": ([(CT, b"text/xml")], XHTML, True),
}


def app(scope: dict[str, Any], receive: Any, send: Any) -> Any:
    async def run() -> None:
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept", "headers": [(b"set-cookie", b"ws=taro@example.jp")]})
            return
        if scope["type"] != "http":
            return
        headers, body, _ = CLASSES[scope["path"].strip("/")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return run()


@pytest.fixture(scope="module")
def guarded() -> Gatekeeper:
    return Gatekeeper(app, secret_keys=KEY, services=SERVICES)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_class_of_response(serve, stub, browser_context, guarded, name):
    base = serve(guarded)
    context = browser_context()
    tab = context.new_page()
    tab.goto(f"{base}/{name}", wait_until="load")
    tab.wait_for_timeout(500)
    assert [h.url for h in stub.hits if h.host == TRACKER] == []
    assert "ws" not in {c["name"] for c in context.cookies()}
    if not CLASSES[name][2]:
        return
    tab.click("[data-gk-banner] button[name=choice][value=none]")
    tab.wait_for_function(
        "fetch('/_gatekeeper/consent').then(r => r.json()).then(s => s.decided)", polling=200
    )
    state = tab.evaluate("fetch('/_gatekeeper/consent').then(r => r.json())")
    assert state["decided"] is True and not any(state["services"].values())
    assert [h.url for h in stub.hits if h.host == TRACKER] == []
