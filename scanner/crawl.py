"""The scan: breadth-first over same-origin links (and sitemap.xml), four fresh visits per page in parallel
browser contexts, then the rules. `scan()` is what the CLI, the pytest plugin and the tests call."""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from playwright.async_api import Browser, async_playwright
from playwright.async_api import Error as PlaywrightError

from gatekeeper.psl import normalize_host
from gatekeeper.registry import ConfigError, Registry, load_registry

from .browser import BrowserNotFound, Chromium, context_options
from .model import BannerRecord, PageResult, ScanOptions, ScanResult, VisitKind, VisitRecord
from .rules import RuleContext, evaluate, third_parties
from .visit import VisitConfig, add_site_headers, run_visit

__all__ = ["Progress", "ScanError", "scan", "scan_async"]

ENDPOINT_PREFIX = "/_gatekeeper/"

# Links to these are files, not pages.
_SKIP_SUFFIXES = frozenset(
    {
        ".pdf", ".zip", ".gz", ".tgz", ".rar", ".7z", ".jpg", ".jpeg", ".png", ".gif", ".webp",
        ".svg", ".ico", ".mp3", ".mp4", ".mov", ".webm", ".avi", ".doc", ".docx", ".xls", ".xlsx",
        ".ppt", ".pptx", ".csv", ".xml", ".json", ".txt", ".js", ".css", ".woff", ".woff2", ".ttf",
        ".dmg", ".exe",
    }
)  # fmt: skip


class ScanError(RuntimeError):
    """The scan could not run (unreachable site, no browser, bad services file): exit code 2."""


@dataclass(frozen=True)
class Progress:
    pages_done: int
    pages_queued: int
    visits_done: int
    findings: int  # so far, counted page by page
    last_page: str


def _origin(url: str) -> tuple[str, str]:
    p = urlsplit(url)
    return p.scheme, p.netloc.lower()


def normalize_url(url: str) -> str:
    """Without fragment and default port; an empty path is "/"."""
    url = urldefrag(url)[0]
    p = urlsplit(url)
    netloc = p.netloc.lower()
    if (p.scheme, p.port) in (("http", 80), ("https", 443)):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((p.scheme, netloc, p.path or "/", p.query, ""))


class _Scope:
    """Which links are pages of this scan."""

    def __init__(self, start: str, include: Iterable[str], exclude: Iterable[str]) -> None:
        self.origin = _origin(start)
        self.include = tuple(include)
        self.exclude = tuple(exclude)

    def admit(self, url: str) -> str | None:
        if not url.startswith(("http://", "https://")):
            return None
        url = normalize_url(url)
        if _origin(url) != self.origin:
            return None
        p = urlsplit(url)
        if p.path.startswith(ENDPOINT_PREFIX):
            return None
        if PurePosixPath(p.path).suffix.lower() in _SKIP_SUFFIXES:
            return None
        target = p.path + (f"?{p.query}" if p.query else "")
        if self.include and not any(fnmatch.fnmatchcase(target, g) for g in self.include):
            return None
        if any(fnmatch.fnmatchcase(target, g) for g in self.exclude):
            return None
        return url


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def _fetch_text(browser: Browser, url: str, options: ScanOptions) -> tuple[int | None, str, str]:
    """GET through the browser (so host mapping applies): status, body and the URL it ended at;
    (None, error, url) on failure."""
    context = await browser.new_context(**context_options(ignore_https_errors=options.ignore_https_errors))
    try:
        if options.headers:
            await add_site_headers(context, url, options.headers)
        page = await context.new_page()
        try:
            response = await page.goto(url, timeout=options.timeout * 1000, wait_until="commit")
        except PlaywrightError as e:
            text = str(e).strip()
            net = re.search(r"net::ERR_\w+", text)
            return None, net.group(0) if net else (text.splitlines() or ["failed"])[0], url
        if response is None:
            return None, "no response", url
        try:
            body = await response.text()
        except PlaywrightError:
            body = ""
        return response.status, body, response.url
    finally:
        await context.close()


def _sitemap_urls(text: str) -> list[str]:
    return [m.strip() for m in re.findall(r"<loc>\s*([^<]+?)\s*</loc>", text)]


