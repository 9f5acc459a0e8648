"""Consent records on the request path (not CI): POST consent req/s and p99 with records off, in SQLite and
in PostgreSQL, in one run. Each site is its own uvicorn process (one worker) on 127.0.0.1; wrk posts the
banner's form ("Accept all", "Reject all", "Save choices" in turn); PostgreSQL 15 runs in a temporary
directory (as tests/support/postgres.py starts it). Prints req/s, p99 and the ratios to records off,
and checks afterwards that every choice answered was stored or counted as lost.

Target: with records on, at least 0.8x the req/s of records off, and p99 under 2x.

    .venv/bin/python bench/records.py [--seconds 10] [--connections 32] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT), str(ROOT / "tests")]

from support.postgres import PostgresServer, available  # noqa: E402
from support.records_app import KEY, SERVICES, site  # noqa: E402
from throughput import free_port, start_uvicorn  # noqa: E402

from gatekeeper import Gatekeeper  # noqa: E402

TARGET_RPS, TARGET_P99 = 0.8, 2.0


def make() -> Gatekeeper:
    """The benchmarked site (uvicorn --factory records:make); its store from GK_BENCH_RECORDS."""
    url = os.environ.get("GK_BENCH_RECORDS") or None
    return Gatekeeper(site, secret_keys=KEY, services=SERVICES, records=url)


def load(base: str, seconds: float, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "-s", str(HERE / "records.lua"), base],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    line = re.search(r"RECORDS (.*)", out).group(1)  # type: ignore[union-attr]
    fields = {k: float(v) for k, v in (part.split("=") for part in line.split())}
    return {"rps": rps, **fields}


def stored_and_lost(url: str) -> tuple[int, int]:
    from gatekeeper.records import open_store

    async def count() -> tuple[int, int]:
        store = open_store(url)
        await store.open()
        try:
            return len(await store.select()), sum(x.count for x in await store.lost())
        finally:
            await store.close()

    return asyncio.run(count())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="best of this many runs per store")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    if not available():
        raise SystemExit("PostgreSQL 15 is not installed: apt-get install -y postgresql")
    work = Path(tempfile.mkdtemp(prefix="gk-bench-records-"))
    pg = PostgresServer()
    pg.init()
    pg.start()
    results: dict[str, dict[str, Any]] = {}
    try:
        stores = {"off": "", "sqlite": f"sqlite:///{work}/consent.db", "postgresql": pg.new_database()}
        for name, url in stores.items():
            os.environ["GK_BENCH_RECORDS"] = url
            port = free_port()
            log = work / f"{name}.log"
            proc = start_uvicorn("records:make", port, log)
            base = f"http://127.0.0.1:{port}"
            try:
                load(base, 2, args.connections)  # warm up (and fill caches)
                runs = [load(base, args.seconds, args.connections) for _ in range(args.rounds)]
            finally:
                proc.send_signal(signal.SIGINT)  # lifespan shutdown: the queue is written
                proc.wait(60)
            best = max(runs, key=lambda r: r["rps"])
            results[name] = best
            if url:
                stored, lost = stored_and_lost(url)
                best["stored"], best["lost"] = stored, lost
                logged = re.findall(r"(\d+) lost since start", log.read_text(errors="replace"))
                best["lost_logged"] = int(logged[-1]) if logged else 0
    finally:
        pg.close()
        shutil.rmtree(work, ignore_errors=True)
    off = results["off"]
    print(f"POST {'/_gatekeeper/consent'} (banner form), wrk -t2 -c{args.connections} -d{args.seconds:g}s, "
          f"best of {args.rounds}; one uvicorn worker each; 2 cores shared with wrk")  # fmt: skip
    print(f"{'records':<12}{'req/s':>10}{'x off':>8}{'p99 ms':>9}{'x off':>8}{'p50 ms':>9}  stored+lost")
    ok = True
    for name, r in results.items():
        rps_ratio, p99_ratio = r["rps"] / off["rps"], r["p99_us"] / off["p99_us"]
        extra = f"  {int(r['stored'])}+{int(r['lost'])}" if "stored" in r else ""
        print(f"{name:<12}{r['rps']:>10.0f}{rps_ratio:>8.2f}{r['p99_us'] / 1000:>9.2f}{p99_ratio:>8.2f}"
              f"{r['p50_us'] / 1000:>9.2f}{extra}")  # fmt: skip
        if name != "off":
            ok = ok and rps_ratio >= TARGET_RPS and p99_ratio < TARGET_P99
        if r.get("non2xx3xx"):
            print(f"  {name}: {int(r['non2xx3xx'])} answers were not 2xx/3xx")
            ok = False
    verdict = "met" if ok else "NOT met"
    print(f"target: records on >= {TARGET_RPS}x req/s of off, p99 < {TARGET_P99}x: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
