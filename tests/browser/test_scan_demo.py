"""End to end: the demo site behind gatekeeper scans clean; the same site without it is reported with the
leaks it really has."""

from __future__ import annotations

import pytest
from support import serve_app

from gatekeeper.demo.app import SERVICES_FILE, demo_app, site
from scanner.cli import main
from scanner.crawl import scan
from scanner.model import ScanOptions, VisitKind

# The language and text-size links only set a cookie and redirect back: not pages of their own.
EXCLUDE = ("/lang/*", "/textsize/*")


def test_demo_behind_gatekeeper_scans_clean(_stub_server, capsys):
    with serve_app(demo_app("demo-test-secret-0123456789abcdef")) as base:
        code = main([
            base + "/", "--services", str(SERVICES_FILE), "--ignore-https-errors", "--quiet",
            "--map-host", f"*={_stub_server.address}", "--block-unmapped", "--no-screenshots",
            *(f"--exclude={e}" for e in EXCLUDE), "--fail-on", "warning",
        ])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "(served through gatekeeper)" in out
    assert "0 errors, 0 warnings, 0 info: PASS" in out
    assert "6 pages, 24 visits" in out


@pytest.fixture(scope="module")
def bare_demo(chromium):
    with serve_app(site()) as base:
        options = ScanOptions(
            url=base + "/",
            services=SERVICES_FILE,
            ignore_https_errors=True,
            exclude=EXCLUDE,
            max_pages=3,
            screenshots=False,
        )
        yield base, scan(options, chromium=chromium)


def test_demo_without_gatekeeper_shows_its_real_leaks(bare_demo):
    base, result = bare_demo
    assert not result.gatekeeper
    rules = {f.rule for f in result.findings}
    assert rules == {"request-before-consent", "no-banner"}
    by_page = {
        p.url[len(base) :]: {f.service for f in p.findings if f.rule == "request-before-consent"}
        for p in result.pages
    }
    assert set(by_page) == {"/", "/access", "/news/"}
    assert {"google-analytics", "google-fonts"} <= by_page["/"]  # on every page
    assert {"youtube", "google-maps"} <= by_page["/access"]  # the video and the map
    for page in result.pages:
        assert {f.visit for f in page.findings} == {VisitKind.FIRST_VIEW}
        first = page.visit(VisitKind.FIRST_VIEW)
        assert first is not None and not first.banner.found
