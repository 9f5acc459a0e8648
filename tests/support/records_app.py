"""A site behind gatekeeper that keeps consent records, for tests that run it in real uvicorn
processes: `uvicorn --factory support.records_app:make`, the store named by GK_RECORDS."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from starlette.responses import HTMLResponse

from gatekeeper import Gatekeeper

KEY = "records-test-key-0123456789"
SERVICES: dict[str, Any] = {
    "services": [{"id": "youtube"}, {"id": "google-analytics"}, {"id": "x"}],
    "cookies": [{"name": "lang", "category": "usability", "purpose": "Language", "max_age_days": 365}],
}
PAGE = (
    "<!DOCTYPE html><html lang=en><head><title>Records</title></head><body><h1>A page</h1>"
    '<iframe src="https://www.youtube.com/embed/abc" width="560" height="315"></iframe></body></html>'
)


async def site(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":  # a site with no start-up work of its own
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await HTMLResponse(PAGE)(scope, receive, send)


def make(records: str | None = None, **options: Any) -> Gatekeeper:
    return Gatekeeper(
        site,
        secret_keys=KEY,
        services=SERVICES,
        records=records if records is not None else os.environ["GK_RECORDS"],
        **options,
    )


def start_process(records: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """This app in a uvicorn process of its own; (process, base URL) once it accepts connections."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    here = Path(__file__).resolve().parent.parent
    env = {**os.environ, "GK_RECORDS": records, "PYTHONPATH": os.pathsep.join([str(here), str(here.parent)])}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "support.records_app:make", "--host", "127.0.0.1",
             "--port", str(port), "--lifespan", "on", "--log-level", "info", "--no-access-log"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"uvicorn did not start: {log.read_text()[-2000:]}")
