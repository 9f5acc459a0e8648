"""Response body, around rewrite(): decompress, decode, rewrite, and put the bytes back as they were.

Only the insertions rewrite() plans are encoded: every other byte of the page is copied from what the
app sent, so a charset's odd corners (Shift_JIS's duplicate mappings, a stray C1 byte) survive. Any
failure gives back the original bytes and a reason: the CSP still protects a page served unchanged.
"""

from __future__ import annotations

import codecs
import logging
import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Final
from urllib.parse import urlsplit

from .logs import log_once
from .registry import Registry
from .rewrite import Blocked, OutOfTime, PageContext, TooMuchWork, inert_refreshes, plan
from .rewrite.xml_reading import NotReadable, NotXhtml, well_formed
from .suggest import hint

try:
    import brotli as _brotli  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - brotli is optional
    _brotli = None
_DECODE_ERRORS: Final = (zlib.error,) if _brotli is None else (zlib.error, _brotli.error)

__all__ = [
    "ProcessedBody",
    "RefreshStop",
    "clear_cache",
    "decoded_head",
    "decoded_size",
    "process_body",
    "process_html",
    "readable_accept_encoding",
]

log = logging.getLogger("gatekeeper.body")

MAX_DECODED_BYTES: Final = 64 * 1024 * 1024  # a decompressed page larger than this is passed through
CACHE_ENTRIES: Final = 512
CACHE_BYTES: Final = 32 * 1024 * 1024
GZIP_LEVEL: Final = 6
BROTLI_QUALITY: Final = 5  # brotli's default (11) costs tens of milliseconds per page


@dataclass(frozen=True, slots=True)
class ProcessedBody:
    body: bytes
    changed: bool
    reason: str | None = None  # why the body was left unchanged, when it could not be rewritten
    blocked: tuple[Blocked, ...] = ()
    reported: tuple[Blocked, ...] = ()  # undeclared third parties let through (report mode)
    # the charset a <meta> declared, when only that said it: what the snippets inserted in the head
    # may push past the 1024 bytes browsers look at, so it belongs in the Content-Type
    charset: str | None = None
    abandoned: bool = False  # rewriting ran past its time budget: served as an unread page
    no_page: bool = False  # an XML document that is no page (a feed, a sitemap): nothing to rewrite


# ---------------------------------------------------------------------------------------------
# Charsets: the WHATWG labels a page can use, and the Python codecs that read them


def _labels(codec: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, codec)


_LABELS: Final = {
    **_labels("utf-8", "utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8",
              "x-unicode20utf8"),
    **_labels("cp932", "shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis",
              "windows-31j", "ms932", "cp932"),
    **_labels("euc_jp", "euc-jp", "x-euc-jp", "cseucpkdfmtjapanese"),
    **_labels("cp1252", "windows-1252", "x-cp1252", "cp1252", "iso-8859-1", "iso8859-1", "iso88591",
              "iso_8859-1", "iso_8859-1:1987", "iso-ir-100", "latin1", "l1", "csisolatin1", "cp819",
              "ibm819", "us-ascii", "ascii", "ansi_x3.4-1968"),
    **_labels("gbk", "gbk", "gb2312", "gb_2312", "gb_2312-80", "csgb2312", "chinese", "iso-ir-58",
              "csiso58gb231280", "x-gbk"),
    **_labels("gb18030", "gb18030"),
    **_labels("big5hkscs", "big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"),
    **_labels("cp949", "euc-kr", "cseuckr", "csksc56011987", "iso-ir-149", "korean", "ks_c_5601-1987",
              "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949"),
    **_labels("utf-16-le", "utf-16le", "utf-16", "unicode", "ucs-2", "csunicode", "iso-10646-ucs-2",
              "unicodefeff"),
    **_labels("utf-16-be", "utf-16be", "unicodefffe"),
}  # fmt: skip
_STATEFUL: Final = frozenset({"iso-2022-jp", "csiso2022jp", "iso-2022-kr", "utf-7", "hz-gb-2312"})
_DECODE_AS: Final = {"cp1252": "latin-1"}  # byte for byte; the tokenizer only cares about ASCII


