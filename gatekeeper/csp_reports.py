"""The CSP report endpoint's reading: what browsers report the policy blocked, for the operator's log.

Anyone can post here, so what is logged is escaped (a newline or an escape sequence in a reported URL
cannot forge a log line or drive a terminal), each text is cut short, a body holds a bounded number
of reports, and a per-process budget bounds how many reports are read per second and how many new
lines they may write per minute; past it the endpoint answers 429 without reading the body.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["ReportBudget", "Violation", "printable", "violations"]

MAX_REPORTS: Final = 20  # per request: a browser batches a few
TEXT_LIMIT: Final = 200


def printable(value: object, limit: int = TEXT_LIMIT) -> str:
    """`value` as one line of printable text: control characters, quotes and backslashes escaped
    (JSON's way), non-ASCII kept readable, at most `limit` characters before escaping."""
    text = str(value)[:limit]
    return (
        json.dumps(text, ensure_ascii=False)[1:-1]
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
        .replace("\x85", "\\u0085")
    )


@dataclass(frozen=True, slots=True)
class Violation:
    blocked: str  # the blocked URL as reported (cut short, not escaped)
    directive: str
    document: str


def violations(data: Any) -> Iterator[Violation]:
    """The reports in a parsed body: the `report-uri` form (`{"csp-report": {...}}`), the Reporting
    API's list (`[{"body": {...}}]`), or one bare body; at most MAX_REPORTS of them."""
    reports = data if isinstance(data, list) else [data]
    for report in reports[:MAX_REPORTS]:
        if not isinstance(report, dict):
            continue
        body = report.get("csp-report") or report.get("body") or {}
        if not isinstance(body, dict):
            continue
        yield Violation(
            str(body.get("blocked-uri") or body.get("blockedURL") or "")[:TEXT_LIMIT],
            str(body.get("violated-directive") or body.get("effectiveDirective") or "")[:40],
            str(body.get("document-uri") or body.get("documentURL") or "")[:TEXT_LIMIT],
        )


class ReportBudget:
    """Token buckets for one process: reports read per second, and new log lines per minute."""

    def __init__(
        self,
        per_second: float = 20.0,
        burst: int = 100,
        lines_per_minute: int = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate, self.burst, self.lines = per_second, burst, lines_per_minute
        self.clock = clock
        self._tokens = float(burst)
        self._line_tokens = float(lines_per_minute)
        self._at = clock()
        self._lock = threading.Lock()
        self.refused = 0  # requests answered 429, for the operator

    def _refill(self) -> None:
        now = self.clock()
        elapsed, self._at = max(0.0, now - self._at), now
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._line_tokens = min(self.lines, self._line_tokens + elapsed * self.lines / 60)

    def take_request(self) -> bool:
        with self._lock:
            self._refill()
            if self._tokens < 1:
                self.refused += 1
                return False
            self._tokens -= 1
            return True

    def take_line(self) -> bool:
        with self._lock:
            self._refill()
            if self._line_tokens < 1:
                return False
            self._line_tokens -= 1
            return True
