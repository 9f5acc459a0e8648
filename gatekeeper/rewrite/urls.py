"""Values, as the browser reads them: character references, URLs (where one loads from), srcset."""

from __future__ import annotations

import html.entities
import re
from typing import Final
from urllib.parse import unquote, urljoin

# ---------------------------------------------------------------------------------------------
# Values: character references, URLs, srcset, CSS


_CHARREF: Final = re.compile(r"&(?:#[xX]([0-9a-fA-F]++);?|#([0-9]++);?|([a-zA-Z][a-zA-Z0-9]*+)(;?))")
_ENTITIES: Final = html.entities.html5
_C1: Final = {  # numeric references to C1 controls mean windows-1252 (the tokenizer's table)
    0x80: "\u20ac", 0x82: "\u201a", 0x83: "\u0192", 0x84: "\u201e", 0x85: "\u2026", 0x86: "\u2020",
    0x87: "\u2021", 0x88: "\u02c6", 0x89: "\u2030", 0x8A: "\u0160", 0x8B: "\u2039", 0x8C: "\u0152",
    0x8E: "\u017d", 0x91: "\u2018", 0x92: "\u2019", 0x93: "\u201c", 0x94: "\u201d", 0x95: "\u2022",
    0x96: "\u2013", 0x97: "\u2014", 0x98: "\u02dc", 0x99: "\u2122", 0x9A: "\u0161", 0x9B: "\u203a",
    0x9C: "\u0153", 0x9E: "\u017e", 0x9F: "\u0178",
}  # fmt: skip


def _charref(m: re.Match[str], in_attribute: bool) -> str:
    hexa, dec, name, semi = m.group(1, 2, 3, 4)
    if name is None:
        try:
            code = int(hexa, 16) if hexa is not None else int(dec)
        except ValueError:
            code = 0x110000
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return "\ufffd"
        return _C1.get(code) or chr(code)
    if semi and name + ";" in _ENTITIES:
        return _ENTITIES[name + ";"]
    if not semi and name in _ENTITIES:  # a legacy reference without ";"
        nxt = m.string[m.end() : m.end() + 1]
        if not (in_attribute and nxt == "="):
            return _ENTITIES[name]
    if not in_attribute:  # in text, the longest legacy prefix is decoded
        for i in range(min(len(name), 32), 1, -1):
            if name[:i] in _ENTITIES:
                return _ENTITIES[name[:i]] + name[i:] + semi
    return m.group(0)


def decode_attribute(value: str) -> str:
    """An attribute value as the tokenizer decodes it."""
    if "&" not in value:
        return value
    return _CHARREF.sub(lambda m: _charref(m, True), value)


def _decode_text(value: str) -> str:
    if "&" not in value:
        return value
    return _CHARREF.sub(lambda m: _charref(m, False), value)


_SCHEME: Final = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*+):")
_SPECIAL: Final = frozenset({"http", "https", "ws", "wss", "ftp"})
_STRIP: Final = "".join(map(chr, range(0x21)))
_TAB_NL: Final = str.maketrans("", "", "\t\n\r")
_IPV6_CHARS: Final = "0123456789abcdefABCDEF:."


def _target(raw: str, base_scheme: str) -> tuple[str, str] | None:
    """(host, path) a URL loads from as the URL parser sees it; host "" for a URL relative to the base;
    None for one that makes no request (data:, javascript:, a fragment, an invalid host)."""
    url = raw.strip(_STRIP)
    if "\t" in url or "\n" in url or "\r" in url:
        url = url.translate(_TAB_NL)
    if not url:
        return None
    if url[0] == "#":
        return ("", url)  # the base URL itself: nothing to fetch unless the base is elsewhere
    m = _SCHEME.match(url)
    if m is not None:
        scheme = m.group(1).lower()
        rest = url[m.end() :]
        if scheme not in _SPECIAL:
            return None  # data:, blob:, javascript:, about:, mailto:, file: ... no third-party request
        if scheme == base_scheme and not (rest[:1] in ("/", "\\") and rest[1:2] in ("/", "\\")):
            return ("", rest)  # "https:x" on an https page is relative
        authority = rest.lstrip("/\\")
    elif url[:1] in ("/", "\\") and url[1:2] in ("/", "\\"):
        authority = url.lstrip("/\\")
    else:
        return ("", url)
    cut = len(authority)
    for ch in "/\\?#":
        i = authority.find(ch, 0, cut)
        if i >= 0:
            cut = i
    path = authority[cut:]
    for ch in "?#":
        i = path.find(ch)
        if i >= 0:
            path = path[:i]
    path = path.replace("\\", "/")
    if "." in path or "%2" in path:
        path = _remove_dots(path)
    host = authority[:cut]
    at = host.rfind("@")
    if at >= 0:
        host = host[at + 1 :]
    if host.startswith("["):
        host = host[: host.find("]") + 1] if "]" in host else host
        if host.strip("[]").strip(_IPV6_CHARS):
            return None  # no IPv6 address: the URL does not parse (how style sheets' URLs are made inert)
    else:
        host = host.partition(":")[0]
    if "%" in host:
        host = unquote(host)
    if not host:
        return None
    return (host, path or "/")


def _remove_dots(path: str) -> str:
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        low = seg.lower()
        if low in (".", "%2e"):
            if i == len(segments) - 1:
                out.append("")
        elif low in ("..", ".%2e", "%2e.", "%2e%2e"):
            if len(out) > 1:
                out.pop()
            if i == len(segments) - 1:
                out.append("")
        else:
            out.append(seg)
    return "/".join(out) or "/"


def _absolute(raw: str, base: str) -> str:
    key = (raw, base)
    hit = _ABSOLUTE.get(key)
    if hit is None:
        hit = _join(raw, base)
        if len(raw) <= 2048:
            if len(_ABSOLUTE) >= 4096:
                _ABSOLUTE.clear()
            _ABSOLUTE[key] = hit
    return hit


_ABSOLUTE: dict[tuple[str, str], str] = {}
# An absolute http(s) URL that urljoin returns as it is: a lower-case scheme, a host, no parameters
# (";" in the path) and no empty query or fragment (it drops those), no brackets (it checks those).
_ALREADY_ABSOLUTE: Final = re.compile(r"https?://[^/;?#\[\]][^;?#\[\]]*+(?:\?[^#]++)?+(?:#.++)?+", re.S)


def _join(raw: str, base: str) -> str:
    url = raw.strip(_STRIP)
    if "\t" in url or "\n" in url or "\r" in url:
        url = url.translate(_TAB_NL)
    m = _SCHEME.match(url)
    if (m is None or m.group(1).lower() in _SPECIAL) and "\\" in url:
        url = url.replace("\\", "/")
    if _ALREADY_ABSOLUTE.fullmatch(url) is not None and url.isascii():
        return url  # what urljoin would give back unchanged (a page of distinct embeds: most of them)
    try:
        return urljoin(base, url)
    except ValueError:
        return url


def _srcset_urls(value: str) -> list[str]:
    urls: list[str] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i] in " \t\n\r\f,":
            i += 1
        if i >= n:
            break
        j = i
        while j < n and value[j] not in " \t\n\r\f":
            j += 1
        url = value[i:j]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            in_parens = False  # parentheses do not nest: the first ")" ends them
            while j < n:
                c = value[j]
                if c == "(":
                    in_parens = True
                elif c == ")":
                    in_parens = False
                elif c == "," and not in_parens:
                    break
                j += 1
        if url:
            urls.append(url)
        i = j + 1
    return urls
