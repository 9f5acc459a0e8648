"""What a visit reads from the page itself (not the network): the banner's content, the forms, the
session-recording globals, the links, and the cookies and storage that appeared without a hook seeing
them. Every reader degrades to "nothing" when the page is gone or navigating."""

from __future__ import annotations

import time
from typing import Any

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from .banners import Banner, page_script
from .model import BannerContent, ButtonLook, CookieRecord, FormRecord, JarCookie, Phase, StorageWrite
from .signatures import GLOBALS_SCRIPT, all_globals

__all__ = ["Snapshots", "banner_content", "forms", "jar", "links", "recorder_globals", "safe"]

_CONTENT = page_script("banner_content.js")
_STORAGE_SNAPSHOT = page_script("storage_snapshot.js")
_LINKS = "() => Array.from(document.querySelectorAll('a[href], area[href]'), a => a.href)"
_FORMS = "() => Array.from(document.forms, f => [f.action, (f.method || 'get').toLowerCase()])"


async def safe(awaitable: Any, default: Any) -> Any:
    try:
        return await awaitable
    except PlaywrightError:
        return default


def _look(d: dict[str, Any] | None) -> ButtonLook | None:
    if not d:
        return None
    return ButtonLook(
        label=str(d["label"]),
        width=round(float(d["width"]), 1),
        height=round(float(d["height"]), 1),
        text_contrast=round(float(d["text_contrast"]), 2),
        fill_contrast=round(float(d["fill_contrast"]), 2),
        font_px=float(d["font_px"]),
    )


async def banner_content(banner: Banner) -> BannerContent | None:
    d = await safe(banner.frame.evaluate(_CONTENT), None)
    if not d:
        return None
    return BannerContent(
        text=str(d["text"]),
        links=tuple((str(t), str(h)) for t, h in d["links"]),
        accept=_look(d["accept"]),
        reject=_look(d["reject"]),
        prechecked=tuple(str(x) for x in d["prechecked"]),
    )


async def forms(page: Page) -> tuple[FormRecord, ...]:
    out: list[FormRecord] = []
    for frame in page.frames:
        if not frame.is_detached():
            for action, method in await safe(frame.evaluate(_FORMS), []):
                out.append(FormRecord(str(action), str(method), frame.url))
    return tuple(out)


async def recorder_globals(page: Page) -> tuple[str, ...]:
    return tuple(await safe(page.evaluate(GLOBALS_SCRIPT, all_globals()), []))


async def links(page: Page) -> list[str]:
    return list(await safe(page.evaluate(_LINKS), []))


def _jar_cookie(c: Any) -> JarCookie:
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


async def jar(context: BrowserContext) -> tuple[JarCookie, ...]:
    return tuple(_jar_cookie(c) for c in await safe(context.cookies(), []))


class Snapshots:
    """Cookies and storage that appeared without a header or hook we saw (direct property assignment,
    a worker's IndexedDB, a frame we could not hook), attributed to the phase they were first seen in."""

    def __init__(self) -> None:
        self._cookies: set[tuple[str, str, str]] = set()
        self._storage: set[tuple[str, str, str]] = set()
        self.cookies: list[CookieRecord] = []
        self.storage: list[StorageWrite] = []

    async def take(
        self,
        context: BrowserContext,
        page: Page,
        phase: Phase,
        seen_c: list[CookieRecord],
        seen_s: list[StorageWrite],
    ) -> None:
        known_c = {(c.name, c.domain, c.path) for c in seen_c} | self._cookies
        now = time.time()
        for c in await jar(context):
            key = (c.name, c.domain.lstrip("."), c.path)
            if key in known_c:
                continue
            self._cookies.add(key)
            self.cookies.append(
                CookieRecord(
                    name=c.name, value=c.value, domain=key[1], path=c.path, source="jar", url="",
                    phase=phase, raw="", secure=c.secure, http_only=c.http_only, same_site=c.same_site,
                    lifetime_s=(c.expires - now) if c.expires > 0 else None,
                )
            )  # fmt: skip
        known_s = {(s.origin, s.area, s.key) for s in seen_s} | self._storage
        databases = {(s.origin, s.key.split("/", 1)[0]) for s in seen_s if s.area == "indexedDB"}
        for frame in page.frames:
            if frame.is_detached():
                continue
            snap = await safe(frame.evaluate(_STORAGE_SNAPSHOT), None)
            if not snap:
                continue
            origin, items = snap
            for area, key, value in items:
                if (origin, area, key) in known_s or (area == "indexedDB" and (origin, key) in databases):
                    continue
                self._storage.add((origin, area, key))
                self.storage.append(StorageWrite(area, origin, key, value, phase))
