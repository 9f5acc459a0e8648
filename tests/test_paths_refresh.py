"""A third-party <meta> refresh never survives a page served unread: every Content-Encoding chain a
browser undoes (`gzip, gzip`, two headers), and a streamed page over the limit whose refresh tag is
longer than the 4 KB hold-back, however the chunks cut it."""

from __future__ import annotations

import gzip
import re
import zlib

import pytest

from gatekeeper.body import RefreshStop, process_html, readable_accept_encoding
from gatekeeper.registry import load_registry
from gatekeeper.rewrite import PageContext

REGISTRY = load_registry({"services": [{"id": "youtube"}]})
PAGE_URL = "https://www.site.example/"
LIVE = re.compile(rb"(?<!data-gk-)http-equiv", re.I)


def meta(pad: int, order: str = "equiv-first", upper: bool = False) -> bytes:
    equiv, content = b'http-equiv="refresh"', b'content="0;url=https://tracker.example/r"'
    attrs = [equiv, b'data-pad="' + b"x" * pad + b'"', content]
    if order == "content-first":
        attrs.reverse()
    tag = b"<meta " + b" ".join(attrs) + b">"
    return tag.upper() if upper else tag


def page(tag: bytes) -> bytes:
    return (
        b"<!doctype html><html><head>" + b"<p>" * 2000 + tag + b"<title>t</title></head><body>x</body></html>"
    )


def stream(data: bytes, size: int) -> bytes:
    stop = RefreshStop(REGISTRY, frozenset(), PAGE_URL)
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(stop.feed(c, i < len(chunks) - 1) for i, c in enumerate(chunks))


@pytest.mark.parametrize("pad", [10, 3000, 4090, 5000, 20_000, 100_000])
@pytest.mark.parametrize("size", [1, 7, 1000, 4096, 5000, 65_536])
@pytest.mark.parametrize("order", ["equiv-first", "content-first"])
def test_a_long_refresh_tag_split_anyhow_is_inert(pad, size, order):
    if size == 1 and pad > 5000:
        pytest.skip("one-byte chunks of 100 KB: covered by the smaller pads")
    data = page(meta(pad, order, upper=pad == 5000))
    out = stream(data, size)
    assert LIVE.search(out) is None
    assert out.replace(b"data-gk-", b"") == data  # insertions only


@pytest.mark.parametrize("size", [1, 3, 17, 5000])
def test_a_long_tag_already_inert_is_not_renamed_twice(size):
    data = page(meta(6000).replace(b"http-equiv", b"data-gk-http-equiv"))
    assert stream(data, size) == data


@pytest.mark.parametrize("size", [1, 100, 5000])
def test_a_short_first_party_refresh_stays(size):
    data = page(b'<meta http-equiv="refresh" content="30">')
    assert stream(data, size) == data


def _ctx() -> PageContext:
    return PageContext(registry=REGISTRY, granted=frozenset(), page_url=PAGE_URL)


@pytest.mark.parametrize(
    "encoding",
    ["gzip, gzip", "gzip,gzip", "deflate, gzip", "gzip, deflate", "x-gzip, identity, gzip"],
)
def test_a_chain_of_codings_is_undone_rewritten_and_redone(encoding):
    raw = page(meta(10))
    body = raw
    for coding in (c.strip() for c in encoding.split(",")):
        if coding in ("gzip", "x-gzip"):
            body = gzip.compress(body)
        elif coding == "deflate":
            body = zlib.compress(body)
    result = process_html(body, "text/html", encoding, _ctx())
    out = result.body
    for coding in reversed([c.strip() for c in encoding.split(",")]):
        if coding in ("gzip", "x-gzip"):
            out = gzip.decompress(out)
        elif coding == "deflate":
            out = zlib.decompress(out)
    assert result.changed and LIVE.search(out.split(b"<title>")[0]) is None


@pytest.mark.parametrize(
    ("accept", "kept"),
    [
        (b"gzip, deflate, br, zstd", b"gzip, deflate, br"),
        (b"zstd;q=1.0, gzip;q=0.5", b"gzip;q=0.5"),
        (b"*", b""),
        (b"identity", b"identity"),
        (b"dcb, dcz, gzip", b"gzip"),
    ],
)
def test_an_app_is_asked_only_for_codings_we_can_read(accept, kept):
    assert readable_accept_encoding(accept) == kept
