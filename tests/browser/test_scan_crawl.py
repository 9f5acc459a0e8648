"""The crawl: breadth first, same origin, redirect-only links, sitemap, --max-depth and --max-pages."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from scanner.crawl import scan
from scanner.model import ScanOptions, VisitKind

LINKS = {
    "/": ["/a", "/b", "/old", "https://elsewhere.example/", "/files/x.pdf", "#top"],
    "/a": ["/"],
    "/b": ["/a"],
    "/c": ["/d"],
    "/d": [],
    "/from-sitemap": [],
}


def site() -> Starlette:
    async def page(request: Any) -> Response:
        links = "".join(f'<a href="{href}">{href}</a> ' for href in LINKS[request.url.path])
        return HTMLResponse(f"<!doctype html><title>{request.url.path}</title><body>{links}</body>")

    async def old(request: Any) -> Response:
        return RedirectResponse("/c", status_code=301)

    async def sitemap(request: Any) -> Response:
        base = str(request.base_url).rstrip("/")
        xml = f"<urlset><url><loc>{base}/from-sitemap</loc></url><url><loc>{base}/a</loc></url></urlset>"
        return Response(xml, media_type="application/xml")

    routes = [Route(p, page) for p in LINKS]
    return Starlette(routes=[*routes, Route("/old", old), Route("/sitemap.xml", sitemap)])


def crawl(serve, chromium, **options: Any):
    base = serve(site())
    result = scan(
        ScanOptions(url=base + "/", visits=(VisitKind.FIRST_VIEW,), screenshots=False, **options),
        chromium=chromium,
    )
    return [(p.depth, p.url[len(base) :]) for p in result.pages], result.notes


def test_breadth_first_with_redirects_and_sitemap(serve, chromium):
    pages, notes = crawl(serve, chromium)
    assert pages == [(0, "/"), (1, "/a"), (1, "/b"), (1, "/c"), (1, "/from-sitemap"), (2, "/d")]
    assert any(n.startswith("1 links only redirected to another URL (a language switch") for n in notes)


def test_max_depth_and_max_pages(serve, chromium):
    pages, _ = crawl(serve, chromium, max_depth=1, sitemap=False)
    assert pages == [(0, "/"), (1, "/a"), (1, "/b"), (1, "/c")]
    pages, notes = crawl(serve, chromium, max_pages=2)
    assert pages == [(0, "/"), (1, "/a")]
    assert any(n.startswith("stopped at --max-pages 2; ") for n in notes)
