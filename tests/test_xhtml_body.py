"""XHTML responses through body.py and the middleware: the encoding an XML document declares (its XML
declaration, not a <meta>), compressed bodies, and the unread treatment (CSP, refreshes made inert, no
other byte changed) for every XML document that cannot be read as XHTML for sure."""

from __future__ import annotations

import gzip
import logging
import re
from typing import Any

import pytest
from asgi import call

from gatekeeper import Gatekeeper
from gatekeeper.body import process_html
from gatekeeper.registry import load_registry
from gatekeeper.rewrite import PageContext
from gatekeeper.rewrite.xml_reading import well_formed

REGISTRY = load_registry({"services": [{"id": "youtube"}]})
XH = "http://www.w3.org/1999/xhtml"
REFRESH = '<meta http-equiv="refresh" content="0;url=https://tracker.example/r"/>'
LIVE = re.compile(rb"(?<!data-gk-)http-equiv")


def xhtml(encoding: str = "utf-8", body: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<html xmlns="{XH}"><head><title>髙﨑①{REFRESH}'
        f'</title></head><body><img src="https://tracker.example/i.gif" alt=""/>{body}</body></html>'
    )


def ctx() -> PageContext:
    return PageContext(
        REGISTRY, frozenset(), "https://www.site.example/", snippets=lambda lang: ("<i>h</i>", "<b>b</b>")
    )


@pytest.mark.parametrize("encoding", ["utf-8", "Shift_JIS", "windows-31j", "EUC-JP"])
@pytest.mark.parametrize("compress", [False, True])
def test_the_xml_declaration_says_the_encoding(encoding, compress):
    text = xhtml(encoding) if encoding != "EUC-JP" else xhtml(encoding).replace("髙﨑①", "高崎")
    raw = text.encode("cp932" if encoding in ("Shift_JIS", "windows-31j") else encoding)
    body = gzip.compress(raw) if compress else raw
    out = process_html(body, "application/xhtml+xml", "gzip" if compress else None, ctx(), xml=True)
    assert out.changed and out.reason is None
    page = gzip.decompress(out.body) if compress else out.body
    decoded = page.decode("cp932" if encoding in ("Shift_JIS", "windows-31j") else encoding)
    assert well_formed(decoded) is None and LIVE.search(page) is None
    assert (
        "髙﨑" in decoded or "高崎" in decoded
    ) and 'data-gk-src="https://tracker.example/i.gif"' in decoded
    assert f'<i xmlns="{XH}">h</i>' in decoded


UNREAD = {
    "not-well-formed": xhtml(body="<p>open"),
    "entity": xhtml().replace("<html", '<!DOCTYPE html [<!ENTITY e "x">]>\n<html'),
    "rss": f'<?xml version="1.0"?><rss version="2.0"><channel><h:meta xmlns:h="{XH}" '
    'http-equiv="refresh" content="0;url=https://tracker.example/r"/></channel></rss>',
    "prefixed-meta": xhtml()
    .replace("<html", "<!DOCTYPE html [<!ATTLIST html a CDATA #IMPLIED>]>\n<html")
    .replace("<meta ", f'<h:meta xmlns:h="{XH}" '),
}


