"""The scan: breadth-first over same-origin links (and sitemap.xml), four fresh visits per page in parallel
browser contexts, then the rules. `scan()` is what the CLI, the pytest plugin and the tests call.

Each round takes the shallowest pages still to do, in URL order (so the same site gives the same pages
whatever the timing), up to --max-pages. A round's first views give the links of the next round; its
other visits run on while the next round starts. With --shard K/N every shard walks the same rounds but
visits only its share of the pages (the others' links are read with a plain load).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from playwright.async_api import Browser, async_playwright
from playwright.async_api import Error as PlaywrightError

from gatekeeper.psl import normalize_host
from gatekeeper.registry import ConfigError, Registry, load_registry

from .browser import BrowserNotFound, Chromium, context_options
from .journal import Journal
from .model import PageResult, ScanOptions, ScanResult, VisitKind, VisitRecord
from .pool import PoolError, VisitPool
from .rules import RuleContext, evaluate, third_parties
from .scope import ENDPOINT_PREFIX, Scope, in_shard, normalize_url, origin_of, sitemap_urls
from .visit import VisitConfig, add_site_headers
from .workers import SharedWorkerWatch

__all__ = ["Progress", "ScanError", "normalize_url", "scan", "scan_async"]


class ScanError(RuntimeError):
    """The scan could not run (unreachable site, no browser, bad services file): exit code 2."""


@dataclass(frozen=True)
class Progress:
    pages_done: int  # all visits finished (or, in a shard, links read for another shard's page)
    pages_found: int  # pages known so far: done, under way, and waiting their round
    pages_waiting: int  # found by following links, not started yet
    visits_done: int
    findings: int  # so far, counted page by page
    last_page: str


@dataclass(frozen=True)
class _Site:
    start: str
    scope: Scope
    sitemap: tuple[str, ...]
    ctx: RuleContext
    notes: tuple[str, ...]
    gatekeeper: bool
    registry: Registry


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


async def _site(browser: Browser, options: ScanOptions, start_url: str) -> _Site:
    """Reach the start page, learn whether gatekeeper serves the site, read its sitemap."""
    status, body, landed = await _fetch_text(browser, start_url, options)
    if status is None:
        raise ScanError(f"cannot reach {start_url}: {body}")
    if status >= 400:
        raise ScanError(f"{start_url} answered HTTP {status}")
    if origin_of(landed) == origin_of(start_url):
        start_url = normalize_url(landed)  # the page a redirect of the start URL leads to
    origin = "{}://{}".format(*origin_of(start_url))
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
    scope = Scope(start_url, options.include, options.exclude)
    sitemap: list[str] = []
    if options.sitemap:
        sm_status, sm_body, _ = await _fetch_text(browser, origin + "/sitemap.xml", options)
        if sm_status == 200:
            sitemap = [u for u in (scope.admit(x) for x in sitemap_urls(sm_body)) if u]
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
        unjudged_ok=options.unjudged_ok,
    )
    notes = (f"registry: {registry_note}",)
    return _Site(start_url, scope, tuple(sitemap), ctx, notes, state is not None, registry)


class _Crawl:
    """One scan's rounds; pages judged as they finish (for progress), all judged again at the end."""

    def __init__(
        self,
        browser: Browser,
        options: ScanOptions,
        site: _Site,
        shared: SharedWorkerWatch | None,
        progress: Callable[[Progress], None] | None,
    ) -> None:
        self.options, self.site, self.progress = options, site, progress
        cfg = VisitConfig(
            timeout_ms=int(options.timeout * 1000),
            settle_ms=options.settle_ms,
            max_settle_ms=options.max_quiet_wait_ms,
            dwell_ms=options.dwell_ms,
            interact=options.interact,
            headers=dict(options.headers),
            ignore_https_errors=options.ignore_https_errors,
            screenshots=options.screenshots,
        )
        self.pool = VisitPool(browser, cfg, options.workers, shared, self._visit_done)
        self.journal = Journal(options.journal) if options.journal is not None else None
        self.resumed = self.journal.load() if self.journal is not None and options.resume else {}
        self.pages: list[PageResult] = []
        self.seen = {site.start}
        self.aliases = 0
        self.counts = {"pages": 0, "visits": 0, "findings": 0, "started": 0}
        self._rest: list[asyncio.Task[None]] = []
        self.left = 0

    def _visit_done(self, url: str, kind: VisitKind, record: VisitRecord) -> None:
        self.counts["visits"] += 1

    def _page_done(self, page: PageResult | None, url: str) -> None:
        self.counts["pages"] += 1
        if page is not None:
            self.counts["findings"] += len(evaluate([page], self.site.ctx)[0].findings)
            self.pages.append(page)
        if self.progress is not None:
            found = len(self.seen) - self.aliases
            c = self.counts
            self.progress(Progress(c["pages"], found, found - c["started"], c["visits"], c["findings"], url))

    def _discover(self, url: str, into: list[str]) -> None:
        admitted = self.site.scope.admit(url)
        if admitted and admitted not in self.seen:
            self.seen.add(admitted)
            into.append(admitted)

    async def _first(self, url: str) -> VisitRecord:
        if url in self.resumed:
            return self.resumed[url].visits[0]
        if in_shard(url, self.options.shard):
            return await self.pool.visit(url, VisitKind.FIRST_VIEW)
        return await self.pool.read_links(url)

    async def _others(self, url: str, depth: int, first: VisitRecord) -> None:
        """The page's other visits, then the page is done."""
        if url in self.resumed:
            self._page_done(self.resumed[url], url)
            return
        if not in_shard(url, self.options.shard):
            self._page_done(None, url)
            return
        later = [k for k in self.options.visits if k is not VisitKind.FIRST_VIEW]
        records = await asyncio.gather(*(self.pool.visit(url, k, first.banner.found) for k in later))
        page = PageResult(url, depth, (first, *records))
        if self.journal is not None:
            self.journal.add(page)
        self._page_done(page, url)

    async def run(self) -> list[PageResult]:
        if self.journal is not None:
            self.journal.start(self.options.resume)
        frontier: list[tuple[int, str]] = [(0, self.site.start)]
        kept = 0
        while frontier and kept < self.options.max_pages:
            frontier.sort()
            depth = frontier[0][0]
            batch = [u for d, u in frontier if d == depth][: self.options.max_pages - kept]
            frontier = [(d, u) for d, u in frontier if not (d == depth and u in set(batch))]
            self.counts["started"] += len(batch)
            firsts = await asyncio.gather(*(self._first(u) for u in batch))
            found: list[str] = []
            deeper = self.options.max_depth is None or depth < self.options.max_depth
            for url, first in zip(batch, firsts, strict=True):
                # a URL that only redirects elsewhere (a language switch, /news -> /news/) is not a
                # page: what it leads to may be, in this same round
                if first.error is None and normalize_url(first.final_url) != url:
                    self.aliases += 1
                    self.counts["started"] -= 1
                    target: list[str] = []
                    self._discover(first.final_url, target)
                    frontier += [(depth, u) for u in target]
                    continue
                kept += 1
                self._rest.append(asyncio.ensure_future(self._others(url, depth, first)))
                if deeper:
                    for link in first.links:
                        self._discover(urljoin(url, link), found)
            if depth == 0 and deeper:
                for url in self.site.sitemap:
                    self._discover(url, found)
            frontier += [(depth + 1, u) for u in found]
        await asyncio.gather(*self._rest)
        self.left = len(frontier)
        return self.pages

    def notes(self) -> tuple[str, ...]:
        notes = list(self.site.notes)
        if self.aliases:
            notes.append(
                f"{self.aliases} links only redirected to another URL (a language switch, a missing "
                "trailing slash...): the page they lead to was scanned instead, once"
            )
        if self.left:
            notes.append(
                f"stopped at --max-pages {self.options.max_pages}; {self.left} more pages were found"
            )
        k, n = self.options.shard
        if n > 1:
            notes.append(
                f"shard {k}/{n}: this report judges its share of the pages; merge the shards' reports"
            )
        if self.resumed:
            notes.append(f"resumed: {len(self.resumed)} pages were taken from {self.options.journal}")
        return tuple(notes)


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
                options.chromium, host_map=options.host_map or None, block_unmapped=options.block_unmapped
            )
        chromium.start()
    except BrowserNotFound as e:
        raise ScanError(str(e)) from None
    try:
        async with async_playwright() as pw:
            browser = await chromium.connect_async(pw)
            try:
                site = await _site(browser, options, start_url)
                shared = await SharedWorkerWatch.start(await browser.new_browser_cdp_session())
                crawl = _Crawl(browser, options, site, shared, progress)
                try:
                    pages = await crawl.run()
                except PoolError as e:
                    raise ScanError(str(e)) from e
            finally:
                await browser.close()
    finally:
        if own:
            chromium.close()
    judged = evaluate(sorted(pages, key=lambda pg: (pg.depth, pg.url)), site.ctx)
    return ScanResult(
        target=site.start,
        started=started,
        duration_s=round(time.time() - started, 2),
        pages=judged,
        findings=tuple(f for pg in judged for f in pg.findings),
        registry_sources=site.registry.sources,
        gatekeeper=site.gatekeeper or any(v.gatekeeper for pg in judged for v in pg.visits),
        options=options,
        notes=crawl.notes(),
        third_parties=third_parties(judged, site.ctx),
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
