"""Where a browser goes: URL resolution as the WHATWG URL standard does it, for the hardening tests.

`resolve(base, ref)` answers the absolute URL a browser would fetch for `ref` written on a page whose
base URL is `base`, or None when it would fetch nothing (not a URL, or not a network scheme). The
`ada-url` package (the WHATWG parser Node.js uses) decides: a reference, not a second guess of ours.
"""

from __future__ import annotations

import re

import ada_url

__all__ = ["host_of", "resolve"]

NETWORK = ("http", "https", "ws", "wss", "ftp")
_STRIP = "".join(chr(i) for i in range(0x21))


def resolve(base: str, ref: str) -> str | None:
    """The absolute URL `ref` stands for on a page at `base`; None when it is not a URL at all."""
    ref = ref.strip(_STRIP)
    ref = ref.replace("\t", "").replace("\n", "").replace("\r", "")
    try:
        return str(ada_url.join_url(base, ref))
    except ValueError:
        return None


def host_of(url: str | None) -> str | None:
    """The host a network fetch of `url` goes to (lower-case, ASCII), None for data:, blob:..."""
    if url is None:
        return None
    try:
        parsed = ada_url.URL(url)
    except ValueError:
        return None
    if parsed.protocol.rstrip(":") not in NETWORK:
        return None
    return _dns_name(parsed.hostname.strip("[]").lower())


_NAME = re.compile(r"[a-z0-9_\-.:]+")


def _dns_name(host: str) -> str | None:
    """The host, when a resolver could look it up at all (`http:"` has the host `"`: valid URL syntax,
    but no lookup can succeed, so nothing leaves the machine)."""
    return host if host and _NAME.fullmatch(host) else None
