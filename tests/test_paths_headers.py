# ruff: noqa: E501  (matrices of header values read best one case a line)
"""Response start, every path: the type a browser sees, the CSP on every response, the headers that
reach out by themselves, the app's own CSP, the Host header and the services file as CSP sources."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gzip
import json
import subprocess
import sys
import zlib
from typing import Any

import pytest

from gatekeeper import Gatekeeper
from gatekeeper.app_csp import SnippetFit, fit_snippets, read_app_policies, strip_report_uris
from gatekeeper.csp import build_csp, host_of
from gatekeeper.header_gate import gate_header, leaves_for
from gatekeeper.registry import ConfigError, HostPattern, load_registry
from gatekeeper.sniff import Kind, kind_of_body, response_type


def _run(coro: Any) -> Any:
    """asyncio.run in a thread of its own: another test may leave this thread's loop marked running."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


KEY = "paths-unit-secret-0123456789"
SERVICES: dict[str, Any] = {"services": [{"id": "youtube"}]}


# -- what a browser makes of a response ------------------------------------------------------------

TYPES = [
    ([], False, Kind.UNKNOWN, ""),
    ([], True, Kind.OTHER, ""),  # nosniff and no type: plain text
    (["text/html"], False, Kind.HTML, "text/html"),
    (["TEXT/HTML; charset=Shift_JIS"], False, Kind.HTML, "text/html"),
    (["text/plain", "text/html"], False, Kind.HTML, "text/html"),  # the last header wins
    (["text/html", "text/plain"], False, Kind.OTHER, "text/plain"),
    (["text/plain, text/html"], False, Kind.HTML, "text/html"),  # one list
    (["text/html, */*"], False, Kind.HTML, "text/html"),  # */* is no type
    (["text/html, nonsense"], False, Kind.HTML, "text/html"),  # an invalid entry is skipped
    (['text/plain; charset="a,b", text/html'], False, Kind.HTML, "text/html"),
    (["unknown/unknown"], False, Kind.UNKNOWN, "unknown/unknown"),
    (["application/unknown"], False, Kind.UNKNOWN, "application/unknown"),
    (["*/*"], False, Kind.UNKNOWN, ""),
    (["text/xml"], False, Kind.XML, "text/xml"),
    (["application/xml"], False, Kind.XML, "application/xml"),
    (["application/xhtml+xml"], False, Kind.XML, "application/xhtml+xml"),
    (["image/svg+xml"], False, Kind.XML, "image/svg+xml"),
    (["application/rss+xml"], False, Kind.XML, "application/rss+xml"),
    (["application/json"], False, Kind.OTHER, "application/json"),
    (["text/javascript"], False, Kind.OTHER, "text/javascript"),
    (["text/plain"], False, Kind.OTHER, "text/plain"),
    ([""], False, Kind.UNKNOWN, ""),
]


@pytest.mark.parametrize(("values", "nosniff", "kind", "media"), TYPES)
def test_the_type_a_browser_uses(values, nosniff, kind, media):
    found = response_type(values, nosniff)
    assert (found.kind, found.media) == (kind, media)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"<!DOCTYPE html><p>", Kind.HTML),
        (b"\n\t  <html lang=ja>", Kind.HTML),
        (b"<script>x</script>", Kind.HTML),
        (b"<P>hello", Kind.HTML),
        (b"<!-- c --><img>", Kind.HTML),
        (b"<?xml version='1.0'?><html/>", Kind.XML),
        (b"<img src=x>", Kind.OTHER),  # not one of Chromium's signatures: plain text
        (b"<pre>", Kind.OTHER),
        (b'{"a": "<html>"}', Kind.OTHER),
        (b"GIF89a", Kind.OTHER),
        (b"", Kind.OTHER),
    ],
)
def test_a_body_without_a_type_is_sniffed_as_chromium_does(head, kind):
    assert kind_of_body(head) is kind


# -- the CSP on every response, through the middleware --------------------------------------------


