"""Every way of putting gatekeeper in front of a site, decided by Chromium: `gatekeeper proxy` in front
of nginx (gzip on), `gatekeeper serve` on the same files, a Flask app and Django's WSGI entry through
a2wsgi, Django through ASGI. In each: no third-party request before consent, every declared embed loads
after "Accept all", and the site's own undeclared or analytics cookie never reaches the jar. The same
pages without gatekeeper (the control) do leak, so the test would see a leak."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from a2wsgi import WSGIMiddleware
from support.origin import KEY, SJIS_TEXT, nginx, site_files
from support.wsgi_apps import django_asgi, django_wsgi, flask_app

from gatekeeper import Gatekeeper
from gatekeeper.proxy import proxy_app
from gatekeeper.serve import static_app

SERVICES = {
    "cookies": [{"name": "sid", "category": "necessary", "purpose": "Session"}],
    "services": [{"id": "youtube"}, {"id": "x"}, {"id": "google-analytics"}],
}
ACCEPT = ".gk button[value=all]"
KINDS = ("proxy", "serve", "flask", "django-wsgi", "django-asgi")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return site_files(tmp_path_factory.mktemp("deploy") / "site")


@pytest.fixture(scope="module")
def upstream(files: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with nginx(files, tmp_path_factory.mktemp("nginx")) as url:
        yield url


def bare(kind: str, files: Path, upstream: str) -> object:
    if kind == "proxy":
        return None  # the control is nginx itself
    if kind == "serve":
        return static_app(files)
    if kind == "flask":
        return WSGIMiddleware(flask_app())
    return WSGIMiddleware(django_wsgi()) if kind == "django-wsgi" else django_asgi()


@pytest.fixture
def site(request, serve: Callable[..., str], files: Path, upstream: str) -> tuple[str, str]:
    """(the site behind gatekeeper, the same site bare)."""
    kind = request.param
    options = {"secret_keys": KEY, "services": SERVICES}
    if kind == "proxy":
        return serve(proxy_app(upstream, **options)), upstream
    app = bare(kind, files, upstream)
    return serve(Gatekeeper(app, **options)), serve(bare(kind, files, upstream))


@pytest.mark.parametrize("site", KINDS, indirect=True)
def test_nothing_leaves_before_consent_and_the_embeds_load_after(site, stub, browser_context):
    behind, control = site
    page = browser_context().new_page()
    page.goto(control + "/", wait_until="load")
    stub.wait_for("www.youtube.com", "/embed/abc")  # the bare site leaks: the test can see it
    stub.reset()

    context = browser_context()
    page = context.new_page()
    response = page.goto(behind + "/", wait_until="load")
    page.wait_for_timeout(400)
    assert stub.hits == []
    assert "_ga" not in {c["name"] for c in context.cookies()}

    page.click(ACCEPT)  # the loader turns the embeds on in place
    stub.wait_for("www.youtube.com", "/embed/abc")
    stub.wait_for("platform.twitter.com", "/widgets.js")
    stub.reset()
    context.new_page().goto(behind + "/", wait_until="load")  # and the next page comes with them live
    stub.wait_for("www.youtube.com", "/embed/abc")
    stub.wait_for("platform.twitter.com", "/widgets.js")
    names = {c["name"] for c in context.cookies() if "127.0.0.1" in c["domain"]}
    assert "_ga" not in names  # analytics was accepted, but the site never declared this cookie
    assert response is not None


@pytest.mark.parametrize("site", ["proxy", "serve"], indirect=True)
def test_a_shift_jis_page_reads_right_and_its_bytes_stay(site, files, stub, browser_context):
    behind, _ = site
    context = browser_context()
    page = context.new_page()
    page.goto(behind + "/sjis.html", wait_until="load")
    assert page.locator("h1").inner_text() == SJIS_TEXT  # Chromium read it as Shift_JIS
    # The bytes as sent (a response's body() in Playwright is the text Chromium decoded, re-encoded)
    body = context.request.get(behind + "/sjis.html").body()
    original = (files / "sjis.html").read_bytes()
    assert original[original.index(b"<h1>") : original.index(b"</h1>")] in body
    page.wait_for_timeout(300)
    assert stub.hits == []


def test_the_proxy_reads_a_gzip_upstream(upstream, serve, stub, browser_context):
    behind = serve(proxy_app(upstream, secret_keys=KEY, services=SERVICES))
    page = browser_context().new_page()
    seen: list[str] = []
    page.on(
        "response",
        lambda r: seen.append(r.headers.get("content-encoding", "")) if r.url.endswith("/") else None,
    )
    page.goto(behind + "/", wait_until="load")
    page.wait_for_timeout(300)
    assert seen == ["gzip"]  # nginx compressed it; the middleware rewrote it all the same
    assert page.locator("[data-gk-src]").count() >= 1
    assert stub.hits == []
