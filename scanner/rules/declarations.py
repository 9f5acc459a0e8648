"""What the site declares against what it does: undeclared hosts and cookies, cookie attributes and
lifetimes, personal data in cookies, and cookies that stay after consent is withdrawn."""

from __future__ import annotations

from gatekeeper.cookies import looks_personal
from gatekeeper.registry import Category

from ..model import PageResult, RuleId, VisitKind
from .context import (
    Findings,
    RuleContext,
    cookie_evidence,
    cookie_key,
    days,
    host_of,
    is_set,
    judgeable,
    request_evidence,
)

__all__ = ["declaration_rules", "personal_data", "withdrawal"]

R = RuleId
_THIRTEEN_MONTHS_S = 396 * 86400
_SLACK_S = 86400  # a declaration in days is rounded; clocks differ


def declaration_rules(page: PageResult, ctx: RuleContext, out: Findings) -> None:
    seen_hosts: set[str] = set()
    for v in page.visits:
        if not judgeable(v):
            continue
        for r in v.requests:
            host = host_of(r.url)
            if host in seen_hosts or not ctx.third_party(host) or ctx.services(r.url):
                continue
            seen_hosts.add(host)
            known = ctx.catalog.services_for_url(r.url) if ctx.catalog else ()
            hint = f" (the catalog knows it as {known[0].id!r})" if known else ""
            out.add(
                R.UNDECLARED_THIRD_PARTY,
                v.kind,
                host,
                f"{host} is not part of any declared service{hint}",
                request_evidence(r, known[0] if known else None),
            )

    for v in page.visits:
        if not judgeable(v):
            continue
        for c in v.cookies:
            key = cookie_key(c)
            if not ctx.cookie_first_party(c) or not is_set(c):
                continue
            _, explained = ctx.cookie_category(c)
            declared = ctx.registry.cookie_declaration(c.name)
            undeclared = ctx.declared and declared is None and not ctx.is_consent_record(c)
            if undeclared and not out.has(R.UNDECLARED_COOKIE, key):
                out.add(
                    R.UNDECLARED_COOKIE,
                    v.kind,
                    key,
                    f"cookie {c.name} is not declared in the services file",
                    cookie_evidence(c, explained),
                )
            problems = []
            if ctx.https and not c.secure:
                problems.append("no Secure attribute on an HTTPS site")
            if c.same_site.lower() == "none" and not c.secure:
                problems.append("SameSite=None without Secure")
            if problems and not out.has(R.COOKIE_INSECURE, key):
                out.add(
                    R.COOKIE_INSECURE,
                    v.kind,
                    key,
                    f"cookie {c.name}: " + "; ".join(problems),
                    cookie_evidence(c, explained),
                )
            if c.lifetime_s is not None and not out.has(R.COOKIE_LIFETIME, key):
                limit = None
                if declared is not None and declared.max_age_days is not None:
                    limit = declared.max_age_days * 86400
                if limit is not None and c.lifetime_s > limit + _SLACK_S:
                    out.add(
                        R.COOKIE_LIFETIME,
                        v.kind,
                        key,
                        f"cookie {c.name} lives {days(c.lifetime_s)}, its declaration allows {days(limit)}",
                        cookie_evidence(c, explained),
                    )
                elif c.lifetime_s > _THIRTEEN_MONTHS_S + _SLACK_S:
                    out.add(
                        R.COOKIE_LIFETIME,
                        v.kind,
                        key,
                        f"cookie {c.name} lives {days(c.lifetime_s)}, more than 13 months",
                        cookie_evidence(c, explained),
                    )


def personal_data(page: PageResult, ctx: RuleContext, out: Findings) -> None:
    for v in page.visits:
        if not judgeable(v):
            continue
        values: list[tuple[str, str, str, str]] = [
            (cookie_key(c), c.name, c.value, c.raw or f"{c.source} cookie") for c in v.cookies
        ]
        values += [(cookie_key(j), j.name, j.value, "in the jar") for j in v.jar]
        for key, name, value, where in values:
            if out.has(R.PERSONAL_DATA_IN_COOKIE, key):
                continue
            reason = looks_personal(value, ctx.client_ip)
            if reason:
                out.add(
                    R.PERSONAL_DATA_IN_COOKIE,
                    v.kind,
                    key,
                    f"cookie {name} holds what looks like personal data ({reason})",
                    [("kind", reason), ("cookie", where), ("value", value[:200])],
                )


def withdrawal(page: PageResult, ctx: RuleContext, out: Findings) -> None:
    ac = page.visit(VisitKind.ACCEPT)
    rj = page.visit(VisitKind.REJECT)
    if ac is None or not judgeable(ac) or ac.jar_after_withdrawal is None:
        return
    without_consent = {cookie_key(c) for c in rj.jar} if rj is not None and judgeable(rj) else None
    accepted = {cookie_key(c) for c in ac.jar}
    for c in ac.jar_after_withdrawal:
        key = cookie_key(c)
        if key not in accepted or not ctx.cookie_first_party(c):
            continue
        if out.has(R.COOKIE_BEFORE_CONSENT, key) or out.has(R.COOKIE_AFTER_REJECT, key):
            continue  # set without consent anyway: reported as that
        category, explained = ctx.cookie_category(c)
        if category is Category.NECESSARY:
            continue
        if category is None and (without_consent is None or key in without_consent):
            continue  # unknown, and set without consent too: not a consent cookie
        out.add(
            R.CONSENT_NOT_WITHDRAWN,
            ac.kind,
            key,
            f"cookie {c.name} stayed after the visitor withdrew consent",
            [
                ("cookie", f"{c.name}={c.value}"),
                ("what it is", explained or 'set only after "accept all"'),
                ("withdrawal", ac.withdrawal_note),
            ],
        )
