"""`gatekeeper proxy`, WebSocket upgrades: the visitor's handshake is replayed to the upstream (the
`websockets` client), the upstream's Set-Cookie on its answer goes through the same cookie gate as any
page's, and then messages flow both ways until either side closes.

A refused upstream handshake is passed on as its status (403, 404...) when the server supports the ASGI
denial response, else as a close; an unreachable upstream is a 502, a slow one a 504 (the handshake is
then refused, as browsers report: "WebSocket connection failed")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from .consent import ConsentCodec, gpc_requested
from .cookies import gate_cookies
from .error_pages import error_page
from .proxy_headers import Upstream, request_headers
from .registry import Registry

__all__ = ["CookieGate", "proxy_websocket"]

log = logging.getLogger("gatekeeper.proxy")

MAX_MESSAGE = 16 * 1024 * 1024  # uvicorn's own limit on what a visitor may send
# The handshake is the websockets client's to make; the visitor's would contradict it.
_HANDSHAKE = frozenset(
    {
        b"host",
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-extensions",
        b"sec-websocket-protocol",
        b"sec-websocket-accept",
        b"user-agent",
    }
)


@dataclass(frozen=True)
class CookieGate:
    """The middleware's cookie gate for a WebSocket handshake (the middleware itself looks only at
    HTTP): which of the upstream's Set-Cookie may reach the visitor, given the visitor's consent."""

    codec: ConsentCodec
    registry: Registry
    https: bool | None = None

    def __call__(self, scope: Scope, set_cookies: list[str]) -> list[str]:
        if not set_cookies:
            return []
        headers = scope["headers"]
        cookie = b"; ".join(v for k, v in headers if k == b"cookie").decode("latin-1")
        https = self.https if self.https is not None else scope.get("scheme") in ("https", "wss")
        state = self.codec.read(cookie, https=https, gpc=gpc_requested(headers))
        client = scope.get("client")
        result = gate_cookies(
            set_cookies, state, self.registry, client_ip=client[0] if client else None, now=time.time()
        )
        return list(result.headers)


def _target(scope: Scope, upstream: Upstream) -> tuple[str, dict[str, Any]]:
    """The URL the handshake names (its host is the Host the upstream sees) and where to connect."""
    up = urlsplit(upstream.url)
    secure = up.scheme == "https"
    visitor_host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), up.netloc)
    host = {"preserve": visitor_host, "upstream": up.netloc}.get(upstream.host_header, upstream.host_header)
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    url = f"{'wss' if secure else 'ws'}://{host}{upstream.base_path}{path}{'?' + query if query else ''}"
    where: dict[str, Any] = {"host": up.hostname, "port": up.port or (443 if secure else 80)}
    if secure:
        where["ssl"] = ssl.create_default_context()
        where["server_hostname"] = up.hostname
    return url, where


async def _deny(scope: Scope, send: Send, status: int, body: bytes, content_type: bytes) -> None:
    if "websocket.http.response" in scope.get("extensions", {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1011 if status >= 500 else 1008})


async def proxy_websocket(
    scope: Scope,
    receive: Receive,
    send: Send,
    upstream: Upstream,
    cookie_gate: CookieGate | None,
    connect_timeout: float,
) -> None:
    first = await receive()
    if first["type"] != "websocket.connect":
        return
    url, where = _target(scope, upstream)
    headers = request_headers(
        [(k, v) for k, v in scope["headers"] if k not in _HANDSHAKE],
        upstream,
        peer=scope.get("gatekeeper.peer") or (scope.get("client") or ("",))[0],
        scheme="https" if scope.get("scheme") in ("https", "wss") else "http",
        public_host=next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), ""),
    )
    extra = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers if k != b"host"]
    subprotocols = [p.strip() for p in ", ".join(scope.get("subprotocols", ())).split(",") if p.strip()]
    try:
        ws = await connect(
            url,
            additional_headers=extra,
            subprotocols=subprotocols or None,  # type: ignore[arg-type]
            user_agent_header=next((v.decode() for k, v in scope["headers"] if k == b"user-agent"), None),
            open_timeout=connect_timeout,
            max_size=MAX_MESSAGE,
            proxy=None,
            **where,
        )
    except InvalidStatus as e:
        response = e.response
        ctype = response.headers.get("Content-Type", "text/plain").encode("latin-1")
        await _deny(scope, send, response.status_code, bytes(response.body or b""), ctype)
        return
    except (OSError, TimeoutError, InvalidHandshake) as e:
        status = 504 if isinstance(e, TimeoutError) else 502
        log.warning("WebSocket %s: %d, the upstream %s failed (%s: %s)", scope["path"], status, url,
                    type(e).__name__, e)  # fmt: skip
        accept = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"accept-language"), None)
        await _deny(scope, send, status, error_page(status, accept), b"text/html; charset=utf-8")
        return
    async with ws:
        assert ws.response is not None
        cookies = ws.response.headers.get_all("Set-Cookie")
        kept = cookie_gate(scope, cookies) if cookie_gate is not None else []
        await send(
            {
                "type": "websocket.accept",
                "subprotocol": ws.subprotocol,
                "headers": [(b"set-cookie", c.encode("latin-1")) for c in kept],
            }
        )
        await _pump(ws, receive, send)


async def _pump(ws: ClientConnection, receive: Receive, send: Send) -> None:
    async def visitor_to_upstream() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                await ws.close(message.get("code", 1000))
                return
            if message["type"] == "websocket.receive":
                if message.get("bytes") is not None:
                    await ws.send(message["bytes"])
                else:
                    await ws.send(message.get("text") or "")

    async def upstream_to_visitor() -> None:
        try:
            async for data in ws:
                if isinstance(data, bytes):
                    await send({"type": "websocket.send", "bytes": data})
                else:
                    await send({"type": "websocket.send", "text": data})
        except ConnectionClosed:
            pass
        code = ws.close_code if ws.close_code not in (None, 1005, 1006) else 1000
        with contextlib.suppress(Exception):  # the visitor may already be gone
            await send({"type": "websocket.close", "code": code, "reason": ws.close_reason or ""})

    tasks = [asyncio.create_task(visitor_to_upstream()), asyncio.create_task(upstream_to_visitor())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                await task
