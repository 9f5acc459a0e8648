"""Consent records, step 9: `gatekeeper records stats|show|export|purge|report`, for operators.

The store is named by `--url` or the GATEKEEPER_RECORDS environment variable (the same URL as the
middleware's `records=` option). Dates are UTC: `2026-12-01` or `2026-12-01T10:00`.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from ..registry import ConfigError
from .model import COLUMNS, format_receipt, normalize_receipt
from .report import render_report
from .stats import format_table, summarize, totals
from .store import RETENTION_DAYS, Store, describe_url, open_store

__all__ = ["add_records_parser"]

T = TypeVar("T")


def add_records_parser(sub: Any) -> None:
    """The `records` command and its subcommands, on the `gatekeeper` parser's subparsers."""
    records = sub.add_parser("records", help="consent records: stats, show, export, purge, report")
    records.add_argument("--url", default=None, help="the store (default: $GATEKEEPER_RECORDS)")
    what = records.add_subparsers(dest="records_command", required=True)
    stats = what.add_parser("stats", help="decisions and rates per day and policy version")
    _range(stats)
    stats.add_argument("--json", action="store_true", help="as JSON")
    show = what.add_parser("show", help="the record of a receipt code and the texts shown")
    show.add_argument("receipt")
    export = what.add_parser("export", help="every record in a time range, as CSV or JSON")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--output", "-o", default=None, help="a file (default: standard output)")
    _range(export)
    purge = what.add_parser("purge", help="delete records older than the retention period")
    purge.add_argument("--days", type=float, default=RETENTION_DAYS, help=f"default {RETENTION_DAYS}")
    report = what.add_parser("report", help="a self-contained HTML summary with charts")
    report.add_argument("--html", required=True, help="the file to write")
    _range(report)
    records.set_defaults(func=cmd_records)


def _range(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=_time, default=None, help="from this UTC date or time")
    parser.add_argument("--until", type=_time, default=None, help="before this UTC date or time")


def _time(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use a date such as 2026-12-01 or 2026-12-01T10:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def cmd_records(args: argparse.Namespace) -> int:
    url = args.url or os.environ.get("GATEKEEPER_RECORDS")
    if not url:
        print(
            "error: name the store: --url sqlite:///consent.db (or set GATEKEEPER_RECORDS)", file=sys.stderr
        )
        return 2
    try:
        store = open_store(url)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    command: Callable[[Store, argparse.Namespace], Awaitable[int]] = _COMMANDS[args.records_command]
    try:
        return asyncio.run(_with(store, lambda: command(store, args)))
    except (OSError, ConnectionError) as e:
        print(f"error: {describe_url(url)}: {e}", file=sys.stderr)
        return 1


async def _with(store: Store, run: Callable[[], Awaitable[T]]) -> T:
    await store.open()
    try:
        return await run()
    finally:
        await store.close()


async def _stats(store: Store, args: argparse.Namespace) -> int:
    rows = summarize(await store.select(args.since, args.until), await store.lost(args.since, args.until))
    total = totals(rows)
    if args.json:
        print(json.dumps({"days": [r.to_json() for r in rows], "total": total.to_json()}, indent=2))
    else:
        sys.stdout.write(format_table(rows, total))
    return 0


async def _show(store: Store, args: argparse.Namespace) -> int:
    code = normalize_receipt(args.receipt)
    found = await store.find(code)
    if not found:
        print(f"no record has the receipt {format_receipt(code)}", file=sys.stderr)
        return 1
    out: dict[str, Any] = {"records": [r.to_json() for r in found], "texts": {}}
    for digest in dict.fromkeys(r.texts for r in found):
        texts = await store.text(digest)
        out["texts"][digest] = dict(texts.texts) if texts is not None else None
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


async def _export(store: Store, args: argparse.Namespace) -> int:
    records = await store.select(args.since, args.until)
    if args.format == "json":
        text = json.dumps([r.to_json() for r in records], ensure_ascii=False, indent=1) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["time", *COLUMNS])
        for r in records:
            row = r.to_json()
            writer.writerow([row["time"], row["receipt"], *[_cell(row[c]) for c in COLUMNS[1:]]])
        text = buffer.getvalue()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{len(records)} records written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(k for k, v in sorted(value.items()) if v)  # what was granted
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


async def _purge(store: Store, args: argparse.Namespace) -> int:
    before = int(datetime.now(UTC).timestamp() - args.days * 86_400)
    gone = await store.purge(before)
    print(f"{gone} records older than {args.days:g} days purged")
    return 0


async def _report(store: Store, args: argparse.Namespace) -> int:
    rows = summarize(await store.select(args.since, args.until), await store.lost(args.since, args.until))
    Path(args.html).write_text(render_report(rows, source=describe_url(store.url)), encoding="utf-8")
    print(f"report written to {args.html}")
    return 0


_COMMANDS: dict[str, Callable[[Store, argparse.Namespace], Awaitable[int]]] = {
    "stats": _stats,
    "show": _show,
    "export": _export,
    "purge": _purge,
    "report": _report,
}