def _raw_app(headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def _call(app: Any, host: bytes = b"site.example") -> tuple[list[tuple[bytes, bytes]], bytes]:
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http", "method": "GET", "path": "/", "raw_path": b"/", "query_string": b"",
        "headers": [(b"host", host)], "scheme": "http", "client": ("203.0.113.9", 5000),
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    _run(Gatekeeper(app, secret_keys=KEY, services=SERVICES)(scope, receive, send))
    return sent[0]["headers"], b"".join(m.get("body", b"") for m in sent[1:])


PAGE = b"<!doctype html><html><head><title>t</title></head><body><p>x</p></body></html>"
CT = b"content-type"


@pytest.mark.parametrize(
    ("headers", "body", "document", "rewritten"),
    [
        ([], PAGE, True, True),  # FastAPI's Response(content=html) sends no type
        ([(CT, b"text/plain"), (CT, b"text/html")], PAGE, True, True),
        ([(CT, b"text/plain, text/html")], PAGE, True, True),
        (
            [(CT, b"text/xml")],
            b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'/>",
            True,
            False,
        ),
        ([(CT, b"application/xml")], b"<x/>", True, False),
        ([(CT, b"image/svg+xml")], b"<svg xmlns='http://www.w3.org/2000/svg'/>", True, False),
        ([], b"just text", True, False),  # sniffed: not HTML, sent as it came
        ([(b"x-content-type-options", b"nosniff")], PAGE, False, False),
        ([(CT, b"text/plain")], PAGE, False, False),
        ([(CT, b"text/javascript")], b"fetch('https://t.example/')", False, False),
        ([(CT, b"application/json")], b"{}", False, False),
        ([(CT, b"image/png")], b"\x89PNG", False, False),
    ],
)
def test_every_response_gets_the_csp(headers, body, document, rewritten):
    out, sent = _call(_raw_app(headers, body))
    policies = [v for k, v in out if k == b"content-security-policy"]
    assert len(policies) == 1 and policies[0].startswith(b"default-src 'self'")
    assert b"form-action 'self'" in policies[0]
    assert any(k == b"vary" for k, _ in out) is document  # a document's policy depends on the consent
    assert (b"data-gk-snippet" in sent) is rewritten
    if not rewritten:
        assert sent == body


# -- Host headers and services files never write the policy ---------------------------------------

HOSTILE_HOSTS = [
    "*", "*.", "*:8642", "*.example.jp", "a.example; script-src *", "a.example 'unsafe-inline'", "a b",
    "a.example,b", "'self'", "a.example\r\nx: y", "[::1", "[zz::1]", "a..b", "-a.example", "x" * 300, "",
    "a.example/path", "user@a.example", "a.example:*",
]  # fmt: skip


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_a_hostile_host_header_becomes_no_source(host):
    assert host_of(host) == ""
    policy = build_csp(load_registry(SERVICES), (), host)
    directives = [d.split() for d in policy.split(";")]
    assert [d[0] for d in directives] == ["default-src", "form-action"]
    for tokens in directives:
        assert "*" not in tokens and not any(t.startswith("*:") or t == "*.:*" for t in tokens)
        assert all(t.startswith(("'", "data:", "blob:")) for t in tokens[1:])  # keywords only


@pytest.mark.parametrize(
    ("host", "name"),
    [("www.city.example.jp", "www.city.example.jp"), ("WWW.Example.JP:8443", "www.example.jp"),
     ("127.0.0.1:8000", "127.0.0.1"), ("[::1]:8000", "::1"), ("example.jp.", "example.jp."),
     ("my_host.internal", "my_host.internal")],
)  # fmt: skip
def test_a_valid_host_header_is_the_site(host, name):
    assert host_of(host) == name
    assert host_of(host.encode()) == name


HOSTILE_PATTERNS = [
    "static.example-cdn.net/assets *",
    "www.youtube.com/embed; script-src *",
    "www.youtube.com/embed,script-src *",
    "cdn.example.net/a\r\nx",
    "cdn.example.net/a\nb",
    "cdn.example.net/'unsafe-inline'",
    "cdn.example.net/*",
    "cdn.example.net *",
    "* ",
    "*",
    "*.",
    "cdn.example.net:443",
    "https://cdn.example.net",
    "cdn.example.net/a b",
    'cdn.example.net/"x"',
]


@pytest.mark.parametrize("pattern", HOSTILE_PATTERNS)
def test_a_host_pattern_that_would_write_the_policy_is_refused(pattern, tmp_path):
    with pytest.raises(ValueError):
        HostPattern.parse(pattern)
    services = {"site": {"first_party_hosts": [pattern]}, "services": [{"id": "youtube"}]}
    with pytest.raises(ConfigError):
        load_registry(services)
    path = tmp_path / "services.toml"
    # a JSON string is a TOML basic string (its \r and \n escapes included)
    path.write_text(f"[site]\nfirst_party_hosts = [{json.dumps(pattern)}]\n", encoding="utf-8")
    check = subprocess.run(
        [sys.executable, "-m", "gatekeeper.cli", "check", str(path)], capture_output=True, text=True
    )
    assert check.returncode == 2, check.stdout
    assert "error:" in check.stderr


@pytest.mark.parametrize(
    "pattern", ["www.google.com/maps", "cdn.example.net/a-b_c.d~e/f%20g", "*.example.net"]
)
def test_a_plain_host_pattern_is_fine(pattern):
    assert HostPattern.parse(pattern).csp_sources()


# -- headers that reach out by themselves ----------------------------------------------------------

REGISTRY = load_registry({"services": [{"id": "youtube"}, {"id": "google-analytics"}]})
PAGE_URL = "https://www.site.example/page"


def _leaves(granted: frozenset[str] = frozenset()) -> Any:
    return leaves_for(REGISTRY, granted, PAGE_URL, "www.site.example")


@pytest.mark.parametrize(
    ("name", "value", "kept"),
    [
        ("link", "<https://tracker.example/a.js>; rel=preload; as=script", None),
        ("link", "<https://tracker.example/>; rel=preconnect", None),
        ("link", "<//tracker.example/>; rel=dns-prefetch", None),
        ("link", '<https://tracker.example/n>; rel="next prefetch"', None),
        ("link", "<https://www.youtube.com/x>; rel=preload; as=fetch", None),  # declared, not granted
        ("link", "</a.css>; rel=preload; as=style", "</a.css>; rel=preload; as=style"),
        ("link", "<https://cdn.site.example/a.css>; rel=preload", "<https://cdn.site.example/a.css>; rel=preload"),
        ("link", "<https://other.example/page>; rel=canonical", "<https://other.example/page>; rel=canonical"),
        ("link", "</a.css>; rel=preload, <https://tracker.example/b>; rel=prefetch", "</a.css>; rel=preload"),
        ("link", "<https://tracker.example/a,b>; rel=preload", None),  # a comma inside <...>
        ("link", "garbage; rel=preload", None),
        ("speculation-rules", '"/rules.json"', None),
        ("reporting-endpoints", 'default="https://tracker.example/r"', None),
        ("reporting-endpoints", 'a="/r", b="https://tracker.example/r"', 'a="/r"'),
        ("reporting-endpoints", "a=nonsense", None),
        ("report-to", '{"group":"g","max_age":9,"endpoints":[{"url":"https://tracker.example/r"}]}', None),
        ("report-to", '{"group":"g","max_age":9,"endpoints":[{"url":"/r"}]}',
         '{"group":"g","max_age":9,"endpoints":[{"url":"/r"}]}'),
        ("report-to", '{"endpoints":[{"url":"/r"}]}, {"endpoints":[{"url":"https://tracker.example/x,y"}]}',
         '{"endpoints":[{"url":"/r"}]}'),
        ("report-to", "{not json", None),
    ],
)  # fmt: skip
def test_headers_that_reach_out_keep_only_first_party_and_granted(name, value, kept):
    assert gate_header(name, value, _leaves()).value == kept


def test_a_granted_service_keeps_its_link():
    value = "<https://www.youtube.com/x>; rel=preconnect"
    assert gate_header("link", value, _leaves(frozenset({"youtube"}))).value == value


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("script-src 'nonce-abc'; report-uri https://tracker.example/csp", "script-src 'nonce-abc'"),
        ("script-src 'self'; report-uri /csp https://tracker.example/csp", "script-src 'self'; report-uri /csp"),
        ("default-src 'self'; report-to g", "default-src 'self'; report-to g"),
        ("img-src *; REPORT-URI //tracker.example/x, script-src 'none'", "img-src *, script-src 'none'"),
    ],
)  # fmt: skip
def test_the_apps_csp_reports_to_no_third_party_and_enforces_the_same(value, kept):
    assert strip_report_uris(value, _leaves()) == kept


