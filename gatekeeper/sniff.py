"""Response start: what a browser will make of a response, read as Chromium reads it.

The CSP and the rewrite must not depend on a guess that differs from the browser's: several
`Content-Type` headers are one list whose last valid entry wins; no type (or an unknown one) is sniffed
from the first bytes; XML types render XHTML, SVG and MathML; `X-Content-Type-Options: nosniff` turns
sniffing off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = ["Kind", "ResponseType", "kind_of_body", "response_type", "split_list", "xml_root"]


class Kind(StrEnum):
    HTML = "html"  # parsed as HTML: rewritten
    XML = "xml"  # an XML document (XHTML, SVG, RSS...): elements of the XHTML namespace fetch as in HTML
    UNKNOWN = "unknown"  # no usable type: the browser sniffs the body
    OTHER = "other"  # an image, a script, a style sheet, JSON, plain text...: never a document


_HTML: Final = frozenset({"text/html"})
_XML: Final = frozenset({"text/xml", "application/xml", "application/xhtml+xml", "image/svg+xml"})
_UNKNOWN: Final = frozenset({"unknown/unknown", "application/unknown", "*/*"})
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+/[!#$%&'*+\-.^_`|~0-9a-z]+")


@dataclass(frozen=True, slots=True)
class ResponseType:
    kind: Kind
    media: str  # "" when there is none
    content_type: str | None  # the winning entry with its parameters (charset), as written

    @property
    def document(self) -> bool:
        """Whether a browser could render it as a document that loads subresources."""
        return self.kind is not Kind.OTHER


def split_list(value: str, brackets: str = "") -> list[str]:
    """A header list split at the commas outside quoted strings (`charset="a,b"` stays whole) and
    outside the `brackets` pairs given (`"<>"` for Link's URLs, `"{}[]"` for Report-To's JSON)."""
    opening, closing = brackets[0::2], brackets[1::2]
    out, start, depth, quoted, escaped = [], 0, 0, False, False
    for i, c in enumerate(value):
        if escaped:
            escaped = False
        elif c == "\\" and quoted:
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif c in opening:
            depth += 1
        elif c in closing:
            depth = max(0, depth - 1)
        elif c == "," and depth == 0:
            out.append(value[start:i])
            start = i + 1
    out.append(value[start:])
    return [part.strip() for part in out if part.strip()]


def _kind(media: str) -> Kind:
    if media in _HTML:
        return Kind.HTML
    if media in _XML or media.endswith("+xml"):
        return Kind.XML
    return Kind.OTHER


def response_type(content_types: Iterable[str], nosniff: bool = False) -> ResponseType:
    """The type a browser uses: every `Content-Type` value, split at commas, the last valid one wins
    (`*/*` is no type). None usable: the body is sniffed, unless `nosniff` (then it is plain text)."""
    media, winner = "", None
    for value in content_types:
        for part in split_list(value):
            candidate = part.split(";", 1)[0].strip().lower()
            if _TOKEN.fullmatch(candidate) and candidate != "*/*":
                media, winner = candidate, part
    if not media or media in _UNKNOWN:
        return ResponseType(Kind.OTHER if nosniff else Kind.UNKNOWN, media, winner)
    return ResponseType(_kind(media), media, winner)


# Chromium's HTML signatures (net/base/mime_sniffer.cc): after leading whitespace, one of these,
# case-insensitively, followed by a space or ">".
_HTML_SIGNATURES: Final = (
    b"<!doctype html", b"<script", b"<html", b"<!--", b"<head", b"<iframe", b"<h1", b"<div", b"<font",
    b"<table", b"<a", b"<style", b"<title", b"<b", b"<body", b"<br", b"<p",
)  # fmt: skip
SNIFF_BYTES: Final = 1024


def kind_of_body(head: bytes) -> Kind:
    """What a browser sniffs a body without a usable type as: HTML, XML (`<?xml`), or neither."""
    text = head[:SNIFF_BYTES].lstrip(b"\t\n\x0c\r ").lower()
    for signature in _HTML_SIGNATURES:
        if text.startswith(signature) and text[len(signature) : len(signature) + 1] in (b" ", b">"):
            return Kind.HTML
    if text.startswith(b"<?xml"):
        return Kind.XML
    return Kind.OTHER


# the prolog of an XML document: white space, the XML declaration and other processing
# instructions, comments, a DOCTYPE without an internal subset
_PROLOG_ITEM: Final = re.compile(rb"[ \t\r\n]+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*>", re.S)
_ROOT: Final = re.compile(rb"<([^ \t\r\n/>!?<]+)[ \t\r\n/>]")
XML_ROOT_BYTES: Final = 8192


def xml_root(head: bytes) -> str | None:
    """The local name of an XML document's root element from its first bytes (UTF-8, or ASCII
    compatible), or None when they do not show it for sure (too few bytes, an internal subset, a
    prolog longer than XML_ROOT_BYTES)."""
    pos = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    end = min(len(head), XML_ROOT_BYTES)
    while pos < end:
        item = _PROLOG_ITEM.match(head, pos, end)
        if item is None:
            break
        pos = item.end()
    root = _ROOT.match(head, pos, end)
    if root is None:
        return None
    return root.group(1).rpartition(b":")[2].decode("latin-1")
