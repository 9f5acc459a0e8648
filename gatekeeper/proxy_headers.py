"""Reverse proxy, both directions of headers: what the upstream is sent (hop-by-hop dropped, Host
preserved or set, X-Forwarded-* added) and what the visitor gets back (hop-by-hop dropped, a Location
naming the upstream mapped to the public origin). Pure functions over raw ASGI header lists."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from .registry import ConfigError

__all__ = [
    "HOP_BY_HOP",
    "READABLE_ENCODINGS",
    "Upstream",
    "map_cookie",
    "request_headers",
    "response_headers",
]

Headers = list[tuple[bytes, bytes]]

# RFC 9110 7.6.1 and the ones every proxy drops; plus whatever a Connection header names.
HOP_BY_HOP: Final = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# What the middleware can decode to rewrite a page (zstd, which Chromium offers, it cannot): the
# upstream is only offered these, so every HTML page arrives readable.
READABLE_ENCODINGS: Final = ("gzip", "deflate", "br")
_FORWARDED: Final = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded"})


@dataclass(frozen=True)
class Upstream:
    """Where requests go: `url` like http://127.0.0.1:8080 (a path prefix is kept), and what Host the
    upstream is sent: "preserve" (the visitor's, the default), "upstream" (the upstream's own) or a
    value to send as is."""

    url: str
    host_header: str = "preserve"

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"upstream {self.url!r}: an http:// or https:// URL with a host")
        if parts.query or parts.fragment:
            raise ConfigError(f"upstream {self.url!r}: no query or fragment")

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def base_path(self) -> str:
        return urlsplit(self.url).path.rstrip("/")

    def target(self, raw_path: bytes, query: bytes) -> str:
        path = raw_path.decode("latin-1")
        return self.origin + self.base_path + path + ("?" + query.decode("latin-1") if query else "")


def _connection_named(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    named: set[bytes] = set()
    for k, v in headers:
        if k.lower() == b"connection":
            named.update(t.strip().lower() for t in v.split(b",") if t.strip())
    return named


def _accept_encoding(value: bytes) -> bytes | None:
    """The visitor's Accept-Encoding cut to what the middleware reads (None: ask for identity)."""
    offered = []
    for item in value.decode("latin-1").split(","):
        coding, *params = (p.strip().lower() for p in item.split(";"))
        q = next((p[2:] for p in params if p.startswith("q=")), "1")
        try:
            wanted = float(q) > 0
        except ValueError:
            wanted = False
        if coding in READABLE_ENCODINGS and wanted:
            offered.append(item.strip())
    return ", ".join(offered).encode("latin-1") if offered else None


def request_headers(
    headers: Sequence[tuple[bytes, bytes]],
    upstream: Upstream,
    *,
    peer: str | None,
    scheme: str,
    public_host: str,
) -> Headers:
    """The headers the upstream is sent. `headers` are the visitor's as the front door let them in
    (X-Forwarded-* only still there when a trusted front proxy sent them); `peer` is the address that
    connected to us, appended to X-Forwarded-For."""
    drop = HOP_BY_HOP | _connection_named(headers)
    out: Headers = []
    prior_for: list[bytes] = []
    for k, v in headers:
        k = k.lower()
        if k in drop:
            continue
        if k == b"x-forwarded-for":
            prior_for.append(v.strip())
        elif k in _FORWARDED:
            continue  # ours below say the same, from what the front door decided
        elif k == b"host":
            if upstream.host_header == "preserve":
                out.append((k, v))
        elif k == b"accept-encoding":
            cut = _accept_encoding(v)
            if cut is not None:
                out.append((k, cut))
        else:
            out.append((k, v))
    if upstream.host_header != "preserve":
        netloc = urlsplit(upstream.url).netloc
        host = netloc if upstream.host_header == "upstream" else upstream.host_header
        out.insert(0, (b"host", host.encode("latin-1")))
    chain = [p for p in prior_for if p]
    if peer:
        chain.append(peer.encode("latin-1"))
    if chain:
        out.append((b"x-forwarded-for", b", ".join(chain)))
    out.append((b"x-forwarded-proto", scheme.encode("latin-1")))
    if public_host:
        out.append((b"x-forwarded-host", public_host.encode("latin-1")))
    return out


def map_location(location: str, upstream: Upstream, public_origin: str) -> str:
    """An upstream redirect to its own origin (scheme and host) points at the public origin instead;
    the upstream's base path is taken off as it was put on."""
    try:
        parts = urlsplit(location)
    except ValueError:
        return location
    if not parts.netloc:
        if parts.path.startswith(upstream.base_path + "/") and upstream.base_path:
            return location[len(upstream.base_path) :]
        return location
    if f"{parts.scheme}://{parts.netloc}".lower() != upstream.origin.lower():
        return location
    path = parts.path
    if upstream.base_path and (path == upstream.base_path or path.startswith(upstream.base_path + "/")):
        path = path[len(upstream.base_path) :] or "/"
    public = urlsplit(public_origin)
    return urlunsplit((public.scheme, public.netloc, path, parts.query, parts.fragment))


def _domain_matches(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def map_cookie(set_cookie: str, upstream: Upstream, public_origin: str) -> str:
    """A cookie the upstream scopes to its own host (`Domain=` naming it) or under its base path
    would be refused by the browser or sent nowhere: like nginx's proxy_cookie_domain and
    proxy_cookie_path, the Domain becomes the public host's (the attribute is dropped: a host-only
    cookie) and the base path is taken off. A Domain the public host matches is kept as it is."""
    public_host = (urlsplit(public_origin).hostname or "").lower()
    upstream_host = (urlsplit(upstream.url).hostname or "").lower()
    base = upstream.base_path
    parts = set_cookie.split(";")
    out = [parts[0]]
    for attr in parts[1:]:
        name, _, value = attr.partition("=")
        key = name.strip().lower()
        if key == "domain":
            domain = value.strip().lstrip(".").lower()
            if domain and not _domain_matches(public_host, domain) and _domain_matches(upstream_host, domain):
                continue
        elif key == "path" and base:
            path = value.strip()
            if path == base or path.startswith(base + "/"):
                attr = f"{name}={path[len(base):] or '/'}"
        out.append(attr)
    return ";".join(out)


def response_headers(
    headers: Sequence[tuple[bytes, bytes]], upstream: Upstream, public_origin: str
) -> Headers:
    """The headers the visitor gets: hop-by-hop dropped, Location (and Content-Location) and the
    Domain and Path of Set-Cookie mapped to the public origin."""
    drop = HOP_BY_HOP | _connection_named(headers)
    out: Headers = []
    for k, v in headers:
        k = k.lower()
        if k in drop:
            continue
        if k in (b"location", b"content-location"):
            v = map_location(v.decode("latin-1"), upstream, public_origin).encode("latin-1")
        elif k == b"set-cookie":
            v = map_cookie(v.decode("latin-1"), upstream, public_origin).encode("latin-1")
        out.append((k, v))
    return out
