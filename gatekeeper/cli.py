"""The `gatekeeper` command: `demo` (the demo site behind gatekeeper, optionally scanned), `scan` (the
crawler), `init` (a services file proposed from the site itself), `check` (validate a services
file and say what visitors will be asked), `proxy` (any HTTP site behind gatekeeper), `serve` (a
directory of static files behind gatekeeper)."""

from __future__ import annotations

import argparse
import errno
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .registry import ConfigError, Registry, load_registry

__all__ = ["main"]


def _scanner_main() -> object:
    try:
        from scanner.cli import main as scan_main
    except ImportError as e:  # the scanner needs playwright: an optional extra
        if "playwright" in str(e):  # a usage error, like every other: exit code 2
            extra = "pip install 'gatekeeper-consent[scanner]'"
            print(f"gatekeeper scan needs the scanner extra: {extra}", file=sys.stderr)
            sys.exit(2)
        raise
    return scan_main


_INTERRUPTED = 130  # the shell's code for a Ctrl-C


def _demo_scan(url: str, args: argparse.Namespace) -> int:
    """Scan the demo; name the reports only once they are written. A Ctrl-C during the scan ends it
    (the scanner writes no partial report) and says so."""
    from .demo.app import SERVICES_FILE

    scan_args = [url, "--services", str(SERVICES_FILE), "--max-pages", str(args.max_pages)]
    reports: list[Path] = []
    if args.report_dir:
        out = Path(args.report_dir)
        out.mkdir(parents=True, exist_ok=True)
        reports = [out / "scan.html", out / "scan.json"]
        scan_args += ["--html", str(reports[0]), "--json", str(reports[1])]
    print(f"Scanning {url} in Chromium (four visits per page)...", flush=True)
    scan_main = _scanner_main()
    interrupted = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: object) -> None:
        interrupted.set()
        raise KeyboardInterrupt

    started = time.time()
    signal.signal(signal.SIGINT, on_interrupt)
    try:
        code = int(scan_main(scan_args))  # type: ignore[operator]
    except KeyboardInterrupt:
        interrupted.set()
        code = _INTERRUPTED
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted.is_set():
        print("Scan interrupted: no report written; the demo stops.", flush=True)
        return _INTERRUPTED
    written = [p for p in reports if p.is_file() and p.stat().st_mtime >= started - 1]
    if written:
        print(f"Reports: {' and '.join(str(p) for p in written)}", flush=True)
    elif reports:
        print("The scan wrote no report (see its message above).", flush=True)
    return code


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo.app import demo_app, site
    from .demo.server import AppServer

    if args.bare:
        app = site()
        what = "the demo site WITHOUT gatekeeper (it leaks, on purpose)"
    else:
        key = os.environ.get("GATEKEEPER_SECRET") or secrets.token_urlsafe(32)
        app = demo_app(key)
        what = "the demo site behind gatekeeper"
    try:
        server = AppServer(app, host=args.host, port=args.port, log_level="warning")
    except OSError as e:  # most often: the port is taken (another demo, another server)
        busy = e.errno == errno.EADDRINUSE
        reason = "is in use" if busy else f"cannot be opened ({e.strerror})"
        print(f"gatekeeper demo: {args.host}:{args.port} {reason}; pick another with --port N "
              "(--port 0 picks a free one)", file=sys.stderr)  # fmt: skip
        return 2
    url = server.start() + "/"
    print(f"Serving {what} at {url}", flush=True)
    code = 0
    try:
        if args.scan:
            code = _demo_scan(url, args)
            if code == _INTERRUPTED:
                return code  # one Ctrl-C stops the demo, scan and all
        if args.exit_after_scan:
            return code
        print(f"Open {url} in a browser; Ctrl-C stops the demo.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return code
    finally:
        server.stop()


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check_services

    languages = [t.strip() for t in args.languages.split(",") if t.strip()] if args.languages else None
    report = check_services(args.services, languages, args.locale_dir)
    for line in report.lines(args.services):
        print(line, file=sys.stderr if line.startswith(("error:", "warning:")) else sys.stdout)
    return report.exit_code


def _fetch_html(url: str, headers: dict[str, str], timeout: float) -> str:
    """A page's HTML as the site serves it (what a browser never shows of it: the inert markup)."""
    from urllib.request import Request, urlopen

    try:
        with urlopen(Request(url, headers=headers), timeout=timeout) as answer:
            if "html" not in answer.headers.get("content-type", ""):
                return ""
            charset = answer.headers.get_content_charset() or "utf-8"
            return str(answer.read(5 * 1024 * 1024).decode(charset, "replace"))
    except (OSError, ValueError, LookupError):
        return ""


def cmd_init(args: argparse.Namespace) -> int:
    """Crawl the site once (a first view and "accept all"), and write a services file from it."""
    try:
        from scanner.crawl import ScanError, scan
        from scanner.model import ScanOptions, VisitKind
        from scanner.propose import inert_urls, propose_services
    except ImportError as e:  # the scanner needs playwright: an optional extra
        if "playwright" in str(e):
            sys.exit("gatekeeper init needs the scanner extra: pip install 'gatekeeper-consent[scanner]'")
        raise
    out = Path(args.output)
    if out.exists() and not args.force:
        print(f"error: {out} exists; pass --force to replace it", file=sys.stderr)
        return 2
    host_map = dict(m.split("=", 1) for m in args.map_host if "=" in m)
    headers = dict((n.strip(), v.strip()) for n, _, v in (h.partition(":") for h in args.header) if n.strip())
    options = ScanOptions(
        url=args.url,
        max_pages=args.max_pages,
        headers=headers,
        chromium=args.chromium,
        host_map=host_map,
        block_unmapped=args.block_unmapped,
        ignore_https_errors=args.ignore_https_errors,
        exclude=tuple(args.exclude),
        screenshots=False,
        visits=(VisitKind.FIRST_VIEW, VisitKind.ACCEPT),
    )
    print(f"Crawling {args.url} in Chromium (up to {args.max_pages} pages)...", flush=True)
    try:
        result = scan(options)
    except ScanError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    inert = [u for p in result.pages for u in inert_urls(_fetch_html(p.url, headers, 20.0), p.url)]
    catalog = load_registry(None)
    text = propose_services(result, Registry(()), catalog, inert_urls=inert)
    try:
        proposed = load_registry(_toml(text))
    except ConfigError as e:  # a bug of ours: say so rather than write a file that will not load
        print(f"error: the proposed file does not load: {e}", file=sys.stderr)
        return 2
    out.write_text(text, "utf-8")
    print(f"Wrote {out} from {len(result.pages)} pages:")
    for s in proposed.services:
        hosts = ", ".join(str(h) for h in s.hosts[:3]) + (", ..." if len(s.hosts) > 3 else "")
        if s.id not in catalog.by_id:
            print(f"  UNKNOWN  {s.id}: {hosts}  (describe it in the file before going live)")
        else:
            print(f"  {s.category.value:<9} {s.id}: {s.name} ({s.vendor})")
    return 0


def _toml(text: str) -> dict[str, object]:
    import tomllib

    return tomllib.loads(text)


# -- proxy and serve: a site behind gatekeeper on uvicorn, production-ready ------------------------------


def _add_site_options(parser: argparse.ArgumentParser) -> None:
    """What `proxy` and `serve` share: the server, the middleware's options, keys, trust and logs."""
    server = parser.add_argument_group("server")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    server.add_argument("--port", type=int, default=8000)
    server.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    server.add_argument(
        "--forwarded-allow-ips",
        default="",
        metavar="ADDRS",
        help="front proxies (addresses or networks, comma-separated, or '*') whose X-Forwarded-For/-Proto/"
        "-Host are believed; from anyone else they are removed (default: nobody)",
    )
    server.add_argument("--log-format", choices=("text", "json"), default="text")
    server.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    server.add_argument("--no-access-log", action="store_true", help="no line per request")
    gk = parser.add_argument_group("gatekeeper")
    gk.add_argument("--services", default=None, help="services file (default: the whole catalog)")
    gk.add_argument(
        "--secret-keys-file",
        default=None,
        metavar="FILE",
        help="signing keys, one per line, oldest first (default: $GATEKEEPER_SECRET_KEYS; never on the "
        "command line)",
    )
    gk.add_argument("--prefix", default="/_gatekeeper/")
    gk.add_argument("--mode", choices=("strict", "report"), default=None)
    gk.add_argument("--csp", choices=("enforce", "report-only", "off"), default="enforce")
    gk.add_argument("--consent-days", type=float, default=182)
    gk.add_argument(
        "--https",
        choices=("auto", "on", "off"),
        default="auto",
        help="Secure and __Host- consent cookie: from the request's scheme (auto), or forced",
    )
    gk.add_argument("--max-body-bytes", type=int, default=5 * 1024 * 1024)
    gk.add_argument("--templates", default=None, help="a folder of templates overriding ours")


def _run_site(args: argparse.Namespace, kind: str, target: str, options: dict[str, object]) -> int:
    from .deploy import Site, run

    gatekeeper = {
        "services": args.services,
        "prefix": args.prefix,
        "mode": args.mode,
        "csp": args.csp,
        "consent_days": args.consent_days,
        "https": {"auto": None, "on": True, "off": False}[args.https],
        "max_body_bytes": args.max_body_bytes,
        "templates": args.templates,
    }
    site = Site(
        kind=kind,  # type: ignore[arg-type]
        target=target,
        gatekeeper=gatekeeper,
        options=options,
        forwarded_allow_ips=args.forwarded_allow_ips,
        secret_keys_file=args.secret_keys_file,
        log_format=args.log_format,
    )
    try:
        run(
            site,
            host=args.host,
            port=args.port,
            workers=args.workers,
            access_log=not args.no_access_log,
            log_level=args.log_level,
        )
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def cmd_proxy(args: argparse.Namespace) -> int:
    options = {
        "host_header": args.host_header,
        "timeout": args.timeout,
        "connect_timeout": args.connect_timeout,
    }
    return _run_site(args, "proxy", args.upstream, options)


def cmd_serve(args: argparse.Namespace) -> int:
    return _run_site(args, "serve", args.directory, {})


def _add_proxy(sub: Any) -> None:
    proxy = sub.add_parser(
        "proxy", help="put gatekeeper in front of any HTTP site (a reverse proxy)", allow_abbrev=False
    )
    proxy.add_argument(
        "--upstream", required=True, metavar="URL", help="the site, e.g. http://127.0.0.1:8080"
    )
    proxy.add_argument(
        "--host-header",
        default="preserve",
        metavar="HOST",
        help="Host sent upstream: 'preserve' the visitor's (default), 'upstream' for the upstream's own, "
        "or a value",
    )
    proxy.add_argument("--timeout", type=float, default=60.0, help="seconds to wait on the upstream (504)")
    proxy.add_argument("--connect-timeout", type=float, default=5.0, help="seconds to connect (504)")
    _add_site_options(proxy)
    proxy.set_defaults(func=cmd_proxy)


def _add_serve(sub: Any) -> None:
    serve = sub.add_parser(
        "serve", help="serve a directory of static files behind gatekeeper", allow_abbrev=False
    )
    serve.add_argument("directory")
    _add_site_options(serve)
    serve.set_defaults(func=cmd_serve)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "scan":
        return int(_scanner_main()(argv[1:]))  # type: ignore[operator]
    parser = argparse.ArgumentParser(
        prog="gatekeeper", description="Keeps a site's cookie and third-party promises, and proves it."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="serve the demo site behind gatekeeper (and scan it)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    demo.add_argument("--bare", action="store_true", help="serve the site without gatekeeper")
    demo.add_argument("--scan", action="store_true", help="scan the site in Chromium once it is up")
    demo.add_argument("--max-pages", type=int, default=20)
    demo.add_argument("--report-dir", default=None, help="write scan.html and scan.json here")
    demo.add_argument(
        "--exit-after-scan", action="store_true", help="stop after the scan, with its exit code"
    )
    demo.set_defaults(func=cmd_demo)
    check = sub.add_parser(
        "check",
        help="validate a services file: every mistake at once, the texts a language lacks, what visitors "
        "are asked",
    )
    check.add_argument("services", help="the services file (TOML)")
    check.add_argument(
        "--languages",
        help="the site's languages, comma-separated BCP 47 tags as the middleware's languages= "
        "(default: en, ja, zh-Hans, zh-Hant, ko and those in --locale-dir)",
    )
    check.add_argument("--locale-dir", help="the site's own catalogues, as the middleware's locale_dir=")
    check.set_defaults(func=cmd_check)
    sub.add_parser("scan", help="crawl a site in Chromium and report leaks (see: gatekeeper scan --help)")
    init = sub.add_parser(
        "init", help="crawl a site once and write a services file for it (every third party it contacts)"
    )
    init.add_argument("url", help="the start page, http:// or https:// (a site behind gatekeeper too)")
    init.add_argument("-o", "--output", default="services.toml", help="default services.toml")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    init.add_argument("--max-pages", type=int, default=30, metavar="N", help="default 30")
    init.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip these paths")
    init.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'")
    init.add_argument("--chromium", metavar="PATH", help="the Chromium executable")
    init.add_argument("--map-host", action="append", default=[], metavar="PATTERN=HOST:PORT")
    init.add_argument("--block-unmapped", action="store_true")
    init.add_argument("--ignore-https-errors", action="store_true")
    init.set_defaults(func=cmd_init)
    _add_proxy(sub)
    _add_serve(sub)
    from .records.cli import add_records_parser  # consent records: stats, show, export, purge, report

    add_records_parser(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
