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

from ..model import (
    CookieRecord,
    Finding,
    JarCookie,
    Phase,
    RequestRecord,
    ScanResult,
    StorageWrite,
    VisitRecord,
)
from ..rules import RULES

__all__ = ["FORMAT", "VERSION", "to_dict", "write_json"]

FORMAT = "gatekeeper-scan"
VERSION = 1
_PHASES = list(Phase)


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat(timespec="seconds")


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "severity": f.severity.value,
        "page": f.page,
        "visit": f.visit.value if f.visit else None,
        "subject": f.subject,
        "message": f.message,
        "service": f.service,
        "evidence": [{"key": k, "value": v} for k, v in f.evidence],
    }


def _request(r: RequestRecord) -> dict[str, Any]:
    return {
        "url": r.url,
        "method": r.method,
        "type": r.resource_type,
        "phase": r.phase.value,
        "document": r.frame_url,
        "initiator": r.initiator,
        "status": r.status,
        "failure": r.failure,
        "ms": r.ms,
    }


def _cookie(c: CookieRecord) -> dict[str, Any]:
    return {
        "name": c.name,
        "value": c.value,
        "domain": c.domain,
        "path": c.path,
        "source": c.source,
        "url": c.url,
        "phase": c.phase.value,
        "raw": c.raw,
        "secure": c.secure,
        "http_only": c.http_only,
        "same_site": c.same_site,
        "lifetime_s": None if c.lifetime_s is None else round(c.lifetime_s),
        "blocked": list(c.blocked),
        "initiator": c.initiator,
    }


def _jar(cookies: tuple[JarCookie, ...]) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "value": c.value,
            "domain": c.domain,
            "path": c.path,
            "expires": None if c.expires < 0 else round(c.expires),
            "secure": c.secure,
            "http_only": c.http_only,
            "same_site": c.same_site,
        }
        for c in sorted(cookies, key=lambda c: (c.domain, c.name, c.path))
    ]


def _storage(s: StorageWrite) -> dict[str, Any]:
    return {"area": s.area, "origin": s.origin, "key": s.key, "value": s.value, "phase": s.phase.value}


def _visit(v: VisitRecord) -> dict[str, Any]:
    requests = sorted(v.requests, key=lambda r: (_PHASES.index(r.phase), r.url, r.method, r.ms))
    cookies = sorted(v.cookies, key=lambda c: (_PHASES.index(c.phase), c.domain, c.name, c.source))
    storage = sorted(v.storage, key=lambda s: (_PHASES.index(s.phase), s.origin, s.area, s.key))
    return {
        "kind": v.kind.value,
        "url": v.url,
        "final_url": v.final_url,
        "status": v.status,
        "error": v.error,
        "duration_ms": v.duration_ms,
        "gatekeeper": v.gatekeeper,
        "banner": {
            "found": v.banner.found,
            "kind": v.banner.kind,
            "accept": v.banner.has_accept,
            "reject": v.banner.has_reject,
            "clicked": v.banner.clicked,
            "note": v.banner.note,
        },
        "requests": [_request(r) for r in requests],
        "cookies": [_cookie(c) for c in cookies],
        "jar": _jar(v.jar),
        "jar_after_withdrawal": None if v.jar_after_withdrawal is None else _jar(v.jar_after_withdrawal),
        "withdrawal": v.withdrawal_note,
        "storage": [_storage(s) for s in storage],
        "frames": [
            {"url": f.url, "parent": f.parent_url, "name": f.name}
            for f in sorted(v.frames, key=lambda f: (f.parent_url != "", f.url, f.name))
        ],
    }


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
        },
        "summary": {
            "pages": len(result.pages),
            "visits": sum(len(p.visits) for p in result.pages),
            "findings": counts,
            "rules": dict(sorted(by_rule.items())),
        },
        "rules": [
            {"id": r.id, "severity": r.severity.value, "title": r.title, "help": r.help}
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
        "findings": [finding_dict(f) for f in result.findings],
        "pages": [
            {
                "url": p.url,
                "depth": p.depth,
                "findings": [finding_dict(f) for f in p.findings],
                "visits": [_visit(v) for v in p.visits],
            }
            for p in result.pages
        ],
    }


def write_json(result: ScanResult, path: str | Path, tool_version: str = "") -> None:
    text = json.dumps(to_dict(result, tool_version), indent=1, ensure_ascii=False)
    Path(path).write_text(text + "\n", "utf-8")
