"""What one visit records, from DevTools and from the in-page hooks: requests, WebSockets, workers,
cookies offered, storage writes, fingerprinting, all as frozen records (see scanner/model.py).

Sources, and why each:
- the page's DevTools session (Network domain and its extra-info events): requests of every frame
  (the scanner's Chromium runs without site isolation, so one session sees them all), the cookies
  each response offered with Chromium's reasons when it refused one, and WebSockets (created, the
  handshake, every frame sent);
- dedicated and service workers: Playwright's own request events for the context, which it records
  from each worker's session before letting the worker start (a second DevTools session attached to
  a worker cannot hold it: Playwright's resumes it, and a worker's first `fetch()` was missed one run
  in three). What those events show beyond the page session's requests came from workers;
- shared workers are not children of a page, and Playwright does not attach to them:
  `scanner.workers.SharedWorkerWatch` attaches to each browser-wide and hands its messages here;
- the hooks (scanner/data/hooks.js, installed in every frame before the page's scripts) report
  cookie, storage and IndexedDB writes and fingerprinting with the script that did each.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, CDPSession
from playwright.async_api import Request as PlaywrightRequest

from gatekeeper.cookies import parse_set_cookie

from .devtools import (
    LoadingFailed,
    LoadingFinished,
    MessageFromTarget,
    RequestWillBeSent,
    ResponseExtraInfo,
    ResponseReceived,
    WebSocketCreated,
    WebSocketFrameSent,
)
from .model import ApiUse, CookieRecord, Phase, RequestRecord, SocketFrame, StorageWrite, Technique

__all__ = ["Recorder", "cookie_from_line", "send_to_target"]


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


def cookie_from_line(
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


_MESSAGE_IDS = itertools.count(1)


async def send_to_target(via: CDPSession, sid: str, methods: list[str]) -> None:
    """Send each method to a target attached through `via` (not flat), in order."""
    for method in methods:
        message = json.dumps({"id": next(_MESSAGE_IDS), "method": method, "params": {}})
        try:
            await via.send("Target.sendMessageToTarget", {"sessionId": sid, "message": message})
        except Exception:  # the worker or the page went away: nothing to record then
            return


class Recorder:
    """Collects one visit's events; `phase` is set by the visit as it goes."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.phase = Phase.BEFORE
        self.main_frame_id = ""
        self.main_documents: list[str] = []  # URLs the main frame loaded (redirect hops included)
        self._hops: list[dict[str, Any]] = []
        self._current: dict[tuple[str, str], dict[str, Any]] = {}  # (session, requestId) -> hop
        self._inflight: dict[tuple[str, str], float] = {}
        self._sockets: dict[tuple[str, str], str] = {}
        self.last_activity = time.monotonic()
        self.cookies: list[CookieRecord] = []
        self.storage: list[StorageWrite] = []
        self.frames_sent: list[SocketFrame] = []
        self.api_uses: list[ApiUse] = []
        self._early_extra: list[tuple[tuple[str, str], ResponseExtraInfo, Phase]] = []
        self._sessions: dict[str, str] = {}  # worker session id -> its source name
        self._tasks: set[asyncio.Task[Any]] = set()
        self._seen_by_playwright: list[tuple[PlaywrightRequest, Phase, int]] = []

    def _ms(self) -> int:
        return int((time.monotonic() - self.t0) * 1000)

    def _touch(self) -> None:
        self.last_activity = time.monotonic()

    # -- wiring ----------------------------------------------------------------------------------

    async def attach(self, cdp: CDPSession, context: BrowserContext) -> None:
        """Listen on the page's session, and on the context for what its workers send."""
        context.on("request", self._from_playwright)
        tree = await cdp.send("Page.getFrameTree")
        self.main_frame_id = tree["frameTree"]["frame"]["id"]
        page = self._handlers("", "page")
        for method, handler in page.items():
            cdp.on(method, handler)
        cdp.on("Target.receivedMessageFromTarget", self.on_worker_message)
        await cdp.send("Network.enable")

    def _handlers(self, session: str, source: str) -> dict[str, Callable[[Any], None]]:
        return {
            "Network.requestWillBeSent": lambda e: self.on_request(e, session, source),
            "Network.responseReceived": lambda e: self.on_response(e, session),
            "Network.loadingFinished": lambda e: self.on_finished(e, session),
            "Network.loadingFailed": lambda e: self.on_failed(e, session),
            "Network.responseReceivedExtraInfo": lambda e: self.on_extra_info(e, session),
            "Network.webSocketCreated": lambda e: self.on_socket(e, session, source),
            "Network.webSocketHandshakeResponseReceived": lambda e: self.on_response(e, session),
            "Network.webSocketFrameSent": lambda e: self.on_frame_sent(e, session),
        }

    def adopt(self, via: CDPSession, sid: str, source: str) -> None:
        """Record a worker attached elsewhere (a shared worker, by `SharedWorkerWatch`)."""
        self._sessions[sid] = source
        task = asyncio.ensure_future(
            send_to_target(via, sid, ["Network.enable", "Runtime.runIfWaitingForDebugger"])
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def on_worker_message(self, e: MessageFromTarget) -> None:
        source = self._sessions.get(e["sessionId"])
        if source is None:
            return
        try:
            message = json.loads(e["message"])
        except ValueError:
            return
        handler = self._handlers(e["sessionId"], source).get(message.get("method", ""))
        if handler is not None:
            handler(message.get("params") or {})

    # -- DevTools Network events -----------------------------------------------------------------

    def on_request(self, e: RequestWillBeSent, session: str = "", source: str = "page") -> None:
        key = (session, e["requestId"])
        url = e["request"]["url"]
        if not url.startswith(("http:", "https:", "ws:", "wss:")):
            return
        previous = self._current.get(key)
        redirect = e.get("redirectResponse")
        if redirect is not None and previous is not None:
            previous["status"] = redirect.get("status")
            initiator = f"redirect {previous['url']}"
        else:
            initiator = _initiator(e.get("initiator"))
        hop = self._hop(url, e["request"].get("method", "GET"), e.get("type", "Other"), initiator)
        hop.update(frame=e.get("documentURL", ""), source=source)
        hop["post_data"] = e["request"].get("postData", "")[:2000]
        self._current[key] = hop
        if e.get("type") == "Document" and e.get("frameId") == self.main_frame_id and not session:
            self.main_documents.append(url)
        self._inflight[key] = time.monotonic()
        if self._early_extra:
            early, self._early_extra = self._early_extra, []
            for ekey, event, phase in early:
                self._offered(ekey, event, phase)

    def _hop(self, url: str, method: str, kind: str, initiator: str) -> dict[str, Any]:
        hop: dict[str, Any] = {
            "url": url, "method": method, "type": kind, "frame": "", "initiator": initiator,
            "phase": self.phase, "status": None, "failure": None, "ms": self._ms(),
            "source": "page", "post_data": "",
        }  # fmt: skip
        self._hops.append(hop)
        self._touch()
        return hop

    def on_response(self, e: ResponseReceived, session: str = "") -> None:
        hop = self._current.get((session, e["requestId"]))
        if hop is not None:
            hop["status"] = e["response"].get("status")
        self._touch()

    def on_finished(self, e: LoadingFinished, session: str = "") -> None:
        self._inflight.pop((session, e["requestId"]), None)
        self._touch()

    def on_failed(self, e: LoadingFailed, session: str = "") -> None:
        hop = self._current.get((session, e["requestId"]))
        if hop is not None:
            reason = e.get("blockedReason") or e.get("corsErrorStatus", {}).get("corsError")
            text = e.get("errorText") or ("canceled" if e.get("canceled") else "failed")
            hop["failure"] = f"{text} (blocked:{reason})" if reason else text
        self._inflight.pop((session, e["requestId"]), None)
        self._touch()

    def on_extra_info(self, e: ResponseExtraInfo, session: str = "") -> None:
        key = (session, e["requestId"])
        if key not in self._current:
            self._early_extra.append((key, e, self.phase))
            return
        self._offered(key, e, self.phase)

    def _offered(self, key: tuple[str, str], e: ResponseExtraInfo, phase: Phase) -> None:
        lines: list[str] = []
        for name, value in (e.get("headers") or {}).items():
            if name.lower() == "set-cookie":
                lines += [ln for ln in str(value).split("\n") if ln.strip()]
        if not lines:
            return
        blocked = {
            b.get("cookieLine", ""): tuple(b.get("blockedReasons") or ())
            for b in e.get("blockedCookies") or []
        }
        hop = self._current.get(key)
        url, initiator = (hop["url"], hop["initiator"]) if hop else ("", "")
        now = time.time()
        for line in lines:
            record = cookie_from_line(line, url, "header", phase, now, blocked.get(line, ()), initiator)
            if record is not None:
                self.cookies.append(record)

    def on_socket(self, e: WebSocketCreated, session: str = "", source: str = "page") -> None:
        hop = self._hop(e["url"], "GET", "WebSocket", _initiator(e.get("initiator")))
        hop["source"] = source
        self._sockets[(session, e["requestId"])] = e["url"]
        self._current[(session, e["requestId"])] = hop

    def on_frame_sent(self, e: WebSocketFrameSent, session: str = "") -> None:
        url = self._sockets.get((session, e["requestId"]), "")
        payload = str(e["response"].get("payloadData", ""))[:500]
        self.frames_sent.append(SocketFrame(url, payload, self.phase, self._ms()))
        self._touch()

    # -- the in-page hooks -----------------------------------------------------------------------

    def on_hook(self, payload: str) -> None:
        try:
            m = json.loads(payload)
        except ValueError:
            return
        kind, script, page = m.get("t"), str(m.get("s") or ""), str(m.get("o", ""))
        if kind == "cookie":
            record = cookie_from_line(
                str(m.get("v", "")), page, "script", self.phase, time.time(), initiator=script
            )
            if record is not None:
                self.cookies.append(record)
        elif kind == "cookiestore":
            self.cookies.append(self._cookie_store(m.get("v") or {}, page, script))
        elif kind in ("storage", "idb"):
            area = "indexedDB" if kind == "idb" else str(m.get("a", "local"))
            value = str(m.get("v", ""))[:200]
            self.storage.append(StorageWrite(area, page, str(m.get("k", "")), value, self.phase, script))
        elif kind == "api":
            self._api(m, script, page)

    def _cookie_store(self, o: Mapping[str, Any], page: str, script: str) -> CookieRecord:
        expires = o.get("expires")
        lifetime = (float(expires) / 1000 - time.time()) if isinstance(expires, int | float) else None
        return CookieRecord(
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
            initiator=script,
        )

    def _api(self, m: Mapping[str, Any], script: str, document: str) -> None:
        try:
            technique = Technique(str(m.get("k")))
        except ValueError:
            return
        detail = str(m.get("d", ""))[:200]
        self.api_uses.append(ApiUse(technique, script or document, document, detail, self.phase))

    # -- waiting ---------------------------------------------------------------------------------

    def busy(self) -> bool:
        now = time.monotonic()
        return any(now - started < 2.0 for started in self._inflight.values())

    async def settle(self, quiet_ms: int, max_ms: int) -> bool:
        """Wait until the network has been quiet for `quiet_ms` (requests hanging for more than two
        seconds, such as long polls, do not count), at most `max_ms`; False when it never was."""
        deadline = time.monotonic() + max_ms / 1000
        while time.monotonic() < deadline:
            if not self.busy() and time.monotonic() - self.last_activity >= quiet_ms / 1000:
                return True
            await asyncio.sleep(0.05)
        return False

    def _from_playwright(self, request: PlaywrightRequest) -> None:
        if request.url.startswith(("http:", "https:")):
            self._seen_by_playwright.append((request, self.phase, self._ms()))
            self._touch()

    def _worker_requests(self) -> list[RequestRecord]:
        """What Playwright saw beyond the page session's requests: the workers' (same URL and method
        counted once per request the page session recorded)."""
        page_counts: dict[tuple[str, str], int] = {}
        for h in self._hops:
            key = (h["url"], h["method"])
            page_counts[key] = page_counts.get(key, 0) + 1
        out = []
        for request, phase, ms in self._seen_by_playwright:
            key = (request.url, request.method)
            if page_counts.get(key, 0) > 0:
                page_counts[key] -= 1
                continue
            source = "service_worker" if request.service_worker is not None else "worker"
            out.append(
                RequestRecord(
                    url=request.url, method=request.method, resource_type=request.resource_type.capitalize(),
                    frame_url="", initiator=f"{source} script", phase=phase, failure=request.failure,
                    ms=ms, source=source, post_data=(request.post_data or "")[:2000],
                )
            )  # fmt: skip
        return out

    def requests(self) -> tuple[RequestRecord, ...]:
        return tuple(self._worker_requests()) + tuple(
            RequestRecord(
                url=h["url"], method=h["method"], resource_type=h["type"], frame_url=h["frame"],
                initiator=h["initiator"], phase=h["phase"], status=h["status"], failure=h["failure"],
                ms=h["ms"], source=h["source"], post_data=h["post_data"],
            )
            for h in self._hops
        )  # fmt: skip
