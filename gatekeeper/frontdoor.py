"""The front door, before the middleware in a deployment: what a front proxy (nginx, a load balancer
that terminates TLS) says about the visitor is believed only when it comes from an address the operator
named, and a health check answers without touching the site.

A trusted front proxy's X-Forwarded-Proto sets the scheme (so the consent cookie gets `Secure` and
`__Host-` behind TLS termination), its X-Forwarded-For the client address, its X-Forwarded-Host the
public host. From anyone else these headers are removed: neither the middleware nor the site (nor an
upstream behind `gatekeeper proxy`) ever sees a visitor's claim about themselves.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from .registry import ConfigError

__all__ = ["FrontDoor", "parse_trusted"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_FORWARDED: Final = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded"})
_SCHEMES: Final = {"http": ("http", "ws"), "https": ("https", "wss")}


def parse_trusted(value: str | Sequence[str]) -> tuple[Network, ...] | None:
    """ "127.0.0.1, 10.0.0.0/8, ::1" -> networks; "*" trusts everyone (None); "" trusts nobody."""
    items = [v.strip() for v in (value.split(",") if isinstance(value, str) else value) if v.strip()]
    if "*" in items:
        return None
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in items)
    except ValueError as e:
        raise ConfigError(f"forwarded_allow_ips: {e} (addresses or networks, comma-separated, or '*')") from e


def _is_trusted(address: str | None, trusted: tuple[Network, ...] | None) -> bool:
    if trusted is None:
        return True
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def _client_from(chain: str, trusted: tuple[Network, ...] | None) -> str | None:
    """The rightmost address in X-Forwarded-For that is not itself a trusted proxy."""
    hops = [h.strip() for h in chain.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted) or hop is hops[0]:
            return hop
    return None


class FrontDoor:
    """`FrontDoor(app, trusted="127.0.0.1", health_path="/_gatekeeper/health")`."""

    def __init__(
        self, app: ASGIApp, *, trusted: str | Sequence[str] = "", health_path: str | None = None
    ) -> None:
        self.app = app
        self.trusted = parse_trusted(trusted)
        self.health_path = health_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        peer = client[0] if client else None
        scope["gatekeeper.peer"] = peer
        headers = scope["headers"]
        if self.trusted != () and _is_trusted(peer, self.trusted):
            self._believe(scope, headers)
        elif any(k in _FORWARDED for k, _ in headers):
            scope["headers"] = [(k, v) for k, v in headers if k not in _FORWARDED]
        if scope["type"] == "http" and scope["path"] == self.health_path:
            await self._health(scope, send)
            return
        await self.app(scope, receive, send)

    def _believe(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> None:
        found = {k: v.decode("latin-1") for k, v in headers if k in _FORWARDED and k != b"x-forwarded-for"}
        chain = ", ".join(v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for")
        proto = found.get(b"x-forwarded-proto", "").split(",")[0].strip().lower()
        if proto in _SCHEMES:
            scope["scheme"] = _SCHEMES[proto][scope["type"] == "websocket"]
        client = _client_from(chain, self.trusted) if chain else None
        if client:
            scope["client"] = (client, 0)
        host = found.get(b"x-forwarded-host", "").split(",")[0].strip()
        if host:
            scope["headers"] = [(k, v) for k, v in headers if k != b"host"] + [
                (b"host", host.encode("latin-1"))
            ]

    async def _health(self, scope: Scope, send: Send) -> None:
        body = json.dumps({"status": "ok"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
