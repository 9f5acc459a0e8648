"""Step 5, style sheets made partly inert: where each URL of a style sheet or style attribute starts, and
the insertion that makes that one URL fetch nothing while every other rule and declaration stays live.

An inert URL gets `https://[gk]/<id>/` in front of it (`<id>`: the service it waits for, "?" for an
undeclared host). "[gk]" is no IPv6 address, so the whole URL fails to parse and the
browser fetches nothing, asks no CSP, reports nothing; the declaration around it stays valid. Taking the
mark out again gives back the sheet byte for byte (the loader does that on consent, per service).

One left-to-right pass of CSS Syntax 3's tokenizer, cut down to what tells a URL: comments, strings,
names (escapes too, so `\\75 rl(` is `url(` and `2url(` or `a-url(` is not), numbers, parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from .css import _CSS_ESCAPE, _css_unescape, css_urls
from .urls import _CHARREF, _charref, decode_attribute

INERT_HOST: Final = "https://[gk]/"
_INERT_MARK: Final = re.compile(r"https://\[gk\]/([a-z0-9?-]*)/")

_ESC: Final = r"(?>\\(?:[0-9a-fA-F]{1,6}(?:\r\n|[ \t\n\r\f])?|[^\n\r\f0-9a-fA-F]))"  # atomic: all of it
_START: Final = r"(?:[a-zA-Z_\x00\x80-\U0010ffff]|" + _ESC + ")"
_CHAR: Final = r"(?:[a-zA-Z0-9_\-\x00\x80-\U0010ffff]++|" + _ESC + ")"
_NAME: Final = r"(?>(?:--|-?" + _START + ")" + _CHAR + "*+)"
_NUMBER: Final = r"[+-]?+(?:[0-9]++(?:\.[0-9]++)?+|\.[0-9]++)(?:[eE][+-]?+[0-9]++)?+"
_BORING: Final = r"[^/\"'<@#+.\-0-9a-zA-Z_\\()\x00\x80-\U0010ffff]++"
# a run of tokens that cannot matter, taken in one match: names not followed by "(", numbers and
# dimensions, hashes, a "." or "+" or "-" that starts none of those, a "/" that starts no comment,
# and everything else but quotes, "<", "@", "\", "(" and ")"
_RUN: Final = (
    r"(?:" + _NAME + r"(?![\\(])|" + _NUMBER + r"(?:" + _NAME + r"|%)?+|\#" + _CHAR + r"++|" + _BORING
    + r"|[.+](?![0-9])|-(?![0-9.a-zA-Z_\-\\\x00\x80-\U0010ffff])|/(?!\*))++"
)  # fmt: skip
_TOKEN: Final = re.compile(
    # 1 the common url(...): unquoted, no escape (any other url( is read by _url_token)
    r"[uU][rR][lL]\([ \t\n\r\f]*+([^)\\ \t\n\r\f\"'(\x01-\x08\x0b\x0e-\x1f\x7f]*+)[ \t\n\r\f]*+(?:\)|\Z)|"
    + _RUN
    + r"|(/\*(?s:.*?)(?:\*/|\Z))"  # 2 comment
    r"""|("(?:[^"\\\n\r\f]++|\\(?:\r\n|[\s\S])|\\\Z)*+"?|'(?:[^'\\\n\r\f]++|\\(?:\r\n|[\s\S])|\\\Z)*+'?)"""
    r"|(<!--|-->)"  # 4 CDO, CDC: ignored (`<!--url(` is a url all the same)
    r"|(" + _NUMBER + r"(?:" + _NAME + r"|%)?+)"  # 5 a number or dimension: `2url(` is no function
    r"|(@|\#)?+(" + _NAME + r")(\()?+"  # 6 at-keyword or hash, 7 a name, 8 a function
    r"|(\()|(\))"  # 9, 10
    r"|[\s\S]",  # nothing that can matter
)
_SPACE: Final = re.compile(r"[ \t\n\r\f]*+")
_URL_BODY: Final = re.compile(r"(?:[^)\\ \t\n\r\f\"'(\x01-\x08\x0b\x0e-\x1f\x7f]++|" + _ESC + r")*+")
_URL_END: Final = re.compile(r"[ \t\n\r\f]*+(?:\)|\Z)")
_BAD_URL_REST: Final = re.compile(r"(?:[^)\\]++|\\[\s\S])*+\)?+")

# what the strings of an open function are: the first one a URL (url(, src(), all (image-set), none
_ONE, _ALL, _NONE = 1, 2, 0
_FUNCTIONS: Final = {"url": _ONE, "src": _ONE, "image-set": _ALL, "-webkit-image-set": _ALL}


@dataclass(frozen=True, slots=True)
class SheetUrl:
    """One URL of a style sheet: where its text starts (after `url(` and spaces, or after the quote)
    and the URL as the browser reads it. Bad url() tokens are listed too: they fetch nothing, but other
    readers of the sheet may take them for URLs."""

    at: int
    url: str


def _name(raw: str) -> str:
    return (_CSS_ESCAPE.sub(_css_unescape, raw) if "\\" in raw else raw).lower()


def _string_value(token: str) -> str:
    body = token[1:-1] if len(token) > 1 and token[-1] == token[0] else token[1:]
    return _CSS_ESCAPE.sub(_css_unescape, body) if "\\" in body else body


