"""`gatekeeper proxy` against real servers on 127.0.0.1: nginx as the static site (ETag, Range, 304,
gzip), and an ASGI origin for echo, redirects, slow answers, uploads and WebSockets."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from support.origin import KEY, SJIS_TEXT, free_port, nginx, origin_app, site_files
from websockets.sync.client import connect as ws_connect

from gatekeeper.frontdoor import FrontDoor
from gatekeeper.proxy import proxy_app
from gatekeeper.proxy_headers import Upstream, map_cookie

SERVICES = {
    "cookies": [{"name": "wsid", "category": "necessary", "purpose": "WebSocket session"}],
    "services": [{"id": "youtube"}, {"id": "x"}, {"id": "google-analytics"}],
}


@pytest.fixture(scope="module")
def static_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("nginx")
    with nginx(site_files(base / "site"), base / "prefix") as url:
        yield url


@pytest.fixture
def origin(serve: Callable[..., str]) -> str:
    return serve(origin_app(slow_seconds=1.5), ws="websockets-sansio")


@pytest.fixture
def proxy(serve: Callable[..., str]) -> Callable[..., str]:
    def start(upstream: str, trusted: str = "", **options: object) -> str:
        app = proxy_app(upstream, secret_keys=KEY, services=SERVICES, **options)
        front = FrontDoor(app, trusted=trusted, health_path="/_gatekeeper/health")
        return serve(front, ws="websockets-sansio", proxy_headers=False)  # the FrontDoor decides

    return start


def echo(base: str, **kwargs: object) -> dict[str, object]:
    r = httpx.get(base + "/echo", **kwargs)  # type: ignore[arg-type]
    assert r.status_code == 200
    return json.loads(r.text)


def headers_of(seen: dict[str, object]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in seen["headers"]:  # type: ignore[union-attr]
        out.setdefault(k, []).append(v)
    return out


def test_forwarded_headers_and_host_reach_the_upstream_and_hop_by_hop_ones_do_not(origin, proxy):
    base = proxy(origin)
    seen = headers_of(
        echo(
            base,
            headers={
                "connection": "keep-alive, x-secret-hop",
                "x-secret-hop": "1",
                "te": "trailers",
                "proxy-authorization": "Basic abc",
                "x-forwarded-for": "6.6.6.6",  # a visitor's claim: not believed, not passed on
                "x-forwarded-proto": "https",
                "x-forwarded-host": "evil.example",
                "x-kept": "yes",
            },
        )
    )
    for hop in ("x-secret-hop", "te", "proxy-authorization", "keep-alive", "upgrade"):
        assert hop not in seen
    assert "connection" not in seen  # HTTP/1.1 keeps the pooled connection open without one
    assert seen["x-kept"] == ["yes"]
    assert seen["x-forwarded-for"] == ["127.0.0.1"]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-host"] == [base.removeprefix("http://")]
    assert seen["host"] == [base.removeprefix("http://")]  # preserved by default


def test_the_answer_loses_hop_by_hop_headers(origin, proxy):
    r = httpx.get(proxy(origin) + "/echo")
    assert "x-private" not in r.headers and "keep-alive" not in r.headers


def test_a_trusted_front_proxy_extends_the_chain_and_sets_the_scheme(origin, proxy):
    base = proxy(origin, trusted="127.0.0.1")
    seen = headers_of(
        echo(
            base,
            headers={
                "x-forwarded-for": "203.0.113.9",
                "x-forwarded-proto": "https",
                "x-forwarded-host": "www.example.jp",
            },
        )
    )
    assert seen["x-forwarded-for"] == ["203.0.113.9, 127.0.0.1"]
    assert seen["x-forwarded-proto"] == ["https"]
    assert seen["x-forwarded-host"] == ["www.example.jp"]
    assert seen["host"] == ["www.example.jp"]


@pytest.mark.parametrize(
    ("host_header", "expected"), [("upstream", "UPSTREAM"), ("site.example.jp", "site.example.jp")]
)
def test_host_can_be_set(origin, proxy, host_header, expected):
    base = proxy(origin, host_header=host_header)
    seen = headers_of(echo(base))
    assert seen["host"] == [origin.removeprefix("http://") if expected == "UPSTREAM" else expected]


def test_only_encodings_the_middleware_reads_are_asked_for(origin, proxy):
    base = proxy(origin)
    assert headers_of(echo(base, headers={"accept-encoding": "zstd, br, gzip;q=0.8, deflate;q=0"}))[
        "accept-encoding"
    ] == ["br, gzip;q=0.8"]
    assert "accept-encoding" not in headers_of(echo(base, headers={"accept-encoding": "zstd"}))


def test_redirects_pass_through_with_the_upstream_host_mapped_to_the_public_one(origin, proxy):
    base = proxy(origin)
    r = httpx.get(base + "/redirect")
    assert r.status_code == 302
    assert r.headers["location"] == base + "/echo?from=redirect"


def test_upstream_down_is_a_502_page_and_slow_is_a_504(proxy, caplog):
    down = proxy(f"http://127.0.0.1:{free_port()}")
    r = httpx.get(down + "/", headers={"accept-language": "ja"})
    assert r.status_code == 502
    assert "接続できません" in r.text and "Traceback" not in r.text and "127.0.0.1" not in r.text
    assert r.headers["content-type"].startswith("text/html")


def test_slow_upstream_is_a_504(origin, proxy):
    r = httpx.get(proxy(origin, timeout=0.5) + "/slow", timeout=10)
    assert r.status_code == 504
    assert "too long to answer" in r.text


def test_request_bodies_stream_to_the_upstream_whole(origin, proxy):
    base = proxy(origin)
    data = bytes(range(256)) * 40_000  # 10 MB

    def parts() -> Iterator[bytes]:
        for i in range(0, len(data), 65536):
            yield data[i : i + 65536]

    for content in (data, parts()):  # with a Content-Length, and chunked
        r = httpx.post(base + "/upload", content=content, timeout=30)
        assert r.json() == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_health_answers_without_the_upstream(proxy):
    r = httpx.get(proxy(f"http://127.0.0.1:{free_port()}") + "/_gatekeeper/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_the_cookie_gate_applies_to_proxied_pages(origin, proxy):
    r = httpx.get(proxy(origin) + "/cookies")
    assert r.status_code == 200
    assert "_ga" not in r.cookies and "sid" not in r.cookies  # not consented / not declared


def test_a_cookie_scoped_to_the_upstream_host_is_scoped_to_the_public_one(origin, proxy):
    base = proxy(origin, host_header="upstream")
    r = httpx.get(base + "/cookies?domain=1", headers={"host": "www.example.jp"})
    [cookie] = [v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("wsid=")]
    assert "domain" not in cookie.lower() and "Path=/;" in cookie + ";"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("a=1; Domain=upstream.internal; Path=/", "a=1; Path=/"),
        ("a=1; domain=.UPSTREAM.internal", "a=1"),
        ("a=1; Domain=internal", "a=1"),  # a parent of the upstream's host
        ("a=1; Domain=example.jp", "a=1; Domain=example.jp"),  # the public host's own parent
        ("a=1; Domain=www.example.jp", "a=1; Domain=www.example.jp"),
        ("a=1; Domain=other.example", "a=1; Domain=other.example"),  # the browser's to refuse
        ("a=1; Path=/app/x; HttpOnly", "a=1; Path=/x; HttpOnly"),
        ("a=1; Path=/app", "a=1; Path=/"),
        ("a=1; Path=/application", "a=1; Path=/application"),
        ("a=1; Domain=", "a=1; Domain="),
        ("a=b=c; Expires=Thu, 01 Jan 2099 00:00:00 GMT", "a=b=c; Expires=Thu, 01 Jan 2099 00:00:00 GMT"),
    ],
)
def test_set_cookie_domain_and_path_are_mapped(given, expected):
    upstream = Upstream("http://upstream.internal:8080/app")
    assert map_cookie(given, upstream, "https://www.example.jp") == expected


# -- the static site (nginx) ------------------------------------------------------------------------


def test_pages_are_rewritten_and_shift_jis_bytes_stay(static_upstream, proxy):
    base = proxy(static_upstream)
    r = httpx.get(base + "/sjis.html", headers={"accept-encoding": "identity"})
    assert r.status_code == 200
    assert SJIS_TEXT.encode("cp932") in r.content
    assert b'data-gk-src="https://www.youtube.com/embed/abc"' in r.content
    assert "shift_jis" in r.headers["content-type"].lower()
    original = httpx.get(static_upstream + "/sjis.html", headers={"accept-encoding": "identity"}).content
    heading = original[original.index(b"<h1>") : original.index(b"</h1>")]
    tail = original[original.index(b"<p>") :].replace(b"</body>", b"")
    assert heading in r.content and tail.split(b"</p>")[0] in r.content  # untouched, byte for byte
    r.content.decode("cp932")  # and the whole page still reads as what it says it is


def test_gzip_from_the_upstream_is_read_rewritten_and_sent_gzipped(static_upstream, proxy):
    base = proxy(static_upstream)
    with httpx.stream("GET", base + "/", headers={"accept-encoding": "gzip"}) as r:
        raw = b"".join(r.iter_raw())
    assert r.headers["content-encoding"] == "gzip"
    page = gzip.decompress(raw)
    assert b"data-gk-src=" in page and b"<iframe src=" not in page


def test_head_range_and_304(static_upstream, proxy):
    base = proxy(static_upstream)
    whole = httpx.get(base + "/big.bin")
    assert whole.status_code == 200 and len(whole.content) == 102_400
    head = httpx.head(base + "/big.bin")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == "102400"

    part = httpx.get(base + "/big.bin", headers={"range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == whole.content[1000:2000]
    assert part.headers["content-range"] == "bytes 1000-1999/102400"

    etag = whole.headers["etag"]
    assert httpx.get(base + "/big.bin", headers={"if-none-match": etag}).status_code == 304
    page = httpx.get(base + "/")
    assert httpx.get(base + "/", headers={"if-none-match": page.headers["etag"]}).status_code == 304


def test_a_range_of_a_page_gets_the_whole_page_rewritten(static_upstream, proxy):
    r = httpx.get(proxy(static_upstream) + "/", headers={"range": "bytes=0-99"})
    assert r.status_code == 200 and b"data-gk-src=" in r.content and b"</html>" in r.content


def test_directory_redirect_names_the_public_host(static_upstream, proxy):
    base = proxy(static_upstream, host_header="upstream")
    r = httpx.get(base + "/dir")
    assert r.status_code == 301
    assert r.headers["location"] == base + "/dir/"


# -- WebSocket ---------------------------------------------------------------------------------------


def test_websocket_through_the_proxy_with_the_cookie_gate(origin, proxy):
    base = proxy(origin)
    with ws_connect(base.replace("http", "ws") + "/ws") as ws:
        assert ws.response is not None
        cookies = ws.response.headers.get_all("Set-Cookie")
        assert [c.split("=")[0] for c in cookies] == ["wsid"]  # _ga: analytics, not consented
        assert json.loads(ws.recv())["host"] == base.removeprefix("http://")
        ws.send("hello")
        assert ws.recv() == "echo:hello"
        ws.send(b"\x01\x02\x03")
        assert ws.recv() == b"\x03\x02\x01"


def test_websocket_to_a_missing_path_is_refused_with_its_status(origin, proxy):
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as e, ws_connect(proxy(origin).replace("http", "ws") + "/nowhere"):
        pass
    assert e.value.response.status_code == 403  # Starlette refuses an unknown WebSocket path so


def test_websocket_to_a_down_upstream_is_a_502(proxy):
    from websockets.exceptions import InvalidStatus

    base = proxy(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(InvalidStatus) as e, ws_connect(base.replace("http", "ws") + "/ws"):
        pass
    assert e.value.response.status_code == 502


def test_the_pool_keeps_no_visitor_cookies(origin, proxy):
    base = proxy(origin)
    httpx.get(base + "/cookies")  # the upstream sets cookies for one visitor...
    assert "cookie" not in headers_of(echo(base))  # ...that are never replayed for the next one
