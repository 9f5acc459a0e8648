"""One visit of one page in a fresh browser context: load, choose on the banner like a visitor, record.

What is recorded and from where:
- requests (failed ones too), their initiator and document, and every cookie a response offered, with
  the reasons when Chromium refused it: from the page's DevTools session (Network domain and its
  extra-info events). The scanner's Chromium runs without site isolation so that one session sees the
  requests of every frame (see scanner/browser.py);
- cookies written by script (`document.cookie`, `cookieStore.set`) and storage writes: from a hook
  installed in every frame before any page script runs;
- cookies and storage that appeared by other means: from the jar and storage snapshots taken before
  the choice and at the end;
- the jar at the end, the frames, the banner, and for the first view the links and a screenshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urlsplit

from playwright.async_api import Browser, BrowserContext, Page, Route
from playwright.async_api import Error as PlaywrightError

from gatekeeper.cookies import parse_set_cookie

from .banners import Banner, find_banner, page_script, withdraw_by_api
from .browser import context_options
from .model import (
    BannerRecord,
    CookieRecord,
    FrameRecord,
    JarCookie,
    Phase,
    RequestRecord,
    StorageWrite,
    VisitKind,
    VisitRecord,
)

__all__ = ["VisitConfig", "add_site_headers", "run_visit"]

_BINDING = "__gkScanRecord"  # the name hooks.js reports through

_HOOKS = page_script("hooks.js")

_GPC = """
Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true, configurable: true});
"""

_STORAGE_SNAPSHOT = page_script("storage_snapshot.js")

_SCROLL = """async () => {
  const root = document.documentElement, body = document.body;
  const end = Math.max(root.scrollHeight, body ? body.scrollHeight : 0);
  const frame = () => new Promise(r => requestAnimationFrame(r));
  for (let y = 0, n = 0; y < end && n < 30; y += innerHeight, n++) { scrollTo(0, y); await frame(); }
  scrollTo(0, end); await frame(); scrollTo(0, 0);
}"""
_LINKS = "() => Array.from(document.querySelectorAll('a[href], area[href]'), a => a.href)"


@dataclass(frozen=True)
class VisitConfig:
    timeout_ms: int = 20_000
    settle_ms: int = 300  # network quiet time that ends a load
    max_settle_ms: int = 5_000
    headers: Mapping[str, str] = field(default_factory=dict)
    ignore_https_errors: bool = False
    screenshots: bool = True


def _initiator(init: Mapping[str, Any] | None) -> str:
    if not init:
        return "other"
    kind = str(init.get("type", "other"))
    url = init.get("url") or ""
    stack = init.get("stack")
    while not url and stack:
        frames = stack.get("callFrames") or []
        url = next((f.get("url") for f in frames if f.get("url")), "")
        stack = stack.get("parent")
    return f"{kind} {url}".strip()


def _jar_cookie(c: Mapping[str, Any]) -> JarCookie:
    return JarCookie(
        name=c["name"],
        value=c["value"],
        domain=c["domain"],
        path=c.get("path", "/"),
        expires=float(c.get("expires", -1)),
        secure=bool(c.get("secure")),
        http_only=bool(c.get("httpOnly")),
        same_site=str(c.get("sameSite", "")),
    )


def _cookie_from_line(
    line: str,
    url: str,
    source: str,
    phase: Phase,
    now: float,
    blocked: tuple[str, ...] = (),
    initiator: str = "",
) -> CookieRecord | None:
    parsed = parse_set_cookie(line)
    if parsed is None:
        return None
    domain = (parsed.attribute("domain") or urlsplit(url).hostname or "").lstrip(".").lower()
    return CookieRecord(
        name=parsed.name,
        value=parsed.value,
        domain=domain,
        path=parsed.attribute("path") or "/",
        source=source,
        url=url,
        phase=phase,
        raw=line,
        secure=parsed.attribute("secure") is not None,
        http_only=parsed.attribute("httponly") is not None,
        same_site=(parsed.attribute("samesite") or "").capitalize(),
        lifetime_s=parsed.lifetime_seconds(now),
        blocked=blocked,
        initiator=initiator,
    )


class _Recorder:
    """Collects DevTools network events and hook reports for one visit; `phase` is set by the visit."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.phase = Phase.BEFORE
        self.main_frame_id = ""
        self.main_documents: list[str] = []  # URLs the main frame loaded (redirect hops included)
        self._hops: list[dict[str, Any]] = []
        self._current: dict[str, dict[str, Any]] = {}  # requestId -> its latest hop
        self._inflight: dict[str, float] = {}
        self.last_activity = time.monotonic()
        self.cookies: list[CookieRecord] = []
        self.storage: list[StorageWrite] = []
        self._early_extra: list[tuple[str, dict[str, Any], Phase]] = []

    def _touch(self) -> None:
        self.last_activity = time.monotonic()

    # -- DevTools Network events -----------------------------------------------------------------

    def on_request(self, e: dict[str, Any]) -> None:
        rid = e["requestId"]
        url = e["request"]["url"]
        if not url.startswith(("http:", "https:", "ws:", "wss:")):
            return
        previous = self._current.get(rid)
        if e.get("redirectResponse") and previous is not None:
            previous["status"] = e["redirectResponse"].get("status")
            initiator = f"redirect {previous['url']}"
        else:
            initiator = _initiator(e.get("initiator"))
        hop = {
            "url": url,
            "method": e["request"].get("method", "GET"),
            "type": e.get("type", "Other"),
            "frame": e.get("documentURL", ""),
            "initiator": initiator,
            "phase": self.phase,
            "status": None,
            "failure": None,
            "ms": int((time.monotonic() - self.t0) * 1000),
        }
        self._hops.append(hop)
        self._current[rid] = hop
        if e.get("type") == "Document" and e.get("frameId") == self.main_frame_id:
            self.main_documents.append(url)
        self._inflight[rid] = time.monotonic()
        self._touch()
        if self._early_extra:
            early, self._early_extra = self._early_extra, []
            for erid, event, phase in early:
                self._offered(erid, event, phase)

    def on_response(self, e: dict[str, Any]) -> None:
        hop = self._current.get(e["requestId"])
        if hop is not None:
            hop["status"] = e["response"].get("status")
        self._touch()

    def on_finished(self, e: dict[str, Any]) -> None:
        self._inflight.pop(e["requestId"], None)
        self._touch()

    def on_failed(self, e: dict[str, Any]) -> None:
        hop = self._current.get(e["requestId"])
        if hop is not None:
            reason = e.get("blockedReason") or e.get("corsErrorStatus", {}).get("corsError")
            text = e.get("errorText") or ("canceled" if e.get("canceled") else "failed")
            hop["failure"] = f"{text} (blocked:{reason})" if reason else text
        self._inflight.pop(e["requestId"], None)
        self._touch()

    def on_extra_info(self, e: dict[str, Any]) -> None:
        if e["requestId"] not in self._current:
            self._early_extra.append((e["requestId"], e, self.phase))
            return
        self._offered(e["requestId"], e, self.phase)

    def _offered(self, rid: str, e: dict[str, Any], phase: Phase) -> None:
        headers = e.get("headers") or {}
        lines: list[str] = []
        for name, value in headers.items():
            if name.lower() == "set-cookie":
                lines += [ln for ln in str(value).split("\n") if ln.strip()]
        if not lines:
            return
        blocked: dict[str, tuple[str, ...]] = {}
        for b in e.get("blockedCookies") or []:
            line = b.get("cookieLine", "")
            blocked[line] = tuple(b.get("blockedReasons") or ())
        hop = self._current.get(rid)
        url = hop["url"] if hop else ""
        now = time.time()
        for line in lines:
            record = _cookie_from_line(line, url, "header", phase, now, blocked.get(line, ()))
            if record is not None:
                self.cookies.append(record)

    # -- the in-page hook ------------------------------------------------------------------------

    def on_hook(self, payload: str) -> None:
        try:
            m = json.loads(payload)
        except ValueError:
            return
        kind = m.get("t")
        now = time.time()
        if kind == "cookie":
            record = _cookie_from_line(
                str(m.get("v", "")),
                str(m.get("o", "")),
                "script",
                self.phase,
                now,
                initiator=str(m.get("s") or ""),
            )
            if record is not None:
                self.cookies.append(record)
        elif kind == "cookiestore":
            o = m.get("v") or {}
            expires = o.get("expires")
            lifetime = (float(expires) / 1000 - now) if isinstance(expires, int | float) else None
            page = str(m.get("o", ""))
            self.cookies.append(
                CookieRecord(
                    name=str(o.get("name", "")),
                    value=str(o.get("value", "")),
                    domain=str(o.get("domain") or urlsplit(page).hostname or "").lstrip("."),
                    path=str(o.get("path") or "/"),
                    source="script",
                    url=page,
                    phase=self.phase,
                    raw="cookieStore.set(" + json.dumps(o, sort_keys=True) + ")",
                    secure=True,
                    same_site=str(o.get("sameSite") or "strict").capitalize(),
                    lifetime_s=lifetime,
                    initiator=str(m.get("s") or ""),
                )
            )
        elif kind == "storage":
            self.storage.append(
                StorageWrite(
                    area=str(m.get("a", "local")),
                    origin=str(m.get("o", "")),
                    key=str(m.get("k", "")),
                    value=str(m.get("v", ""))[:200],
                    phase=self.phase,
                )
            )

    # -- waiting ---------------------------------------------------------------------------------

    async def settle(self, quiet_ms: int, max_ms: int) -> None:
        """Wait until the network has been quiet for `quiet_ms` (requests hanging for more than two
        seconds, such as long polls, do not count), at most `max_ms`."""
        deadline = time.monotonic() + max_ms / 1000
        while time.monotonic() < deadline:
            now = time.monotonic()
            busy = any(now - started < 2.0 for started in self._inflight.values())
            if not busy and now - self.last_activity >= quiet_ms / 1000:
                return
            await asyncio.sleep(0.05)

    def requests(self) -> tuple[RequestRecord, ...]:
        return tuple(
            RequestRecord(
                url=h["url"],
                method=h["method"],
                resource_type=h["type"],
                frame_url=h["frame"],
                initiator=h["initiator"],
                phase=h["phase"],
                status=h["status"],
                failure=h["failure"],
                ms=h["ms"],
            )
            for h in self._hops
        )


