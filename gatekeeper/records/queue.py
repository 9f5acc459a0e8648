"""Consent records, step 4: off the request path. A visitor's choice only appends its record to a
bounded queue (no await, no lock held across I/O); one task per process writes what is queued in
batches. A slow, full or unreachable store never delays or fails the choice: what cannot be queued or
written after a few tries is counted as lost, logged, and written to the store's own count when it
answers again. Closing (ASGI lifespan shutdown) writes what is still queued.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from .model import Record, utc_day
from .store import Lost, Store, describe_url
from .texts import TextSet

__all__ = ["Recorder", "RecorderStats"]

log = logging.getLogger("gatekeeper.records")

MAX_QUEUE = 10_000  # records waiting (about 1 KB each): a store down for a while at 100 choices/s
BATCH = 500
RETRIES = (0.2, 1.0)  # waits before writing a failed batch again; then it is lost
LINGER = 0.05  # seconds a first record waits for others: one transaction per batch, not per choice
WRITE_TIMEOUT = 15.0
PURGE_EVERY = 86_400.0


@dataclass(frozen=True, slots=True)
class RecorderStats:
    queued: int
    written: int
    lost: int  # in this process since it started
    lost_unreported: int  # lost but not yet counted in the store


class Recorder:
    def __init__(
        self,
        store: Store,
        *,
        retention_days: float,
        max_queue: int = MAX_QUEUE,
        batch: int = BATCH,
        retries: tuple[float, ...] = RETRIES,
        linger: float = LINGER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.retention_seconds = int(retention_days * 86_400)
        self.max_queue = max_queue
        self.batch = batch
        self.retries = retries
        self.linger = linger
        self.clock = clock
        self._queue: collections.deque[tuple[Record, TextSet]] = collections.deque()
        self._texts_written: set[str] = set()
        self._lost_days: collections.Counter[str] = collections.Counter()
        self.written = 0
        self.lost = 0
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._opened = False
        self._purged_at = 0.0
        self._closing = False

    # -- the request path: never waits --------------------------------------------------------------

    def record(self, record: Record, texts: TextSet) -> None:
        if len(self._queue) >= self.max_queue or self._closing:
            self._lose(1, "the queue is full" if not self._closing else "the site is shutting down")
            return
        self._queue.append((record, texts))
        self._ensure_task()
        if self._wake is not None:
            self._wake.set()

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being written (or purged) now."""
        return not self._queue and self._idle is not None and self._idle.is_set()

    def stats(self) -> RecorderStats:
        return RecorderStats(len(self._queue), self.written, self.lost, sum(self._lost_days.values()))

    # -- start, stop ------------------------------------------------------------------------------

    async def start(self, timeout: float = 10.0) -> None:
        """Open the store (migrations) and start writing; a store that does not answer is logged and
        tried again when records come, it does not stop the site."""
        try:
            await asyncio.wait_for(self._open(), timeout)
        except Exception as e:
            log.error(
                "consent records: %s cannot be opened (%s); choices are kept in memory (up to %d) "
                "and written when it answers",
                describe_url(self.store.url),
                _reason(e),
                self.max_queue,
            )
        self._ensure_task()

    async def close(self, timeout: float = 10.0) -> None:
        """Write what is queued (for at most `timeout` seconds), then close the store."""
        self._closing = True
        task = self._task
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            assert self._wake is not None
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        else:
            try:
                await asyncio.wait_for(self._drain(), timeout)
            except Exception as e:
                log.error("consent records: flushing at shutdown failed: %s", _reason(e))
        if self._queue:
            self._lose(len(self._queue), "not written before shutdown")
            self._queue.clear()
        if self._lost_days:
            log.error(
                "consent records: %d lost records could not be counted in %s either",
                sum(self._lost_days.values()),
                describe_url(self.store.url),
            )
        try:
            await self.store.close()
        except Exception as e:
            log.warning("consent records: closing the store: %s", _reason(e))

    async def flush(self) -> None:
        """Wait until everything queued so far has been written or counted lost (tests, shutdown)."""
        while self._queue or (self._idle is not None and not self._idle.is_set()):
            self._ensure_task()
            await asyncio.sleep(0.01)

    # -- the writer -------------------------------------------------------------------------------

    def _ensure_task(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (a synchronous caller): the next async record starts it
        if self._task is not None and not self._task.done() and self._task.get_loop() is loop:
            return
        self._wake, self._idle = asyncio.Event(), asyncio.Event()
        self._task = loop.create_task(self._run(), name="gatekeeper-records")

    async def _open(self) -> None:
        if not self._opened:
            await self.store.open()
            self._opened = True

    async def _run(self) -> None:
        assert self._wake is not None and self._idle is not None
        wake, idle = self._wake, self._idle
        while True:
            idle.clear()
            await self._drain()
            idle.set()
            if self._closing:
                return
            wake.clear()
            if not self._queue:
                await wake.wait()
            if not self._closing and len(self._queue) < self.batch:
                await asyncio.sleep(self.linger)  # the choices of the next moment join this batch

    async def _drain(self) -> None:
        while self._queue or self._lost_days:
            n = min(self.batch, len(self._queue))
            batch = [self._queue.popleft() for _ in range(n)]
            if not batch and not self._opened:
                return  # only lost counts to write, to a store that has not answered yet: later
            for attempt, pause in enumerate((*self.retries, None)):
                try:
                    await asyncio.wait_for(self._write(batch), WRITE_TIMEOUT)
                    break
                except Exception as e:
                    if pause is None or (self._closing and attempt):
                        if batch:
                            self._lose(len(batch), f"{describe_url(self.store.url)} failed: {_reason(e)}")
                        return
                    await asyncio.sleep(pause)
        await self._purge()

    async def _write(self, batch: list[tuple[Record, TextSet]]) -> None:
        await self._open()
        texts = {t.digest: t for _, t in batch if t.digest not in self._texts_written}
        lost = [Lost(day, count) for day, count in sorted(self._lost_days.items())]
        await self.store.write([r for r, _ in batch], list(texts.values()), lost)
        self._texts_written.update(texts)
        for item in lost:
            self._lost_days[item.day] -= item.count
            if self._lost_days[item.day] <= 0:
                del self._lost_days[item.day]
        self.written += len(batch)

    async def _purge(self) -> None:
        now = self.clock()
        if not self._opened or now - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = now
        try:
            gone = await self.store.purge(int(now) - self.retention_seconds)
        except Exception as e:
            log.warning("consent records: purging old records failed: %s", _reason(e))
            return
        if gone:
            log.info("consent records: %d records older than the retention period purged", gone)

    def _lose(self, count: int, why: str) -> None:
        self.lost += count
        self._lost_days[utc_day(int(self.clock()))] += count
        log.error(
            "consent records: %d record%s lost (%s); %d lost since start",
            count,
            "" if count == 1 else "s",
            why,
            self.lost,
        )


def _reason(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
