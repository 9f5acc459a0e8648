"""The HTML report: one self-contained file (styles and screenshots inline, no script) that shows, per
page and visit, what was contacted and set, with the findings first."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape

from ..model import CookieRecord, Phase, RequestRecord, ScanResult, Severity, VisitRecord
from ..rules import RULES

__all__ = ["render_html", "write_html"]

_PHASES = list(Phase)


def _short(url: str, origin: str) -> str:
    return url[len(origin) :] or "/" if url.startswith(origin) else url


def _lifetime(seconds: float | None) -> str:
    if seconds is None:
        return "session"
    if seconds <= 0:
        return "deleted"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def _requests(v: VisitRecord, third: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    ordered: Iterable[RequestRecord] = sorted(v.requests, key=lambda r: (r.ms, r.url))
    for r in ordered:
        host = (urlsplit(r.url).hostname or "").lower()
        party = third.get(host)
        rows.append(
            {
                "r": r,
                "third": party is not None,
                "who": (party.name or "undeclared") if party is not None else "",
                "declared": party is not None and party.service is not None,
                "result": r.failure or (str(r.status) if r.status is not None else ""),
            }
        )
    return rows


def _cookies(cookies: Iterable[CookieRecord]) -> list[dict[str, Any]]:
    rows = []
    for c in sorted(cookies, key=lambda c: (_PHASES.index(c.phase), c.domain, c.name)):
        rows.append({"c": c, "lifetime": _lifetime(c.lifetime_s)})
    return rows


def render_html(result: ScanResult, tool_version: str = "") -> str:
    env = Environment(
        loader=PackageLoader("scanner.report", "."),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("report.html")
    p = urlsplit(result.target)
    origin = f"{p.scheme}://{p.netloc}"
    third = {t.host: t for t in result.third_parties}
    pages = []
    for i, page in enumerate(result.pages):
        counts = {s.value: 0 for s in Severity}
        for f in page.findings:
            counts[f.severity.value] += 1
        shot = next((v.screenshot for v in page.visits if v.screenshot), None)
        visits = []
        for v in page.visits:
            mine = [f for f in page.findings if f.visit is v.kind]
            visits.append(
                {
                    "v": v,
                    "findings": mine,
                    "requests": _requests(v, third),
                    "third_count": sum(
                        1 for r in v.requests if (urlsplit(r.url).hostname or "").lower() in third
                    ),
                    "cookies": _cookies(v.cookies),
                }
            )
        pages.append(
            {
                "anchor": f"page-{i + 1}",
                "page": page,
                "path": _short(page.url, origin),
                "counts": counts,
                "screenshot": base64.b64encode(shot).decode() if shot else None,
                "visits": visits,
            }
        )
    counts = result.counts()
    failing = result.at_or_above(Severity.ERROR)
    return template.render(
        result=result,
        origin=origin,
        short=lambda url: _short(url, origin),
        pages=pages,
        counts=counts,
        verdict="fail" if failing else "pass",
        rules=RULES,
        started=datetime.datetime.fromtimestamp(result.started, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=tool_version,
        visits_total=sum(len(pg.visits) for pg in result.pages),
    )


def write_html(result: ScanResult, path: str | Path, tool_version: str = "") -> None:
    Path(path).write_text(render_html(result, tool_version), "utf-8")