def _codec(label: str) -> str | None:
    label = label.strip().strip("\"'").strip().lower()
    known = _LABELS.get(label)
    if known is not None:
        return known
    if label in _STATEFUL or not label:
        return None
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    name = info.name
    if name.startswith(("cp125", "iso8859", "koi8", "mac-", "cp874", "tis")):
        return name  # single-byte, ASCII-compatible
    return None


_CT_CHARSET: Final = re.compile(r"""charset\s*=\s*("[^"]*"|'[^']*'|[^\s;]+)""", re.I)
_PRESCAN: Final = re.compile(
    rb"<!--.*?-->|<meta(?=[\t\n\f\r /])([^>]*)>|<[a-zA-Z/!?][^>]*>", re.S | re.I
)  # fmt: skip
_META_ATTR: Final = re.compile(
    rb"""([^\t\n\f\r />=][^\t\n\f\r />=]*)\s*(?:=\s*("[^"]*"|'[^']*'|[^\t\n\f\r >]*))?"""
)


_TOKEN: Final = re.compile(r"[A-Za-z0-9._:-]+")  # a label that can go into a header as it is


def _declared(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _CT_CHARSET.search(content_type)
    return m.group(1) if m else None


def _prescan(head: bytes) -> tuple[str, str] | None:
    """The codec and label a <meta> in the first 1024 bytes declares (the HTML prescan, simplified)."""
    for m in _PRESCAN.finditer(head):
        attrs = m.group(1)
        if attrs is None:
            continue
        found: dict[bytes, bytes] = {}
        for a in _META_ATTR.finditer(attrs):
            name = a.group(1).lower()
            if name not in found:
                found[name] = (a.group(2) or b"").strip(b"\"'")
        if b"charset" in found:
            label = found[b"charset"].decode("latin-1")
        elif found.get(b"http-equiv", b"").strip().lower() == b"content-type":
            label = _declared(found.get(b"content", b"").decode("latin-1")) or ""
        else:
            continue
        codec = _codec(label)
        if codec is not None:
            if codec.startswith("utf-16"):  # as the prescan says
                return "utf-8", "utf-8"
            return codec, label.strip().strip("\"'").strip().lower()
    return None


_XML_DECL: Final = re.compile(
    rb"""<\?xml[ \t\r\n][^>]*?encoding[ \t\r\n]*=[ \t\r\n]*["']([A-Za-z0-9._-]+)["']"""
)


def _encoding(
    data: bytes, content_type: str | None, xml: bool = False
) -> tuple[str | None, int, str, str | None]:
    """(codec, length of the byte order mark, where it came from, the label when a <meta> said it).
    An XML document says its encoding in its XML declaration, not in a <meta>."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8", 3, "BOM", None
    if data.startswith(b"\xff\xfe"):
        return "utf-16-le", 2, "BOM", None
    if data.startswith(b"\xfe\xff"):
        return "utf-16-be", 2, "BOM", None
    label = _declared(content_type)
    if label is not None:
        codec = _codec(label)
        if codec is not None:
            return codec, 0, "Content-Type", None
        if label.strip("\"' ").lower() in _STATEFUL:
            return None, 0, f"charset {label!r} is not supported", None
    if xml:
        decl = _XML_DECL.match(data)
        label = decl.group(1).decode("ascii") if decl is not None else "utf-8"
        codec = _codec(label)
        if codec is None or codec.startswith("utf-16"):  # (UTF-16 has a byte order mark)
            return None, 0, f"XML encoding {label!r} is not supported", None
        return codec, 0, "XML declaration" if decl is not None else "default", None
    meta = _prescan(data[:1024])
    if meta is not None:
        return meta[0], 0, "<meta>", meta[1]
    return "utf-8", 0, "default", None


# ---------------------------------------------------------------------------------------------
# Content-Encoding


class _BodyError(Exception):
    pass


class _NoPage(_BodyError):
    """An XML document whose root is not XHTML's <html>: no page, served as it came."""


class _TooBig(_BodyError):
    """Decompressed, the body is over the limit: it goes as it came, unread (inflating stopped)."""


def _inflate(body: bytes, wbits: int, limit: int) -> bytes:
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as e:
        raise _BodyError(f"corrupt compressed body ({e})") from None
    if d.unconsumed_tail or len(out) > limit:
        raise _TooBig(f"decompressed body over the size limit ({limit} bytes)")
    if not d.eof:
        raise _BodyError("truncated compressed body")
    if d.unused_data.strip(b"\0"):
        raise _BodyError("data after the end of the compressed body")
    return out


def _decompress(body: bytes, encoding: str, limit: int | None = None) -> tuple[bytes, Any]:
    if limit is None:
        limit = MAX_DECODED_BYTES
    if encoding in ("gzip", "x-gzip"):
        return _inflate(body, 16 + zlib.MAX_WBITS, limit), 16 + zlib.MAX_WBITS
    if encoding == "deflate":  # zlib-wrapped as the RFC says, or raw as some servers send it
        try:
            return _inflate(body, zlib.MAX_WBITS, limit), zlib.MAX_WBITS
        except _TooBig:
            raise
        except _BodyError:
            return _inflate(body, -zlib.MAX_WBITS, limit), -zlib.MAX_WBITS
    if encoding == "br":
        if _brotli is None:
            raise _BodyError("br body and the brotli package is not installed")
        d = _brotli.Decompressor()
        try:
            out = d.process(body, output_buffer_limit=limit + 1)
        except _brotli.error as e:
            raise _BodyError(f"corrupt br body ({e})") from None
        if len(out) > limit:
            raise _TooBig(f"decompressed body over the size limit ({limit} bytes)")
        if not d.is_finished():
            raise _BodyError("truncated br body")
        return out, None
    raise _BodyError(f"content-encoding {encoding!r} is not rewritten")


def _compress(data: bytes, encoding: str, wbits: Any) -> bytes:
    if encoding == "br":
        assert _brotli is not None
        return bytes(_brotli.compress(data, quality=BROTLI_QUALITY, mode=_brotli.MODE_TEXT))
    c = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, wbits)
    return c.compress(data) + c.flush()


