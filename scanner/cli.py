"""`gatekeeper scan URL` (also `python -m scanner`): options in, reports out, an exit code for CI;
`gatekeeper scan merge REPORTS...`: the JSON reports of a sharded scan as one report, one exit code.

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
from .merge import merge_results
from .model import ScanOptions, ScanResult, Severity, VisitKind
from .propose import propose_services
from .report import read_json, summary, write_html, write_json, write_junit, write_sarif
from .scope import parse_shard

__all__ = ["build_merge_parser", "build_parser", "main"]

_VISITS = (
    'first-view (no choice yet), reject (after "reject all"), accept (after "accept all", then '
    'withdrawn), gpc (with Global Privacy Control, then "accept all")'
)


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
        "promises. `gatekeeper scan merge REPORTS...` merges the JSON reports of a sharded scan.",
        epilog="Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage or run error.",
    )
    p.add_argument("url", help="the start page, http:// or https://")
    crawl = p.add_argument_group("crawl")
    crawl.add_argument(
        "--max-pages", type=int, default=50, metavar="N", help="pages to scan at most (default 50)"
    )
    crawl.add_argument(
        "--max-depth", type=int, default=None, metavar="N", help="follow links at most N clicks from URL"
    )
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
        "--timeout",
        type=float,
        default=20.0,
        metavar="S",
        help="seconds per page load (default 20); a visit that runs out goes on and is judged on what "
        "it recorded, with the timeout noted",
    )
    crawl.add_argument(
        "--settle",
        type=int,
        default=300,
        metavar="MS",
        help="network quiet time that ends a load (default 300)",
    )
    crawl.add_argument(
        "--dwell",
        type=int,
        default=3000,
        metavar="MS",
        help="how long the first view stays after load, for trackers that fire late (default 3000)",
    )
    crawl.add_argument(
        "--quiet-wait",
        type=int,
        default=2000,
        metavar="MS",
        help="then wait at most this long for the network to go quiet (default 2000)",
    )
    crawl.add_argument(
        "--no-interaction",
        action="store_true",
        help="do not scroll, move the pointer or type into a field before judging a visit",
    )
    crawl.add_argument(
        "--shard",
        default="1/1",
        metavar="K/N",
        help="visit only the K-th of N stable shares of the pages (every shard finds the same pages); "
        "merge the shards' --json reports with `gatekeeper scan merge`",
    )
    crawl.add_argument(
        "--journal",
        type=Path,
        metavar="FILE",
        help="append each finished page to FILE (JSON lines), so an interrupted scan can --resume",
    )
    crawl.add_argument(
        "--resume",
        action="store_true",
        help="with --journal: take the pages already in it as done and scan only the rest",
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
        help=f"which visits, comma-separated (default: all four): {_VISITS}",
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
        "--unjudged-ok",
        action="store_true",
        help="a page that could not be loaded at all is a warning, not an error",
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
    browser.add_argument(
        "--no-screenshots", action="store_true", help="no screenshot of each first view in the HTML report"
    )
    out = _report_options(p)
    out.add_argument(
        "--write-services", type=Path, metavar="FILE", help="propose a services file from what was seen"
    )
    out.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return p


def _report_options(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    out = p.add_argument_group("reports")
    out.add_argument(
        "--json", type=Path, metavar="FILE", help="the scan as JSON (scanner/report/schema.json)"
    )
    out.add_argument("--junit", type=Path, metavar="FILE", help="JUnit XML, a test per page and visit")
    out.add_argument("--sarif", type=Path, metavar="FILE", help="SARIF 2.1.0, for code-scanning dashboards")
    out.add_argument("--html", type=Path, metavar="FILE", help="a self-contained HTML report")
    return out


def build_merge_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gatekeeper scan merge",
        description="Merge the JSON reports of a sharded scan (--shard K/N, one per shard) into one "
        "report with one exit code.",
        epilog="Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage or run error.",
    )
    p.add_argument("reports", nargs="+", type=Path, metavar="REPORT", help="a shard's --json report")
    p.add_argument(
        "--fail-on",
        choices=["error", "warning", "info", "never"],
        default="error",
        help="lowest severity that fails the merged scan (default error)",
    )
    _report_options(p)
    p.set_defaults(write_services=None, services=None)
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
    try:
        shard = parse_shard(args.shard)
    except ValueError as e:
        parser.error(f"--shard {e}")
    if args.resume and args.journal is None:
        parser.error("--resume needs --journal FILE (the journal of the interrupted scan)")
    return ScanOptions(
        url=args.url,
        max_pages=args.max_pages,
        max_depth=args.max_depth,
        include=tuple(args.include),
        exclude=tuple(args.exclude),
        workers=args.workers,
        timeout=args.timeout,
        settle_ms=args.settle,
        dwell_ms=args.dwell,
        max_quiet_wait_ms=args.quiet_wait,
        interact=not args.no_interaction,
        unjudged_ok=args.unjudged_ok,
        shard=shard,
        journal=args.journal,
        resume=args.resume,
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
        # pages found grow as pages are read: say so, or "12/31" looks like a promise of 31
        waiting = f"{p.pages_waiting} found by following links still to visit, more may turn up"
        if self.tty:
            line = f"\r{p.pages_done}/{p.pages_found} pages done ({waiting}), {p.findings} findings"
            self.stream.write(line.ljust(100))
        else:
            self.stream.write(
                f"[{p.pages_done}/{p.pages_found} pages done; {waiting}] {p.last_page} "
                f"({p.findings} findings so far)\n"
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


def _exit_code(result: ScanResult, fail_on_arg: str) -> int:
    fail_on = Severity.INFO if fail_on_arg == "never" else Severity(fail_on_arg)
    print(summary(result, fail_on))
    if fail_on_arg == "never":
        return 0
    return 1 if result.at_or_above(fail_on) else 0


def merge_main(argv: list[str]) -> int:
    args = build_merge_parser().parse_args(argv)
    try:
        result = merge_results([read_json(path) for path in args.reports])
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"gatekeeper scan merge: error: {e}", file=sys.stderr)
        return 2
    fail_on = Severity.INFO if args.fail_on == "never" else Severity(args.fail_on)
    try:
        _write_reports(args, result, fail_on)
    except OSError as e:
        print(f"gatekeeper scan merge: error: cannot write a report: {e}", file=sys.stderr)
        return 2
    return _exit_code(result, args.fail_on)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "merge":
        return merge_main(argv[1:])
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
    return _exit_code(result, args.fail_on)