async def _run_pool(
    browser: Browser,
    tasks: Sequence[tuple[str, VisitKind]],
    cfg: VisitConfig,
    workers: int,
    done: Callable[[str, VisitKind, VisitRecord], None],
    without_banner: frozenset[str] = frozenset(),
) -> dict[tuple[str, VisitKind], VisitRecord]:
    queue: asyncio.Queue[tuple[str, VisitKind]] = asyncio.Queue()
    for t in tasks:
        queue.put_nowait(t)
    results: dict[tuple[str, VisitKind], VisitRecord] = {}

    async def worker() -> None:
        while True:
            try:
                url, kind = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                record = await run_visit(browser, url, kind, cfg, url not in without_banner)
            except Exception as e:  # one broken visit (a crashed tab...) must not stop the scan
                if not browser.is_connected():
                    raise ScanError(f"the browser went away during the scan: {e}") from e
                record = VisitRecord(
                    kind, url, url, None, f"the visit failed: {type(e).__name__}: {e}",
                    BannerRecord(False),
                )  # fmt: skip
            results[(url, kind)] = record
            done(url, kind, record)

    await asyncio.gather(*(worker() for _ in range(max(1, workers))))
    return results


def _registry(options: ScanOptions, state: dict[str, Any] | None) -> tuple[Registry, bool, str]:
    """The registry to judge by, whether it declares the site's cookies, and a note saying which."""
    catalog = load_registry(None)
    if options.services is not None:
        try:
            return load_registry(options.services), True, f"services file {options.services}"
        except ConfigError as e:
            raise ScanError(str(e)) from None
    if state is not None:
        ids = [i for i in state.get("services", {}) if i in catalog.by_id]
        note = (
            "gatekeeper site: judged by the services it offers (pass --services to also check "
            "first-party cookie declarations)"
        )
        return catalog.restricted_to(ids), False, note
    return catalog, False, "built-in catalog (pass --services to judge by the site's own registry)"


