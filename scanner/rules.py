"""Findings: the visit records of a page, judged against the registry (pure functions, no browser).

Third party means another registrable domain (eTLD+1) and not a declared first-party host: the
registry decides (`Registry.is_first_party`, `services_for_url`), as it does for the middleware.
A cookie's category comes from its declaration (first party) or its service (third party), else from
the Open Cookie Database; a request's from its service. Only `necessary` needs no consent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from gatekeeper.cookies import looks_personal
from gatekeeper.psl import normalize_host
from gatekeeper.registry import Category, Registry, Service

from .cookiedb import CookieDatabase, cookie_database
from .model import (
    CookieRecord,
    Finding,
    JarCookie,
    PageResult,
    Phase,
    RequestRecord,
    Severity,
    ThirdParty,
    VisitKind,
    VisitRecord,
)

__all__ = ["RULES", "Rule", "RuleContext", "evaluate", "third_parties"]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    help: str  # what it means and how to fix it


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {r.id: r for r in rules}


E, W = Severity.ERROR, Severity.WARNING
RULES = _rules(
    Rule("request-before-consent", E, "Third party contacted before consent",
         "The page made the browser contact a third party before the visitor chose. Load the "
         "element only after consent (gatekeeper makes it inert), or declare the host as first "
         "party if it is your own."),
    Rule("cookie-before-consent", E, "Cookie set before consent",
         "A cookie that is not strictly necessary was set, or offered, before the visitor chose. "
         "Set it only once its category is granted."),
    Rule("storage-before-consent", W, "Browser storage written before consent",
         "localStorage or sessionStorage was written before the visitor chose. Storage needs the "
         "same consent as cookies unless it is strictly necessary (declare it as necessary)."),
    Rule("request-after-reject", E, "Third party contacted after \"reject all\"",
         "After the visitor rejected everything, the page still contacted a third party."),
    Rule("cookie-after-reject", E, "Cookie set after \"reject all\"",
         "After the visitor rejected everything, a cookie that is not strictly necessary was set."),
    Rule("gpc-ignored", E, "Global Privacy Control ignored",
         "With Sec-GPC: 1, a service that sells or shares data was loaded after \"accept all\". "
         "Under GPC such a service needs an explicit opt-in to it."),
    Rule("undeclared-third-party", W, "Undeclared third party",
         "A host that belongs to no service of the registry. Add the service to the services file "
         "(or the host to first_party_hosts), so visitors are told about it."),
    Rule("undeclared-cookie", W, "Undeclared first-party cookie",
         "The site set a cookie its services file does not declare. Declare it with its category, "
         "purpose and lifetime, or stop setting it."),
    Rule("personal-data-in-cookie", E, "Personal data in a cookie",
         "A cookie value holds an e-mail address, the visitor's IP address or a phone number "
         "(perhaps URL- or base64-encoded). Keep such data on the server."),
    Rule("cookie-insecure", W, "Insecure cookie attributes",
         "A first-party cookie lacks Secure on an HTTPS site, or has SameSite=None without Secure."),
    Rule("cookie-lifetime", W, "Cookie kept too long",
         "A first-party cookie lives longer than its declaration allows, or longer than 13 months."),
    Rule("no-banner", W, "No consent banner",
         "No consent banner was found on this page, though the site needs consent (it has a banner "
         "elsewhere, or this page uses third parties or cookies that need it)."),
    Rule("no-reject-on-first-layer", W, "No reject button on the first layer",
         "The banner offers \"accept\" but no equally easy \"reject\": refusing must be as easy as "
         "accepting."),
    Rule("consent-not-withdrawn", E, "Cookies stay after withdrawal",
         "After the visitor withdrew consent, cookies that depended on it were still there. Expire "
         "the cookies of revoked categories when consent is withdrawn."),
    Rule("page-error", W, "Page could not be scanned",
         "The page failed to load, or answered with an HTTP error, in at least one visit."),
)  # fmt: skip

# Cookies that record the consent itself: necessary by nature.
CONSENT_COOKIES = frozenset(
    {
        "gk_consent", "__Host-gk_consent", "OptanonConsent", "OptanonAlertBoxClosed",
        "CookieConsent", "CookieConsentBulkTicket", "didomi_token", "euconsent-v2", "cc_cookie",
        "klaro", "tarteaucitron", "cmplz_banner-status", "cmplz_consented_services",
        "cmplz_policy_id", "uc_settings", "uc_user_interaction", "_osano_consentmanager",
    }
)  # fmt: skip

_THIRTEEN_MONTHS_S = 396 * 86400
_SLACK_S = 86400  # a declaration in days is rounded; clocks differ


@dataclass(frozen=True)
class RuleContext:
    registry: Registry  # what the site declares (its services file, or the catalog)
    site_host: str
    https: bool
    declared: bool = False  # the registry is the site's own: undeclared cookies can be judged
    client_ip: str | None = None
    catalog: Registry | None = None  # to name services the site did not declare
    cookie_db: CookieDatabase = field(default_factory=cookie_database)
    endpoint_prefix: str = "/_gatekeeper/"

    # -- classification ----------------------------------------------------------------------

    def third_party(self, host: str) -> bool:
        return bool(host) and not self.registry.is_first_party(host, self.site_host)

    def services(self, url: str) -> tuple[Service, ...]:
        return self.registry.services_for_url(url)

    def known_service(self, url: str) -> Service | None:
        found = self.services(url)
        if not found and self.catalog is not None:
            found = self.catalog.services_for_url(url)
        return found[0] if found else None

    def request_needs_consent(self, r: RequestRecord) -> bool:
        host = _host(r.url)
        if not self.third_party(host) or not _left_the_browser(r):
            return False
        # only a declared service may load without consent: an undeclared CDN is undisclosed
        declared = self.services(r.url)
        return not (declared and declared[0].category.always_on)

    def cookie_first_party(self, c: CookieRecord | JarCookie) -> bool:
        return not self.third_party(normalize_host(c.domain.lstrip(".")))

    def is_consent_record(self, c: CookieRecord | JarCookie) -> bool:
        """The cookie that stores the visitor's choice: a known platform's, or one set by
        gatekeeper's consent endpoint."""
        if c.name in CONSENT_COOKIES:
            return True
        return isinstance(c, CookieRecord) and urlsplit(c.url).path.startswith(self.endpoint_prefix)

    def cookie_category(self, c: CookieRecord | JarCookie) -> tuple[Category | None, str]:
        """The cookie's category and where that comes from."""
        if self.cookie_first_party(c):
            decl = self.registry.cookie_declaration(c.name)
            if decl is not None:
                return decl.category, f"declared as {decl.category.value}: {decl.purpose.en}"
            if self.is_consent_record(c):
                return Category.NECESSARY, "records the consent choice"
        else:
            service = self.cookie_service(c)
            if service is not None:
                return service.category, f"set by {service.name} ({service.category.value})"
        known = self.cookie_db.lookup(c.name)
        if known is None or known.category is None:
            return None, ""
        if self.cookie_first_party(c) and not known.set_by_site and known.category is Category.NECESSARY:
            # a vendor's cookie of the same name (LinkedIn's "lang") says nothing about this one
            return None, ""
        return known.category, known.explain()

    def cookie_service(self, c: CookieRecord | JarCookie) -> Service | None:
        """The service a third-party cookie belongs to: that of the response that set it, else
        that of its domain."""
        if isinstance(c, CookieRecord) and c.url and self.third_party(_host(c.url)):
            found = self.known_service(c.url)
            if found is not None:
                return found
        return self.known_service("https://" + c.domain.lstrip(".") + c.path)

    def cookie_needs_consent(self, c: CookieRecord | JarCookie) -> bool:
        category, _ = self.cookie_category(c)
        if category is None:
            return not self.cookie_first_party(c)  # an unknown third party's cookie: yes
        return category is not Category.NECESSARY


