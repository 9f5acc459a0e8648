"""One visit of one page in a fresh browser context: load, act and choose on the banner like a visitor,
and hand back what the recorder (scanner/recorder.py) and the page (scanner/observe.py) showed.

The first view stays `dwell_ms` after load (late trackers), with the visitor's interaction in it, then
waits for the network to go quiet within a bound; the other visits interact after their choice. A
load that runs out of time is not the end of a visit: it goes on, and is judged on what it recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from urllib.parse import urldefrag, urlsplit

from playwright.async_api import Browser, BrowserContext, Page, Route
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from .banners import Banner, find_banner, page_script, withdraw_by_api
from .browser import context_options
from .interact import TYPED, interact
from .model import BannerRecord, FormRecord, FrameRecord, JarCookie, Phase, VisitKind, VisitRecord
from .observe import Snapshots, banner_content, forms, jar, links, recorder_globals, safe
from .recorder import Recorder
from .workers import SharedWorkerWatch

__all__ = ["Idle", "VisitConfig", "add_site_headers", "run_visit"]

_BINDING = "__gkScanRecord"  # the name hooks.js reports through
_HOOKS = page_script("hooks.js")
_GPC = """
Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true, configurable: true});
"""

# Called around a wait that needs no CPU (the dwell): the scan's pool lends the visit's slot out.
Idle = Callable[[], AbstractAsyncContextManager[None]]


@contextlib.asynccontextmanager
async def _no_pool() -> AsyncIterator[None]:
    yield


@dataclass(frozen=True)
class VisitConfig:
    timeout_ms: int = 20_000
    settle_ms: int = 300  # network quiet time that ends a load
    max_settle_ms: int = 2_000  # the longest wait for that quiet
    dwell_ms: int = 3_000  # the first view's stay after load
    interact: bool = True
    headers: Mapping[str, str] = field(default_factory=dict)
    ignore_https_errors: bool = False
    screenshots: bool = True


def _same_page(a: str, b: str) -> bool:
    return urldefrag(a)[0].rstrip("/") == urldefrag(b)[0].rstrip("/")


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


class _Visit:
    def __init__(
        self,
        context: BrowserContext,
        url: str,
        kind: VisitKind,
        cfg: VisitConfig,
        banner_expected: bool,
        idle: Idle,
        shared: SharedWorkerWatch | None,
    ) -> None:
        self.context, self.url, self.kind, self.cfg = context, url, kind, cfg
        self.banner_expected = banner_expected
        self.idle = idle
        self.shared = shared
        self.rec = Recorder()
        self.snaps = Snapshots()
        self.page: Page
        self.started = time.time()
        self.status: int | None = None
        self.timed_out = False
        self.gatekeeper = False
        self.interaction = ""
        self._context_id = ""

    async def settle(self, quiet_ms: int | None = None) -> None:
        await self.rec.settle(quiet_ms or self.cfg.settle_ms, self.cfg.max_settle_ms)

    async def _open(self) -> str | None:
        """Open the page with everything recording; None, or why the page could not be loaded."""
        await self.context.expose_function(_BINDING, self.rec.on_hook)
        await self.context.add_init_script(_HOOKS + (_GPC if self.kind is VisitKind.GPC else ""))
        self.page = page = await self.context.new_page()
        cdp = await self.context.new_cdp_session(page)
        await self.rec.attach(cdp, self.context)
        if self.shared is not None:
            info = await cdp.send("Target.getTargetInfo")
            self._context_id = info["targetInfo"].get("browserContextId", "")
            self.shared.watch(self._context_id, self.rec)
        try:
            response = await page.goto(self.url, wait_until="load", timeout=self.cfg.timeout_ms)
            self.status = response.status if response is not None else None
        except PlaywrightTimeoutError as e:
            if page.url in ("", "about:blank"):
                return f"no answer in {self.cfg.timeout_ms / 1000:g} s: {_first_line(e)}"
            self.timed_out = True  # the document is there, something in it is slow: go on
            self.status = next(
                (
                    r.status
                    for r in self.rec.requests()
                    if r.resource_type == "Document" and _same_page(r.url, page.url)
                ),
                None,
            )
        except PlaywrightError as e:
            return _first_line(e)
        return None

    async def run(self) -> VisitRecord:
        try:
            problem = await self._open()
            if problem is not None:
                return self._record(BannerRecord(False), (), error=problem)
            if self.kind is VisitKind.FIRST_VIEW:
                return await self._first_view()
            return await self._choice_visit()
        finally:
            if self.shared is not None and self._context_id:
                self.shared.forget(self._context_id)

    async def _first_view(self) -> VisitRecord:
        loaded = time.monotonic()
        if self.cfg.interact:
            self.interaction = await interact(self.page, type_text=True)
        async with self.idle():
            remaining = self.cfg.dwell_ms / 1000 - (time.monotonic() - loaded)
            if remaining > 0:
                await asyncio.sleep(remaining)
            await self.settle()
        self.gatekeeper = await _has(self.page, "[data-gk-snippet]")
        banner = await find_banner(self.page)
        record = BannerRecord(False)
        if banner is not None:
            record = replace(banner.record(), content=await banner_content(banner))
        found_links = await links(self.page)
        shot = None
        if self.cfg.screenshots:
            shot = await safe(self.page.screenshot(type="jpeg", quality=50, timeout=5000), None)
        await self._snapshot()
        return self._record(
            record,
            await jar(self.context),
            links=found_links,
            shot=shot,
            forms=await forms(self.page),
            globals_found=await recorder_globals(self.page),
        )

    async def _choice_visit(self) -> VisitRecord:
        self.gatekeeper = await _has(self.page, "[data-gk-snippet]")
        banner = await self._find_banner()
        want = "reject" if self.kind is VisitKind.REJECT else "accept"
        if banner is None:
            return await self._finish(BannerRecord(False, note=f"no banner: nothing to {want}"))
        if not (banner.has_reject if want == "reject" else banner.has_accept):
            return await self._finish(banner.record(note=f"no {want} button on the first layer"))
        await self._snapshot()
        self.rec.phase = Phase.AFTER
        problem = await self._choose(banner, want)
        if problem:
            return await self._finish(banner.record(note=problem))
        if self.kind is not VisitKind.ACCEPT:
            return await self._finish(banner.record(clicked=want))
        await self._snapshot()
        accepted = await jar(self.context)
        jar_after, withdrawal = await self._withdraw()
        return self._record(banner.record(clicked=want), accepted, jar_after=jar_after, withdrawal=withdrawal)

    async def _finish(self, banner: BannerRecord) -> VisitRecord:
        await self._snapshot()
        return self._record(banner, await jar(self.context))

    async def _find_banner(self) -> Banner | None:
        banner = await find_banner(self.page)
        if banner is None and self.banner_expected:
            # consent platforms render when their script has run; a visitor would wait a moment too
            deadline = time.monotonic() + 1.5
            while banner is None and time.monotonic() < deadline:
                await asyncio.sleep(0.15)
                banner = await find_banner(self.page)
        return banner

    async def _click(self, banner: Banner, role: str) -> str:
        """Click like a visitor; "" when it worked, else why not."""
        button = banner.button(role)
        try:
            await button.click(timeout=5000)
        except PlaywrightError as e:
            problem = f"could not click {role}: {_first_line(e)}"
            if not await safe(button.is_visible(), False):
                return problem
            try:  # visible but covered (an overlay that does not go away): click where it is
                await button.click(timeout=2000, force=True)
            except PlaywrightError:
                return problem
        return ""

    async def _choose(self, banner: Banner, role: str, quiet_ms: int | None = None) -> str:
        """Click `role` and let the choice take effect; "" when done, else why not."""
        navigations = len(self.rec.main_documents)
        problem = await self._click(banner, role)
        if not problem:
            await self._after_choice(navigations, quiet_ms)
        return problem

    async def _after_choice(self, navigations_before: int, quiet_ms: int | None = None) -> None:
        """Let the choice take effect, then look at the page as it loads with the choice made, and
        use it as a visitor would."""
        load_ms = self.cfg.timeout_ms if quiet_ms is None else min(self.cfg.timeout_ms, 5000)
        with contextlib.suppress(PlaywrightError):
            await self.page.wait_for_load_state("load", timeout=load_ms)
        landed = self.rec.main_documents[navigations_before:]
        if not (landed and _same_page(landed[-1], self.url)):
            await self.settle(quiet_ms)  # what the choice itself loads, in place
            with contextlib.suppress(PlaywrightError):
                await self.page.goto(self.url, wait_until="load", timeout=load_ms)
        if quiet_ms is None and self.cfg.interact:
            self.interaction = await interact(self.page, type_text=False)
        await self.settle(quiet_ms)

    async def _withdraw(self) -> tuple[tuple[JarCookie, ...] | None, str]:
        """Withdraw consent as the visitor would, reload, and return the jar then. Only the jar
        matters here, so loads get a short quiet time."""
        quick = min(150, self.cfg.settle_ms)
        self.rec.phase = Phase.WITHDRAWN
        banner = await find_banner(self.page, reopen=True)
        reopen = banner is not None and not banner.has_reject and banner.has_reopen
        if reopen and banner is not None and not await self._click(banner, "reopen"):
            await asyncio.sleep(0.1)
            banner = await find_banner(self.page)
        how = ""
        if banner is not None and banner.has_reject and not await self._choose(banner, "reject", quick):
            how = "withdrawn with the banner's reject button"
        if not how:
            api = await withdraw_by_api(self.page)
            if api:
                await self.settle(quick)
                await self._after_choice(len(self.rec.main_documents), quick)
                how = f"withdrawn with {api}"
        if not how:
            return None, "could not withdraw: no reject button after reopening, no known API"
        return await jar(self.context), how

    async def _snapshot(self) -> None:
        await self.snaps.take(self.context, self.page, self.rec.phase, self.rec.cookies, self.rec.storage)

    def _record(
        self,
        banner: BannerRecord,
        cookies_in_jar: tuple[JarCookie, ...],
        *,
        error: str | None = None,
        links: list[str] | None = None,
        shot: bytes | None = None,
        jar_after: tuple[JarCookie, ...] | None = None,
        withdrawal: str = "",
        forms: tuple[FormRecord, ...] = (),
        globals_found: tuple[str, ...] = (),
    ) -> VisitRecord:
        frames: tuple[FrameRecord, ...] = ()
        if error is None:
            frames = tuple(
                FrameRecord(f.url, f.parent_frame.url if f.parent_frame else "", f.name)
                for f in self.page.frames
            )
        typed = TYPED if TYPED in self.interaction else ""
        return VisitRecord(
            kind=self.kind,
            url=self.url,
            final_url=self.page.url if error is None else self.url,
            status=self.status,
            error=error,
            banner=banner,
            requests=self.rec.requests(),
            cookies=tuple(self.rec.cookies) + tuple(self.snaps.cookies),
            jar=cookies_in_jar,
            storage=tuple(self.rec.storage) + tuple(self.snaps.storage),
            frames=frames,
            jar_after_withdrawal=jar_after,
            withdrawal_note=withdrawal,
            links=tuple(links or ()),
            screenshot=shot,
            started=self.started,
            duration_ms=int((time.time() - self.started) * 1000),
            gatekeeper=self.gatekeeper,
            timed_out=self.timed_out,
            socket_frames=tuple(self.rec.frames_sent),
            api_uses=tuple(self.rec.api_uses),
            forms=forms,
            typed=typed,
            globals_found=globals_found,
            interaction=self.interaction,
        )


async def _has(page: Page, selector: str) -> bool:
    try:
        return await page.locator(selector).count() > 0
    except PlaywrightError:
        return False


async def add_site_headers(context: BrowserContext, url: str, headers: Mapping[str, str]) -> None:
    """Send `headers` with every request to `url`'s origin (and to no other)."""
    site = urlsplit(url)
    origin = (site.scheme, site.netloc)

    def same_origin(request_url: str) -> bool:
        p = urlsplit(request_url)
        return (p.scheme, p.netloc) == origin

    async def add(route: Route) -> None:
        merged = {**await route.request.all_headers(), **{k.lower(): v for k, v in headers.items()}}
        await route.continue_(headers=merged)

    await context.route(same_origin, add)


async def run_visit(
    browser: Browser,
    url: str,
    kind: VisitKind,
    cfg: VisitConfig,
    banner_expected: bool = True,
    *,
    idle: Idle = _no_pool,
    shared: SharedWorkerWatch | None = None,
) -> VisitRecord:
    """Visit `url` once in a fresh context (empty jar) and record what happened.

    `banner_expected=False` (the first view found none) skips waiting for a banner to render.
    Service workers are allowed (a tracker's worker is part of what a visitor gets) and recorded.
    """
    # Sec-GPC goes everywhere, as a browser sends it; the operator's headers (credentials for a
    # staging site) only to the site itself, never to the third parties it embeds.
    gpc = {"Sec-GPC": "1"} if kind is VisitKind.GPC else {}
    context = await browser.new_context(
        **context_options(
            ignore_https_errors=cfg.ignore_https_errors, extra_http_headers=gpc, service_workers="allow"
        )
    )
    try:
        if cfg.headers:
            await add_site_headers(context, url, cfg.headers)
        return await _Visit(context, url, kind, cfg, banner_expected, idle, shared).run()
    finally:
        with contextlib.suppress(PlaywrightError):
            await context.close()
