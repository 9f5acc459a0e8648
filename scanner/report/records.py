"""The JSON form of every record, both ways, side by side so they cannot drift: the JSON report writes
with `*_to`, a merge of shard reports and `--resume` read back with `*_from`. Field names are the
report's (schema.json, version 1); arrays come out in a deterministic order."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from ..model import (
    ApiUse,
    BannerContent,
    BannerRecord,
    ButtonLook,
    CookieRecord,
    Finding,
    FormRecord,
    FrameRecord,
    JarCookie,
    PageResult,
    Phase,
    RequestRecord,
    RuleId,
    Severity,
    SocketFrame,
    StorageWrite,
    Technique,
    VisitKind,
    VisitRecord,
)

__all__ = ["finding_from", "finding_to", "jar_to", "page_from", "page_to", "visit_from", "visit_to"]

_PHASES = list(Phase)
T = TypeVar("T")

# report name -> field name, where they differ
_REQUEST = {"type": "resource_type", "document": "frame_url"}
_BANNER = {"accept": "has_accept", "reject": "has_reject"}
_FRAME = {"parent": "parent_url"}
_VISIT = {"withdrawal": "withdrawal_note"}


def _to(obj: Any, renames: dict[str, str] | None = None) -> dict[str, Any]:
    """A flat record as a dict (enums as their values), fields renamed to the report's names."""
    back = {v: k for k, v in (renames or {}).items()}
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        out[back.get(f.name, f.name)] = value.value if hasattr(value, "value") else value
    return out


def _from(cls: type[T], d: dict[str, Any], renames: dict[str, str] | None = None, **convert: Any) -> T:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kw = {}
    for key, value in d.items():
        name = (renames or {}).get(key, key)
        if name in names:
            kw[name] = convert[name](value) if name in convert and value is not None else value
    return cls(**kw)


def _request_to(r: RequestRecord) -> dict[str, Any]:
    return _to(r, _REQUEST)


def _cookie_to(c: CookieRecord) -> dict[str, Any]:
    d = _to(c)
    d["lifetime_s"] = None if c.lifetime_s is None else round(c.lifetime_s)
    d["blocked"] = list(c.blocked)
    return d


def _cookie_from(d: dict[str, Any]) -> CookieRecord:
    return _from(CookieRecord, d, phase=Phase, blocked=tuple)


def jar_to(cookies: tuple[JarCookie, ...]) -> list[dict[str, Any]]:
    out = []
    for c in sorted(cookies, key=lambda c: (c.domain, c.name, c.path)):
        d = _to(c)
        d["expires"] = None if c.expires < 0 else round(c.expires)
        out.append(d)
    return out


def _jar_from(items: list[dict[str, Any]]) -> tuple[JarCookie, ...]:
    return tuple(
        _from(JarCookie, {**d, "expires": -1 if d["expires"] is None else d["expires"]}) for d in items
    )


def _look_from(d: dict[str, Any] | None) -> ButtonLook | None:
    return None if d is None else _from(ButtonLook, d)


def _banner_to(b: BannerRecord) -> dict[str, Any]:
    d = _to(b, _BANNER)
    if b.content is not None:
        c = b.content
        d["content"] = {
            "text": c.text,
            "links": [list(x) for x in c.links],
            "accept": None if c.accept is None else _to(c.accept),
            "reject": None if c.reject is None else _to(c.reject),
            "prechecked": list(c.prechecked),
        }
    return d


def _banner_from(d: dict[str, Any]) -> BannerRecord:
    base = _from(BannerRecord, {k: v for k, v in d.items() if k != "content"}, _BANNER)
    c = d.get("content")
    if c is None:
        return base
    content = BannerContent(
        text=c["text"],
        links=tuple((t, h) for t, h in c["links"]),
        accept=_look_from(c["accept"]),
        reject=_look_from(c["reject"]),
        prechecked=tuple(c["prechecked"]),
    )
    return dataclasses.replace(base, content=content)