# Blocked before anything was sent (a CSP, mixed content...): an attempt that reached no one.
_BLOCKED_BEFORE_SENDING = ("blocked:csp", "blocked:mixed-content", "blocked:inspector",
                           "blocked:subresource-filter")  # fmt: skip


def _left_the_browser(r: RequestRecord) -> bool:
    return r.failure is None or not any(b in r.failure for b in _BLOCKED_BEFORE_SENDING)


def _host(url: str) -> str:
    try:
        return normalize_host(urlsplit(url).hostname or "")
    except ValueError:
        return ""


def _url_key(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}{p.path}"


def _cookie_key(c: CookieRecord | JarCookie) -> str:
    return f"{c.name}@{c.domain.lstrip('.')}"


def _days(seconds: float) -> str:
    return f"{seconds / 86400:.0f} days"


class _Findings:
    """Collects findings for one page, one per (rule, visit, subject)."""

    def __init__(self, page: str) -> None:
        self.page = page
        self.items: dict[tuple[str, VisitKind | None, str], Finding] = {}

    def add(
        self,
        rule: str,
        visit: VisitKind | None,
        subject: str,
        message: str,
        evidence: Iterable[tuple[str, str]] = (),
        service: Service | None = None,
    ) -> None:
        key = (rule, visit, subject)
        if key in self.items:
            return
        self.items[key] = Finding(
            rule=rule,
            severity=RULES[rule].severity,
            page=self.page,
            visit=visit,
            subject=subject,
            message=message,
            evidence=tuple((k, v) for k, v in evidence if v),
            service=service.id if service else None,
        )

    def has(self, rule: str, subject: str) -> bool:
        return any(k[0] == rule and k[2] == subject for k in self.items)


