"""The probe site (tests/fixtures/probe_site): every way a leak used to hide from the scanner is reported,
each page with an error naming the third party or the technique; behind gatekeeper only what gatekeeper
cannot stop remains; the slow page fails the scan with its timeout noted.

One scan of each site (first views: every probe behaves before any choice), shared by the asserts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fixtures.probe_site import PAGES, SERVICES, WS_HOST, WebSocketServer, app, install
from support import StubServer, serve_app

from gatekeeper import Gatekeeper
from scanner.browser import Chromium
from scanner.cli import main
from scanner.crawl import scan
from scanner.model import RuleId, ScanOptions, ScanResult, Severity, VisitKind

R = RuleId
FIRST_VIEW_ONLY = (VisitKind.FIRST_VIEW,)


@pytest.fixture(scope="module")
def probe(_stub_server: StubServer) -> Iterator[tuple[Chromium, WebSocketServer, StubServer]]:
    with WebSocketServer() as ws, Chromium(host_map={WS_HOST: ws.address, "*": _stub_server.address}) as ch:
        yield ch, ws, _stub_server


def _scan(probe_env: tuple[Chromium, WebSocketServer, StubServer], site: object) -> tuple[str, ScanResult]:
    chromium, _, stub = probe_env
    stub.reset()
    install(stub)
    with serve_app(site) as base:
        options = ScanOptions(
            url=base + "/",
            services=SERVICES,
            ignore_https_errors=True,
            visits=FIRST_VIEW_ONLY,
            timeout=3.0,
            screenshots=False,
            max_pages=40,
        )
        return base, scan(options, chromium=chromium)


@pytest.fixture(scope="module")
def bare(probe: tuple[Chromium, WebSocketServer, StubServer]) -> tuple[str, ScanResult]:
    return _scan(probe, app)


@pytest.fixture(scope="module")
def guarded(probe: tuple[Chromium, WebSocketServer, StubServer]) -> tuple[str, ScanResult]:
    site = Gatekeeper(
        app, secret_keys=["probe-secret-0123456789abcdef"], services=SERVICES, privacy_policy_url="/privacy"
    )
    return _scan(probe, site)


def _by_page(base: str, result: ScanResult) -> dict[str, set[tuple[str, str, str]]]:
    return {
        p.url[len(base) :]: {(f.rule.value, f.severity.value, f.subject) for f in p.findings}
        for p in result.pages
    }


# page -> (rule, subject start) that must be reported as an error; the subject names the third party or
# the technique
EXPECTED_ERRORS: dict[str, set[tuple[RuleId, str]]] = {
    "/slow": {(R.REQUEST_BEFORE_CONSENT, "https://www.googletagmanager.com/gtm.js")},
    "/websocket": {(R.REQUEST_BEFORE_CONSENT, f"ws://{WS_HOST}/live")},
    "/dedicated-worker": {(R.REQUEST_BEFORE_CONSENT, "https://pixel.probe-metrics.example/w")},
    "/shared-worker": {(R.REQUEST_BEFORE_CONSENT, "https://pixel.probe-metrics.example/s")},
    "/service-worker": {(R.REQUEST_BEFORE_CONSENT, "https://pixel.probe-metrics.example/sw")},
    "/late-beacon": {(R.REQUEST_BEFORE_CONSENT, "https://pixel.probe-metrics.example/late")},
    "/on-interaction": {(R.REQUEST_BEFORE_CONSENT, "https://connect.facebook.net/en_US/fbevents.js")},
    "/canvas": {(R.FINGERPRINTING, "canvas http://127.0.0.1")},
    "/fonts": {(R.FINGERPRINTING, "font-enumeration https://fp.probe-fingerprint.example/fonts.js")},
    "/webgl": {(R.FINGERPRINTING, "webgl https://fp.probe-fingerprint.example/webgl.js")},
    "/audio": {(R.FINGERPRINTING, "audio https://fp.probe-fingerprint.example/audio.js")},
    "/keylogger": {(R.KEYLOGGING, "collect.probe-keys.example")},
    "/session-recording": {(R.SESSION_RECORDING, "hotjar")},
    "/indexeddb": {(R.THIRD_PARTY_STORAGE, "IndexedDB probe-visitor/ids/visitor")},
    "/script-cookie": {(R.COOKIE_BEFORE_CONSENT, "_fbp@127.0.0.1")},
    "/bad-banner": {(R.REJECT_NOT_AS_EASY, "banner"), (R.PRETICKED_BOXES, "banner")},
}


def test_every_probe_page_is_reported_with_an_error_naming_the_party_or_technique(bare):
    base, result = bare
    got = _by_page(base, result)
    assert set(got) == {"/", *PAGES}
    for path, wanted in EXPECTED_ERRORS.items():
        for rule, subject in wanted:
            hits = [f for f in got[path] if f[0] == rule.value and f[2].startswith(subject)]
            assert hits and all(sev == "error" for _, sev, _ in hits), (path, rule, sorted(got[path]))
    assert {(r, s) for r, s, _ in got["/http-form"]} == {
        ("form-over-http", "warning")
    }  # a warning, by design
    assert got["/"] == set()
    assert result.at_or_above(Severity.ERROR)  # the CLI's exit code 1


BAD_BANNER = {R.REJECT_NOT_AS_EASY, R.PRETICKED_BOXES, R.BANNER_NO_PURPOSES, R.BANNER_NO_RETENTION,
              R.BANNER_NO_WITHDRAWAL, R.BANNER_NO_PRIVACY_POLICY}  # fmt: skip


def test_the_bad_banner_breaks_every_banner_rule_it_can(bare):
    base, result = bare
    got = {f.rule for p in result.pages if p.url == base + "/bad-banner" for f in p.findings}
    assert got == BAD_BANNER  # it uses no third party: naming them is not asked


def test_every_rule_is_planted_on_the_leaky_or_the_probe_site():
    from fixtures.leaky_site import EXPECTED

    planted = {RuleId(rule) for found in EXPECTED.values() for rule, _ in found}
    planted |= {rule for found in EXPECTED_ERRORS.values() for rule, _ in found}
    planted |= BAD_BANNER | {R.FORM_OVER_HTTP, R.PAGE_TIMEOUT}
    # the others need a page that cannot load or names nothing: tests/test_scanner_rules*.py
    assert set(RuleId) - planted == {R.PAGE_ERROR, R.PAGE_NOT_JUDGED, R.BANNER_NO_THIRD_PARTIES}


def test_what_the_probe_pages_recorded(bare, probe):
    base, result = bare
    _, ws, _ = probe
    first = {p.url[len(base) :]: p.visit(VisitKind.FIRST_VIEW) for p in result.pages}
    socket = first["/websocket"]
    assert any('"visitor":"v-1234"' in f.payload for f in socket.socket_frames)
    assert any("v-1234" in m for m in ws.messages)  # the socket really opened and the frame left
    sources = {
        r.source
        for p in ("/dedicated-worker", "/shared-worker", "/service-worker")
        for r in first[p].requests
    }
    assert {"worker", "shared_worker", "service_worker"} <= sources
    late = [r for r in first["/late-beacon"].requests if "pixel.probe-metrics.example/late" in r.url]
    assert late and late[0].ms >= 2500
    assert "moved the pointer" in first["/on-interaction"].interaction
    keys = first["/keylogger"]
    assert keys.typed and any(keys.typed in r.post_data for r in keys.requests)
    cookie = next(c for c in first["/script-cookie"].cookies if c.name == "_fbp")
    assert cookie.initiator == "https://cdn.probe-metrics.example/cookie.js"  # the script that set it
    idb = next(s for s in first["/indexeddb"].storage if s.area == "indexedDB")
    assert idb.initiator == "https://cdn.probe-metrics.example/idb.js"
    assert first["/slow"].timed_out and first["/slow"].error is None
    banner = first["/bad-banner"].banner.content
    assert banner is not None and banner.prechecked == ("Level 2", "Level 3")


def test_behind_gatekeeper_only_what_it_cannot_stop_remains(guarded):
    """gatekeeper holds back every third party (markup made inert, the rest refused by its CSP, in
    workers too); what remains: the site's own script fingerprinting the canvas, a form whose action
    is plain HTTP, and the slow page's timeout."""
    base, result = guarded
    assert result.gatekeeper
    remaining = {(p, rule, sev) for p, found in _by_page(base, result).items() for rule, sev, _ in found}
    assert remaining == {
        ("/canvas", "fingerprinting", "error"),
        ("/http-form", "form-over-http", "warning"),
        ("/slow", "page-timeout", "warning"),
    }


def test_slow_page_fails_the_scan_with_its_timeout_noted(probe, capsys):
    _, _, stub = probe
    stub.reset()
    install(stub)
    with serve_app(app) as base:
        code = main([
            base + "/slow", "--max-pages", "1", "--timeout", "1.5", "--services", str(SERVICES),
            "--ignore-https-errors", "--no-screenshots", "--quiet", "--map-host", f"*={stub.address}",
        ])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1, out
    assert "request-before-consent" in out and "www.googletagmanager.com" in out
    assert "page-timeout" in out