def sheet_urls(css: str) -> list[SheetUrl]:
    """Every URL a style sheet (or a style attribute's declarations) names where a browser fetches:
    url() quoted or not, the strings of image-set() and -webkit-image-set(), src(), @import "..."."""
    urls: list[SheetUrl] = []
    frames: list[int] = []  # the open functions and blocks, innermost last
    importing = False  # after @import: its string is a URL
    pos, n = 0, len(css)
    while pos < n:
        m = _TOKEN.match(css, pos)
        assert m is not None  # the last alternative takes any character
        pos = m.end()
        kind = m.lastindex
        if kind is None or kind in (2, 4):  # nothing that can matter, a comment, CDO/CDC
            if kind is None and importing and not css[m.start() : pos].isspace():
                importing = False
            continue
        if kind == 1:
            urls.append(SheetUrl(m.start(1), m.group(1)))
        elif kind == 3:
            top = frames[-1] if frames else _NONE
            if importing or top in (_ALL, _ONE):
                urls.append(SheetUrl(m.start() + 1, _string_value(m.group(3))))
                if top == _ONE and not importing:
                    frames[-1] = _NONE
        elif kind == 8:
            name = _name(m.group(7))
            if m.group(6) is None and name == "url":
                space = _SPACE.match(css, pos).end()  # type: ignore[union-attr]
                if space < n and css[space] in "\"'":
                    frames.append(_ONE)
                else:
                    pos = _url_token(css, space, urls)
            else:
                frames.append(_FUNCTIONS.get(name, _NONE) if m.group(6) is None else _NONE)
                if m.group(6) is not None:  # `@x(` or `#x(`: a paren block after the token
                    importing = m.group(6) == "@" and name == "import"
                    continue
        elif kind == 7 and m.group(6) == "@":
            importing = _name(m.group(7)) == "import"
            continue
        elif kind == 9:
            frames.append(_NONE)
        elif kind == 10 and frames:
            frames.pop()
        importing = False
    return urls


def _url_token(css: str, start: int, urls: list[SheetUrl]) -> int:
    """An unquoted url(: the URL from `start`; where the token ends."""
    body = _URL_BODY.match(css, start).end()  # type: ignore[union-attr]
    end = _URL_END.match(css, body)
    if end is not None:
        raw = css[start:body]
        urls.append(SheetUrl(start, _CSS_ESCAPE.sub(_css_unescape, raw) if "\\" in raw else raw))
        return end.end()
    # a bad url: nothing is fetched, but it is made inert like the rest for other readers' sake
    stop = _BAD_URL_REST.match(css, body).end()  # type: ignore[union-attr]
    raw = css[start : stop - 1 if css.endswith(")", 0, stop) else stop]
    urls.append(SheetUrl(start, _CSS_ESCAPE.sub(_css_unescape, raw).strip(" \t\n\r\f")))
    return stop


def inert_mark(service: str) -> str:
    return INERT_HOST + service + "/"


def apply_inserts(text: str, inserts: Sequence[tuple[int, str]]) -> str:
    parts: list[str] = []
    prev = 0
    for at, added in sorted(inserts, key=lambda i: i[0]):
        parts += (text[prev:at], added)
        prev = at
    parts.append(text[prev:])
    return "".join(parts)


def inert_inserts(css: str, mark_for: Callable[[str], str | None]) -> list[tuple[int, str]] | None:
    """The insertions that make each URL `mark_for` gives a mark for inert; None when a second reader
    of style sheets (`css_urls`, a regex of its own) still finds one to mark in the result, so the
    caller makes the whole element inert instead (`mark_for` has then been asked about every URL
    either reader finds)."""
    inserts = [(u.at, mark) for u in sheet_urls(css) if (mark := mark_for(u.url)) is not None]
    edited = apply_inserts(css, inserts) if inserts else css
    # (a URL that starts with "*" would make "/*" of the mark's last "/")
    if any(css.startswith("*", at) for at, _ in inserts) or any(
        [not u.startswith(INERT_HOST) and mark_for(u) is not None for u in css_urls(edited)]
    ):
        for url in css_urls(css):
            mark_for(url)
        return None
    return inserts


def attribute_inserts(raw: str, mark_for: Callable[[str], str | None]) -> list[tuple[int, str]] | None:
    """`inert_inserts` for an attribute value as written (character references and all): offsets in
    `raw`. None where a reference stands in the way of an insertion."""
    if "&" not in raw:
        return inert_inserts(raw, mark_for)
    # where each character of the decoded value ends in `raw`; -1 inside a reference's expansion
    ends: list[int] = [0]
    prev = 0
    for m in _CHARREF.finditer(raw):
        ends += range(prev + 1, m.start() + 1)
        decoded = _charref(m, True)
        ends += [-1] * (len(decoded) - 1) + [m.end()] if decoded else []
        prev = m.end()
    ends += range(prev + 1, len(raw) + 1)
    value = decode_attribute(raw)
    inserts = inert_inserts(value, mark_for)
    if not inserts:
        return inserts
    mapped = [(ends[at], added) for at, added in inserts]
    if any(at < 0 for at, _ in mapped) or decode_attribute(apply_inserts(raw, mapped)) != apply_inserts(
        value, inserts
    ):
        return None  # (a reference without ";" that what we insert would change)
    return mapped


def restored(text: str, granted: Iterable[str] | None = None) -> str:
    """The text with the marks taken out: all of them, or those with a granted service (the loader's
    rule, in snippets/loader.js, written here for the tests)."""
    if granted is None:
        return _INERT_MARK.sub("", text)
    ok = frozenset(granted)
    return _INERT_MARK.sub(lambda m: "" if m.group(1) in ok else m.group(0), text)
