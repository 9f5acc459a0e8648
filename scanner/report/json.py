"""The JSON report: the whole scan as data, in the documented, versioned format of `schema.json`.

Version 1. Additive changes (new optional fields) keep the version; anything that could break a
reader (a removed or renamed field, a changed meaning) bumps it. Arrays are in a deterministic order
(pages by depth then URL, findings by page, visit, rule and subject; records sorted by their keys),
so two scans of an unchanged site differ only in times and durations.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from ..model import ScanOptions, ScanResult, ThirdParty, VisitKind
from ..rules import RULES
from .records import finding_from, finding_to, page_from, page_to

__all__ = ["FORMAT", "VERSION", "from_dict", "read_json", "to_dict", "write_json"]

FORMAT = "gatekeeper-scan"
VERSION = 1


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat(timespec="seconds")


def to_dict(result: ScanResult, tool_version: str = "") -> dict[str, Any]:
    counts = result.counts()
    by_rule: dict[str, int] = {}
    for f in result.findings:
        by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
    opts = result.options
    return {
        "format": FORMAT,
        "version": VERSION,
        "tool": {"name": "gatekeeper scan", "version": tool_version},
        "target": result.target,
        "started": _iso(result.started),
        "duration_s": result.duration_s,
        "gatekeeper": result.gatekeeper,
        "registry": list(result.registry_sources),
        "notes": list(result.notes),
        "options": {
            "max_pages": opts.max_pages,
            "max_depth": opts.max_depth,
            "workers": opts.workers,
            "include": list(opts.include),
            "exclude": list(opts.exclude),
            "visits": [k.value for k in opts.visits],
            "timeout_s": opts.timeout,
            "dwell_ms": opts.dwell_ms,
            "shard": f"{opts.shard[0]}/{opts.shard[1]}",
        },
        "summary": {
            "pages": len(result.pages),
            "visits": sum(len(p.visits) for p in result.pages),
            "findings": counts,
            "rules": dict(sorted(by_rule.items())),
        },
        "rules": [
            {"id": r.id.value, "severity": r.severity.value, "title": r.title, "help": r.help}
            for r in RULES.values()
        ],
        "third_parties": [
            {
                "host": t.host,
                "service": t.service,
                "name": t.name,
                "category": t.category,
                "pages": t.pages,
            }
            for t in result.third_parties
        ],
        "findings": [finding_to(f) for f in result.findings],
        "pages": [page_to(p) for p in result.pages],
    }


def from_dict(data: dict[str, Any]) -> ScanResult:
    """A scan back from its JSON report (screenshots are not in it)."""
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise ValueError(f"not a {FORMAT} report of version {VERSION}")
    o = data["options"]
    k, _, n = str(o.get("shard", "1/1")).partition("/")
    options = ScanOptions(
        url=data["target"],
        max_pages=o["max_pages"],
        max_depth=o["max_depth"],
        include=tuple(o["include"]),
        exclude=tuple(o["exclude"]),
        workers=o["workers"],
        visits=tuple(VisitKind(v) for v in o["visits"]),
        timeout=o.get("timeout_s", 20.0),
        dwell_ms=o.get("dwell_ms", 3000),
        shard=(int(k), int(n)),
    )
    started = datetime.datetime.fromisoformat(data["started"]).timestamp()
    return ScanResult(
        target=data["target"],
        started=started,
        duration_s=data["duration_s"],
        pages=tuple(page_from(p) for p in data["pages"]),
        findings=tuple(finding_from(f) for f in data["findings"]),
        registry_sources=tuple(data["registry"]),
        gatekeeper=data["gatekeeper"],
        options=options,
        notes=tuple(data["notes"]),
        third_parties=tuple(ThirdParty(**t) for t in data["third_parties"]),
    )


def read_json(path: str | Path) -> ScanResult:
    return from_dict(json.loads(Path(path).read_text("utf-8")))


def write_json(result: ScanResult, path: str | Path, tool_version: str = "") -> None:
    text = json.dumps(to_dict(result, tool_version), indent=1, ensure_ascii=False)
    Path(path).write_text(text + "\n", "utf-8")
