"""Response start, cookie gate: whether a cookie's name or value holds personal data.

A value is read as written and in every encoding a site's code (or a framework) puts text in a cookie:
URL encoding (repeated), full-width characters, JSON `\\uXXXX` and HTML character references,
base64 and base64url (a token anywhere in the value, glued to a prefix or not), and the zlib-compressed
base64 payloads of itsdangerous and Flask sessions (`.eJy...`). Found in any reading: an e-mail address
(internationalised ones too), a phone number (Japanese forms included), the requesting client's IP
address (dotted, zero-padded, hex or as one integer).
"""

from __future__ import annotations

import base64
import binascii
import html
import ipaddress
import re
import unicodedata
import zlib
from collections.abc import Iterable
from functools import lru_cache
from typing import Final
from urllib.parse import unquote_plus

__all__ = ["looks_personal"]

_EMAIL: Final = re.compile(
    r"[\w.%+\-]{1,64}@(?:[\w\-]{1,63}\.)+(?:[^\W\d_]{2,24}|xn--[a-z0-9\-]{1,59})", re.I
)
_PHONE: Final = re.compile(
    # not the middle of a longer token (a UUID's 0123-4567-8901 is no number); "_" separates
    r"(?<![^\W_]|[+\-.])(?:"
    r"\+\d{1,3}[ .\-]?(?:\(\d{1,4}\)[ .\-]?)?\d{1,4}(?:[ .\-]?\d{2,4}){2,3}"  # +81 90 1234 5678
    r"|81[ .\-]\d{1,4}[ .\-]\d{1,4}[ .\-]\d{3,4}"  # 81-90-1234-5678: the country code, no "+"
    # 03-1234-5678, 090.1234.5678: ten or eleven digits in all (not a date: 05.06.2024)
    r"|0(?=(?:[\- .]?\d){9,10}(?!\d))\d{1,4}([\- .])\d{1,4}\1\d{3,4}"
    r"|0[5789]0\d{8}"  # 09012345678 (Japanese mobile and IP phones)
    r"|0[1-9]\d{8}"  # 0312345678 (Japanese landlines, ten digits)
    r"|\(\d{3}\)[ .\-]?\d{3}[ .\-]\d{4}"  # (555) 123-4567
    r"|\d{3}[.\-]\d{3}[.\-]\d{4}"  # 555-123-4567
    r")(?![^\W_]|-)"
)
_B64_TOKEN: Final = re.compile(r"[A-Za-z0-9+/_\-]{8,}={0,2}")
_JSON_ESCAPE: Final = re.compile(r"\\u([0-9a-fA-F]{4})")
_ZLIB_B64: Final = re.compile(r"eJ[A-Za-z0-9_\-]{6,}")  # base64 of a zlib stream starts "eJ" (0x78 0x9c)
MAX_INFLATED: Final = 64 * 1024
MAX_READ: Final = 16 * 1024  # a longer value is read this far (every reading of it, each way)


def _normalized(text: str) -> Iterable[str]:
    """The text with full-width forms folded and JSON / HTML escapes decoded."""
    folded = unicodedata.normalize("NFKC", text)
    unescaped = html.unescape(_JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)), folded))
    yield from dict.fromkeys((folded, unescaped))


def _base64_readings(text: str) -> Iterable[str]:
    for token in _B64_TOKEN.findall(text):
        raw = token.rstrip("=").replace("-", "+").replace("_", "/")
        for offset in range(4):  # glued to a prefix of any length: one of four alignments reads it
            part = raw[offset:]
            part = part[: len(part) - len(part) % 4] if len(part) % 4 == 1 else part
            if len(part) < 6:
                continue
            try:
                decoded = base64.b64decode(part + "=" * (-len(part) % 4), validate=True)
            except (binascii.Error, ValueError):
                continue
            yield decoded.decode("utf-8", "replace")
    for token in _ZLIB_B64.findall(text):
        raw = token.replace("-", "+").replace("_", "/")
        raw = raw[: len(raw) - 1] if len(raw) % 4 == 1 else raw + "=" * (-len(raw) % 4)
        try:
            stream = base64.b64decode(raw)
            # a stream cut short (the signature glued on after a ".") still inflates what it has
            yield zlib.decompressobj().decompress(stream, MAX_INFLATED).decode("utf-8", "replace")
        except (binascii.Error, ValueError, zlib.error):
            continue


def _readings(value: str) -> Iterable[str]:
    """The value as written, URL-decoded, normalised, and every base64 or compressed token decoded."""
    value = value[:MAX_READ]
    seen: set[str] = set()
    texts = [value]
    unquoted = value
    for _ in range(3):  # double-encoding is common in cookies
        nxt = unquote_plus(unquoted)
        if nxt == unquoted:
            break
        unquoted = nxt
        texts.append(unquoted)
    for text in texts:
        for form in _normalized(text):
            if form not in seen:
                seen.add(form)
                yield form
    for text in list(seen):
        for decoded in _base64_readings(text):
            for form in _normalized(decoded):
                if form not in seen:
                    seen.add(form)
                    yield form
                    yield unquote_plus(form)


def looks_personal(value: str, client_ip: str | None = None) -> str | None:
    """Why a cookie name or value looks like personal data ("e-mail", "ip-address", "phone"), or None.

    The IP address checked is the requesting client's: that is what would identify the visitor.
    """
    ip_re = _ip_pattern(client_ip) if client_ip else None
    for text in _readings(value):
        if "@" in text and _EMAIL.search(text):
            return "e-mail"
        if ip_re is not None and ip_re.search(text):
            return "ip-address"
        if _PHONE.search(text):
            return "phone"
    return None


@lru_cache(maxsize=1024)
def _ip_pattern(ip: str) -> re.Pattern[str] | None:
    try:
        address = ipaddress.ip_address(ip.strip("[]"))
    except ValueError:
        return None
    if address.version == 6:  # compressed, exploded, or its 32 hex digits; not inside a longer run
        forms = [address.compressed, address.exploded, address.exploded.replace(":", "")]
        alternatives = "|".join(re.escape(f) for f in forms)
        return re.compile(rf"(?<![0-9a-f:])(?:{alternatives})(?![0-9a-f:])", re.I)
    octets = address.packed
    dotted = r"\.".join(f"0*{o}" for o in octets)  # 127.000.000.001
    hexed = "".join(f"{o:02x}" for o in octets)  # 7f000001
    number = str(int(address))  # 2130706433
    return re.compile(
        rf"(?<![\d.]){dotted}(?!\.?\d)|(?<![0-9a-f])(?:0x)?{hexed}(?![0-9a-f])|(?<!\d){number}(?!\d)", re.I
    )