# -- our snippets under the app's own policy -------------------------------------------------------

HEAD = (
    '<script data-gk-snippet>dataLayer.push(1)</script><link rel="stylesheet" href="/s.css" data-gk-snippet>'
)
BODY = '<div data-gk-box></div><script defer src="/l.js" data-gk-snippet data-gk-prefix="/p/"></script>'


@pytest.mark.parametrize(
    ("policies", "inline_script", "nonce"),
    [
        ([], True, None),
        (["img-src 'self'"], True, None),
        (["script-src 'self' 'unsafe-inline'"], True, None),
        (["script-src 'nonce-abc' 'strict-dynamic'"], True, "abc"),
        (["default-src 'self' 'nonce-abc'"], True, "abc"),
        (["script-src 'nonce-abc' 'unsafe-inline'"], True, "abc"),  # a nonce turns unsafe-inline off
        (["script-src 'sha256-AAAA' 'self'"], False, None),  # hashes only: no inline script from us
        (["script-src 'self'"], False, None),
        (["script-src 'nonce-a'", "script-src 'nonce-b'"], False, None),  # two nonces: no inline
        (["script-src 'nonce-a', img-src 'self'"], True, "a"),
    ],
)
def test_our_snippets_fit_the_apps_policy(policies, inline_script, nonce):
    fit = read_app_policies(policies)
    head = fit_snippets(HEAD, fit)
    body = fit_snippets(BODY, fit)
    assert ("dataLayer.push" in head) is inline_script
    if nonce:
        assert f'<script nonce="{nonce}" defer src="/l.js"' in body
        assert head.startswith(f'<script nonce="{nonce}" data-gk-snippet>')
    else:
        assert "nonce=" not in head + body
    assert "data-gk-box" in body