async def scan_async(
    options: ScanOptions,
    *,
    chromium: Chromium | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> ScanResult:
    started = time.time()
    start_url = normalize_url(options.url)
    p = urlsplit(start_url)
    if p.scheme not in ("http", "https") or not p.hostname:
        raise ScanError(f"{options.url}: give an http:// or https:// URL")
    if options.services is not None:
        _registry(options, None)  # a mistake in the services file stops the scan before any browser
    own = chromium is None
    try:
        if chromium is None:
            chromium = Chromium(
                options.chromium,
                host_map=options.host_map or None,
                block_unmapped=options.block_unmapped,
            )
        chromium.start()
    except BrowserNotFound as e:
        raise ScanError(str(e)) from None
    try:
        async with async_playwright() as pw:
            browser = await chromium.connect_async(pw)
            try:
                return await _scan(browser, options, start_url, started, progress)
            finally:
                await browser.close()
    finally:
        if own:
            chromium.close()


async def _scan(
    browser: Browser,
    options: ScanOptions,
    start_url: str,
    started: float,
    progress: Callable[[Progress], None] | None,
) -> ScanResult:
    status, body, landed = await _fetch_text(browser, start_url, options)
    if status is None:
        raise ScanError(f"cannot reach {start_url}: {body}")
    if status >= 400:
        raise ScanError(f"{start_url} answered HTTP {status}")
    if _origin(landed) == _origin(start_url):
        start_url = normalize_url(landed)  # the page a redirect of the start URL leads to
    origin = f"{urlsplit(start_url).scheme}://{urlsplit(start_url).netloc}"
    state = None
    gk_status, gk_body, _ = await _fetch_text(browser, origin + ENDPOINT_PREFIX + "consent", options)
    if gk_status == 200:
        try:
            parsed = json.loads(gk_body)
            if isinstance(parsed, dict) and "policy_version" in parsed:
                state = parsed
        except ValueError:
            pass
    registry, declared, registry_note = _registry(options, state)
    notes = [f"registry: {registry_note}"]

    scope = _Scope(start_url, options.include, options.exclude)
    sitemap: list[str] = []
    if options.sitemap:
        sm_status, sm_body, _ = await _fetch_text(browser, origin + "/sitemap.xml", options)
        if sm_status == 200:
            sitemap = [u for u in (scope.admit(x) for x in _sitemap_urls(sm_body)) if u]

    host = normalize_host(urlsplit(start_url).hostname or "")
    client_ip = options.client_ip
    if client_ip is None and _loopback(host):
        client_ip = "::1" if ":" in host else "127.0.0.1"
    ctx = RuleContext(
        registry=registry,
        site_host=host,
        https=start_url.startswith("https:"),
        declared=declared,
        client_ip=client_ip,
        catalog=load_registry(None),
        endpoint_prefix=ENDPOINT_PREFIX,
    )
    cfg = VisitConfig(
        timeout_ms=int(options.timeout * 1000),
        settle_ms=options.settle_ms,
        headers=dict(options.headers),
        ignore_https_errors=options.ignore_https_errors,
        screenshots=options.screenshots,
    )

    pages: list[PageResult] = []
    seen = {start_url}
    depth = 0
    aliases = 0
    counters = {"visits": 0, "pages": 0, "findings": 0, "queued": 1}
    pending: dict[str, dict[VisitKind, VisitRecord]] = {}
    later = [k for k in options.visits if k is not VisitKind.FIRST_VIEW]

    def discover(url: str, into: list[str]) -> None:
        admitted = scope.admit(url)
        if admitted and admitted not in seen:
            seen.add(admitted)
            into.append(admitted)

    def visit_done(url: str, kind: VisitKind, record: VisitRecord) -> None:
        counters["visits"] += 1
        pending.setdefault(url, {})[kind] = record
        if len(pending[url]) < len(options.visits):
            return
        counters["pages"] += 1
        visits = tuple(pending[url][k] for k in options.visits)
        judged = evaluate([PageResult(url, depth, visits)], ctx)[0]
        counters["findings"] += len(judged.findings)
        if progress is not None:
            progress(
                Progress(counters["pages"], counters["queued"], counters["visits"],
                         counters["findings"], url)
            )  # fmt: skip

    # Breadth first: each round takes the shallowest pages still to do, in URL order (so the same
    # site gives the same pages whatever the timing), up to --max-pages.
    frontier: list[tuple[int, str]] = [(0, start_url)]
    while frontier and len(pages) < options.max_pages:
        frontier.sort()
        depth = frontier[0][0]
        batch = [u for d, u in frontier if d == depth][: options.max_pages - len(pages)]
        taken = set(batch)
        frontier = [(d, u) for d, u in frontier if not (d == depth and u in taken)]
        counters["queued"] = len(pages) + len(batch)
        found: list[str] = []
        # First views first: they give the links, and show which URLs only redirect elsewhere
        # (a language switch, /news -> /news/): those are not pages, their targets may be.
        firsts = await _run_pool(
            browser, [(u, VisitKind.FIRST_VIEW) for u in batch], cfg, options.workers, visit_done
        )
        keep = []
        for url in batch:
            first = firsts[(url, VisitKind.FIRST_VIEW)]
            if first.error is None and normalize_url(first.final_url) != url:
                aliases += 1
                counters["queued"] -= 1
                pending.pop(url, None)
                target: list[str] = []
                discover(first.final_url, target)
                frontier += [(depth, u) for u in target]  # what the link really leads to
            else:
                keep.append(url)
        no_banner = frozenset(u for u in keep if not firsts[(u, VisitKind.FIRST_VIEW)].banner.found)
        tasks = [(u, k) for u in keep for k in later]
        results = dict(firsts)
        results.update(await _run_pool(browser, tasks, cfg, options.workers, visit_done, no_banner))
        deeper = options.max_depth is None or depth < options.max_depth
        for url in keep:
            visits = tuple(results[(url, k)] for k in options.visits)
            pages.append(PageResult(url, depth, visits))
            if deeper:
                for link in visits[0].links:
                    discover(urljoin(url, link), found)
        if depth == 0 and deeper:
            for url in sitemap:
                discover(url, found)
        frontier += [(depth + 1, u) for u in found]
    if aliases:
        notes.append(f"{aliases} links only redirected to another URL and were not scanned as pages")
    if frontier:
        notes.append(f"stopped at --max-pages {options.max_pages}; {len(frontier)} more pages were found")

    judged = evaluate(sorted(pages, key=lambda pg: (pg.depth, pg.url)), ctx)
    findings = tuple(f for pg in judged for f in pg.findings)
    return ScanResult(
        target=start_url,
        started=started,
        duration_s=round(time.time() - started, 2),
        pages=judged,
        findings=findings,
        registry_sources=registry.sources,
        gatekeeper=state is not None or any(v.gatekeeper for pg in judged for v in pg.visits),
        options=options,
        notes=tuple(notes),
        third_parties=third_parties(judged, ctx),
    )


def scan(
    options: ScanOptions,
    *,
    chromium: Chromium | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> ScanResult:
    """Run a scan to the end. Reuses `chromium` when given (its host mapping applies), else starts
    one from `options` and stops it after. Raises `ScanError` when the scan cannot run."""

    def run() -> ScanResult:
        return asyncio.run(scan_async(options, chromium=chromium, progress=progress))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    # An event loop runs in this thread (Playwright's sync API in a test, an async app): use another.
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = run()
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e

    thread = threading.Thread(target=target, name="gatekeeper-scan")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    result: ScanResult = box["result"]
    return result