def _same_page(a: str, b: str) -> bool:
    return urldefrag(a)[0].rstrip("/") == urldefrag(b)[0].rstrip("/")


class _Visit:
    def __init__(
        self,
        context: BrowserContext,
        url: str,
        kind: VisitKind,
        cfg: VisitConfig,
        banner_expected: bool = True,
    ) -> None:
        self.banner_expected = banner_expected
        self.context = context
        self.url = url
        self.kind = kind
        self.cfg = cfg
        self.rec = _Recorder()
        self.page: Page
        self.started = time.time()
        self._known_storage: set[tuple[str, str, str]] = set()
        self._known_cookies: set[tuple[str, str, str]] = set()
        self._extra_cookies: list[CookieRecord] = []
        self._extra_storage: list[StorageWrite] = []

    async def settle(self, quiet_ms: int | None = None) -> None:
        await self.rec.settle(quiet_ms or self.cfg.settle_ms, self.cfg.max_settle_ms)

    async def run(self) -> VisitRecord:
        await self.context.expose_function(_BINDING, self.rec.on_hook)
        await self.context.add_init_script(_HOOKS + (_GPC if self.kind is VisitKind.GPC else ""))
        self.page = page = await self.context.new_page()
        cdp = await self.context.new_cdp_session(page)
        tree = await cdp.send("Page.getFrameTree")
        self.rec.main_frame_id = tree["frameTree"]["frame"]["id"]
        cdp.on("Network.requestWillBeSent", self.rec.on_request)
        cdp.on("Network.responseReceived", self.rec.on_response)
        cdp.on("Network.loadingFinished", self.rec.on_finished)
        cdp.on("Network.loadingFailed", self.rec.on_failed)
        cdp.on("Network.responseReceivedExtraInfo", self.rec.on_extra_info)
        await cdp.send("Network.enable")

        try:
            response = await page.goto(self.url, wait_until="load", timeout=self.cfg.timeout_ms)
        except PlaywrightError as e:
            return self._record(BannerRecord(False), None, (), error=_first_line(e))
        status = response.status if response is not None else None
        if self.kind is VisitKind.FIRST_VIEW:
            await self._scroll_through()
            await self.settle()
        # In the other visits only the banner matters before the choice (the first view records
        # this load): look for it at once, and a little longer for banners that render late.
        gatekeeper = await _has(page, "[data-gk-snippet]")
        banner = await self._find_banner()

        if self.kind is VisitKind.FIRST_VIEW:
            links = await _safe(page.evaluate(_LINKS), [])
            shot = None
            if self.cfg.screenshots:
                shot = await _safe(page.screenshot(type="jpeg", quality=50, timeout=5000), None)
            record = banner.record() if banner else BannerRecord(False)
            return await self._finish(record, status, gatekeeper, links=links, shot=shot)

        want = "reject" if self.kind is VisitKind.REJECT else "accept"
        if banner is None:
            record = BannerRecord(False, note=f"no banner: nothing to {want}")
            return await self._finish(record, status, gatekeeper)
        if not (banner.has_reject if want == "reject" else banner.has_accept):
            note = f"no {want} button on the first layer"
            return await self._finish(banner.record(note=note), status, gatekeeper)

        await self._snapshot()
        self.rec.phase = Phase.AFTER
        problem = await self._choose(banner, want)
        if problem:
            return await self._finish(banner.record(note=problem), status, gatekeeper)
        if self.kind is not VisitKind.ACCEPT:
            return await self._finish(banner.record(clicked=want), status, gatekeeper)
        await self._snapshot()
        jar = await self._jar()
        jar_after, withdrawal = await self._withdraw()
        return self._record(
            banner.record(clicked=want),
            status,
            jar,
            gatekeeper=gatekeeper,
            jar_after=jar_after,
            withdrawal=withdrawal,
        )

    async def _finish(
        self,
        banner: BannerRecord,
        status: int | None,
        gatekeeper: bool,
        *,
        links: list[str] | None = None,
        shot: bytes | None = None,
    ) -> VisitRecord:
        await self._snapshot()
        jar = await self._jar()
        return self._record(banner, status, jar, gatekeeper=gatekeeper, links=links, shot=shot)

    async def _find_banner(self) -> Banner | None:
        banner = await find_banner(self.page)
        if banner is None and self.kind is not VisitKind.FIRST_VIEW and self.banner_expected:
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
            if not await _safe(button.is_visible(), False):
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
        """Let the choice take effect, then look at the page as it loads with the choice made."""
        with contextlib.suppress(PlaywrightError):
            await self.page.wait_for_load_state("load", timeout=self.cfg.timeout_ms)
        landed = self.rec.main_documents[navigations_before:]
        if not (landed and _same_page(landed[-1], self.url)):
            await self.settle(quiet_ms)  # what the choice itself loads, in place
            with contextlib.suppress(PlaywrightError):
                await self.page.goto(self.url, wait_until="load", timeout=self.cfg.timeout_ms)
        if quiet_ms is None:
            await self._scroll_through()
        await self.settle(quiet_ms)

    async def _scroll_through(self) -> None:
        """Scroll to the end and back, as a reader would: lazy images and frames below the fold load
        only then. (The first view's screenshot shows the top.)"""
        with contextlib.suppress(PlaywrightError):
            await self.page.evaluate(_SCROLL)

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
        return await self._jar(), how

    async def _jar(self) -> tuple[JarCookie, ...]:
        return tuple(_jar_cookie(c) for c in await self.context.cookies())

    async def _snapshot(self) -> None:
        """Cookies and storage that appeared without a header or hook we saw (direct property
        assignment, a frame we could not hook), attributed to the current phase."""
        seen_cookies = {(c.name, c.domain, c.path) for c in self.rec.cookies} | self._known_cookies
        now = time.time()
        for c in await _safe(self.context.cookies(), []):
            key = (c["name"], c["domain"].lstrip("."), c.get("path", "/"))
            if key in seen_cookies:
                continue
            self._known_cookies.add(key)
            expires = float(c.get("expires", -1))
            self._extra_cookies.append(
                CookieRecord(
                    name=c["name"],
                    value=c["value"],
                    domain=key[1],
                    path=key[2],
                    source="jar",
                    url="",
                    phase=self.rec.phase,
                    raw="",
                    secure=bool(c.get("secure")),
                    http_only=bool(c.get("httpOnly")),
                    same_site=str(c.get("sameSite", "")),
                    lifetime_s=(expires - now) if expires > 0 else None,
                )
            )
        seen_storage = {(s.origin, s.area, s.key) for s in self.rec.storage} | self._known_storage
        for frame in self.page.frames:
            if frame.is_detached():
                continue
            snap = await _safe(frame.evaluate(_STORAGE_SNAPSHOT), None)
            if not snap:
                continue
            origin, items = snap
            for area, key, value in items:
                if (origin, area, key) in seen_storage:
                    continue
                self._known_storage.add((origin, area, key))
                self._extra_storage.append(StorageWrite(area, origin, key, value, self.rec.phase))

    def _record(
        self,
        banner: BannerRecord,
        status: int | None,
        jar: tuple[JarCookie, ...],
        *,
        error: str | None = None,
        gatekeeper: bool = False,
        links: list[str] | None = None,
        shot: bytes | None = None,
        jar_after: tuple[JarCookie, ...] | None = None,
        withdrawal: str = "",
    ) -> VisitRecord:
        frames: tuple[FrameRecord, ...] = ()
        if error is None:
            frames = tuple(
                FrameRecord(f.url, f.parent_frame.url if f.parent_frame else "", f.name)
                for f in self.page.frames
            )
        return VisitRecord(
            kind=self.kind,
            url=self.url,
            final_url=self.page.url if error is None else self.url,
            status=status,
            error=error,
            banner=banner,
            requests=self.rec.requests(),
            cookies=tuple(self.rec.cookies) + tuple(self._extra_cookies),
            jar=jar,
            storage=tuple(self.rec.storage) + tuple(self._extra_storage),
            frames=frames,
            jar_after_withdrawal=jar_after,
            withdrawal_note=withdrawal,
            links=tuple(links or ()),
            screenshot=shot,
            started=self.started,
            duration_ms=int((time.time() - self.started) * 1000),
            gatekeeper=gatekeeper,
        )


async def _has(page: Page, selector: str) -> bool:
    try:
        return await page.locator(selector).count() > 0
    except PlaywrightError:
        return False


async def _safe(awaitable: Any, default: Any) -> Any:
    try:
        return await awaitable
    except PlaywrightError:
        return default


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


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
) -> VisitRecord:
    """Visit `url` once in a fresh context (empty jar) and record what happened.

    `banner_expected=False` (the first view found none) skips waiting for a banner to render.
    """
    # Sec-GPC goes everywhere, as a browser sends it; the operator's headers (credentials for a
    # staging site) only to the site itself, never to the third parties it embeds.
    gpc = {"Sec-GPC": "1"} if kind is VisitKind.GPC else {}
    context = await browser.new_context(
        **context_options(ignore_https_errors=cfg.ignore_https_errors, extra_http_headers=gpc)
    )
    try:
        if cfg.headers:
            await add_site_headers(context, url, cfg.headers)
        return await _Visit(context, url, kind, cfg, banner_expected).run()
    finally:
        with contextlib.suppress(PlaywrightError):
            await context.close()
