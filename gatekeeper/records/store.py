"""Consent records, step 3: where they are kept. One protocol, two stores (SQLite for one machine,
PostgreSQL for several), chosen by a URL; the versioned schema both apply at start-up.

    records="sqlite:///var/lib/site/consent.db"     (sqlite:///relative.db, sqlite:////abs/path.db)
    records="postgresql://user:password@host:5432/db"
    records=None                                     (off)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from ..registry import ConfigError
from .model import Record
from .texts import TextSet

__all__ = [
    "MIGRATIONS",
    "RETENTION_DAYS",
    "SCHEMA_VERSION",
    "Lost",
    "Store",
    "describe_url",
    "open_store",
]

# A consent lasts at most 396 days (13 months, the cookie's longest life); a claim about what was
# done under it can come years later (three years is the common limitation period, e.g. BGB §195).
RETENTION_DAYS = 396 + 3 * 365


@dataclass(frozen=True, slots=True)
class Lost:
    day: str  # UTC day the records were lost on
    count: int


class Store(Protocol):
    """What the recorder and the `gatekeeper records` command need of a store. Every method may raise
    (a database that is down); the recorder counts what it could not write."""

    url: str

    async def open(self) -> None:
        """Connect and bring the schema to SCHEMA_VERSION (safe when several processes start at once)."""

    async def write(self, records: Sequence[Record], texts: Sequence[TextSet], lost: Sequence[Lost]) -> None:
        """One transaction: the texts not yet stored, the records, and counts of records lost."""

    async def select(self, since: int | None = None, until: int | None = None) -> list[Record]:
        """Records with since <= at < until, oldest first."""

    async def find(self, receipt: str) -> list[Record]: ...

    async def text(self, digest: str) -> TextSet | None: ...

    async def lost(self, since: int | None = None, until: int | None = None) -> list[Lost]: ...

    async def purge(self, before: int) -> int:
        """Delete records older than `before` (and texts no record uses); how many records went."""

    async def schema_version(self) -> int: ...

    async def close(self) -> None: ...


# The schema, one list of statements per version; a store applies those above its version, each
# version in one transaction. Never edit a released version: add the next.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: records and the texts they point at
        """CREATE TABLE gk_texts (
            digest TEXT PRIMARY KEY, lang TEXT NOT NULL, policy_version TEXT NOT NULL, body TEXT NOT NULL)""",
        """CREATE TABLE gk_records (
            receipt TEXT NOT NULL, at BIGINT NOT NULL, policy_version TEXT NOT NULL, choice TEXT NOT NULL,
            control TEXT NOT NULL, javascript INTEGER NOT NULL, gpc INTEGER NOT NULL, lang TEXT NOT NULL,
            path TEXT NOT NULL, categories TEXT NOT NULL, services TEXT NOT NULL,
            texts TEXT NOT NULL REFERENCES gk_texts (digest))""",
        "CREATE INDEX gk_records_receipt ON gk_records (receipt)",
    ),
    (  # 2: withdrawals flagged, records lost counted, time-range queries and purges indexed
        "ALTER TABLE gk_records ADD COLUMN withdrawal INTEGER NOT NULL DEFAULT 0",
        "CREATE TABLE gk_lost (day TEXT NOT NULL, count BIGINT NOT NULL)",
        "CREATE INDEX gk_records_at ON gk_records (at)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def describe_url(url: str) -> str:
    """The URL without its password (for logs and messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def open_store(url: str) -> Store:
    """The store a URL names (not yet connected); a URL we cannot use is a ConfigError now."""
    if not isinstance(url, str):
        raise ConfigError(f"records={url!r}: a URL such as 'sqlite:///consent.db' or 'postgresql://...'")
    scheme = url.split(":", 1)[0].lower() if "://" in url else ""
    if scheme == "sqlite":
        path = sqlite_path(url)
        from .sqlite import SQLiteStore

        return SQLiteStore(path, url)
    if scheme in ("postgresql", "postgres"):
        try:
            import asyncpg  # type: ignore[import-untyped]  # noqa: F401
        except ImportError:
            raise ConfigError(
                "records=postgresql://...: the PostgreSQL store needs asyncpg: "
                "pip install 'gatekeeper-consent[postgresql]'"
            ) from None
        from .postgres import PostgresStore

        return PostgresStore(url)
    raise ConfigError(
        f"records={describe_url(url)!r}: use 'sqlite:///path/to/consent.db' or "
        "'postgresql://user:password@host/db' (or None to keep no records)"
    )


def sqlite_path(url: str) -> Path:
    rest = url.split(":", 1)[1]
    if not rest.startswith("///"):
        raise ConfigError(f"records={url!r}: an SQLite URL has three slashes: 'sqlite:///consent.db'")
    path = Path(unquote(rest[3:].split("?", 1)[0]))
    if not path.name:
        raise ConfigError(f"records={url!r}: name the database file, e.g. 'sqlite:///consent.db'")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(f"records={url!r}: the folder {os.fspath(parent)!r} does not exist; create it")
    return path
