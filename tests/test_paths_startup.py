"""A configuration mistake stops the server before it serves anything: the README's Starlette, FastAPI
and plain-ASGI setups, each under a real uvicorn process (lifespan "auto", its default), each with a
mistake, and each once without one (the control: the same setup serves)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

GOOD_KEY = "startup-secret-0123456789"
SETUPS = {
    "starlette": """
        import os
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.responses import HTMLResponse
        from starlette.routing import Route
        from gatekeeper import Gatekeeper

        async def home(request):
            return HTMLResponse("<!doctype html><title>t</title><p>home")

        app = Starlette(
            routes=[Route("/", home)],
            middleware=[
                Middleware(Gatekeeper, secret_keys=[os.environ["GATEKEEPER_KEY"]],
                           services=os.environ["SERVICES"]),
            ],
        )
    """,
    "fastapi": """
        import os
        from fastapi import FastAPI
        from fastapi.responses import HTMLResponse
        from gatekeeper import Gatekeeper

        app = FastAPI()
        app.add_middleware(Gatekeeper, secret_keys=[os.environ["GATEKEEPER_KEY"]],
                           services=os.environ["SERVICES"])

        @app.get("/", response_class=HTMLResponse)
        def home():
            return "<!doctype html><title>t</title><p>home"
    """,
    "plain": """
        import os
        from gatekeeper import Gatekeeper

        async def site(scope, receive, send):
            if scope["type"] == "lifespan":
                while (await receive())["type"] != "lifespan.shutdown":
                    await send({"type": "lifespan.startup.complete"})
                await send({"type": "lifespan.shutdown.complete"})
                return
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/html")]})
            await send({"type": "http.response.body", "body": b"<p>home"})

        app = Gatekeeper(site, secret_keys=[os.environ["GATEKEEPER_KEY"]], services=os.environ["SERVICES"])
    """,
}
MISTAKES = {
    "none": (GOOD_KEY, "services.toml", None),
    "missing-services-file": (GOOD_KEY, "nowhere.toml", "cannot read the services file"),
    "short-key": ("short", "services.toml", "at least 16 characters"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[int | None, str, int]]:
    """Every setup with every mistake, started at once (uvicorn processes in parallel)."""
    root: Path = tmp_path_factory.mktemp("startup")
    (root / "services.toml").write_text('[[services]]\nid = "youtube"\n', encoding="utf-8")
    for name, source in SETUPS.items():
        (root / f"setup_{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    procs = {}
    for setup in SETUPS:
        for mistake, (key, services, _) in MISTAKES.items():
            port = _free_port()
            env = {**os.environ, "GATEKEEPER_KEY": key, "SERVICES": str(root / services)}
            procs[setup, mistake] = (
                subprocess.Popen(
                    [sys.executable, "-m", "uvicorn", f"setup_{setup}:app", "--port", str(port)],
                    cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                ),
                port,
            )  # fmt: skip
    out: dict[tuple[str, str], tuple[int | None, str, int]] = {}
    deadline = time.monotonic() + 60
    for (setup, mistake), (proc, port) in procs.items():
        status = _get(port, proc, deadline)
        proc.terminate()
        log, _ = proc.communicate(timeout=20)
        out[setup, mistake] = (proc.returncode if status is None else None, log, status or 0)
    return out


def _get(port: int, proc: subprocess.Popen[str], deadline: float) -> int | None:
    """The status of GET / once the server answers; None when the process exits first."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as e:
            return int(e.code)
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"port {port}: neither served nor exited")


@pytest.mark.parametrize("setup", sorted(SETUPS))
@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_mistake_stops_the_server_before_it_serves(runs, setup, mistake):
    code, log, status = runs[setup, mistake]
    message = MISTAKES[mistake][2]
    if message is None:  # the control: the same setup, configured right, serves the page
        assert status == 200, log
        return
    assert status == 0, f"it served a {status}:\n{log}"
    assert code not in (None, 0), log
    assert message in log
    assert "Uvicorn running on" not in log and "Application startup complete" not in log
