"""Any ASGI app on uvicorn, on 127.0.0.1 and a free port, in a background thread: the demo with a scan
of it, the tests and the benchmarks all serve this way.

`with serve_app(app) as base_url:` yields "http://127.0.0.1:PORT" and stops the server after the block.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

__all__ = ["AppServer", "serve_app"]


class AppServer:
    """uvicorn in a thread. The socket is bound before the thread starts, so the port is known and
    nothing else can take it; `start()` returns once uvicorn accepts connections."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        config.setdefault("log_level", "warning")
        config.setdefault("lifespan", "auto")
        config.setdefault("access_log", False)
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=self.port, **config))
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as e:  # surfaced by start()
            self._error = e

    def start(self, timeout: float = 10.0) -> str:
        self._thread = threading.Thread(target=self._run, name=f"uvicorn:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"uvicorn did not start: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start in {timeout} s")
            time.sleep(0.01)
        return self.url

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is None:
            self._sock.close()
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():  # open keep-alive connections: stop waiting for them
            self._server.force_exit = True
            self._thread.join(timeout)
        self._thread = None
        with contextlib.suppress(OSError):
            self._sock.close()


@contextlib.contextmanager
def serve_app(app: Any, **config: Any) -> Iterator[str]:
    """Run `app` for the duration of the block; yields its base URL (no trailing slash)."""
    server = AppServer(app, **config)
    try:
        yield server.start()
    finally:
        server.stop()
