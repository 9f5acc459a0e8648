"""Response body served unread and compressed: inflated as it streams (in bounded pieces), its third-party
refreshes made inert (`body.RefreshStop`), compressed again with the same codings.

A page over `max_body_bytes`, or one whose compressed bytes inflate past it, is not rewritten; a refresh
in it is a navigation no CSP governs, so it still goes. Memory is bounded (one piece at a time, whatever
the page inflates to); the time is the page's (the middleware feeds it off the event loop)."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from typing import Any, Final

from .body import BROTLI_QUALITY, GZIP_LEVEL, RefreshStop
from .registry import Registry

try:
    import brotli as _brotli  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - brotli is optional
    _brotli = None

__all__ = ["CompressedRefreshStop", "readable_codings"]

log = logging.getLogger("gatekeeper.body")

PIECE: Final = 64 * 1024  # the most one inflating step gives at once
_ZLIB: Final = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS}


def readable_codings(codings: list[str]) -> bool:
    """Whether every coding can be undone and redone here."""
    known = {"gzip", "x-gzip", "deflate"} | ({"br"} if _brotli is not None else set())
    return all(c in known for c in codings)


class _Inflate:
    """One coding undone as the bytes come, in pieces of at most PIECE bytes."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.wbits = _ZLIB.get(coding)
        self.head = b""  # deflate: the first two bytes say zlib-wrapped or raw
        self.d: Any = None
        if coding == "br":
            self.d = _brotli.Decompressor()
        elif self.wbits is not None:
            self.d = zlib.decompressobj(self.wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.d is None:  # deflate, wrapped (as the RFC says) or raw (as some servers send it)
            self.head += data
            if len(self.head) < 2:
                return
            b0, b1 = self.head[0], self.head[1]
            self.wbits = zlib.MAX_WBITS if b0 & 0x0F == 8 and (b0 << 8 | b1) % 31 == 0 else -zlib.MAX_WBITS
            self.d = zlib.decompressobj(self.wbits)
            data, self.head = self.head, b""
        if self.coding == "br":
            yield self.d.process(data, output_buffer_limit=PIECE)
            while not self.d.can_accept_more_data():
                yield self.d.process(b"", output_buffer_limit=PIECE)
            return
        if self.d.eof:
            return  # what follows the end of the stream: browsers ignore it too
        yield self.d.decompress(data, PIECE)
        while self.d.unconsumed_tail and not self.d.eof:
            yield self.d.decompress(self.d.unconsumed_tail, PIECE)


class _Deflate:
    """One coding redone as the bytes come; each chunk flushed so the page still streams."""

    def __init__(self, coding: str, wbits: int | None) -> None:
        self.br = coding == "br"
        if self.br:
            self.c: Any = _brotli.Compressor(quality=BROTLI_QUALITY, mode=_brotli.MODE_TEXT)
        else:
            self.c = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, wbits or zlib.MAX_WBITS)

    def feed(self, data: bytes, final: bool) -> bytes:
        if self.br:
            out = self.c.process(data) if data else b""
            return bytes(out + (self.c.finish() if final else self.c.flush()))
        return bytes(self.c.compress(data) + self.c.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH))


class CompressedRefreshStop:
    """`RefreshStop` for a body in `codings` (in the order applied, as Content-Encoding lists them)."""

    def __init__(
        self,
        codings: list[str],
        registry: Registry,
        granted: frozenset[str],
        page_url: str,
    ) -> None:
        self.codings = codings
        self.inflate = [_Inflate(c) for c in reversed(codings)]  # the last applied is undone first
        self.deflate: list[_Deflate] | None = None  # made once the inflaters know their wbits
        self.stop = RefreshStop(registry, granted, page_url)
        self.plain = [0, 0]  # bytes inflated, bytes after the refresh stop: unequal once one was inert
        self.done = False

    def feed(self, chunk: bytes, more: bool) -> bytes:
        """The next bytes to send for `chunk` (compressed again); `more` False: the last chunk."""
        if self.done:
            return b""
        out: list[bytes] = []
        try:
            for piece in self._inflated(chunk, 0):
                out.append(self._deflated(self._stopped(piece, True), False))
        except Exception as e:  # a corrupt body (zlib.error, brotli.error): what was read is sent
            log.warning("a compressed page could not be inflated (%s): the rest is not sent", e)
            more = False
        if not more:
            self.done = True
            out.append(self._deflated(self._stopped(b"", False), True))
        elif self.deflate is not None or all(f.wbits is not None or f.coding == "br" for f in self.inflate):
            out.append(self._deflated(b"", False))  # flushed: what came so far goes now
        return b"".join(out)

    @property
    def changed(self) -> bool:
        """Whether a refresh was made inert so far (else the bytes say what the app's bytes said)."""
        return self.plain[0] != self.plain[1]

    def _stopped(self, piece: bytes, more: bool) -> bytes:
        out = self.stop.feed(piece, more)
        self.plain[0] += len(piece)
        self.plain[1] += len(out)
        return out

    def _inflated(self, data: bytes, i: int) -> Iterator[bytes]:
        if i == len(self.inflate):
            if data:
                yield data
            return
        for piece in self.inflate[i].feed(data):
            yield from self._inflated(piece, i + 1)

    def _deflated(self, data: bytes, final: bool) -> bytes:
        if self.deflate is None:
            wbits = [f.wbits for f in reversed(self.inflate)]  # in the order the codings were applied
            self.deflate = [_Deflate(c, w) for c, w in zip(self.codings, wbits, strict=True)]
        for d in self.deflate:  # the first applied is redone first
            data = d.feed(data, final)
        return data
