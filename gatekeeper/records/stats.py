"""Consent records, step 7: what operators want to know, per UTC day and policy version: decisions,
accept-all / reject-all / custom rates, opt-in rates per category and service, withdrawals, how many
used the no-JavaScript path, and records lost. Pure: records in, figures out (both stores share it).

A "load once" is counted as a decision but not in the rates (it changes no consent); the rates and
opt-ins are shares of the other decisions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import Record, utc_day
from .store import Lost

__all__ = ["DayStats", "summarize", "totals"]


@dataclass
class DayStats:
    day: str
    policy_version: str
    decisions: int = 0
    accept_all: int = 0
    reject_all: int = 0
    custom: int = 0  # "Save choices" and "Always allow"
    once: int = 0
    withdrawals: int = 0
    without_js: int = 0
    lost: int = 0  # records lost that day (any policy version: a lost record's version is unknown)
    categories: Counter[str] = field(default_factory=Counter)  # granted, over consent decisions
    services: Counter[str] = field(default_factory=Counter)

    @property
    def consents(self) -> int:
        """Decisions that set a consent (all but "load once")."""
        return self.decisions - self.once

    def rate(self, count: int) -> float:
        return count / self.consents if self.consents else 0.0

    def add(self, record: Record) -> None:
        self.decisions += 1
        self.withdrawals += record.withdrawal
        self.without_js += not record.javascript
        if record.choice == "once":
            self.once += 1
            return
        if record.choice == "all":
            self.accept_all += 1
        elif record.choice == "none":
            self.reject_all += 1
        else:
            self.custom += 1
        self.categories.update(k for k, v in record.categories.items() if v)
        self.services.update(k for k, v in record.services.items() if v)
        for name in record.categories:
            self.categories.setdefault(name, 0)
        for name in record.services:
            self.services.setdefault(name, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "policy_version": self.policy_version,
            "decisions": self.decisions,
            "accept_all": self.accept_all,
            "reject_all": self.reject_all,
            "custom": self.custom,
            "load_once": self.once,
            "accept_all_rate": round(self.rate(self.accept_all), 4),
            "reject_all_rate": round(self.rate(self.reject_all), 4),
            "custom_rate": round(self.rate(self.custom), 4),
            "withdrawals": self.withdrawals,
            "without_javascript": self.without_js,
            "lost": self.lost,
            "category_opt_in": {k: round(self.rate(v), 4) for k, v in sorted(self.categories.items())},
            "service_opt_in": {k: round(self.rate(v), 4) for k, v in sorted(self.services.items())},
        }


def summarize(records: Iterable[Record], lost: Iterable[Lost] = ()) -> list[DayStats]:
    """One row per (day, policy version), oldest first; a day with only lost records gets a row of
    its own with an empty version."""
    rows: dict[tuple[str, str], DayStats] = {}
    for record in records:
        key = (utc_day(record.at), record.policy_version)
        row = rows.get(key)
        if row is None:
            row = rows[key] = DayStats(*key)
        row.add(record)
    for item in lost:
        same_day = [r for (day, _), r in rows.items() if day == item.day]
        target = same_day[0] if same_day else rows.setdefault((item.day, ""), DayStats(item.day, ""))
        target.lost += item.count
    return [rows[key] for key in sorted(rows)]


def totals(rows: Iterable[DayStats]) -> DayStats:
    out = DayStats("all", "")
    for row in rows:
        for name in (
            "decisions",
            "accept_all",
            "reject_all",
            "custom",
            "once",
            "withdrawals",
            "without_js",
            "lost",
        ):
            setattr(out, name, getattr(out, name) + getattr(row, name))
        out.categories.update(row.categories)
        out.services.update(row.services)
    return out


def format_table(rows: list[DayStats], total: DayStats) -> str:
    """The stats as a plain-text table (the `gatekeeper records stats` output)."""
    head = ("day", "policy", "decisions", "accept", "reject", "custom", "once", "withdrawn", "no-JS", "lost")
    lines = [head]
    for r in [*rows, total]:
        lines.append(
            (
                r.day,
                r.policy_version or "-",
                str(r.decisions),
                _pct(r.rate(r.accept_all)),
                _pct(r.rate(r.reject_all)),
                _pct(r.rate(r.custom)),
                str(r.once),
                str(r.withdrawals),
                str(r.without_js),
                str(r.lost),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    out.append("")
    out.append("opt-in rate over all consent decisions (load once excluded):")
    for kind, counts in (("category", total.categories), ("service", total.services)):
        for name, count in sorted(counts.items()):
            out.append(f"  {kind} {name}: {_pct(total.rate(count))}")
    return "\n".join(out) + "\n"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def opt_in_series(rows: list[DayStats], names: Mapping[str, str]) -> dict[str, list[tuple[str, float]]]:
    """Per category or service name: (day, opt-in rate) points, for the report's charts."""
    days: dict[str, DayStats] = {}
    for row in rows:
        days[row.day] = totals([days[row.day], row]) if row.day in days else row
    series: dict[str, list[tuple[str, float]]] = {}
    for name, kind in names.items():
        counts = "categories" if kind == "category" else "services"
        series[name] = [(d, r.rate(getattr(r, counts).get(name, 0))) for d, r in sorted(days.items())]
    return series
