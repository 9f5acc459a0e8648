"""Sites for `gatekeeper proxy` and `gatekeeper serve` to stand in front of, on 127.0.0.1:

- `site_files(dir)`: a small static site with vendor embed code: `index.html` (UTF-8), `sjis.html`
  (Shift_JIS with cp932-only characters), `big.bin` (100 KB), `dir/index.html`.
- `nginx(root)`: Debian's nginx serving such a directory (ETag, Range, 304, gzip for HTML), started
  with `nginx -c CONF -p PREFIX` on a free loopback port; `nginx_conf()` for other configurations.
- `origin_app()`: an ASGI origin for what a file server does not do: echo of the request, an
  absolute redirect to itself, a slow answer, a body of any size made on the fly, an upload counter,
  a WebSocket echo that sets a cookie.
- `start_gatekeeper(*args)`: the `gatekeeper` command in its own process, returned once it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

__all__ = [
    "KEY",
    "SJIS_TEXT",
    "free_port",
    "nginx",
    "nginx_conf",
    "origin_app",
    "running",
    "site_files",
    "start_gatekeeper",
    "start_origin",
    "wait_port",
]

KEY = "deploy-test-secret-0123456789abcdef"
SJIS_TEXT = "お知らせ①：髙橋市長と﨑山副市長の会見"  # ① 髙 﨑: in cp932 only, not in Shift_JIS proper
EMBEDS = (
    '<iframe src="https://www.youtube.com/embed/abc" width="320" height="180"></iframe>\n'
    '<blockquote class="twitter-tweet"><a href="https://twitter.com/x/status/1">post</a></blockquote>\n'
    '<script async src="https://platform.twitter.com/widgets.js"></script>\n'
)
SERVICES = {"services": [{"id": "youtube"}, {"id": "x"}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def site_files(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>City news</title></head>'
        f"<body><h1>City news</h1>{EMBEDS}<p>{'Opening hours. ' * 200}</p></body></html>\n"
    )
    (root / "index.html").write_text(page, "utf-8")
    sjis = (
        '<!doctype html><html lang="ja"><head><meta charset="Shift_JIS"><title>お知らせ</title></head>'
        f"<body><h1>{SJIS_TEXT}</h1>{EMBEDS}<p>{'開庁時間のご案内。' * 100}</p></body></html>\n"
    )
    (root / "sjis.html").write_bytes(sjis.encode("cp932"))
    (root / "big.bin").write_bytes(bytes(range(256)) * 400)
    (root / "dir").mkdir(exist_ok=True)
    (root / "dir" / "index.html").write_text(page.replace("City news", "Dir index"), "utf-8")
    return root


def nginx_conf(prefix: Path, servers: str) -> Path:
    """A whole nginx.conf around `servers` (server blocks), everything under `prefix`."""
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "logs").mkdir(exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # its workers read test files under /tmp (0700)
        + f"""daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;
{servers}
}}
"""
    )
    return conf


@contextlib.contextmanager
def running(
    args: list[str], port: int, what: str, *, env: dict[str, str] | None = None, stop: int = signal.SIGINT
) -> Iterator[subprocess.Popen[bytes]]:
    """`args` in its own process (stderr piped), yielded once it listens on `port`, stopped after."""
    proc = subprocess.Popen(args, env={**os.environ, **(env or {})}, stderr=subprocess.PIPE)
    try:
        wait_port(port, proc, what)
        yield proc
    finally:
        proc.send_signal(stop)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def run_nginx(prefix: Path, servers: str, port: int) -> Iterator[str]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    conf = nginx_conf(prefix, servers)
    with running([binary, "-c", str(conf), "-p", str(prefix)], port, "nginx", stop=signal.SIGQUIT):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def nginx(root: Path, prefix: Path) -> Iterator[str]:
    """nginx serving `root` as a static site (gzip on for HTML, ETag, Range, 304)."""
    port = free_port()
    servers = f"""
    server {{
        listen 127.0.0.1:{port};
        root {root};
        charset_types text/html;
        gzip on; gzip_types text/html; gzip_min_length 100;
        location / {{ index index.html; }}
    }}"""
    with run_nginx(prefix, servers, port) as url:
        yield url


def wait_port(port: int, proc: subprocess.Popen[bytes], what: str, wait: float = 40) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}: {err[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{what} did not listen on {port} in {wait} s")


@contextlib.contextmanager
def start_origin() -> Iterator[str]:
    """`origin_app()` on uvicorn in its own process (a big body made there competes with no test)."""
    port = free_port()
    code = (
        "import sys, uvicorn; sys.path.insert(0, sys.argv[1]); from support.origin import origin_app; "
        f"uvicorn.run(origin_app(), host='127.0.0.1', port={port}, log_level='warning')"
    )
    with running([sys.executable, "-c", code, str(Path(__file__).parent.parent)], port, "origin"):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def start_gatekeeper(
    *args_: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`gatekeeper ARGS --port P` in its own process; yields (base URL, process). Its log is on stderr."""
    port = free_port()
    args = [sys.executable, "-m", "gatekeeper.cli", *args_, "--port", str(port)]
    with running(args, port, "gatekeeper", env={"GATEKEEPER_SECRET_KEYS": KEY, **(env or {})}) as proc:
        yield f"http://127.0.0.1:{port}", proc


