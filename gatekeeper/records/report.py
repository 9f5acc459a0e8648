"""Consent records, step 8: a self-contained HTML summary for operators, with the rates over time drawn
as inline SVG (no script, no font, nothing fetched: it opens anywhere, offline, and can be mailed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from .stats import DayStats, opt_in_series, totals

__all__ = ["render_report"]

_COLOURS = ("#1b6ac9", "#c0392b", "#27864a", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#b7950b")
_W, _H, _PAD = 720, 240, 40


def _chart(title: str, series: dict[str, list[tuple[str, float]]]) -> str:
    """A line chart of rates (0-100 %) per day; one line per series, a legend under it."""
    days = sorted({d for points in series.values() for d, _ in points})
    if not days:
        return ""
    span = max(1, len(days) - 1)

    def x(day: str) -> float:
        return _PAD + (_W - 2 * _PAD) * days.index(day) / span

    def y(rate: float) -> float:
        return _H - _PAD - (_H - 2 * _PAD) * rate

    parts = [f'<svg viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}" width="100%">']
    for tick in (0, 0.25, 0.5, 0.75, 1):
        parts.append(
            f'<line x1="{_PAD}" x2="{_W - _PAD}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>'
            f'<text x="{_PAD - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{int(tick * 100)}%</text>"
        )
    for day in (days[0], days[-1]) if len(days) > 1 else (days[0],):
        parts.append(
            f'<text x="{x(day):.1f}" y="{_H - _PAD + 16}" text-anchor="middle" font-size="11">'
            f"{escape(day)}</text>"
        )
    for i, (name, points) in enumerate(series.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        coords = " ".join(f"{x(d):.1f},{y(r):.1f}" for d, r in points)
        if len(points) > 1:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>')
        for d, r in points:
            parts.append(
                f'<circle cx="{x(d):.1f}" cy="{y(r):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)} {escape(d)}: {100 * r:.1f}%</title></circle>"
            )
    parts.append("</svg>")
    legend = " ".join(
        f'<span class="key"><span style="background:{_COLOURS[i % len(_COLOURS)]}"></span>{escape(n)}</span>'
        for i, n in enumerate(series)
    )
    return f"<figure><figcaption>{escape(title)}</figcaption>{''.join(parts)}<p>{legend}</p></figure>"


def render_report(rows: Sequence[DayStats], *, source: str, now: float | None = None) -> str:
    rows = list(rows)
    total = totals(rows)
    by_day: dict[str, list[DayStats]] = {}
    for row in rows:
        by_day.setdefault(row.day, []).append(row)
    merged = {day: totals(group) for day, group in sorted(by_day.items())}
    choices = {
        label: [(day, r.rate(getattr(r, attr))) for day, r in merged.items() if r.consents]
        for label, attr in (("accept all", "accept_all"), ("reject all", "reject_all"), ("custom", "custom"))
    }
    categories = opt_in_series(rows, {name: "category" for name in sorted(total.categories)})
    services = opt_in_series(rows, {name: "service" for name in sorted(total.services)})
    table = "".join(
        f"<tr><td>{escape(r.day)}</td><td><code>{escape(r.policy_version or '-')}</code></td>"
        f"<td>{r.decisions}</td><td>{100 * r.rate(r.accept_all):.1f}%</td>"
        f"<td>{100 * r.rate(r.reject_all):.1f}%</td><td>{100 * r.rate(r.custom):.1f}%</td>"
        f"<td>{r.once}</td><td>{r.withdrawals}</td><td>{r.without_js}</td><td>{r.lost}</td></tr>"
        for r in [*rows, total]
    )
    made = datetime.fromtimestamp(now if now is not None else datetime.now(UTC).timestamp(), UTC)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Consent records: summary</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; font-size: 13px; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .25rem .5rem; text-align: right; }}
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) {{ text-align: left; }}
figure {{ margin: 2rem 0; }} figcaption {{ font-weight: bold; }}
.key {{ margin-right: 1rem; white-space: nowrap; }}
.key span {{ display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; }}
</style>
</head>
<body>
<h1>Consent records: summary</h1>
<p>From {escape(source)}, made {made:%Y-%m-%d %H:%M} UTC. {total.decisions} decisions, {total.lost} records
lost. Days are UTC; rates are shares of the decisions that set a consent ("load once" excluded).</p>
{_chart("Choices over time", choices)}
{_chart("Opt-in rate per category", categories)}
{_chart("Opt-in rate per service", services)}
<h2>Per day and policy version</h2>
<table>
<thead><tr><th>day</th><th>policy</th><th>decisions</th><th>accept all</th><th>reject all</th><th>custom</th>
<th>load once</th><th>withdrawals</th><th>without JavaScript</th><th>lost</th></tr></thead>
<tbody>{table}</tbody>
</table>
</body>
</html>
"""
