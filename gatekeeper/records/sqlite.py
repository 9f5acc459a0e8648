"""Consent records, step 3a: the SQLite store (one file on one machine). The stdlib driver runs in one
worker thread of its own so the event loop never waits on the disk; WAL and a busy timeout let several
worker processes share the file; the schema is brought up to date under an exclusive lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from .model import COLUMNS, Record
from .store import MIGRATIONS, SCHEMA_VERSION, Lost
from .texts import TextSet

__all__ = ["SQLiteStore"]

T = TypeVar("T")
BUSY_TIMEOUT = 5.0  # seconds another process may hold the write lock before a write gives up

_ROW = f"({', '.join('?' * len(COLUMNS))})"
_INSERT = f"INSERT INTO gk_records ({', '.join(COLUMNS)}) VALUES "
# Rows per INSERT statement: one statement steps once, where executemany() steps per row, and each step
# lets go of the GIL and waits to take it back (up to the 5 ms switch interval while the event loop is
# busy): per row, that convoy made the writer fall behind a busy site. 999 variables at the most
# (SQLite's oldest limit).
_ROWS_PER_INSERT = 999 // len(COLUMNS)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM gk_records"


class SQLiteStore:
    def __init__(self, path: Path, url: str) -> None:
        self.path = path
        self.url = url
        self._db: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="gatekeeper-records")

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            if self._db is None:
                self._db = self._connect()
            return fn(self._db)

        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # durable at each checkpoint; WAL keeps it consistent
        return db

    async def open(self) -> None:
        await self._run(_migrate)

    async def schema_version(self) -> int:
        return await self._run(_version)

    async def write(self, records: Sequence[Record], texts: Sequence[TextSet], lost: Sequence[Lost]) -> None:
        def write(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO gk_texts (digest, lang, policy_version, body) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (digest) DO NOTHING",
                    [(t.digest, t.lang, t.policy_version, t.body()) for t in texts],
                )
                rows = [r.row() for r in records]
                for i in range(0, len(rows), _ROWS_PER_INSERT):
                    chunk = rows[i : i + _ROWS_PER_INSERT]
                    db.execute(_INSERT + ", ".join([_ROW] * len(chunk)), [v for row in chunk for v in row])
                db.executemany(
                    "INSERT INTO gk_lost (day, count) VALUES (?, ?)", [(x.day, x.count) for x in lost]
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

        await self._run(write)

    async def select(self, since: int | None = None, until: int | None = None) -> list[Record]:
        def select(db: sqlite3.Connection) -> list[Record]:
            rows = db.execute(
                f"{_SELECT} WHERE at >= ? AND at < ? ORDER BY at, rowid",
                (since if since is not None else -(2**62), until if until is not None else 2**62),
            )
            return [Record.from_row(row) for row in rows]

        return await self._run(select)

    async def find(self, receipt: str) -> list[Record]:
        def find(db: sqlite3.Connection) -> list[Record]:
            rows = db.execute(f"{_SELECT} WHERE receipt = ? ORDER BY at, rowid", (receipt,))
            return [Record.from_row(row) for row in rows]

        return await self._run(find)

    async def text(self, digest: str) -> TextSet | None:
        def text(db: sqlite3.Connection) -> TextSet | None:
            row = db.execute(
                "SELECT lang, policy_version, body FROM gk_texts WHERE digest = ?", (digest,)
            ).fetchone()
            return TextSet.from_body(*row) if row else None

        return await self._run(text)

    async def lost(self, since: int | None = None, until: int | None = None) -> list[Lost]:
        from .model import utc_day

        def lost(db: sqlite3.Connection) -> list[Lost]:
            low = utc_day(since) if since is not None else ""
            high = utc_day(until) if until is not None else "~"
            rows = db.execute(
                "SELECT day, SUM(count) FROM gk_lost WHERE day >= ? AND day <= ? GROUP BY day ORDER BY day",
                (low, high),
            )
            return [Lost(day, int(count)) for day, count in rows]

        return await self._run(lost)

    async def purge(self, before: int) -> int:
        def purge(db: sqlite3.Connection) -> int:
            db.execute("BEGIN IMMEDIATE")
            try:
                gone = db.execute("DELETE FROM gk_records WHERE at < ?", (before,)).rowcount
                db.execute("DELETE FROM gk_texts WHERE digest NOT IN (SELECT DISTINCT texts FROM gk_records)")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return int(gone)

        return await self._run(purge)

    async def close(self) -> None:
        def close(db: sqlite3.Connection) -> None:
            db.close()

        if self._db is not None:
            await self._run(close)
            self._db = None
        self._thread.shutdown(wait=False)


def _version(db: sqlite3.Connection) -> int:
    db.execute("CREATE TABLE IF NOT EXISTS gk_schema (version INTEGER NOT NULL)")
    row = db.execute("SELECT MAX(version) FROM gk_schema").fetchone()
    return int(row[0] or 0)


def _migrate(db: sqlite3.Connection, target: int = SCHEMA_VERSION) -> None:
    if _version(db) >= target:
        return
    db.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then find it done
    try:
        current = _version(db)
        for version in range(current + 1, target + 1):
            for statement in MIGRATIONS[version - 1]:
                db.execute(statement)
            db.execute("INSERT INTO gk_schema (version) VALUES (?)", (version,))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def migrate_to(path: Path, version: int) -> None:
    """Create or bring a database file to an older schema version (tests of migrations use it)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        _migrate(db, version)
    finally:
        db.close()