def _request_evidence(r: RequestRecord, service: Service | None) -> list[tuple[str, str]]:
    return [
        ("url", r.url),
        ("type", r.resource_type),
        ("initiator", r.initiator),
        ("document", r.frame_url),
        ("service", f"{service.name} ({service.vendor}, {service.category.value})" if service else ""),
        ("result", r.failure or (str(r.status) if r.status is not None else "")),
    ]


def _cookie_evidence(c: CookieRecord, explained: str) -> list[tuple[str, str]]:
    return [
        ("set by", f"{c.source} {c.url}".strip()),
        ("script", c.initiator),
        ("cookie", c.raw or f"{c.name}={c.value}"),
        ("blocked by the browser", ", ".join(c.blocked)),
        ("what it is", explained),
    ]


def _set(c: CookieRecord) -> bool:
    """A cookie being set (not a deletion)."""
    return c.lifetime_s is None or c.lifetime_s > 0


def _visit_ok(v: VisitRecord | None) -> bool:
    return v is not None and v.error is None


def _consent_rules(page: PageResult, ctx: RuleContext, out: _Findings) -> None:
    fv, rj, gp = (page.visit(k) for k in (VisitKind.FIRST_VIEW, VisitKind.REJECT, VisitKind.GPC))
    before_urls: set[str] = set()
    before_cookies: set[str] = set()
    if fv is not None and _visit_ok(fv):
        for r in fv.requests:
            if ctx.request_needs_consent(r):
                key = _url_key(r.url)
                before_urls.add(key)
                service = ctx.known_service(r.url)
                what = f" ({service.name})" if service else ""
                out.add(
                    "request-before-consent",
                    fv.kind,
                    key,
                    f"{_host(r.url)}{what} was contacted before the visitor chose",
                    _request_evidence(r, service),
                    service,
                )
        for c in fv.cookies:
            if _set(c) and ctx.cookie_needs_consent(c):
                key = _cookie_key(c)
                before_cookies.add(key)
                _, explained = ctx.cookie_category(c)
                out.add(
                    "cookie-before-consent",
                    fv.kind,
                    key,
                    f"cookie {c.name} ({c.domain}) was set before the visitor chose",
                    _cookie_evidence(c, explained),
                )
        for s in fv.storage:
            decl = ctx.registry.cookie_declaration(s.key)
            if decl is not None and decl.category is Category.NECESSARY:
                continue
            out.add(
                "storage-before-consent",
                fv.kind,
                f"{s.area}Storage {s.key} ({s.origin})",
                f"{s.area}Storage[{s.key!r}] was written by {s.origin} before the visitor chose",
                [("value", s.value)],
            )

    if rj is not None and _visit_ok(rj) and rj.banner.clicked == "reject":
        for r in rj.requests:
            if r.phase is not Phase.AFTER or not ctx.request_needs_consent(r):
                continue
            key = _url_key(r.url)
            if key in before_urls:
                continue  # reported as loaded before consent already
            service = ctx.known_service(r.url)
            what = f" ({service.name})" if service else ""
            out.add(
                "request-after-reject",
                rj.kind,
                key,
                f"{_host(r.url)}{what} was contacted after the visitor rejected everything",
                _request_evidence(r, service),
                service,
            )
        for c in rj.cookies:
            if c.phase is not Phase.AFTER or not _set(c) or not ctx.cookie_needs_consent(c):
                continue
            key = _cookie_key(c)
            if key in before_cookies:
                continue
            _, explained = ctx.cookie_category(c)
            out.add(
                "cookie-after-reject",
                rj.kind,
                key,
                f"cookie {c.name} ({c.domain}) was set after the visitor rejected everything",
                _cookie_evidence(c, explained),
            )

    if gp is not None and _visit_ok(gp) and gp.banner.clicked == "accept":
        hits: dict[str, tuple[Service, list[tuple[str, str]]]] = {}
        for r in gp.requests:
            after = r.phase is Phase.AFTER and _left_the_browser(r)
            service = ctx.known_service(r.url) if after else None
            if service is None or not service.sale_share or _url_key(r.url) in before_urls:
                continue
            hits.setdefault(service.id, (service, []))[1].append(("url", r.url))
        for c in gp.cookies:
            if c.phase is not Phase.AFTER or not _set(c) or ctx.cookie_first_party(c):
                continue
            service = ctx.cookie_service(c)
            if service is not None and service.sale_share:
                hits.setdefault(service.id, (service, []))[1].append(("cookie", _cookie_key(c)))
        for sid, (service, evidence) in sorted(hits.items()):
            out.add(
                "gpc-ignored",
                gp.kind,
                sid,
                f"{service.name} ({service.vendor}) sells or shares data and was loaded under "
                'Global Privacy Control after "accept all"',
                evidence[:10],
                service,
            )


