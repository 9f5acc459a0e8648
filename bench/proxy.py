"""`gatekeeper proxy` against what an operator would otherwise run, loaded with wrk in one run.

    .venv/bin/python bench/proxy.py [--seconds 5] [--connections 32]

The upstream is nginx serving three files: a 20 KB page with ten vendor embeds, a 20 KB page without
third-party markup, and a 100 KB non-HTML file. In front of it, in turn: nothing (the upstream alone),
`gatekeeper proxy` with 1 and 2 workers, and nginx `proxy_pass`; and, for the first target, the same
bytes served by a Starlette app wrapped in the middleware in process (uvicorn, 1 worker). Prints req/s,
p50 and p99 per server and file, and the three targets:
- the proxy at 1 worker >= 0.6x the req/s of the in-process middleware, per page;
- 2 workers >= 1.6x 1 worker;
- non-HTML streaming adds < 2 ms p50 (proxy, 1 worker, vs the upstream alone, one request at a time;
  at 32 connections p50 is mostly time in the queue, printed too).
Not a test: the machine is shared, so figures are only comparable within one run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from support.origin import free_port, run_nginx, running  # noqa: E402

FILES = {"embeds20": "embeds20.html", "plain20": "plain20.html", "file100k": "file100k.bin"}
KEY = "bench-proxy-secret-0123456789abcdef"


def make_files(root: Path) -> Path:
    import pages

    root.mkdir(parents=True, exist_ok=True)
    (root / FILES["embeds20"]).write_text(pages.page(20_000, embeds=True), "utf-8")
    (root / FILES["plain20"]).write_text(pages.page(20_000, embeds=False), "utf-8")
    (root / FILES["file100k"]).write_bytes(os.urandom(100 * 1024))
    return root


def in_process_app():  # type: ignore[no-untyped-def]
    """The same files from a Starlette app behind the middleware (uvicorn --factory bench.proxy:...)."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    from gatekeeper import Gatekeeper

    root = Path(os.environ["BENCH_PROXY_DIR"])
    bodies = {name: (root / name).read_bytes() for name in FILES.values()}

    async def serve(request):  # type: ignore[no-untyped-def]
        name = request.path_params["name"]
        kind = "application/octet-stream" if name.endswith(".bin") else "text/html; charset=utf-8"
        return Response(bodies[name], media_type=kind)

    return Gatekeeper(Starlette(routes=[Route("/{name}", serve)]), secret_keys=KEY)


@contextlib.contextmanager
def process(args: list[str], port: int, what: str, env: dict[str, str] | None = None) -> Iterator[str]:
    with running(args, port, what, env=env):
        time.sleep(1.0)  # every worker up
        yield f"http://127.0.0.1:{port}"


def gatekeeper_proxy(upstream: str, workers: int) -> contextlib.AbstractContextManager[str]:
    port = free_port()
    args = [sys.executable, "-m", "gatekeeper.cli", "proxy", "--upstream", upstream, "--port", str(port),
            "--workers", str(workers), "--no-access-log", "--log-level", "warning"]  # fmt: skip
    return process(args, port, f"gatekeeper proxy ({workers})", {"GATEKEEPER_SECRET_KEYS": KEY})


def in_process(root: Path) -> contextlib.AbstractContextManager[str]:
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "--factory", "proxy:in_process_app", "--port", str(port),
            "--log-level", "warning", "--no-access-log"]  # fmt: skip
    path = os.pathsep.join([str(HERE), str(HERE.parent)])
    return process(args, port, "in-process middleware", {"BENCH_PROXY_DIR": str(root), "PYTHONPATH": path})


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, seconds: float, connections: int) -> tuple[float, float, float]:
    out = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds:g}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")

    if "Non-2xx" in out:
        raise SystemExit(f"{url}: non-2xx answers\n{out}")
    return rps, pct("50"), pct("99")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    results: dict[tuple[str, str], tuple[float, float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = make_files(base / "site")
        up_port, front_port = free_port(), free_port()
        upstream_conf = f"""
    server {{ listen 127.0.0.1:{up_port}; root {root}; }}"""
        front_conf = f"""
    upstream site {{ server 127.0.0.1:{up_port}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{front_port};
        location / {{ proxy_pass http://site; proxy_http_version 1.1; proxy_set_header Connection ""; }}
    }}"""
        with run_nginx(base / "upstream", upstream_conf, up_port) as upstream:
            servers: list[tuple[str, contextlib.AbstractContextManager[str]]] = [
                ("upstream alone (nginx)", contextlib.nullcontext(upstream)),
                ("in-process middleware", in_process(root)),
                ("gatekeeper proxy, 1 worker", gatekeeper_proxy(upstream, 1)),
                ("gatekeeper proxy, 2 workers", gatekeeper_proxy(upstream, 2)),
                ("nginx proxy_pass", run_nginx(base / "front", front_conf, front_port)),
            ]
            for name, server in servers:
                with server as url:
                    for page, file in FILES.items():
                        wrk(f"{url}/{file}", 1, args.connections)  # warm up
                        results[(name, page)] = wrk(f"{url}/{file}", args.seconds, args.connections)
                        rps, p50, p99 = results[(name, page)]
                        print(f"{name:30} {page:9} {rps:10,.0f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms",
                              flush=True)  # fmt: skip
                    # one request at a time: what the server adds to a request, without queueing
                    results[(name, "alone")] = wrk(f"{url}/{FILES['file100k']}", args.seconds, 1)
                    print(f"{name:30} {'1 conn':9} p50 {results[(name, 'alone')][1]:7.2f} ms", flush=True)
    print()
    one, two, inproc = "gatekeeper proxy, 1 worker", "gatekeeper proxy, 2 workers", "in-process middleware"
    for page in FILES:
        ratio = results[(one, page)][0] / results[(inproc, page)][0]
        print(f"proxy 1 worker / in-process, {page:9}: {ratio:.2f}  (target 0.60)")
    for page in FILES:
        ratio = results[(two, page)][0] / results[(one, page)][0]
        print(f"proxy 2 workers / 1 worker,   {page:9}: {ratio:.2f}  (target 1.60)")
    added = results[(one, "alone")][1] - results[("upstream alone (nginx)", "alone")][1]
    loaded = results[(one, "file100k")][1] - results[("upstream alone (nginx)", "file100k")][1]
    print(f"non-HTML streaming adds {added:.2f} ms p50 one request at a time (target < 2 ms); "
          f"{loaded:.2f} ms at {args.connections} connections, where p50 is mostly the queue")  # fmt: skip


if __name__ == "__main__":
    main()