def origin_app(slow_seconds: float = 3.0) -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "query": request.url.query,
                "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.scope["headers"]],
                "body_bytes": len(body),
            },
            headers={"connection": "x-private", "x-private": "hop", "keep-alive": "timeout=5"},
        )

    async def redirect(request: Request) -> RedirectResponse:
        own = f"http://{request.scope['server'][0]}:{request.scope['server'][1]}"
        return RedirectResponse(own + "/echo?from=redirect", status_code=302)

    async def slow(request: Request) -> Response:
        await asyncio.sleep(slow_seconds)
        return Response("late", media_type="text/plain")

    async def huge(request: Request) -> StreamingResponse:
        size = int(request.query_params.get("bytes", "0"))
        block = bytes(1024 * 1024)

        async def chunks():  # type: ignore[no-untyped-def]
            left = size
            while left > 0:
                piece = block if left >= len(block) else block[:left]
                left -= len(piece)
                yield piece

        return StreamingResponse(
            chunks(), media_type="application/octet-stream", headers={"content-length": str(size)}
        )

    async def upload(request: Request) -> JSONResponse:
        digest = hashlib.sha256()
        count = 0
        async for chunk in request.stream():
            digest.update(chunk)
            count += len(chunk)
        return JSONResponse({"bytes": count, "sha256": digest.hexdigest()})

    async def cookies(request: Request) -> Response:
        response = Response("<!doctype html><p>cookies", media_type="text/html")
        response.set_cookie("sid", "abc")
        response.set_cookie("_ga", "GA1.2.3")
        if request.query_params.get("domain"):  # scoped to the host the upstream was asked for
            host = request.headers["host"].rsplit(":", 1)[0]
            response.set_cookie("wsid", "1", domain=host)
        return response

    async def ws_echo(websocket: WebSocket) -> None:
        await websocket.accept(
            headers=[(b"set-cookie", b"wsid=1; Path=/"), (b"set-cookie", b"_ga=GA1; Path=/")]
        )
        await websocket.send_text(json.dumps({"host": websocket.headers.get("host")}))
        with contextlib.suppress(Exception):
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("text") is not None:
                    await websocket.send_text("echo:" + message["text"])
                else:
                    await websocket.send_bytes(message["bytes"][::-1])

    return Starlette(
        routes=[
            Route("/echo", echo, methods=["GET", "POST", "HEAD", "PUT"]),
            Route("/redirect", redirect),
            Route("/slow", slow),
            Route("/huge", huge),
            Route("/upload", upload, methods=["POST"]),
            Route("/cookies", cookies),
            WebSocketRoute("/ws", ws_echo),
        ]
    )
