"""`document.cookie` writes go through the same declarations as Set-Cookie headers, decided in Chromium:
a declared, granted name and a clean value are stored; anything else is dropped. The bare page (the
same app without gatekeeper) stores every one of them: the control."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from gatekeeper import Gatekeeper

KEY = "paths-cookie-gate-secret-0123456789"
SERVICES: dict[str, Any] = {
    "cookies": [
        {"name": "sid", "category": "necessary", "purpose": "Session"},
        {"name": "sess_*", "category": "necessary", "purpose": "Session parts"},
        {"name": "pref_*", "category": "usability", "purpose": "Preferences", "max_age_days": 365},
    ],
    "services": [{"id": "google-analytics"}, {"id": "youtube"}],
}
# (what the page writes, the cookie name it would make, stored before consent, stored after "all")
WRITES = [
    ("sid=s3ss10n; path=/", "sid", True, True),
    ("sess_ok=1; path=/", "sess_ok", True, True),
    ("undeclared_js=1; max-age=3600", "undeclared_js", False, False),
    ("pref_theme=dark; max-age=3600", "pref_theme", False, True),
    ("_ga=GA1.1.123456789.1700000000; max-age=3600", "_ga", False, True),  # a service's own cookie
    ("sess_mail=taro@example.jp", "sess_mail", False, False),
    ("sess_mail2=taro%40example.jp", "sess_mail2", False, False),
    ("sess_b64=dGFyb0BleGFtcGxlLmpw", "sess_b64", False, False),
    ("sess_tel=090-1234-5678", "sess_tel", False, False),
    ("sess_fw=０９０－１２３４－５６７８", "sess_fw", False, False),
    ("sess_taro@example.jp=1", "sess_taro@example.jp", False, False),  # the name is checked too
    ("tracker=1; expires=Thu, 01 Jan 69 00:00:00 GMT", "tracker", False, False),  # 2069 to Chromium
]
SCRIPT = "".join(f"document.cookie = {w!r};" for w, *_ in WRITES)
PAGE = (
    f"<!doctype html><html><head><script>{SCRIPT}</script><title>c</title></head>"
    "<body><p>cookies</p></body></html>"
)


def site() -> Starlette:
    async def home(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE)

    return Starlette(routes=[Route("/", home)])


def _jar(context: Any) -> set[str]:
    return {c["name"] for c in context.cookies()} - {"gk_consent"}


def test_document_cookie_writes_are_gated(serve, browser_context):
    bare = serve(site())
    context = browser_context()
    context.new_page().goto(bare + "/", wait_until="load")
    assert _jar(context) == {name for _, name, *_ in WRITES}  # the control: Chromium stores them all

    guarded = serve(Gatekeeper(site(), secret_keys=KEY, services=SERVICES))
    context = browser_context()
    page = context.new_page()
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page.goto(guarded + "/", wait_until="load")
    assert _jar(context) == {name for _, name, before, _ in WRITES if before}
    assert any("gatekeeper: cookie undeclared_js not set" in w for w in warnings)

    with page.expect_navigation(wait_until="load", timeout=15000):  # granting more reloads the page
        page.click("[data-gk-banner] button[name=choice][value=all]")
    assert _jar(context) == {name for _, name, _, after in WRITES if after}


@pytest.mark.parametrize("write", ["sid=; max-age=0", "sid=; expires=Thu, 01 Jan 1970 00:00:00 GMT"])
def test_a_deletion_always_passes(serve, browser_context, write):
    guarded = serve(Gatekeeper(site(), secret_keys=KEY, services=SERVICES))
    context = browser_context()
    page = context.new_page()
    page.goto(guarded + "/", wait_until="load")
    assert "sid" in _jar(context)
    page.evaluate("w => { document.cookie = w; }", write)
    assert "sid" not in _jar(context)
