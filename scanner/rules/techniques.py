"""Rules on techniques rather than single requests: fingerprinting, keylogging, session recording, forms
over plain HTTP; and the state of the visits themselves (not judged, failed, timed out)."""

from __future__ import annotations

import base64
import ipaddress
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit

from ..model import PageResult, Phase, RuleId, Severity, VisitKind, VisitRecord
from ..signatures import recorder_for_global, recorder_for_url
from .context import Findings, RuleContext, host_of, judgeable, left_the_browser, request_evidence

__all__ = ["form_rules", "technique_rules", "visit_state"]

R = RuleId
_NAMES = {
    "canvas": "canvas fingerprinting",
    "font-enumeration": "font enumeration (fingerprinting)",
    "webgl": "WebGL fingerprinting",
    "audio": "audio fingerprinting",
}


def _windows(page: PageResult) -> list[tuple[VisitRecord, Phase, str]]:
    """The visits, and the phase in each, where nothing needing consent may happen."""
    out = []
    fv, rj = page.visit(VisitKind.FIRST_VIEW), page.visit(VisitKind.REJECT)
    if fv is not None and judgeable(fv):
        out.append((fv, Phase.BEFORE, "before the visitor chose"))
    if rj is not None and judgeable(rj) and rj.banner.clicked == "reject":
        out.append((rj, Phase.AFTER, "after the visitor rejected everything"))
    return out


def technique_rules(page: PageResult, ctx: RuleContext, out: Findings) -> None:
    for v, phase, when in _windows(page):
        for use in v.api_uses:
            if use.phase is not phase:
                continue
            script_host = host_of(use.script)
            whose = f"a third party ({script_host})" if ctx.third_party(script_host) else "the site"
            service = ctx.known_service(use.script) if ctx.third_party(script_host) else None
            name = _NAMES.get(use.technique.value, use.technique.value)
            out.add(
                R.FINGERPRINTING,
                v.kind,
                f"{use.technique.value} {use.script}",
                f"{name} by {use.script}, a script of {whose}, {when}",
                [("technique", use.technique.value), ("script", use.script), ("document", use.document),
                 ("what it did", use.detail)],
                service,
            )  # fmt: skip
        _session_recording(v, phase, when, ctx, out)
    fv = page.visit(VisitKind.FIRST_VIEW)
    if fv is not None and judgeable(fv) and fv.typed:
        _keylogging(fv, ctx, out)


def _session_recording(v: VisitRecord, phase: Phase, when: str, ctx: RuleContext, out: Findings) -> None:
    for r in v.requests:
        recorder = recorder_for_url(r.url)
        if recorder is None or r.phase is not phase or not left_the_browser(r):
            continue
        out.add(
            R.SESSION_RECORDING,
            v.kind,
            recorder.id,
            f"{recorder.name} (session recording) was loaded {when}",
            request_evidence(r, ctx.known_service(r.url)),
        )
    if phase is Phase.BEFORE:
        for name in v.globals_found:
            recorder = recorder_for_global(name)
            if recorder is not None:
                out.add(
                    R.SESSION_RECORDING,
                    v.kind,
                    recorder.id,
                    f"{recorder.name} (session recording) runs on the page {when}",
                    [("global", f"window.{name}")],
                )


def _keylogging(v: VisitRecord, ctx: RuleContext, out: Findings) -> None:
    # as typed, URL-encoded, base64, or its first ten characters (a logger that sends every key)
    b64 = base64.b64encode(v.typed.encode()).decode().rstrip("=")
    variants = tuple(
        dict.fromkeys((v.typed, quote(v.typed, safe=""), quote_plus(v.typed), b64, v.typed[:10]))
    )

    def carries(text: str) -> bool:
        return any(x in text or x in unquote_plus(text) for x in variants)

    for r in v.requests:
        host = host_of(r.url)
        if r.phase is not Phase.BEFORE or not ctx.third_party(host) or not left_the_browser(r):
            continue
        if carries(r.url) or carries(r.post_data):
            service = ctx.known_service(r.url)
            out.add(
                R.KEYLOGGING,
                v.kind,
                host,
                f"what the visitor typed was sent to {host} before any form was submitted",
                [*request_evidence(r, service), ("typed", v.typed), ("body", r.post_data[:300])],
                service,
            )
    for f in v.socket_frames:
        host = host_of(f.url)
        if f.phase is Phase.BEFORE and ctx.third_party(host) and carries(f.payload):
            out.add(
                R.KEYLOGGING,
                v.kind,
                host,
                f"what the visitor typed was sent to {host} over a WebSocket before any form was submitted",
                [("socket", f.url), ("frame", f.payload[:300]), ("typed", v.typed)],
            )


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def form_rules(page: PageResult, ctx: RuleContext, out: Findings) -> None:
    fv = page.visit(VisitKind.FIRST_VIEW)
    if fv is None or not judgeable(fv):
        return
    for form in fv.forms:
        p = urlsplit(form.action)
        if form.method != "post" or p.scheme != "http" or _loopback(p.hostname or ""):
            continue
        out.add(
            R.FORM_OVER_HTTP,
            fv.kind,
            form.action,
            f"a form posts to {form.action} over plain HTTP",
            [("action", form.action), ("document", form.document)],
        )


def visit_state(page: PageResult, ctx: RuleContext, out: Findings) -> None:
    fv = page.visit(VisitKind.FIRST_VIEW)
    for v in page.visits:
        if v.error is not None and v is fv:
            out.add(
                R.PAGE_NOT_JUDGED,
                v.kind,
                page.url,
                f"the page could not be judged: it did not load ({v.error})",
                severity=Severity.WARNING if ctx.unjudged_ok else None,
            )
        elif v.error is not None:
            out.add(R.PAGE_ERROR, v.kind, page.url, f"the page did not load: {v.error}")
        elif v.status is not None and v.status >= 400:
            out.add(R.PAGE_ERROR, v.kind, page.url, f"the page answered HTTP {v.status}")
        if v.timed_out:
            out.add(
                R.PAGE_TIMEOUT,
                v.kind,
                page.url,
                "the page did not finish loading in time; judged on what the visit recorded",
            )