def _declaration_rules(page: PageResult, ctx: RuleContext, out: _Findings) -> None:
    seen_hosts: set[str] = set()
    for v in page.visits:
        if not _visit_ok(v):
            continue
        for r in v.requests:
            host = _host(r.url)
            if host in seen_hosts or not ctx.third_party(host) or ctx.services(r.url):
                continue
            seen_hosts.add(host)
            known = ctx.catalog.services_for_url(r.url) if ctx.catalog else ()
            hint = f" (the catalog knows it as {known[0].id!r})" if known else ""
            out.add(
                "undeclared-third-party",
                v.kind,
                host,
                f"{host} is not part of any declared service{hint}",
                _request_evidence(r, known[0] if known else None),
            )

    for v in page.visits:
        if not _visit_ok(v):
            continue
        for c in v.cookies:
            key = _cookie_key(c)
            if not ctx.cookie_first_party(c) or not _set(c):
                continue
            _, explained = ctx.cookie_category(c)
            declared = ctx.registry.cookie_declaration(c.name)
            undeclared = ctx.declared and declared is None and not ctx.is_consent_record(c)
            if undeclared and not out.has("undeclared-cookie", key):
                out.add(
                    "undeclared-cookie",
                    v.kind,
                    key,
                    f"cookie {c.name} is not declared in the services file",
                    _cookie_evidence(c, explained),
                )
            problems = []
            if ctx.https and not c.secure:
                problems.append("no Secure attribute on an HTTPS site")
            if c.same_site.lower() == "none" and not c.secure:
                problems.append("SameSite=None without Secure")
            if problems and not out.has("cookie-insecure", key):
                out.add(
                    "cookie-insecure",
                    v.kind,
                    key,
                    f"cookie {c.name}: " + "; ".join(problems),
                    _cookie_evidence(c, explained),
                )
            if c.lifetime_s is not None and not out.has("cookie-lifetime", key):
                limit = None
                if declared is not None and declared.max_age_days is not None:
                    limit = declared.max_age_days * 86400
                if limit is not None and c.lifetime_s > limit + _SLACK_S:
                    out.add(
                        "cookie-lifetime",
                        v.kind,
                        key,
                        f"cookie {c.name} lives {_days(c.lifetime_s)}, its declaration allows {_days(limit)}",
                        _cookie_evidence(c, explained),
                    )
                elif c.lifetime_s > _THIRTEEN_MONTHS_S + _SLACK_S:
                    out.add(
                        "cookie-lifetime",
                        v.kind,
                        key,
                        f"cookie {c.name} lives {_days(c.lifetime_s)}, more than 13 months",
                        _cookie_evidence(c, explained),
                    )


def _personal_data(page: PageResult, ctx: RuleContext, out: _Findings) -> None:
    for v in page.visits:
        if not _visit_ok(v):
            continue
        values: list[tuple[str, str, str, str]] = [
            (_cookie_key(c), c.name, c.value, c.raw or f"{c.source} cookie") for c in v.cookies
        ]
        values += [(_cookie_key(j), j.name, j.value, "in the jar") for j in v.jar]
        for key, name, value, where in values:
            if out.has("personal-data-in-cookie", key):
                continue
            reason = looks_personal(value, ctx.client_ip)
            if reason:
                out.add(
                    "personal-data-in-cookie",
                    v.kind,
                    key,
                    f"cookie {name} holds what looks like personal data ({reason})",
                    [("kind", reason), ("cookie", where), ("value", value[:200])],
                )


