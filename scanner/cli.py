"""`gatekeeper scan URL` (also `python -m scanner`): options in, reports out, an exit code for CI.

Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage or run error (one-line reason).
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path
from typing import TextIO

from gatekeeper.registry import ConfigError, Registry, load_registry

from .crawl import Progress, ScanError, scan
from .model import ScanOptions, ScanResult, Severity, VisitKind
from .propose import propose_services
from .report import summary, write_html, write_json, write_junit, write_sarif

__all__ = ["build_parser", "main"]


def _version() -> str:
    try:
        return metadata.version("gatekeeper")
    except metadata.PackageNotFoundError:
        return ""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gatekeeper scan",
        description="Crawl a site in Chromium and check, page by page, in four visits (first view, "
        "after reject all, after accept all, with GPC), that it keeps its consent and cookie "
        "promises.",
    )
    p.add_argument("url", help="the start page, http:// or https://")
    crawl = p.add_argument_group("crawl")
    crawl.add_argument("--max-pages", type=int, default=50, metavar="N", help="default 50")
    crawl.add_argument("--max-depth", type=int, default=None, metavar="N", help="link depth from URL")
    crawl.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="only pages whose path (with query) matches, e.g. '/news/*'; repeatable",
    )
    crawl.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip pages whose path matches; repeatable",
    )
    crawl.add_argument("--no-sitemap", action="store_true", help="do not read /sitemap.xml")
    crawl.add_argument(
        "--workers", type=int, default=3, metavar="N", help="browser contexts in parallel (default 3)"
    )
    crawl.add_argument(
        "--timeout", type=float, default=20.0, metavar="S", help="seconds per page load (default 20)"
    )
    crawl.add_argument(
        "--settle",
        type=int,
        default=300,
        metavar="MS",
        help="network quiet time that ends a load (default 300)",
    )
    crawl.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="extra request header (e.g. authorization); repeatable",
    )
    crawl.add_argument(
        "--visits",
        default=",".join(k.value for k in VisitKind),
        metavar="LIST",
        help="which visits, comma-separated (default: all four)",
    )
    judge = p.add_argument_group("judging")
    judge.add_argument(
        "--services",
        type=Path,
        metavar="FILE",
        help="the site's services file (the TOML the middleware uses)",
    )
    judge.add_argument(
        "--fail-on",
        choices=["error", "warning", "info", "never"],
        default="error",
        help="lowest severity that fails the scan (default error)",
    )
    judge.add_argument(
        "--client-ip",
        metavar="IP",
        help="the address the site sees, for the personal-data check "
        "(default: the loopback address when scanning a local site)",
    )
    browser = p.add_argument_group("browser")
    browser.add_argument("--chromium", metavar="PATH", help="the Chromium executable")
    browser.add_argument(
        "--map-host",
        action="append",
        default=[],
        metavar="PATTERN=HOST:PORT",
        help="send a host name (Chromium pattern, e.g. '*.example.com') to a local server; repeatable",
    )
    browser.add_argument(
        "--block-unmapped",
        action="store_true",
        help="with --map-host: every other name fails at once (loopback kept)",
    )
    browser.add_argument("--ignore-https-errors", action="store_true", help="accept self-signed certificates")
    browser.add_argument("--no-screenshots", action="store_true")
    out = p.add_argument_group("reports")
    out.add_argument("--json", type=Path, metavar="FILE", help="the scan as JSON (schema.json)")
    out.add_argument("--junit", type=Path, metavar="FILE", help="JUnit XML, a test per page and visit")
    out.add_argument("--sarif", type=Path, metavar="FILE", help="SARIF 2.1.0")
    out.add_argument("--html", type=Path, metavar="FILE", help="a self-contained HTML report")
    out.add_argument(
        "--write-services", type=Path, metavar="FILE", help="propose a services file from what was seen"
    )
    out.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return p


def _options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ScanOptions:
    headers = {}
    for h in args.header:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            parser.error(f"--header {h!r}: write it as 'Name: value'")
        headers[name.strip()] = value.strip()
    host_map = {}
    for m in args.map_host:
        pattern, sep, target = m.partition("=")
        if not sep or not pattern or ":" not in target:
            parser.error(f"--map-host {m!r}: write it as PATTERN=HOST:PORT, e.g. '*.x.com=127.0.0.1:8443'")
        host_map[pattern] = target
    try:
        visits = tuple(VisitKind(v.strip()) for v in args.visits.split(",") if v.strip())
    except ValueError:
        choices = ", ".join(k.value for k in VisitKind)
        parser.error(f"--visits {args.visits!r}: choose from {choices}")
    if VisitKind.FIRST_VIEW not in visits:
        parser.error("--visits must include first-view (links and the banner come from it)")
    for name in ("max_pages", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be 1 or more")
    return ScanOptions(
        url=args.url,
        max_pages=args.max_pages,
        max_depth=args.max_depth,
        include=tuple(args.include),
        exclude=tuple(args.exclude),
        workers=args.workers,
        timeout=args.timeout,
        settle_ms=args.settle,
        headers=headers,
        services=args.services,
        chromium=args.chromium,
        host_map=host_map,
        block_unmapped=args.block_unmapped,
        ignore_https_errors=args.ignore_https_errors,
        client_ip=args.client_ip,
        sitemap=not args.no_sitemap,
        screenshots=not args.no_screenshots,
        visits=tuple(k for k in VisitKind if k in visits),
    )


class _Progress:
    """A live line on a terminal; one quiet line per page elsewhere (CI logs)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()

    def __call__(self, p: Progress) -> None:
        if self.tty:
            line = f"\r{p.pages_done}/{p.pages_queued} pages, {p.visits_done} visits, {p.findings} findings"
            self.stream.write(line.ljust(60))
        else:
            self.stream.write(
                f"[{p.pages_done}/{p.pages_queued}] {p.last_page} ({p.findings} findings so far)\n"
            )
        self.stream.flush()

    def end(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _write_reports(args: argparse.Namespace, result: ScanResult, fail_on: Severity) -> None:
    version = _version()
    if args.json:
        write_json(result, args.json, version)
    if args.junit:
        write_junit(result, args.junit, fail_on)
    if args.sarif:
        write_sarif(result, args.sarif, version)
    if args.html:
        write_html(result, args.html, version)
    if args.write_services:
        catalog = load_registry(None)
        own = load_registry(args.services) if args.services else Registry(())
        args.write_services.write_text(propose_services(result, own, catalog), "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    options = _options(args, parser)
    fail_on = Severity.INFO if args.fail_on == "never" else Severity(args.fail_on)
    progress = None if args.quiet else _Progress(sys.stderr)
    try:
        result = scan(options, progress=progress)
    except ScanError as e:
        if progress:
            progress.end()
        print(f"gatekeeper scan: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gatekeeper scan: interrupted", file=sys.stderr)
        return 2
    if progress:
        progress.end()
    try:
        _write_reports(args, result, fail_on)
    except (OSError, ConfigError) as e:
        print(f"gatekeeper scan: error: cannot write a report: {e}", file=sys.stderr)
        return 2
    print(summary(result, fail_on))
    if args.fail_on == "never":
        return 0
    return 1 if result.at_or_above(fail_on) else 0
