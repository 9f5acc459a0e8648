"""Scan speed: a 25-page local site with embeds (or gatekeeper's demo), behind gatekeeper, all four
visits per page.

    .venv/bin/python bench/scan_speed.py                 # --workers 1, 2 and 3, three runs each
    .venv/bin/python bench/scan_speed.py --workers 2 --runs 1 --pages 25
    .venv/bin/python bench/scan_speed.py --site demo --workers 3 --runs 3     # the demo: 6 pages
    .venv/bin/python bench/scan_speed.py --site demo --dwell 0 --no-interaction  # without the new waits

Third-party hosts (YouTube, X, Google Analytics, Meta Pixel, Google Fonts) are answered by the test
stub on 127.0.0.1, as in the browser tests; nothing leaves the machine. Prints, per setting, the
median wall time of the whole scan, pages per minute and visits per second, and the CPU time the scan
used (Chromium's processes, the Playwright driver, this Python process with the site and the stub):
wall time depends on what else runs on the machine, CPU time much less. Target: 25 pages (100
visits) in under 60 s on a 2-core machine, and under 0.5 s per visit on the demo with the default
workers (the first view's dwell and the visitor's interaction included). The scan must come out clean.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from support import StubServer, serve_app

from gatekeeper import Gatekeeper
from gatekeeper.demo.app import SERVICES_FILE as DEMO_SERVICES
from gatekeeper.demo.app import demo_app
from scanner.browser import Chromium
from scanner.crawl import scan
from scanner.model import ScanOptions, Severity

SERVICES = """
[[cookies]]
name = "lang"
category = "usability"
purpose = "Remembers the language"
max_age_days = 365

[[services]]
id = "youtube"
[[services]]
id = "x"
[[services]]
id = "google-analytics"
[[services]]
id = "meta-pixel"
[[services]]
id = "google-fonts"
"""

EMBEDS = """
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Noto+Sans+JP">
<script async src="https://www.googletagmanager.com/gtag/js?id=G-BENCH"></script>
<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}
gtag('js', new Date()); gtag('config', 'G-BENCH');</script>
<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ" title="video"
 allowfullscreen></iframe>
<a href="https://twitter.com/share" class="twitter-share-button">Post</a>
<script async src="https://platform.twitter.com/widgets.js"></script>
<img height="1" width="1" style="display:none" alt=""
 src="https://www.facebook.com/tr?id=1234567890&amp;ev=PageView&amp;noscript=1">
"""


def site(pages: int) -> Starlette:
    paths = ["/"] + [f"/page/{i}" for i in range(1, pages)]
    nav = "".join(f'<li><a href="{p}">{p}</a></li>' for p in paths)

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{request.url.path}</title></head><body><h1>Page {request.url.path}</h1>"
            f"<p>{'Some text of the page. ' * 40}</p>{EMBEDS}<nav><ul>{nav}</ul></nav></body></html>"
        )

    return Starlette(routes=[Route(p, page) for p in paths])


_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: str) -> tuple[int, int, float]:
    """(parent pid, process group, CPU seconds of it and its reaped children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[2]), sum(int(x) for x in fields[11:15]) / _TICK


def cpu_seconds(chromium_group: int) -> dict[str, float]:
    out = {"chromium": 0.0, "driver": 0.0}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            ppid, group, cpu = _proc_cpu(pid)
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if group == chromium_group:
            out["chromium"] += cpu
        elif ppid == os.getpid() and b"playwright" in cmd:
            out["driver"] += cpu  # a driver still running
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # each scan's driver, once it ended
    out["driver"] += children.ru_utime + children.ru_stime
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["python"] = usage.ru_utime + usage.ru_stime
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--pages", type=int, default=25)
    parser.add_argument("--workers", type=int, action="append", help="repeatable; default 1, 2 and 3")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--site", choices=["bench", "demo"], default="bench")
    parser.add_argument(
        "--dwell", type=int, default=3000, help="the first view's dwell, ms (scan default 3000)"
    )
    parser.add_argument("--no-interaction", action="store_true")
    args = parser.parse_args()
    workers = args.workers or [1, 2, 3]
    with tempfile.TemporaryDirectory() as d:
        services = Path(d, "services.toml")
        services.write_text(SERVICES)
        # a page of the site stands for its privacy policy: the banner must link one (banner rules)
        app = Gatekeeper(
            site(args.pages),
            secret_keys=["bench-secret-0123456789abcdef"],
            services=services,
            privacy_policy_url="/page/1",
        )
        exclude: tuple[str, ...] = ()
        if args.site == "demo":
            app, services = demo_app("bench-secret-0123456789abcdef"), DEMO_SERVICES
            exclude = ("/lang/*", "/textsize/*")  # they only set a cookie and redirect back
            args.pages = 6
        with StubServer() as stub, serve_app(app) as base, Chromium(host_map={"*": stub.address}) as ch:
            print(
                f"{args.site}: {args.pages} pages x 4 visits, {os.cpu_count()} cores, dwell {args.dwell} ms, "
                f"interaction {'off' if args.no_interaction else 'on'}, load average {os.getloadavg()[0]:.1f}"
            )
            group = ch.pid
            for w in workers:
                times, cpus = [], []
                for _ in range(args.runs):
                    before = cpu_seconds(group)
                    options = ScanOptions(
                        url=base + "/",
                        services=services,
                        workers=w,
                        ignore_https_errors=True,
                        exclude=exclude,
                        dwell_ms=args.dwell,
                        interact=not args.no_interaction,
                    )
                    started = time.perf_counter()
                    result = scan(options, chromium=ch)
                    times.append(time.perf_counter() - started)
                    after = cpu_seconds(group)
                    cpus.append({k: after[k] - before[k] for k in after})
                    if len(result.pages) != args.pages or result.at_or_above(Severity.WARNING):
                        print(f"unexpected result: {len(result.pages)} pages, {result.counts()}")
                        print(sorted({f.rule.value for f in result.findings}))
                        return 1
                median = statistics.median(times)
                visits = 4 * args.pages
                cpu = {k: statistics.median(c[k] for c in cpus) for k in cpus[0]}
                print(
                    f"--workers {w}: {median:5.1f} s median of {args.runs} "
                    f"(min {min(times):.1f}, max {max(times):.1f}); "
                    f"{60 * args.pages / median:.0f} pages/min, {median / visits:.2f} s per visit; "
                    f"CPU {sum(cpu.values()):.0f} s ("
                    + ", ".join(f"{k} {v:.0f} s" for k, v in cpu.items())
                    + ")"
                )
            print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
