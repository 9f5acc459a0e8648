"""Where a browser goes: URL resolution as the WHATWG URL standard does it, for the hardening tests.

`resolve(base, ref)` answers the absolute URL a browser would fetch for `ref` written on a page whose
base URL is `base`, or None when it would fetch nothing (not a URL, or not a network scheme). The
`ada-url` package (the WHATWG parser Node.js uses) decides when it is installed; otherwise a small
re-implementation of the parts that matter here does: leading/trailing C0 and spaces stripped, tabs and
newlines removed anywhere, `\\` read as `/` in http(s), any number of slashes after a scheme that
differs from the base's, percent-decoded and IDNA-mapped hosts (fullwidth letters, ideographic dots).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin, urlsplit

try:  # the reference parser, when present (pip install ada-url)
    import ada_url as _ada
except ImportError:  # pragma: no cover - depends on the environment
    _ada = None

__all__ = ["HAVE_ADA", "host_of", "resolve"]

HAVE_ADA = _ada is not None
SPECIAL = ("http", "https", "ws", "wss", "ftp", "file")
NETWORK = ("http", "https", "ws", "wss", "ftp")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_STRIP = "".join(chr(i) for i in range(0x21))
_DOTS = re.compile("[\u002e\u3002\uff0e\uff61]")


def resolve(base: str, ref: str) -> str | None:
    """The absolute URL `ref` stands for on a page at `base`; None when it is not a URL at all."""
    ref = ref.strip(_STRIP)
    ref = ref.replace("\t", "").replace("\n", "").replace("\r", "")
    if _ada is not None:
        try:
            return str(_ada.join_url(base, ref))
        except ValueError:
            return None
    return _resolve(base, ref)


def host_of(url: str | None) -> str | None:
    """The host a network fetch of `url` goes to (lower-case, ASCII), None for data:, blob:..."""
    if url is None:
        return None
    if _ada is not None:
        try:
            parsed = _ada.URL(url)
        except ValueError:
            return None
        if parsed.protocol.rstrip(":") not in NETWORK:
            return None
        host = parsed.hostname
        return _dns_name(host.strip("[]").lower())
    parts = urlsplit(url)
    if parts.scheme not in NETWORK:
        return None
    return _dns_name(parts.hostname or "")


_NAME = re.compile(r"[a-z0-9_\-.:]+")


def _dns_name(host: str) -> str | None:
    """The host, when a resolver could look it up at all (`http:"` has the host `"`: valid URL syntax,
    but no lookup can succeed, so nothing leaves the machine)."""
    return host if host and _NAME.fullmatch(host) else None


# -- the fallback ---------------------------------------------------------------------------------


def _resolve(base: str, ref: str) -> str | None:
    base_scheme = urlsplit(base).scheme
    m = _SCHEME.match(ref)
    if m:
        scheme = m.group(1).lower()
        rest = ref[m.end() :]
        if scheme not in SPECIAL:
            return f"{scheme}:{rest}"
        rest = rest.replace("\\", "/")
        if scheme == base_scheme and not rest.startswith("//"):
            return _resolve(base, rest) if rest else base
        return _authority(scheme, rest.lstrip("/"))
    if base_scheme in SPECIAL:
        ref = ref.replace("\\", "/")
    if ref.startswith("//"):
        return _authority(base_scheme, ref[2:].lstrip("/") if base_scheme in SPECIAL else ref[2:])
    return urljoin(base, ref)


def _authority(scheme: str, rest: str) -> str | None:
    end = len(rest)
    for stop in "/?#":
        i = rest.find(stop)
        if i != -1:
            end = min(end, i)
    authority, tail = rest[:end], rest[end:]
    hostport = authority.rpartition("@")[2]
    if hostport.startswith("["):
        host, _, port = hostport.partition("]")
        host += "]"
        port = port.lstrip(":")
    else:
        host, _, port = hostport.partition(":")
    host = _host(host)
    if host is None:
        return None
    return f"{scheme}://{host}{':' + port if port else ''}{tail or '/'}"


def _host(raw: str) -> str | None:
    if raw.startswith("["):
        return raw.lower()
    try:
        text = unquote(raw, errors="strict") if "%" in raw else raw
    except UnicodeDecodeError:
        return None  # the host's bytes are not UTF-8: the URL is invalid
    labels = _DOTS.split(text)
    try:
        out = ".".join(
            label.encode("idna").decode("ascii") if not label.isascii() else label for label in labels
        )
    except UnicodeError:
        return None
    out = out.lower()
    if not out or any(c in out for c in " <>^|%"):
        return None
    return out
