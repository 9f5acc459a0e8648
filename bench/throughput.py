"""Throughput of the same app, bare and behind gatekeeper, on uvicorn, loaded with wrk in one run.

    .venv/bin/python bench/throughput.py [--seconds 5] [--connections 32] [--rounds 2]

Each server is its own uvicorn process on 127.0.0.1 (one worker each, as on a small host); wrk runs the
pages in turn, bare then gatekeeper, `--rounds` times, and the best round of each counts (the machine
has two cores shared by wrk and the server, so noise only ever lowers a figure). Prints req/s and the
ratio gatekeeper/bare per page, the rewrite time per page, and the gzipped size of loader + styles.
Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PAGES = ("plain", "page20", "embeds20", "embeds100", "unique20")
TARGETS = {"plain": 0.90, "embeds20": 0.30, "unique20": 0.10}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_uvicorn(
    target: str, port: int, log: Path | None = None, wait: float = 15
) -> subprocess.Popen[bytes]:
    """`target` ("module:factory", a module in bench/) on uvicorn at 127.0.0.1:`port`, one worker,
    returned once it accepts connections; its output goes to `log` when given."""
    path = os.pathsep.join(filter(None, [str(HERE), str(ROOT), os.environ.get("PYTHONPATH")]))
    out = log.open("wb") if log is not None else None
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", target, "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log"],
            env={**os.environ, "PYTHONPATH": path}, stdout=out, stderr=subprocess.STDOUT if out else None,
        )  # fmt: skip
    finally:
        if out is not None:
            out.close()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = f": {log.read_text()[-2000:]}" if log is not None else ""
            raise SystemExit(f"uvicorn ({target}) exited with {proc.returncode}{tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"uvicorn ({target}) did not start on port {port}")


def wrk(url: str, seconds: float, connections: int) -> tuple[float, int]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, int(errors.group(1)) if errors else 0


def rewrite_times() -> dict[str, float]:
    """Microseconds per rewrite, in process, cached and uncached (the pure function's share)."""
    sys.path.insert(0, str(HERE))
    import pages

    from gatekeeper import Gatekeeper
    from gatekeeper.body import process_html
    from gatekeeper.consent import ConsentState
    from gatekeeper.rewrite import PageContext, rewrite

    gk = Gatekeeper(pages.bare(), secret_keys="bench-secret-key-0123456789")
    state = ConsentState()
    out: dict[str, float] = {}
    for name in ("page20", "embeds20", "embeds100"):
        html = pages.PAGES[name]
        ctx = PageContext(
            registry=gk.registry,
            granted=frozenset(),
            page_url="http://127.0.0.1/x",
            snippets=lambda lang: gk.pages.snippets(state, gk.pages.language(None, lang), "/x", frozenset()),
            placeholder=lambda embed, lang: gk.pages.placeholder(embed, gk.pages.language(None, lang), "/x"),
            cache_key=("bench", name),
        )
        n = 200
        t = time.perf_counter()
        for _ in range(n):
            rewrite(html, ctx)
        out[f"{name} rewrite() uncached"] = (time.perf_counter() - t) / n * 1e6
        body = html.encode()
        process_html(body, "text/html; charset=utf-8", None, ctx)
        t = time.perf_counter()
        for _ in range(n):
            process_html(body, "text/html; charset=utf-8", None, ctx)
        out[f"{name} process_html() cached"] = (time.perf_counter() - t) / n * 1e6
    return out


def snippet_size() -> tuple[int, int]:
    snippets = ROOT / "snippets"
    raw = (snippets / "loader.js").read_bytes() + (snippets / "gatekeeper.css").read_bytes()
    from gatekeeper import Gatekeeper

    static = Gatekeeper(lambda *a: None, secret_keys="x" * 16).pages.static
    served = b"".join(body for body, _ in static.values())
    return len(gzip.compress(raw, 9)), len(gzip.compress(served, 9))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pages", nargs="*", default=list(PAGES))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    bare_port, gk_port = free_port(), free_port()
    servers = [start_uvicorn("pages:bare", bare_port), start_uvicorn("pages:wrapped", gk_port)]
    best: dict[tuple[str, str], float] = {}
    errors: dict[tuple[str, str], int] = {}
    try:
        for _ in range(args.rounds):
            for name in args.pages:
                for label, port in (("bare", bare_port), ("gatekeeper", gk_port)):
                    url = f"http://127.0.0.1:{port}/{name}"
                    wrk(url, 1, args.connections)  # warm up (and fill caches)
                    rps, bad = wrk(url, args.seconds, args.connections)
                    best[name, label] = max(best.get((name, label), 0.0), rps)
                    errors[name, label] = errors.get((name, label), 0) + bad
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(10)
    print(
        f"wrk -t2 -c{args.connections} -d{args.seconds:g}s, best of {args.rounds} rounds, "
        "uvicorn 1 worker each"
    )
    print(f"{'page':<12}{'bare req/s':>12}{'gatekeeper':>12}{'ratio':>8}{'target':>8}  non-2xx")
    for name in args.pages:
        b, g = best[name, "bare"], best[name, "gatekeeper"]
        target = TARGETS.get(name)
        print(f"{name:<12}{b:>12.0f}{g:>12.0f}{g / b:>8.2f}{(f'{target:.2f}' if target else '-'):>8}  "
              f"{errors[name, 'bare'] + errors[name, 'gatekeeper']}")  # fmt: skip
    print()
    for label, micros in rewrite_times().items():
        print(f"{label:<36}{micros:>10.0f} µs")
    raw, served = snippet_size()
    print(f"\nloader.js + gatekeeper.css gzipped: {raw} bytes as written, {served} bytes as served")
    return 0


if __name__ == "__main__":
    sys.exit(main())
