"""Calling an ASGI app in-process with raw messages: every header as sent (Set-Cookie repeated), the
body as chunks, nothing normalised by a client library."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    messages: list[dict[str, Any]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)

    def cookies(self) -> dict[str, str]:
        """name -> the whole Set-Cookie value, for each cookie set."""
        return {v.split("=", 1)[0]: v for v in self.all("set-cookie")}


def run(coro: Any) -> Any:
    """Run a coroutine to completion in a thread of its own: Playwright's sync API keeps an event
    loop running in the main thread, where asyncio.run() is refused."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def call(app: Any, *args: Any, **kwargs: Any) -> Answer:
    """`acall()` run to completion (see `run()`); the same arguments."""
    return run(acall(app, *args, **kwargs))


async def acall(
    app: Any,
    method: str = "GET",
    path: str = "/",
    *,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes | Sequence[bytes] = b"",
    query: str = "",
    scheme: str = "http",
    client: tuple[str, int] = ("203.0.113.7", 50000),
    host: str = "site.example",
    stall: bool = False,
) -> Answer:
    """`stall`: the client sends the body chunks, says more is coming, and goes quiet."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    if not any(k == b"host" for k, _ in raw) and host:
        raw.insert(0, (b"host", host.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": raw,
        "client": client,
        "server": ("127.0.0.1", 443 if scheme == "https" else 80),
        "extensions": {},
    }
    chunks = [body] if isinstance(body, bytes) else list(body)
    pending = [
        {"type": "http.request", "body": c, "more_body": stall or i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    out_headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in start.get("headers", [])]
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], out_headers, content, sent)
