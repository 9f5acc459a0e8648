"""The consent rules: what happened before the visitor chose, after "reject all", and under GPC after
"accept all"."""

from __future__ import annotations

from gatekeeper.registry import Category, Service

from ..model import PageResult, Phase, RequestRecord, RuleId, VisitKind
from .context import (
    Findings,
    RuleContext,
    cookie_evidence,
    cookie_key,
    host_of,
    is_set,
    judgeable,
    left_the_browser,
    request_evidence,
    url_key,
)

__all__ = ["consent_rules"]

R = RuleId
_AREAS = {"local": "localStorage", "session": "sessionStorage", "indexedDB": "IndexedDB"}
_SOURCES = {"worker": "a worker", "service_worker": "a service worker", "shared_worker": "a shared worker"}


def _how(r: RequestRecord) -> str:
    """How the third party was reached, as the start of a sentence."""
    by = f"{_SOURCES[r.source]} " if r.source in _SOURCES else ""
    if r.resource_type == "WebSocket":
        return f"{by or 'the page '}opened a WebSocket to ".capitalize()
    return f"{by or 'the page '}contacted ".capitalize()


def _request(
    out: Findings, rule: RuleId, visit: VisitKind, r: RequestRecord, ctx: RuleContext, when: str
) -> None:
    service = ctx.known_service(r.url)
    what = f" ({service.name})" if service else ""
    message = f"{_how(r)}{host_of(r.url)}{what} {when}"
    out.add(rule, visit, url_key(r.url), message, request_evidence(r, service), service)


def consent_rules(page: PageResult, ctx: RuleContext, out: Findings) -> None:
    fv, rj, gp = (page.visit(k) for k in (VisitKind.FIRST_VIEW, VisitKind.REJECT, VisitKind.GPC))
    before_urls: set[str] = set()
    before_cookies: set[str] = set()
    if fv is not None and judgeable(fv):
        for r in fv.requests:
            if ctx.request_needs_consent(r):
                before_urls.add(url_key(r.url))
                _request(out, R.REQUEST_BEFORE_CONSENT, fv.kind, r, ctx, "before the visitor chose")
        for c in fv.cookies:
            if is_set(c) and ctx.cookie_needs_consent(c):
                key = cookie_key(c)
                before_cookies.add(key)
                _, explained = ctx.cookie_category(c)
                out.add(
                    R.COOKIE_BEFORE_CONSENT,
                    fv.kind,
                    key,
                    f"cookie {c.name} ({c.domain}) was set before the visitor chose",
                    cookie_evidence(c, explained),
                )
        for s in fv.storage:
            decl = ctx.registry.cookie_declaration(s.key)
            if decl is not None and decl.category is Category.NECESSARY:
                continue
            area = _AREAS.get(s.area, s.area)
            writer = host_of(s.initiator)
            third = ctx.third_party(writer)
            service = ctx.known_service(s.initiator) if third else None
            by = f"a script of {writer}" + (f" ({service.name})" if service else "") if third else s.origin
            out.add(
                R.THIRD_PARTY_STORAGE if third else R.STORAGE_BEFORE_CONSENT,
                fv.kind,
                f"{area} {s.key} ({s.origin})",
                f"{area}[{s.key!r}] was written by {by} before the visitor chose",
                [("value", s.value), ("script", s.initiator)],
                service,
            )

    if rj is not None and judgeable(rj) and rj.banner.clicked == "reject":
        for r in rj.requests:
            if r.phase is not Phase.AFTER or not ctx.request_needs_consent(r):
                continue
            if url_key(r.url) in before_urls:
                continue  # reported as loaded before consent already
            _request(out, R.REQUEST_AFTER_REJECT, rj.kind, r, ctx, "after the visitor rejected everything")
        for c in rj.cookies:
            if c.phase is not Phase.AFTER or not is_set(c) or not ctx.cookie_needs_consent(c):
                continue
            key = cookie_key(c)
            if key in before_cookies:
                continue
            _, explained = ctx.cookie_category(c)
            out.add(
                R.COOKIE_AFTER_REJECT,
                rj.kind,
                key,
                f"cookie {c.name} ({c.domain}) was set after the visitor rejected everything",
                cookie_evidence(c, explained),
            )

    if gp is not None and judgeable(gp) and gp.banner.clicked == "accept":
        hits: dict[str, tuple[Service, list[tuple[str, str]]]] = {}
        for r in gp.requests:
            after = r.phase is Phase.AFTER and left_the_browser(r)
            service = ctx.known_service(r.url) if after else None
            if service is None or not service.sale_share or url_key(r.url) in before_urls:
                continue
            hits.setdefault(service.id, (service, []))[1].append(("url", r.url))
        for c in gp.cookies:
            if c.phase is not Phase.AFTER or not is_set(c) or ctx.cookie_first_party(c):
                continue
            service = ctx.cookie_service(c)
            if service is not None and service.sale_share:
                hits.setdefault(service.id, (service, []))[1].append(("cookie", cookie_key(c)))
        for sid, (service, evidence) in sorted(hits.items()):
            out.add(
                R.GPC_IGNORED,
                gp.kind,
                sid,
                f"{service.name} ({service.vendor}) sells or shares data and was loaded under "
                'Global Privacy Control after "accept all"',
                evidence[:10],
                service,
            )