def visit_to(v: VisitRecord) -> dict[str, Any]:
    requests = sorted(v.requests, key=lambda r: (_PHASES.index(r.phase), r.url, r.method, r.ms))
    cookies = sorted(v.cookies, key=lambda c: (_PHASES.index(c.phase), c.domain, c.name, c.source))
    storage = sorted(v.storage, key=lambda s: (_PHASES.index(s.phase), s.origin, s.area, s.key))
    frames = sorted(v.frames, key=lambda f: (f.parent_url != "", f.url, f.name))
    return {
        "kind": v.kind.value,
        "url": v.url,
        "final_url": v.final_url,
        "status": v.status,
        "error": v.error,
        "timed_out": v.timed_out,
        "started": v.started,
        "duration_ms": v.duration_ms,
        "gatekeeper": v.gatekeeper,
        "interaction": v.interaction,
        "typed": v.typed,
        "banner": _banner_to(v.banner),
        "requests": [_request_to(r) for r in requests],
        "sockets_sent": [_to(f) for f in v.socket_frames],
        "cookies": [_cookie_to(c) for c in cookies],
        "jar": jar_to(v.jar),
        "jar_after_withdrawal": None if v.jar_after_withdrawal is None else jar_to(v.jar_after_withdrawal),
        "withdrawal": v.withdrawal_note,
        "storage": [_to(s) for s in storage],
        "fingerprinting": [_to(a) for a in v.api_uses],
        "forms": [_to(f) for f in v.forms],
        "session_recorder_globals": list(v.globals_found),
        "frames": [_to(f, _FRAME) for f in frames],
        "links": list(v.links),
    }


def visit_from(d: dict[str, Any]) -> VisitRecord:
    after = d.get("jar_after_withdrawal")
    return VisitRecord(
        kind=VisitKind(d["kind"]),
        url=d["url"],
        final_url=d["final_url"],
        status=d["status"],
        error=d["error"],
        banner=_banner_from(d["banner"]),
        requests=tuple(_from(RequestRecord, r, _REQUEST, phase=Phase) for r in d["requests"]),
        cookies=tuple(_cookie_from(c) for c in d["cookies"]),
        jar=_jar_from(d["jar"]),
        storage=tuple(_from(StorageWrite, s, phase=Phase) for s in d["storage"]),
        frames=tuple(_from(FrameRecord, f, _FRAME) for f in d["frames"]),
        jar_after_withdrawal=None if after is None else _jar_from(after),
        withdrawal_note=d.get("withdrawal", ""),
        links=tuple(d.get("links", ())),
        started=d.get("started", 0.0),
        duration_ms=d["duration_ms"],
        gatekeeper=d["gatekeeper"],
        timed_out=d.get("timed_out", False),
        socket_frames=tuple(_from(SocketFrame, f, phase=Phase) for f in d.get("sockets_sent", ())),
        api_uses=tuple(
            _from(ApiUse, a, phase=Phase, technique=Technique) for a in d.get("fingerprinting", ())
        ),
        forms=tuple(_from(FormRecord, f) for f in d.get("forms", ())),
        typed=d.get("typed", ""),
        globals_found=tuple(d.get("session_recorder_globals", ())),
        interaction=d.get("interaction", ""),
    )


def finding_to(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule.value,
        "severity": f.severity.value,
        "page": f.page,
        "visit": f.visit.value if f.visit else None,
        "subject": f.subject,
        "message": f.message,
        "service": f.service,
        "evidence": [{"key": k, "value": v} for k, v in f.evidence],
    }


def finding_from(d: dict[str, Any]) -> Finding:
    return Finding(
        rule=RuleId(d["rule"]),
        severity=Severity(d["severity"]),
        page=d["page"],
        visit=VisitKind(d["visit"]) if d["visit"] else None,
        subject=d["subject"],
        message=d["message"],
        evidence=tuple((e["key"], e["value"]) for e in d["evidence"]),
        service=d["service"],
    )


def page_to(p: PageResult) -> dict[str, Any]:
    return {
        "url": p.url,
        "depth": p.depth,
        "findings": [finding_to(f) for f in p.findings],
        "visits": [visit_to(v) for v in p.visits],
    }


def page_from(d: dict[str, Any]) -> PageResult:
    return PageResult(
        url=d["url"],
        depth=d["depth"],
        visits=tuple(visit_from(v) for v in d["visits"]),
        findings=tuple(finding_from(f) for f in d["findings"]),
    )