def test_no_app_policy_changes_nothing():
    assert fit_snippets(HEAD, SnippetFit()) == HEAD


def _encode(body: bytes, codings: list[str]) -> bytes:
    brotli = pytest.importorskip("brotli")
    for coding in codings:  # in the order applied
        body = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}[coding](body)
    return body


def _decode(body: bytes, codings: list[str]) -> bytes:
    brotli = pytest.importorskip("brotli")
    for coding in reversed(codings):
        body = {"gzip": gzip.decompress, "deflate": zlib.decompress, "br": brotli.decompress}[coding](body)
    return body


@pytest.mark.parametrize("codings", [["gzip"], ["deflate"], ["br"], ["gzip", "gzip"], ["gzip", "br"]])
@pytest.mark.parametrize(("body", "rewritten"), [(PAGE, True), (b"just text, <p>", False)])
def test_a_compressed_body_without_a_type_is_sniffed_as_it_reads(codings, body, rewritten):
    """Chromium sniffs the body it has decoded: so do we (a compressed page without a type was taken
    for something else, and got no banner)."""
    headers = [(b"content-encoding", ", ".join(codings).encode())]
    _, sent = _call(_raw_app(headers, _encode(body, codings)))
    assert (b"data-gk-snippet" in _decode(sent, codings)) is rewritten
