"""Consent records, step 3b: the PostgreSQL store (several machines share it), through asyncpg: an
asyncio driver, so writes wait on the network without a thread. One connection per process (the
recorder writes in batches, one at a time), opened again after any failure; the schema is brought up
to date under an advisory lock, so processes starting together migrate once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from .model import COLUMNS, Record, utc_day
from .store import MIGRATIONS, SCHEMA_VERSION, Lost
from .texts import TextSet

__all__ = ["PostgresStore"]

CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 10.0
_LOCK = 0x676B7265  # "gkre": the advisory lock key of schema changes
_INSERT = (
    f"INSERT INTO gk_records ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join(f'${i + 1}' for i in range(len(COLUMNS)))})"
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM gk_records"


class PostgresStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None  # asyncpg.Connection, bound to the event loop that opened it
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _connection(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._conn is not None and (self._loop is not loop or self._conn.is_closed()):
            if self._loop is loop:
                self._conn.terminate()
            self._conn = None  # another loop's connection cannot be used (nor closed) from here
        if self._conn is None:
            self._conn = await asyncpg.connect(
                self.url, timeout=CONNECT_TIMEOUT, command_timeout=COMMAND_TIMEOUT
            )
            self._loop = loop
        return self._conn

    async def _do(self, fn: Any) -> Any:
        conn = await self._connection()
        try:
            return await fn(conn)
        except (TimeoutError, OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
            conn.terminate()  # the next call connects again
            self._conn = None
            raise

    async def open(self) -> None:
        await self.migrate()

    async def migrate(self, target: int = SCHEMA_VERSION) -> None:
        async def migrate(conn: Any) -> None:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
                await conn.execute("CREATE TABLE IF NOT EXISTS gk_schema (version INTEGER NOT NULL)")
                current = await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM gk_schema")
                for version in range(current + 1, target + 1):
                    for statement in MIGRATIONS[version - 1]:
                        await conn.execute(statement)
                    await conn.execute("INSERT INTO gk_schema (version) VALUES ($1)", version)

        await self._do(migrate)

    async def schema_version(self) -> int:
        async def version(conn: Any) -> int:
            await conn.execute("CREATE TABLE IF NOT EXISTS gk_schema (version INTEGER NOT NULL)")
            return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM gk_schema"))

        return int(await self._do(version))

    async def write(self, records: Sequence[Record], texts: Sequence[TextSet], lost: Sequence[Lost]) -> None:
        async def write(conn: Any) -> None:
            async with conn.transaction():
                if texts:
                    await conn.executemany(
                        "INSERT INTO gk_texts (digest, lang, policy_version, body) VALUES ($1, $2, $3, $4) "
                        "ON CONFLICT (digest) DO NOTHING",
                        [(t.digest, t.lang, t.policy_version, t.body()) for t in texts],
                    )
                if records:
                    await conn.executemany(_INSERT, [r.row() for r in records])
                if lost:
                    await conn.executemany(
                        "INSERT INTO gk_lost (day, count) VALUES ($1, $2)", [(x.day, x.count) for x in lost]
                    )

        await self._do(write)

    async def select(self, since: int | None = None, until: int | None = None) -> list[Record]:
        async def select(conn: Any) -> list[Record]:
            rows = await conn.fetch(
                f"{_SELECT} WHERE at >= $1 AND at < $2 ORDER BY at, ctid",
                since if since is not None else -(2**62),
                until if until is not None else 2**62,
            )
            return [Record.from_row(row) for row in rows]

        result: list[Record] = await self._do(select)
        return result

    async def find(self, receipt: str) -> list[Record]:
        async def find(conn: Any) -> list[Record]:
            rows = await conn.fetch(f"{_SELECT} WHERE receipt = $1 ORDER BY at", receipt)
            return [Record.from_row(row) for row in rows]

        result: list[Record] = await self._do(find)
        return result

    async def text(self, digest: str) -> TextSet | None:
        async def text(conn: Any) -> TextSet | None:
            row = await conn.fetchrow(
                "SELECT lang, policy_version, body FROM gk_texts WHERE digest = $1", digest
            )
            return TextSet.from_body(row[0], row[1], row[2]) if row else None

        result: TextSet | None = await self._do(text)
        return result

    async def lost(self, since: int | None = None, until: int | None = None) -> list[Lost]:
        async def lost(conn: Any) -> list[Lost]:
            rows = await conn.fetch(
                "SELECT day, SUM(count) FROM gk_lost WHERE day >= $1 AND day <= $2 GROUP BY day ORDER BY day",
                utc_day(since) if since is not None else "",
                utc_day(until) if until is not None else "~",
            )
            return [Lost(row[0], int(row[1])) for row in rows]

        result: list[Lost] = await self._do(lost)
        return result

    async def purge(self, before: int) -> int:
        async def purge(conn: Any) -> int:
            async with conn.transaction():
                status = await conn.execute("DELETE FROM gk_records WHERE at < $1", before)
                await conn.execute(
                    "DELETE FROM gk_texts WHERE digest NOT IN (SELECT DISTINCT texts FROM gk_records)"
                )
            return int(status.split()[-1])

        return int(await self._do(purge))

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._loop is asyncio.get_running_loop():
            try:
                await asyncio.wait_for(conn.close(), 2.0)
            except Exception:
                conn.terminate()
