"""Visits in parallel: `workers` slots of work, and a visit lends its slot out while it only waits (the
first view's dwell), so waiting visits overlap with working ones instead of holding the CPU's turn."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from playwright.async_api import Browser
from playwright.async_api import Error as PlaywrightError

from .browser import context_options
from .model import BannerRecord, VisitKind, VisitRecord
from .observe import links
from .visit import VisitConfig, add_site_headers, run_visit
from .workers import SharedWorkerWatch

__all__ = ["PoolError", "VisitPool"]


class PoolError(RuntimeError):
    """The browser went away: the scan cannot go on."""


class VisitPool:
    def __init__(
        self,
        browser: Browser,
        cfg: VisitConfig,
        workers: int,
        shared: SharedWorkerWatch | None = None,
        done: Callable[[str, VisitKind, VisitRecord], None] = lambda *_: None,
    ) -> None:
        self.browser = browser
        self.cfg = cfg
        self.shared = shared
        self.done = done
        self._slots = asyncio.Semaphore(max(1, workers))
        self._open = asyncio.Semaphore(4 * max(1, workers))  # contexts open at once, waiting ones too

    @contextlib.asynccontextmanager
    async def _idle(self) -> AsyncIterator[None]:
        self._slots.release()
        try:
            yield
        finally:
            await self._slots.acquire()

    async def visit(self, url: str, kind: VisitKind, banner_expected: bool = True) -> VisitRecord:
        async with self._open, self._slots:
            try:
                record = await run_visit(
                    self.browser, url, kind, self.cfg, banner_expected, idle=self._idle, shared=self.shared
                )
            except Exception as e:  # one broken visit (a crashed tab...) must not stop the scan
                if not self.browser.is_connected():
                    raise PoolError(f"the browser went away during the scan: {e}") from e
                record = VisitRecord(
                    kind, url, url, None, f"the visit failed: {type(e).__name__}: {e}", BannerRecord(False)
                )
        self.done(url, kind, record)
        return record

    async def read_links(self, url: str) -> VisitRecord:
        """Only where a page leads (for a page another shard visits): a plain load, nothing recorded."""
        async with self._open, self._slots:
            context = await self.browser.new_context(
                **context_options(ignore_https_errors=self.cfg.ignore_https_errors)
            )
            try:
                if self.cfg.headers:
                    await add_site_headers(context, url, self.cfg.headers)
                page = await context.new_page()
                error = None
                try:
                    await page.goto(url, wait_until="load", timeout=self.cfg.timeout_ms)
                except PlaywrightError as e:
                    error = None if page.url not in ("", "about:blank") else str(e).splitlines()[0]
                found = tuple(await links(page)) if error is None else ()
                final = page.url if error is None else url
                return VisitRecord(
                    VisitKind.FIRST_VIEW, url, final, None, error, BannerRecord(False), links=found
                )
            finally:
                with contextlib.suppress(PlaywrightError):
                    await context.close()