def readable_accept_encoding(value: bytes) -> bytes:
    """A request's Accept-Encoding with only the codings this module can undo and redo (so an app
    never answers in one, zstd say, that would pass through unread: a refresh in it would stay)."""
    readable = {b"gzip", b"x-gzip", b"deflate", b"identity"} | ({b"br"} if _brotli is not None else set())
    kept = [p.strip() for p in value.split(b",") if p.split(b";")[0].strip().lower() in readable]
    return b", ".join(kept)


def _codings(content_encoding: str | None) -> list[str]:
    """The codings applied, in order (`gzip, gzip` is gzip twice: browsers undo both)."""
    parts = [c.strip().lower() for c in (content_encoding or "").split(",")]
    return [c for c in parts if c not in ("", "identity")]


def _decode_all(
    body: bytes, codings: list[str], limit: int | None = None
) -> tuple[bytes, list[tuple[str, Any]]]:
    """The body with every coding undone (last applied, first undone), and how to redo each; each
    step inflates to `limit` bytes at most."""
    steps = []
    for coding in reversed(codings):
        body, wbits = _decompress(body, coding, limit)
        steps.append((coding, wbits))
    return body, steps


def _encode_all(data: bytes, steps: list[tuple[str, Any]]) -> bytes:
    for coding, wbits in reversed(steps):
        data = _compress(data, coding, wbits)
    return data


# ---------------------------------------------------------------------------------------------


def _splice(raw: bytes, bom: int, text: str, codec: str, inserts: Iterable[tuple[int, str]]) -> bytes:
    """The original bytes with the insertions encoded in at the right offsets."""
    parts = [raw[:bom]]
    identity = len(text) == len(raw) - bom and not codec.startswith("utf-16")
    bpos = bom
    prev = 0
    for pos, insert in inserts:
        n = pos - prev if identity else len(text[prev:pos].encode(codec))
        parts.append(raw[bpos : bpos + n])
        bpos += n
        parts.append(insert.encode(codec, "xmlcharrefreplace"))
        prev = pos
    parts.append(raw[bpos:])
    if not identity and len(raw) - bpos != len(text[prev:].encode(codec)):
        raise _BodyError("the text does not map back onto the bytes")  # cannot happen; be sure
    return b"".join(parts)


