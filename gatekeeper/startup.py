"""Start-up: a configuration mistake stops the server before it serves anything.

`Gatekeeper(app, ...)` raises `ConfigError` at once. Starlette and FastAPI build their middleware
later, inside the first ASGI call (the lifespan one under uvicorn), where an exception reads to
uvicorn as "lifespan unsupported" and every request then answers 500. Built that way, the middleware
keeps the error instead and answers the lifespan startup with `lifespan.startup.failed` and the same
message: uvicorn logs it and exits. Without a lifespan (`--lifespan off`), every request gets a 500
that says why, and the app is never reached.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from starlette.types import Receive, Scope, Send

from .registry import ConfigError

__all__ = ["refuse", "startup_checked"]

log = logging.getLogger("gatekeeper")

P = ParamSpec("P")
T = TypeVar("T")
_BUILDERS = frozenset({"build_middleware_stack"})  # Starlette's and FastAPI's


def _built_by_a_framework(depth: int = 8) -> bool:
    frame = sys._getframe(2)
    for _ in range(depth):
        if frame is None:
            return False
        if frame.f_code.co_name in _BUILDERS:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def startup_checked(
    init: Callable[Concatenate[T, P], None],
) -> Callable[Concatenate[T, P], None]:
    """Wraps `__init__`: a `ConfigError` raised while a framework builds its middleware is kept on
    the instance (`failed`) for `refuse()`; anywhere else it is raised as usual."""

    @functools.wraps(init)
    def wrapper(self: T, /, *args: P.args, **kwargs: P.kwargs) -> None:
        self.failed = None  # type: ignore[attr-defined]
        try:
            init(self, *args, **kwargs)
        except ConfigError as e:
            if not _built_by_a_framework():
                raise
            self.failed = e  # type: ignore[attr-defined]
            log.critical("gatekeeper cannot start: %s", e)

    return wrapper


async def refuse(error: ConfigError, scope: Scope, receive: Receive, send: Send) -> None:
    """What a misconfigured middleware answers: a failed lifespan startup, a 500, a closed socket."""
    message = f"gatekeeper cannot start: {error}"
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.failed", "message": message})
                return
            if event["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "http":
        body = message.encode("utf-8", "replace")
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1011})
