"""What the rules share: the classification of hosts, cookies and requests (`RuleContext`), the
collector of one page's findings, and how evidence is written.

Third party means another registrable domain (eTLD+1) and not a declared first-party host: the
registry decides (`Registry.is_first_party`, `services_for_url`), as it does for the middleware.
A cookie's category comes from its declaration (first party) or its service (third party), else from
the Open Cookie Database; a request's from its service. Only `necessary` needs no consent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from gatekeeper.psl import normalize_host
from gatekeeper.registry import Category, Registry, Service

from ..cookiedb import CookieDatabase, cookie_database
from ..model import CookieRecord, Finding, JarCookie, RequestRecord, RuleId, Severity, VisitKind, VisitRecord
from .catalog import RULES

__all__ = [
    "CONSENT_COOKIES",
    "Findings",
    "RuleContext",
    "cookie_evidence",
    "cookie_key",
    "days",
    "host_of",
    "is_set",
    "judgeable",
    "left_the_browser",
    "request_evidence",
    "url_key",
]

# Cookies that record the consent itself: necessary by nature.
CONSENT_COOKIES = frozenset(
    {
        "gk_consent", "__Host-gk_consent", "OptanonConsent", "OptanonAlertBoxClosed",
        "CookieConsent", "CookieConsentBulkTicket", "didomi_token", "euconsent-v2", "cc_cookie",
        "klaro", "tarteaucitron", "cmplz_banner-status", "cmplz_consented_services",
        "cmplz_policy_id", "uc_settings", "uc_user_interaction", "_osano_consentmanager",
    }
)  # fmt: skip


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
    unjudged_ok: bool = False  # a page that could not be judged is a warning, not an error

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
        host = host_of(r.url)
        if not self.third_party(host) or not left_the_browser(r):
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
        if isinstance(c, CookieRecord) and c.url and self.third_party(host_of(c.url)):
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


def left_the_browser(r: RequestRecord) -> bool:
    return r.failure is None or not any(b in r.failure for b in _BLOCKED_BEFORE_SENDING)


def host_of(url: str) -> str:
    try:
        return normalize_host(urlsplit(url).hostname or "")
    except ValueError:
        return ""


def url_key(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}{p.path}"


def cookie_key(c: CookieRecord | JarCookie) -> str:
    return f"{c.name}@{c.domain.lstrip('.')}"


def days(seconds: float) -> str:
    return f"{seconds / 86400:.0f} days"


class Findings:
    """Collects findings for one page, one per (rule, visit, subject)."""

    def __init__(self, page: str) -> None:
        self.page = page
        self.items: dict[tuple[RuleId, VisitKind | None, str], Finding] = {}

    def add(
        self,
        rule: RuleId,
        visit: VisitKind | None,
        subject: str,
        message: str,
        evidence: Iterable[tuple[str, str]] = (),
        service: Service | None = None,
        severity: Severity | None = None,
    ) -> None:
        key = (rule, visit, subject)
        if key in self.items:
            return
        self.items[key] = Finding(
            rule=rule,
            severity=severity or RULES[rule].severity,
            page=self.page,
            visit=visit,
            subject=subject,
            message=message,
            evidence=tuple((k, v) for k, v in evidence if v),
            service=service.id if service else None,
        )

    def has(self, rule: RuleId, subject: str | None = None) -> bool:
        return any(k[0] == rule and (subject is None or k[2] == subject) for k in self.items)


def request_evidence(r: RequestRecord, service: Service | None) -> list[tuple[str, str]]:
    return [
        ("url", r.url),
        ("type", r.resource_type),
        ("initiator", r.initiator),
        ("document", r.frame_url),
        ("service", f"{service.name} ({service.vendor}, {service.category.value})" if service else ""),
        ("result", r.failure or (str(r.status) if r.status is not None else "")),
    ]


def cookie_evidence(c: CookieRecord, explained: str) -> list[tuple[str, str]]:
    return [
        ("set by", f"{c.source} {c.url}".strip()),
        ("script", c.initiator),
        ("cookie", c.raw or f"{c.name}={c.value}"),
        ("blocked by the browser", ", ".join(c.blocked)),
        ("what it is", explained),
    ]


def is_set(c: CookieRecord) -> bool:
    """A cookie being set (not a deletion)."""
    return c.lifetime_s is None or c.lifetime_s > 0


def judgeable(v: VisitRecord | None) -> bool:
    """The visit loaded a document (perhaps not to the end: a timed-out visit is judged too)."""
    return v is not None and v.error is None