@pytest.mark.parametrize("name", sorted(UNREAD))
def test_what_is_not_read_as_xhtml_is_served_unread(name):
    raw = UNREAD[name].encode()
    out = process_html(raw, "text/xml", None, ctx(), xml=True)
    assert not out.changed and out.reason is not None
    assert LIVE.search(out.body) is None  # its refresh made inert,
    assert out.body.replace(b"data-gk-", b"") == raw  # nothing else changed


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    media, body = {
        "/xhtml": (b"application/xhtml+xml", xhtml().encode()),
        "/xml": (b"text/xml", xhtml().encode()),
        "/feed": (b"application/rss+xml", UNREAD["rss"].encode()),
        "/svg": (b"image/svg+xml", f'<svg xmlns="http://www.w3.org/2000/svg"/>{REFRESH}'.encode()),
        "/sitemap": (b"text/xml", b'<?xml version="1.0"?><urlset><url><loc>/a</loc></url></urlset>'),
    }[scope["path"]]
    headers = [
        (b"content-type", media),
        (b"etag", b'"v1"'),
        (b"last-modified", b"Thu, 03 Dec 2026 10:00:00 GMT"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize("path", ["/xhtml", "/xml"])
def test_an_xhtml_page_gets_the_banner_through_the_middleware(path):
    answer = call(Gatekeeper(app, secret_keys="xhtml-body-secret-0123456789", services=REGISTRY), "GET", path)
    page = answer.body.decode()
    assert well_formed(page) is None and "data-gk-snippet" in page and "data-gk-banner" in page
    assert LIVE.search(answer.body) is None and answer.header("content-security-policy")


@pytest.mark.parametrize("path", ["/feed", "/svg", "/sitemap"])
def test_a_feed_or_an_image_is_served_as_before(path):
    """Not a page: served with the CSP, its refreshes inert; as the app sent it, validators and all,
    when there was no refresh to stop (a feed's Last-Modified keeps its readers' requests cheap)."""
    answer = call(Gatekeeper(app, secret_keys="xhtml-body-secret-0123456789", services=REGISTRY), "GET", path)
    assert b"data-gk-snippet" not in answer.body and LIVE.search(answer.body) is None
    assert answer.header("content-security-policy") is not None
    if path == "/sitemap":
        assert answer.header("etag") == '"v1"' and answer.header("last-modified") is not None


FEED_HEAD = b'<?xml version="1.0" encoding="utf-8"?>\n<!-- a feed -->\n<rss version="2.0"><channel>'
FEED_REFRESH = UNREAD["rss"].split("<channel>", 1)[1].encode()
STREAMED = {
    "feed": (b"text/xml", FEED_HEAD, b"<item><title>a</title></item></channel></rss>", True),
    "feed-with-refresh": (b"application/xml", FEED_HEAD, FEED_REFRESH, True),
    "xhtml": (b"text/xml", xhtml().encode()[:200], xhtml().encode()[200:], False),
    "unsure": (b"text/xml", b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">]>', b"<rss/>", False),
}
FEED_GZIP = gzip.compress(FEED_HEAD + b"<item><title>a</title></item>" * 2000 + b"</channel></rss>")
STREAMED["feed-gzip"] = (b"text/xml", FEED_GZIP[:300], FEED_GZIP[300:], True)


@pytest.mark.parametrize("name", sorted(STREAMED))
def test_a_feed_as_text_xml_streams_and_a_page_is_held_for_its_banner(name):
    """The root element in the first bytes says which: a feed or a sitemap goes out as it comes (its
    refreshes inert), an XHTML page (or one whose first bytes do not say) is held to be rewritten."""
    media, first, rest, streams = STREAMED[name]
    seen: list[str] = []
    when_rest: list[list[str]] = []

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-type", media)] + (
            [(b"content-encoding", b"gzip")] if name == "feed-gzip" else []
        )
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": first, "more_body": True})
        when_rest.append(list(seen))
        await send({"type": "http.response.body", "body": rest})

    gk = Gatekeeper(inner, secret_keys="xhtml-body-secret-0123456789", services=REGISTRY)

    async def outer(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def spy(message: dict[str, Any]) -> None:
            seen.append(message["type"])
            await send(message)

        await gk(scope, receive, spy)

    answer = call(outer, "GET", "/f")
    assert when_rest == [["http.response.start", "http.response.body"] if streams else []]
    assert LIVE.search(gzip.decompress(answer.body) if name == "feed-gzip" else answer.body) is None
    assert (b"data-gk-banner" in answer.body) is (name == "xhtml")
    if name == "feed":
        assert answer.body == first + rest


def test_a_feed_is_no_warning_and_a_broken_page_is(caplog):
    """A sitemap or feed is no page to rewrite: nothing for the operator to act on. An XHTML page
    that could not be read is: it is served without its banner."""

    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/xhtml+xml")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": UNREAD["not-well-formed"].encode()})

    key = "xhtml-body-secret-0123456789"
    with caplog.at_level(logging.INFO, logger="gatekeeper"):
        call(Gatekeeper(app, secret_keys=key, services=REGISTRY), "GET", "/sitemap")
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        call(Gatekeeper(broken, secret_keys=key, services=REGISTRY), "GET", "/broken")
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and "/broken: served unchanged" in warned[0]