def _log_undeclared(blocked: tuple[Blocked, ...]) -> None:
    """Once per host: an undeclared third party was made inert, and the lines that would declare it."""
    for b in blocked:
        if b.services or "//" not in b.url:
            continue
        try:
            parts = urlsplit(b.url)
            host = parts.hostname or ""
        except ValueError:
            continue
        if host:
            log_once(
                log,
                ("gatekeeper.body", "undeclared-strict", host),
                logging.WARNING,
                "undeclared third party %s made inert (%s %s); %s",
                host,
                b.kind,
                b.url[:200],
                hint(host, parts.path),
            )


def decoded_head(body: bytes, content_encoding: str | None, size: int) -> bytes:
    """The first `size` bytes of the body as the browser reads it, each coding undone only as far
    as that needs (a start of a compressed body is enough); b"" when it cannot be decoded."""
    data = body
    codings = list(reversed(_codings(content_encoding)))
    try:
        for i, coding in enumerate(codings):
            limit = size if i == len(codings) - 1 else max(64 * size, 65536)  # (a coding under it)
            if coding == "br" and _brotli is not None:
                data = bytes(_brotli.Decompressor().process(data, output_buffer_limit=limit))
            elif coding in ("gzip", "x-gzip", "deflate"):
                wbits = zlib.MAX_WBITS if coding == "deflate" else 16 + zlib.MAX_WBITS
                if coding == "deflate" and data[:1] and data[0] & 0x0F != 8:
                    wbits = -zlib.MAX_WBITS  # raw deflate, as some servers send it
                data = zlib.decompressobj(wbits).decompress(data, limit)
            else:
                return b""
    except _DECODE_ERRORS:
        return b""
    return data[:size]


def decoded_size(body: bytes, content_encoding: str | None, limit: int) -> int:
    """The body's length once decompressed, or `limit + 1` when it is longer (inflating stops there);
    0 when it cannot be decompressed (rewriting it will say why, at once)."""
    codings = _codings(content_encoding)
    if not codings:
        return len(body)
    try:
        return len(_decode_all(body, codings, limit)[0])
    except _TooBig:
        return limit + 1
    except _BodyError:
        return 0


def _process(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    ctx: PageContext,
    limit: int,
    xml: bool = False,
) -> ProcessedBody:
    raw, steps = _decode_all(body, _codings(content_encoding), limit)
    codec, bom, source, meta_label = _encoding(raw, content_type, xml)
    if codec is None:
        raise _BodyError(source)
    try:
        text = raw[bom:].decode(_DECODE_AS.get(codec, codec))
    except UnicodeDecodeError as e:
        raise _BodyError(f"not valid {codec} ({source}) at byte {e.start + bom}") from None
    if xml:  # an XML document is read as XML only when it is well-formed, and stays so
        bad = well_formed(text)
        if bad is not None:
            raise _BodyError(bad)
    try:
        p = plan(text, ctx, xml=True) if xml else plan(text, ctx)
    except NotXhtml as e:
        raise _NoPage(f"XML not rewritten: {e}") from None
    except NotReadable as e:
        raise _BodyError(f"XML not rewritten: {e}") from None
    if xml and p.inserts:
        bad = well_formed(p.apply(text))
        if bad is not None:  # a bug of ours: the page goes unread rather than broken
            raise _BodyError(f"the rewritten page would be {bad}")
    for r in p.reported:
        log_once(
            log,
            ("gatekeeper.body", "undeclared", r.url.split("/", 3)[2] if "//" in r.url else r.url),
            logging.INFO,
            "undeclared third party %s (%s), let through in report mode; declare it in the services file",
            r.url,
            r.kind,
        )
    _log_undeclared(p.blocked)
    if not p.inserts:
        return ProcessedBody(body, False, None, p.blocked, p.reported)
    out = _splice(raw, bom, text, codec, p.inserts)
    out = _encode_all(out, steps)
    charset = meta_label if meta_label is not None and _TOKEN.fullmatch(meta_label) else None
    return ProcessedBody(out, True, None, p.blocked, p.reported, charset)


