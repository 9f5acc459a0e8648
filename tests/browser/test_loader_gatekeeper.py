"""The loader against the real rewriter: gatekeeper.Gatekeeper in front of a page with vendors' own
embed codes, in Chromium. What the rewriter makes inert, the loader brings back, and only then."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from test_loader import ours

from gatekeeper.middleware import Gatekeeper

PREFIX = "/_gatekeeper/"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Town hall</title>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST123"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date());
  gtag('config', 'G-TEST123');
</script>
</head><body>
<h1>Opening hours</h1>
<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ" title="YouTube video player"
 frameborder="0" allow="accelerometer; autoplay; clipboard-write; encrypted-media" allowfullscreen></iframe>
<p>Find us:</p>
<iframe src="https://www.google.com/maps/embed?pb=!1m18" width="600" height="450" style="border:0;"
 allowfullscreen="" loading="lazy" referrerpolicy="no-referrer-when-downgrade"></iframe>
<p id="end">Thank you.</p>
</body></html>"""


def site(csp: str) -> Gatekeeper:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE)

    app = Starlette(routes=[Route("/", page)])
    return Gatekeeper(
        app,
        secret_keys=["integration-test-key-0123456789"],
        services={"services": [{"id": "youtube"}, {"id": "google-maps"}, {"id": "google-analytics"}]},
        csp=csp,  # type: ignore[arg-type]
    )


def gtag_config_ran(page: Any) -> bool:
    return bool(page.evaluate("(window.dataLayer || []).some(a => a[0] === 'config')"))


@pytest.mark.parametrize("javascript", [True, False])
def test_nothing_leaves_before_a_choice_or_after_reject(serve, stub, browser_context, javascript):
    base = serve(site("enforce"))
    page = browser_context(javascript=javascript).new_page()
    page.goto(base + "/", wait_until="load")
    assert page.locator("[data-gk-ph]").count() == 2
    page.locator(".gk button[value=none]").click()  # a form post, or in place with JS (nothing to add)
    page.wait_for_selector(".gk-reopen", state="visible")
    page.wait_for_timeout(400)
    assert ours(stub, base) == []
    assert page.locator("[data-gk-ph]").count() == 2 and page.locator(".gk-reopen").is_visible()


def test_accept_all_in_place_when_the_csp_allows_it(serve, stub, page):
    base = serve(site("off"))
    page.goto(base + "/", wait_until="load")
    page.evaluate("window.__mark = 1")
    assert not gtag_config_ran(page) and ours(stub, base) == []
    page.locator(".gk button[value=all]").click()
    stub.wait_for("www.youtube.com", "/embed/dQw4w9WgXcQ")
    stub.wait_for("www.google.com", "/maps/embed?pb=!1m18")
    stub.wait_for("www.googletagmanager.com", "/gtag/js?id=G-TEST123")
    page.wait_for_function("(window.dataLayer || []).some(a => a[0] === 'config')")
    assert page.evaluate("window.__mark") == 1  # no reload
    assert page.locator("[data-gk-ph]").count() == 0
    assert page.locator("iframe[src*=youtube]").is_visible()
    layer = page.evaluate("dataLayer.map(a => a[0] === 'consent' ? Array.from(a).slice(0, 2) : 0)")
    assert ["consent", "default"] in layer and ["consent", "update"] in layer
    assert layer.index(["consent", "default"]) == 0  # before the site's own tag


def test_accept_all_reloads_under_the_enforced_csp(serve, stub, page):
    base = serve(site("enforce"))
    page.goto(base + "/", wait_until="load")
    with page.expect_navigation():
        page.locator(".gk button[value=all]").click()
    stub.wait_for("www.youtube.com", "/embed/dQw4w9WgXcQ")
    stub.wait_for("www.googletagmanager.com", "/gtag/js?id=G-TEST123")
    page.wait_for_function("(window.dataLayer || []).some(a => a[0] === 'config')")
    assert page.locator("[data-gk-ph]").count() == 0
    default = page.evaluate("Array.from(dataLayer[0])")
    assert default[:2] == ["consent", "default"] and default[2]["analytics_storage"] == "granted"


@pytest.mark.parametrize("javascript", [True, False])
def test_load_once_through_the_middleware(serve, stub, browser_context, javascript):
    base = serve(site("enforce"))
    page = browser_context(javascript=javascript).new_page()
    page.goto(base + "/", wait_until="load")
    once = page.locator("#gk-ph-1 button[value=once]")
    with page.expect_navigation():
        # without JavaScript the open banner covers the end of a short page: keyboard still reaches it
        once.click() if javascript else once.press("Enter")
    stub.wait_for("www.google.com", "/maps/embed?pb=!1m18")
    assert page.url.endswith("/#gk-ph-1")
    # the fragment names the spot right before the embed, now live: the visitor is back where they were
    after = "document.querySelector(':target') && document.querySelector(':target').nextElementSibling.src"
    assert "www.google.com/maps/embed" in page.evaluate(after)
    page.wait_for_timeout(300)
    assert {h.host for h in ours(stub, base)} == {"www.google.com"}
    assert page.locator("#gk-ph-0").is_visible()
    stub.reset()
    page.reload()
    page.wait_for_timeout(300)
    assert ours(stub, base) == []


def test_loader_and_styles_as_served_fit_the_budget(serve, stub, page):
    base = serve(site("enforce"))
    page.goto(base + "/", wait_until="load")
    urls = [page.locator("script[data-gk-prefix]").get_attribute("src"),
            page.locator("link[data-gk-snippet]").get_attribute("href")]  # fmt: skip
    total = 0
    for url in urls:
        assert url.startswith(PREFIX + "static/")
        response = page.request.get(base + url)
        assert response.ok
        assert "immutable" in response.headers["cache-control"]
        total += len(gzip.compress(response.body(), 9))
    assert total <= 5 * 1024
    assert page.evaluate("window.__gk") == 1  # and it ran, under the page's CSP
