"""WSGI apps behind gatekeeper through a2wsgi (Flask, Django's WSGI entry) and Django through ASGI: the
page is rewritten, the cookie gate judges the app's cookies, request bodies and streamed answers pass."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from a2wsgi import WSGIMiddleware
from support.origin import KEY
from support.wsgi_apps import django_asgi, django_wsgi, flask_app

from gatekeeper import Gatekeeper

SERVICES = {
    "cookies": [{"name": "sid", "category": "necessary", "purpose": "Session"}],
    "services": [{"id": "youtube"}, {"id": "x"}, {"id": "google-analytics"}],
}
APPS: dict[str, Callable[[], object]] = {
    "flask": lambda: WSGIMiddleware(flask_app()),
    "django-wsgi": lambda: WSGIMiddleware(django_wsgi()),
    "django-asgi": django_asgi,
}


@pytest.fixture(params=sorted(APPS))
def base(request, serve) -> str:
    return serve(Gatekeeper(APPS[request.param](), secret_keys=KEY, services=SERVICES))


def test_pages_are_rewritten_and_cookies_gated(base):
    r = httpx.get(base + "/")
    assert r.status_code == 200
    assert b'data-gk-src="https://www.youtube.com/embed/abc"' in r.content
    assert "content-security-policy" in r.headers
    assert set(r.cookies) == {"sid"}  # _ga: analytics, not consented (and not declared)


def test_flask_request_bodies_and_streamed_answers_pass(serve):
    base = serve(Gatekeeper(WSGIMiddleware(flask_app()), secret_keys=KEY, services=SERVICES))
    r = httpx.post(base + "/echo", data={"name": "値"})
    assert r.json() == {"bytes": len("name=%E5%80%A4"), "form": {"name": "値"}}
    big = httpx.post(base + "/echo", content=b"x" * 3_000_000, headers={"content-type": "text/plain"})
    assert big.json()["bytes"] == 3_000_000
    lines = httpx.get(base + "/stream").text.splitlines()
    assert lines[0] == "line 0" and lines[-1] == "line 99"