def process_html(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    ctx: PageContext,
    *,
    max_bytes: int | None = None,
    seconds: float | None = None,
    final: bool = True,
    xml: bool = False,
) -> ProcessedBody:
    """Rewrite an HTML response body. Never raises: on any failure the body comes back unchanged
    with the reason. `max_bytes`: the most a compressed body may inflate to (beyond it, inflating
    stops and the body goes unread as it came). `seconds`: the time the rewrite may take; past it,
    it is abandoned and the page served unread (`abandoned`), and, when this was the `final`
    attempt, the same bytes are served unread at once from then on (whatever the query string or
    consent: the time is the page's, not the request's). `xml`: an XML document (XHTML), read as
    XML and changed only where that keeps it well-formed; one that is not well-formed, or not
    XHTML, is served unread."""
    if max_bytes is None:
        max_bytes = MAX_DECODED_BYTES
    key = None
    if ctx.cache_key is not None:
        key = (body, content_type, content_encoding, ctx.cache_key, max_bytes, xml)
        hit = _cache.get(key)
        if hit is not None:
            return hit
    slow = (body, content_type, content_encoding)
    if _slow.get(slow) is not None:
        return ProcessedBody(_unread(body, content_encoding, ctx), False, _SLOW, abandoned=True)
    if seconds is not None:
        ctx = replace(ctx, deadline=time.monotonic() + seconds)
    try:
        result = _process(body, content_type, content_encoding, ctx, max_bytes, xml)
    except _TooBig as e:
        result = ProcessedBody(
            _unread(body, content_encoding, ctx), False, str(e), no_page=isinstance(e, _NoPage)
        )
    except TooMuchWork as e:
        if isinstance(e, OutOfTime) and not final:
            return ProcessedBody(body, False, str(e), abandoned=True)
        result = ProcessedBody(_unread(body, content_encoding, ctx), False, str(e), abandoned=True)
        _slow.put(slow, result, len(body))
    except _BodyError as e:
        result = ProcessedBody(
            _unread(body, content_encoding, ctx), False, str(e), no_page=isinstance(e, _NoPage)
        )
    except Exception as e:  # a bug in the rewriter must not cost the visitor the page
        reason = f"rewrite failed: {type(e).__name__}: {e}"
        result = ProcessedBody(_unread(body, content_encoding, ctx), False, reason)
    if result.reason is not None:
        log_once(
            log,
            ("gatekeeper.body", result.reason),
            logging.INFO,
            "HTML body not rewritten: %s",
            result.reason,
        )
    if key is not None and not result.abandoned:
        _cache.put(key, result, len(body) + (len(result.body) if result.body is not body else 0))
    return result


process_body = process_html  # the name docs/ARCHITECTURE.md uses


def _unread(body: bytes, content_encoding: str | None, ctx: PageContext) -> bytes:
    """A page served without rewriting keeps every byte but its third-party refreshes (no CSP stops
    a navigation): `inert_refreshes`, decompressed and compressed again where that works."""
    codings = _codings(content_encoding)
    try:
        raw, steps = _decode_all(body, codings)
        out = inert_refreshes(raw, ctx.registry, ctx.granted, ctx.page_url)
        return body if out is raw else _encode_all(out, steps)
    except _TooBig:  # inflated piece by piece, compressed again only when a refresh was made inert
        from .unread_stream import CompressedRefreshStop  # (it streams with RefreshStop, below)

        stop = CompressedRefreshStop(codings, ctx.registry, ctx.granted, ctx.page_url)
        out = stop.feed(body, False)
        return out if stop.changed else body
    except Exception:  # a body we cannot read at all goes as it came: the CSP still protects
        return body


_META_START: Final = re.compile(rb"<(?:[a-z_][\w.\-]*+:)?meta(?=[\t\n\f\r /])", re.I)
_HTTP_EQUIV: Final = re.compile(rb"(?<!data-gk-)http-equiv", re.I)