def _banner_rules(page: PageResult, ctx: RuleContext, out: _Findings, site_has_banner: bool) -> None:
    fv = page.visit(VisitKind.FIRST_VIEW)
    if fv is None or not _visit_ok(fv):
        return
    banner = fv.banner
    if not banner.found:
        needs = any(f.rule in ("request-before-consent", "cookie-before-consent") for f in out.items.values())
        if site_has_banner or needs:
            why = "other pages of the site have one" if site_has_banner else "this page needs consent"
            out.add("no-banner", fv.kind, "banner", f"no consent banner found ({why})")
    elif banner.has_accept and not banner.has_reject:
        out.add(
            "no-reject-on-first-layer",
            fv.kind,
            f"banner ({banner.kind})",
            f"the {banner.kind} banner has an accept button but no reject button on its first layer",
            [("banner", banner.kind), ("note", banner.note)],
        )


def _withdrawal(page: PageResult, ctx: RuleContext, out: _Findings) -> None:
    ac = page.visit(VisitKind.ACCEPT)
    rj = page.visit(VisitKind.REJECT)
    if ac is None or not _visit_ok(ac) or ac.jar_after_withdrawal is None:
        return
    without_consent = {_cookie_key(c) for c in rj.jar} if rj is not None and _visit_ok(rj) else None
    accepted = {_cookie_key(c) for c in ac.jar}
    for c in ac.jar_after_withdrawal:
        key = _cookie_key(c)
        if key not in accepted or not ctx.cookie_first_party(c):
            continue
        if out.has("cookie-before-consent", key) or out.has("cookie-after-reject", key):
            continue  # set without consent anyway: reported as that
        category, explained = ctx.cookie_category(c)
        if category is Category.NECESSARY:
            continue
        if category is None and (without_consent is None or key in without_consent):
            continue  # unknown, and set without consent too: not a consent cookie
        out.add(
            "consent-not-withdrawn",
            ac.kind,
            key,
            f"cookie {c.name} stayed after the visitor withdrew consent",
            [
                ("cookie", f"{c.name}={c.value}"),
                ("what it is", explained or 'set only after "accept all"'),
                ("withdrawal", ac.withdrawal_note),
            ],
        )


def _errors(page: PageResult, out: _Findings) -> None:
    for v in page.visits:
        if v.error is not None:
            out.add("page-error", v.kind, page.url, f"the page did not load: {v.error}")
        elif v.status is not None and v.status >= 400:
            out.add("page-error", v.kind, page.url, f"the page answered HTTP {v.status}")


def evaluate(pages: Sequence[PageResult], ctx: RuleContext) -> tuple[PageResult, ...]:
    """The pages with their findings (deterministic order)."""
    site_has_banner = any(
        (fv := p.visit(VisitKind.FIRST_VIEW)) is not None and fv.banner.found for p in pages
    )
    judged = []
    for page in pages:
        out = _Findings(page.url)
        _errors(page, out)
        _consent_rules(page, ctx, out)
        _declaration_rules(page, ctx, out)
        _personal_data(page, ctx, out)
        _withdrawal(page, ctx, out)
        _banner_rules(page, ctx, out, site_has_banner)
        findings = tuple(sorted(out.items.values(), key=Finding.sort_key))
        judged.append(replace(page, findings=findings))
    return tuple(judged)


def third_parties(pages: Sequence[PageResult], ctx: RuleContext) -> tuple[ThirdParty, ...]:
    """Every third-party host contacted in any visit, with its service, sorted by host."""
    where: dict[str, set[str]] = {}
    sample: dict[str, str] = {}
    for page in pages:
        for v in page.visits:
            for r in v.requests:
                host = _host(r.url)
                if ctx.third_party(host):
                    where.setdefault(host, set()).add(page.url)
                    sample.setdefault(host, r.url)
    out = []
    for host in sorted(where):
        declared = ctx.services(sample[host])
        known = declared[0] if declared else ctx.known_service(sample[host])
        out.append(
            ThirdParty(
                host=host,
                service=declared[0].id if declared else None,
                name=known.name.en if known else "",
                category=known.category.value if known else "",
                pages=len(where[host]),
            )
        )
    return tuple(out)
