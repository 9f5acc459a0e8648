"""`gatekeeper init URL`: one crawl proposes a services file that, loaded back, leaves the scanner no
undeclared third party: on the demo site, and on pages with embeds no catalog service covers (bare,
and behind gatekeeper, where the unknown ones are only in the inert markup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support import serve_app

from gatekeeper import Gatekeeper
from gatekeeper.cli import main
from gatekeeper.demo.app import site as demo_site
from gatekeeper.registry import Category, load_registry
from scanner.crawl import scan
from scanner.model import ScanOptions, VisitKind
from scanner.propose import inert_urls

EXCLUDE = ("/lang/*", "/textsize/*")  # the demo's language and text-size links only redirect back
PAGES = {
    "/": '<a href="/a">a</a> <a href="/b">b</a>'
    '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>',
    "/a": '<iframe src="https://player.unknown-video.example/e/1" width="640" height="360"></iframe>'
    '<script src="https://cdn.unknown-tags.example/t.js"></script>'
    '<iframe src="https://www.youtube.com/embed/M7lc1UVf-VE" width="560" height="315"></iframe>',
    "/b": '<img src="https://img.unknown-tags.example/p.png" alt="">'
    '<iframe src="https://www.dailymotion.com/embed/video/x8j3k1a" width="640" height="360"></iframe>',
}


async def unknown_embeds(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = PAGES.get(scope["path"])
    status = 200 if body is not None else 404
    html = f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>{body}'
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8")]})  # fmt: skip
    await send({"type": "http.response.body", "body": html.encode() if body is not None else b""})


def init(base: str, out: Path, stub: Any, capsys: Any) -> str:
    code = main([
        "init", base + "/", "-o", str(out), "--max-pages", "8", "--ignore-https-errors",
        "--map-host", f"*={stub.address}", "--block-unmapped", *(f"--exclude={e}" for e in EXCLUDE),
    ])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    return printed


def undeclared_left(base: str, services: Path, chromium: Any) -> set[str]:
    # a bare site contacts every third party on its first view: that visit is enough here
    options = ScanOptions(url=base + "/", services=services, ignore_https_errors=True, exclude=EXCLUDE,
                          max_pages=8, screenshots=False, visits=(VisitKind.FIRST_VIEW,))  # fmt: skip
    result = scan(options, chromium=chromium)
    assert result.pages
    return {f.subject for f in result.findings if f.rule == "undeclared-third-party"}


def test_init_on_the_demo_site(_stub_server, chromium, tmp_path, capsys):
    out = tmp_path / "services.toml"
    with serve_app(demo_site()) as base:
        printed = init(base, out, _stub_server, capsys)
        proposed = load_registry(out)
        ids = {s.id for s in proposed.services}
        assert {"google-analytics", "google-fonts", "youtube", "google-maps"} <= ids
        assert "UNKNOWN" not in printed
        assert undeclared_left(base, out, chromium) == set()


def declared_hosts(path: Path) -> set[str]:
    return {str(h) for s in load_registry(path).services for h in s.hosts}


def test_init_on_pages_with_unknown_embeds(stub, chromium, tmp_path, capsys):
    files = {}
    for behind in (False, True):
        out = files[behind] = tmp_path / f"services-{behind}.toml"
        app = Gatekeeper(unknown_embeds, secret_keys="k" * 32) if behind else unknown_embeds
        stub.reset()
        with serve_app(app) as base:
            printed = init(base, out, stub, capsys)
        text = out.read_text("utf-8")
        proposed = load_registry(out)
        assert proposed.by_id["jquery-cdn"].category is Category.REQUIRED
        assert text.index("# ---- required: shared CDNs") < text.index('id = "jquery-cdn"')
        assert {"youtube", "dailymotion"} <= set(proposed.by_id)
        for host in ("player.unknown-video.example", "cdn.unknown-tags.example", "img.unknown-tags.example"):
            assert host in text and [s.id for s in proposed.services_for(host)] != []
        assert "# UNKNOWN HOST: no catalog service covers cdn.unknown-tags.example, img.unknown-tags" in text
        assert printed.count("UNKNOWN") == 2  # one entry per registrable domain, flagged on the terminal
        if behind:  # undeclared hosts never reached the browser: found in the inert markup
            assert "player.unknown-video.example" not in {h.host for h in stub.hits}
    assert declared_hosts(files[True]) == declared_hosts(files[False])
    with serve_app(unknown_embeds) as base:  # loaded back, on the site itself
        assert undeclared_left(base, files[True], chromium) == set()


def test_inert_urls_reads_every_renamed_attribute():
    html = (
        '<iframe data-gk="?" data-gk-src="https://a.example/e?x=1&amp;y=2" hidden></iframe>'
        "<img data-gk=? data-gk-srcset='//b.example/1.png 1x, //b.example/2.png 2x'>"
        '<link data-gk="x" data-gk-href=/local.css><object data-gk-data="https://c.example/o.pdf">'
        '<video data-gk-poster="https://d.example/p.jpg"></video><a data-gk-title="https://no.example/">'
        # URLs of style sheets and style attributes, marked (the rest of the sheet stays live)
        '<style data-gk="? x" data-gk-css>.a{background:url(https://[gk]/?/https\\:\\/\\/e.example/a.png)}'
        '@import "https://[gk]/x/https://f.example/b.css";</style>'
        '<p data-gk="?" data-gk-css style="background:url(&quot;https://[gk]/?///g.example/c.png&quot;)">'
    )
    assert inert_urls(html, "https://site.example/page") == [
        "https://a.example/e?x=1&y=2", "https://b.example/1.png", "https://site.example/local.css",
        "https://c.example/o.pdf", "https://d.example/p.jpg", "https://e.example/a.png",
        "https://f.example/b.css", "https://g.example/c.png",
    ]  # fmt: skip