class RefreshStop:
    """`inert_refreshes` over a page streamed through unread (over `max_body_bytes`), chunk by chunk:
    a chunk's last "<" without its ">" waits for the next one (up to 4 KB), so a tag split between
    chunks is seen whole. A <meta> tag longer than that cannot be read whole without holding what
    the page makes us hold: every `http-equiv` in it is made inert, whatever its content, up to
    its ">" (a refresh to the site itself in such a tag is lost; none elsewhere)."""

    HOLD: Final = 4096

    def __init__(self, registry: Registry, granted: frozenset[str], page_url: str) -> None:
        self.registry, self.granted, self.page_url = registry, granted, page_url
        self.tail = b""
        self.long_meta = False  # inside a <meta> tag that began more than HOLD bytes ago

    def feed(self, chunk: bytes, more: bool) -> bytes:
        data = self.tail + chunk if self.tail else chunk
        self.tail = b""
        out = b""
        if self.long_meta:
            end = data.find(b">")
            if end < 0:
                return self._inert_equivs(data, more)
            out, data = _HTTP_EQUIV.sub(rb"data-gk-\g<0>", data[:end]), data[end:]
            self.long_meta = False
        if more:
            # the first <meta after the last ">" is a tag still open at the chunk's end
            open_meta = _META_START.search(data, data.rfind(b">") + 1)
            if open_meta is not None:
                start = open_meta.start()
                out += inert_refreshes(data[:start], self.registry, self.granted, self.page_url)
                if start >= len(data) - self.HOLD:
                    self.tail = data[start:]
                    return out
                self.long_meta = True  # begun more than HOLD bytes ago, still open
                return out + self._inert_equivs(data[start:], more)
            cut = data.rfind(b"<", max(0, len(data) - self.HOLD))
            if cut >= 0 and data.find(b">", cut) < 0:
                data, self.tail = data[:cut], data[cut:]
        return out + inert_refreshes(data, self.registry, self.granted, self.page_url)

    def _inert_equivs(self, data: bytes, more: bool) -> bytes:
        """A stretch inside an over-long <meta>: every http-equiv made inert; the last bytes wait
        when more is coming (a name cut by the chunk's end)."""
        data = _HTTP_EQUIV.sub(rb"data-gk-\g<0>", data)
        # what waits: a name not whole yet, and the 8 bytes a "data-gk-" before it would take
        if not more:
            return data
        cut = max(0, len(data) - len(b"data-gk-http-equi"))
        last = data.lower().rfind(b"http-equiv")
        if last >= 0 and last + len(b"http-equiv") > cut:  # a whole name in what waits: its 8 too
            cut = max(0, last - len(b"data-gk-"))
        self.tail = data[cut:]
        return data[:cut]


class _Cache:
    """A least-recently-used map bounded in entries and in bytes; safe across threads."""

    def __init__(self, entries: int, size: int) -> None:
        self.max_entries = entries
        self.max_bytes = size
        self.items: OrderedDict[Any, tuple[ProcessedBody, int]] = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()

    def get(self, key: Any) -> ProcessedBody | None:
        with self.lock:
            hit = self.items.get(key)
            if hit is None:
                return None
            self.items.move_to_end(key)
            return hit[0]

    def put(self, key: Any, value: ProcessedBody, size: int) -> None:
        if size > self.max_bytes // 4:
            return  # one huge page would flush everything else
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self.items[key] = (value, size)
            self.bytes += size
            while self.items and (len(self.items) > self.max_entries or self.bytes > self.max_bytes):
                _, (_, n) = self.items.popitem(last=False)
                self.bytes -= n

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.bytes = 0


_cache = _Cache(CACHE_ENTRIES, CACHE_BYTES)
_slow = _Cache(64, CACHE_BYTES)  # bodies whose rewrite ran past its time: served unread from then on
_SLOW: Final = "rewriting this page ran past its time budget before"


def clear_cache() -> None:
    _cache.clear()
    _slow.clear()
