"""Load and soak (issue 5 §4): the demo site behind gatekeeper on uvicorn, wrk on a mix of pages and
consent states for a minute, and the server's memory along the way.

    .venv/bin/python bench/soak.py [--seconds 60] [--connections 64] [--threads 2] [--sample-at 10]

The server is its own uvicorn process on 127.0.0.1 (one worker, as on a small host). Real consent
cookies come first, from POSTs to /_gatekeeper/consent ("all", "none", "custom" usability + media);
every (page, consent state) pair is fetched once and must answer 2xx/3xx; then wrk runs with
bench/soak.lua, which gives each request the next (path, Cookie) pair. One path carries a query that
is new every time, so some pages are rewritten afresh and the caches have to stay bounded. Prints
req/s, p50/p99 latency, non-2xx/3xx responses and socket errors (target 0 each), and the server's
resident memory (/proc/PID/status VmRSS) at `--sample-at` seconds and at the end (target: growth
under 10%).
Not a test and not in CI: it prints, and exits 0 unless it could not run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from throughput import free_port, start_uvicorn  # bench/ is the script's folder

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KEY = "soak-secret-key-0123456789abcdef"
# The last one is a new URL every time (bench/soak.lua): nothing cached answers it.
PAGES = ("/", "/news/", "/news/1", "/news/2", "/news/3", "/access", "/_gatekeeper/consent",
         "/_gatekeeper/disclosure", "/static/site.css", "/news/?utm_source=")  # fmt: skip
CHOICES: dict[str, dict[str, Any]] = {
    "all": {"choice": "all"},
    "none": {"choice": "none"},
    "custom": {"choice": "custom", "categories": ["usability", "media"]},
}
SNIPPET = re.compile(r"/_gatekeeper/static/loader\.[0-9a-f]+\.js")


def app() -> Any:
    """The uvicorn factory (`soak:app`): the demo site behind gatekeeper, enforced CSP, strict mode."""
    from gatekeeper.demo.app import demo_app

    return demo_app(KEY)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


@dataclass
class Sampler:
    """The server's VmRSS once a second, with seconds since `start()`."""

    pid: int
    samples: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        t0 = time.monotonic()

        def run() -> None:
            while not self._stop.is_set():
                self.samples.append((time.monotonic() - t0, rss_kib(self.pid)))
                self._stop.wait(1.0)

        self._thread = threading.Thread(target=run, name="rss", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def at(self, seconds: float) -> tuple[float, int]:
        """The last sample taken at or before `seconds` (the first one if none is)."""
        before = [s for s in self.samples if s[0] <= seconds + 0.5]
        return before[-1] if before else self.samples[0]


def consent_cookies(base: str) -> dict[str, str]:
    """A Cookie header per consent state, each from a real POST to the consent endpoint."""
    import httpx

    headers = {"none yet": "-"}
    with httpx.Client(base_url=base, timeout=10) as client:
        for name, body in CHOICES.items():
            r = client.post("/_gatekeeper/consent", json=body)
            r.raise_for_status()
            value = r.cookies.get("gk_consent")
            if not value:
                raise SystemExit(f"POST {body}: no gk_consent cookie in {r.headers.get_list('set-cookie')}")
            headers[name] = f"gk_consent={value}"
    return headers


def preflight(base: str, paths: list[str], cookies: dict[str, str]) -> list[str]:
    """Every (path, state) pair once: what did not answer 2xx/3xx, and each state's grants."""
    import httpx

    bad = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for state, cookie in cookies.items():
            headers = {} if cookie == "-" else {"Cookie": cookie}
            for path in paths:
                r = client.get(path, headers=headers)
                if not 200 <= r.status_code < 400:
                    bad.append(f"{path} ({state}): {r.status_code}")
            granted = client.get("/_gatekeeper/consent", headers=headers).json()
            on = sorted(k for k, v in granted.get("services", {}).items() if v)
            decided = granted.get("decided")
            print(f"  consent {state:<9} decided={decided!s:<5} services on: {', '.join(on) or '-'}")
    return bad


def run_wrk(base: str, paths: list[str], cookies: list[str], args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
        f"--timeout={args.timeout}s", "-s", str(HERE / "soak.lua"), base, "--", "|".join(paths), *cookies,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("SOAK ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no SOAK line:\n{out}")
    result: dict[str, Any] = {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    status = next((ln for ln in out.splitlines() if ln.startswith("STATUS")), "STATUS")
    result["statuses"] = dict(kv.split("=") for kv in status.split()[1:])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="wrk's duration (whole seconds)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sample-at", type=float, default=10, help="first memory figure, in seconds")
    parser.add_argument("--timeout", type=int, default=10, help="wrk's per-request timeout, in seconds")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="gatekeeper-soak-")) / "uvicorn.log"
    server = start_uvicorn("soak:app", port, log, wait=20)
    try:
        import httpx

        home = httpx.get(base + "/", timeout=10).text
        snippet = SNIPPET.search(home)
        if snippet is None:
            raise SystemExit("the home page has no gatekeeper loader: is the middleware on?")
        paths = [*PAGES, snippet.group()]
        cookies = consent_cookies(base)
        print(f"soak: demo site behind gatekeeper on {base} (uvicorn pid {server.pid}), "
              f"{len(paths)} paths x {len(cookies)} consent states")  # fmt: skip
        bad = preflight(base, paths, cookies)
        if bad:
            print("  not 2xx/3xx before the load: " + "; ".join(bad))
        rss_start = rss_kib(server.pid)
        sampler = Sampler(server.pid)
        sampler.start()
        try:
            result = run_wrk(base, paths, list(cookies.values()), args)
        finally:
            sampler.stop()
        alive = server.poll() is None
    finally:
        server.terminate()
        server.wait(10)

    seconds = result["duration_us"] / 1e6
    rps = result["requests"] / seconds
    socket_errors = sum(result[k] for k in ("connect", "read", "write", "timeout"))
    (t1, rss1), (t2, rss2) = sampler.at(args.sample_at), sampler.at(seconds)
    growth = (rss2 - rss1) / rss1 * 100
    errors = ", ".join(f"{k} {result[k]}" for k in ("connect", "read", "write", "timeout"))

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.seconds}s --timeout {args.timeout}s, "
          f"uvicorn 1 worker, {os.cpu_count()} cores shared with wrk")  # fmt: skip
    rows = [
        ("requests", f"{result['requests']}", "", ""),
        ("req/s", f"{rps:.0f}", "", ""),
        ("latency p50", f"{result['p50_us'] / 1000:.1f} ms", "", ""),
        ("latency p90", f"{result['p90_us'] / 1000:.1f} ms", "", ""),
        ("latency p99", f"{result['p99_us'] / 1000:.1f} ms", "", ""),
        ("latency max", f"{result['max_us'] / 1000:.1f} ms", "", ""),
        ("non-2xx/3xx", f"{result['status']}", "0", verdict(result["status"] == 0 and not bad)),
        ("socket errors", f"{socket_errors} ({errors})", "0", verdict(socket_errors == 0)),
        ("statuses", " ".join(f"{k}: {v}" for k, v in sorted(result["statuses"].items())), "", ""),
        ("RSS before load", f"{rss_start / 1024:.1f} MiB", "", ""),
        (f"RSS at {t1:.0f} s", f"{rss1 / 1024:.1f} MiB", "", ""),
        (f"RSS at {t2:.0f} s", f"{rss2 / 1024:.1f} MiB ({growth:+.1f}%)", "< +10%", verdict(growth < 10)),
        ("server alive after", "yes" if alive else "NO", "yes", verdict(alive)),
    ]
    for name, value, target, ok in rows:
        print(f"{name:<20}{value:<58}{target:<9}{ok}")
    trace = [f"{sampler.at(t)[1] / 1024:.1f}" for t in range(0, int(seconds) + 1, 10)]
    print(f"RSS every 10 s (MiB): {' '.join(trace)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
