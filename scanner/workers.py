"""Shared workers, browser-wide: Playwright does not attach to them and they are no page's children, so
one watch per scan holds each at its start, records it through the visit of its browser context, and
lets it run."""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import CDPSession

from .devtools import AttachedToTarget, MessageFromTarget
from .recorder import Recorder, send_to_target

__all__ = ["SharedWorkerWatch"]


class SharedWorkerWatch:
    """Browser-wide: each shared worker is held at its start (auto-attach, waiting for the debugger),
    attached again through a session Playwright lets us address (not flat), its Network domain turned
    on, then let run, so even its first `fetch()` is seen; its events go to the recorder of its browser
    context (`watch(context_id, recorder)` for the life of a visit). Only the held attachment is acted
    on: attaching causes attachment events of its own."""

    def __init__(self, session: CDPSession) -> None:
        self.session = session
        self._recorders: dict[str, Recorder] = {}
        self._owner: dict[str, Recorder] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        session.on("Target.attachedToTarget", self._attached)
        session.on("Target.receivedMessageFromTarget", self._message)

    @classmethod
    async def start(cls, session: CDPSession) -> SharedWorkerWatch:
        watch = cls(session)
        await session.send(
            "Target.setAutoAttach",
            {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True,
             "filter": [{"type": "shared_worker"}]},
        )  # fmt: skip
        return watch

    def watch(self, context_id: str, recorder: Recorder) -> None:
        self._recorders[context_id] = recorder

    def forget(self, context_id: str) -> None:
        self._recorders.pop(context_id, None)

    def _attached(self, e: AttachedToTarget) -> None:
        info = e["targetInfo"]
        if info["type"] != "shared_worker" or not e.get("waitingForDebugger"):
            return
        recorder = self._recorders.get(info.get("browserContextId", ""))
        task = asyncio.ensure_future(self._attach(info["targetId"], recorder))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _attach(self, target: str, recorder: Recorder | None) -> None:
        try:
            found = await self.session.send("Target.attachToTarget", {"targetId": target, "flatten": False})
        except Exception:  # gone already
            return
        sid = found["sessionId"]
        if recorder is None:  # not a visit's (a context closing): only let it run
            await send_to_target(self.session, sid, ["Runtime.runIfWaitingForDebugger"])
            return
        self._owner[sid] = recorder
        recorder.adopt(self.session, sid, "shared_worker")

    def _message(self, e: MessageFromTarget) -> None:
        recorder = self._owner.get(e["sessionId"])
        if recorder is not None:
            recorder.on_worker_message(e)
