"""The summary on stdout: one line per finding, then the verdict."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..model import ScanResult, Severity

__all__ = ["summary"]


def summary(result: ScanResult, fail_on: Severity = Severity.ERROR, limit: int = 200) -> str:
    p = urlsplit(result.target)
    origin = f"{p.scheme}://{p.netloc}"
    visits = sum(len(pg.visits) for pg in result.pages)
    lines = [
        f"gatekeeper scan {result.target}: {len(result.pages)} pages, {visits} visits in "
        f"{result.duration_s:.1f} s" + (" (served through gatekeeper)" if result.gatekeeper else ""),
        *(f"  {n}" for n in result.notes),
    ]
    shown = result.findings[:limit]
    for f in shown:
        page = f.page[len(origin) :] or "/" if f.page.startswith(origin) else f.page
        visit = f.visit.value if f.visit else "page"
        lines.append(f"  {f.severity.value:<7} {f.rule:<24} {page}  [{visit}]  {f.message}")
    if len(result.findings) > limit:
        lines.append(f"  ... and {len(result.findings) - limit} more (see the JSON or HTML report)")
    c = result.counts()
    failing = result.at_or_above(fail_on)
    verdict = f"FAIL ({len(failing)} at or above {fail_on.value})" if failing else "PASS"
    lines.append(f"{c['error']} errors, {c['warning']} warnings, {c['info']} info: {verdict}")
    return "\n".join(lines)
