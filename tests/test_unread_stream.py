"""A compressed page served unread (it inflates past max_body_bytes, or is streamed over it) keeps no live
third-party <meta> refresh: every chain of codings a browser undoes, any cut of the chunks; inflating
is bounded (a compression bomb is cut, not inflated to the end). And XHTML bodies through body.py:
their XML encoding, and the unread treatment for what cannot be read as XHTML."""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable
from typing import Any

import brotli  # type: ignore[import-untyped]
import pytest
from asgi import call

from gatekeeper import Gatekeeper
from gatekeeper.body import process_html
from gatekeeper.registry import load_registry
from gatekeeper.rewrite import PageContext
from gatekeeper.unread_stream import CompressedRefreshStop

REGISTRY = load_registry({"services": [{"id": "youtube"}]})
PAGE_URL = "https://www.site.example/"
LIVE = re.compile(rb"(?<!data-gk-)http-equiv", re.I)
REFRESH = b'<meta http-equiv="refresh" content="0;url=https://tracker.example/r">'
FILLER = b"<p>filler text</p>" * 40_000
PAGE = b"<!doctype html><html><head>" + REFRESH + b"</head><body>" + FILLER + b"</body></html>"


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


# coding -> (compress, decompress), by other code than the product's
CODERS: dict[str, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
    "gzip": (gzip.compress, gzip.decompress),
    "x-gzip": (gzip.compress, gzip.decompress),
    "deflate": (zlib.compress, zlib.decompress),
    "deflate-raw": (_raw_deflate, lambda data: zlib.decompress(data, -zlib.MAX_WBITS)),
    "br": (brotli.compress, brotli.decompress),
}


CHAINS = [["gzip"], ["x-gzip"], ["deflate"], ["deflate-raw"], ["br"], ["gzip", "gzip"], ["deflate", "br"]]


def header(chain: list[str]) -> str:
    return ", ".join("deflate" if c == "deflate-raw" else c for c in chain)


def compressed(data: bytes, chain: list[str]) -> bytes:
    for c in chain:
        data = bytes(CODERS[c][0](data))
    return data


def inflated(data: bytes, chain: list[str]) -> bytes:
    for c in reversed(chain):
        data = bytes(CODERS[c][1](data))
    return data


def ctx() -> PageContext:
    return PageContext(REGISTRY, frozenset(), PAGE_URL)


@pytest.mark.parametrize("chain", CHAINS, ids=header)
def test_a_page_inflating_past_the_limit_loses_its_refresh(chain):
    body = compressed(PAGE, chain)
    assert len(body) < 100_000 < len(PAGE)
    out = process_html(body, "text/html", header(chain), ctx(), max_bytes=100_000)
    assert out.reason is not None and "size limit" in out.reason
    page = inflated(out.body, chain)
    assert LIVE.search(page) is None
    assert page.replace(b"data-gk-", b"") == PAGE  # the rest as it came
    control = inflated(body, chain)
    assert LIVE.search(control) is not None  # the input had a live one


@pytest.mark.parametrize("chain", CHAINS, ids=header)
@pytest.mark.parametrize("size", [1, 13, 4096, 70_000])
def test_streamed_in_any_cut_the_refresh_is_inert(chain, size):
    small = b"<html><head>" + REFRESH + b"</head><body>" + b"<p>x</p>" * 3000 + b"</body></html>"
    body = compressed(small, chain)
    stop = CompressedRefreshStop(header(chain).replace(" ", "").split(","), REGISTRY, frozenset(), PAGE_URL)
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    out = b"".join(stop.feed(c, i < len(chunks) - 1) for i, c in enumerate(chunks))
    page = inflated(out, chain)
    assert LIVE.search(page) is None and page.replace(b"data-gk-", b"") == small


def test_a_bomb_is_inflated_a_piece_at_a_time():
    """Memory stays bounded whatever the body inflates to: each feed gives back compressed bytes."""
    bomb = gzip.compress(b"\0" * 20_000_000 + REFRESH)
    stop = CompressedRefreshStop(["gzip"], REGISTRY, frozenset(), PAGE_URL)
    out = stop.feed(bomb, False)
    assert len(out) < 200_000 and stop.changed
    assert LIVE.search(gzip.decompress(out)[-200:]) is None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = compressed(PAGE, ["gzip"])
    headers = [(b"content-type", b"text/html"), (b"content-encoding", b"gzip")]
    if scope["path"] == "/length":
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    half = len(body) // 2
    await send({"type": "http.response.body", "body": body[:half], "more_body": True})
    await send({"type": "http.response.body", "body": body[half:]})


@pytest.mark.parametrize("path", ["/length", "/streamed"])
@pytest.mark.parametrize("limit", [1000, 2000], ids=["compressed-over", "inflated-over"])
def test_the_middleware_streams_a_big_compressed_page_without_its_refresh(path, limit):
    """Over the limit compressed (streamed through, inflated as it goes), or only once inflated."""
    key = "unread-stream-secret-0123456789"
    guarded = Gatekeeper(app, secret_keys=key, services=REGISTRY, max_body_bytes=limit)
    answer = call(guarded, "GET", path)
    assert answer.status == 200
    page = gzip.decompress(answer.body)
    assert LIVE.search(page) is None and page.replace(b"data-gk-", b"") == PAGE
    length = answer.header("content-length")
    assert length is None or int(length) == len(answer.body)
