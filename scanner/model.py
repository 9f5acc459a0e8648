"""What a scan records and concludes: options in, visit records and findings out (frozen, JSON-ready)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

__all__ = [
    "BannerRecord",
    "CookieRecord",
    "Finding",
    "FrameRecord",
    "JarCookie",
    "PageResult",
    "Phase",
    "RequestRecord",
    "ScanOptions",
    "ScanResult",
    "Severity",
    "StorageWrite",
    "ThirdParty",
    "VisitKind",
    "VisitRecord",
]


class VisitKind(StrEnum):
    """The four fresh visits of every page, in report order."""

    FIRST_VIEW = "first-view"  # no choice made
    REJECT = "reject"  # after "reject all" on the banner
    ACCEPT = "accept"  # after "accept all" (then withdrawn, to see what stays)
    GPC = "gpc"  # Sec-GPC: 1 and navigator.globalPrivacyControl, then "accept all"


class Phase(StrEnum):
    """When, within a visit, something happened."""

    BEFORE = "before-choice"
    AFTER = "after-choice"
    WITHDRAWN = "after-withdrawal"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


@dataclass(frozen=True)
class RequestRecord:
    url: str
    method: str
    resource_type: str  # DevTools' type: Document, Script, Image, XHR, Fetch, Ping, ...
    frame_url: str  # the document that made it ("" when unknown)
    initiator: str  # "parser https://site/page", "script https://cdn/x.js", "redirect ...", "other"
    phase: Phase
    status: int | None = None
    failure: str | None = None  # net::ERR_... or a blocked reason
    ms: int = 0  # since the visit started


@dataclass(frozen=True)
class CookieRecord:
    """A cookie the site or a third party tried to set: from a response header (DevTools extra-info,
    blocked ones included) or from script (document.cookie, cookieStore)."""

    name: str
    value: str
    domain: str  # the Domain attribute, else the host that set it
    path: str
    source: str  # "header" or "script"
    url: str  # the response, or the document whose script wrote it
    phase: Phase
    raw: str  # the Set-Cookie line or the string written
    secure: bool = False
    http_only: bool = False
    same_site: str = ""  # as written: "", "Lax", "Strict", "None"
    lifetime_s: float | None = None  # None: a session cookie; <= 0: a deletion
    blocked: tuple[str, ...] = ()  # the browser's reasons when it refused it
    initiator: str = ""  # for script cookies: the script URL when known


@dataclass(frozen=True)
class JarCookie:
    name: str
    value: str
    domain: str
    path: str
    expires: float  # epoch seconds, -1 for a session cookie
    secure: bool
    http_only: bool
    same_site: str


@dataclass(frozen=True)
class StorageWrite:
    area: str  # "local" or "session"
    origin: str
    key: str
    value: str  # truncated to 200 characters
    phase: Phase


@dataclass(frozen=True)
class FrameRecord:
    url: str
    parent_url: str  # "" for the main frame
    name: str = ""


@dataclass(frozen=True)
class BannerRecord:
    found: bool
    kind: str = ""  # "gatekeeper", "onetrust", ..., "text" (heuristic), "" when none
    has_accept: bool = False
    has_reject: bool = False  # on the first layer
    clicked: str = ""  # "accept", "reject" or "" (nothing clicked)
    note: str = ""  # why a click was not possible, or what the heuristic matched


@dataclass(frozen=True)
class VisitRecord:
    kind: VisitKind
    url: str
    final_url: str
    status: int | None
    error: str | None
    banner: BannerRecord
    requests: tuple[RequestRecord, ...] = ()
    cookies: tuple[CookieRecord, ...] = ()
    jar: tuple[JarCookie, ...] = ()
    storage: tuple[StorageWrite, ...] = ()
    frames: tuple[FrameRecord, ...] = ()
    # ACCEPT only: the jar after the visitor withdrew consent and reloaded; None when not withdrawn
    jar_after_withdrawal: tuple[JarCookie, ...] | None = None
    withdrawal_note: str = ""
    links: tuple[str, ...] = ()  # FIRST_VIEW only: same-site links found on the page
    screenshot: bytes | None = field(default=None, repr=False)  # FIRST_VIEW only, JPEG
    started: float = 0.0  # epoch seconds
    duration_ms: int = 0
    gatekeeper: bool = False  # the page carries gatekeeper's snippets


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    page: str
    visit: VisitKind | None  # None for page-level findings
    subject: str  # the offending URL, cookie (name@domain), storage key or banner
    message: str
    evidence: tuple[tuple[str, str], ...] = ()
    service: str | None = None  # catalog/registry service id, when known

    def sort_key(self) -> tuple[str, int, str, str]:
        order = list(VisitKind).index(self.visit) if self.visit is not None else -1
        return (self.page, order, self.rule, self.subject)


@dataclass(frozen=True)
class PageResult:
    url: str
    depth: int
    visits: tuple[VisitRecord, ...]
    findings: tuple[Finding, ...] = ()

    def visit(self, kind: VisitKind) -> VisitRecord | None:
        for v in self.visits:
            if v.kind is kind:
                return v
        return None


@dataclass(frozen=True)
class ScanOptions:
    url: str
    max_pages: int = 50
    max_depth: int | None = None
    include: tuple[str, ...] = ()  # glob patterns on the URL path (with query)
    exclude: tuple[str, ...] = ()
    workers: int = 3  # a visit waits on the network most of its time: 3 keep 2 cores busy
    timeout: float = 20.0  # seconds per navigation
    settle_ms: int = 300  # network quiet time that ends a load
    headers: Mapping[str, str] = field(default_factory=dict)
    services: Path | None = None
    chromium: str | None = None
    host_map: Mapping[str, str] = field(default_factory=dict)  # Chromium host pattern -> host:port
    block_unmapped: bool = False  # with host_map: every other name fails at once (loopback excepted)
    ignore_https_errors: bool = False
    client_ip: str | None = None  # the address the site sees, for the personal-data check
    sitemap: bool = True
    screenshots: bool = True
    visits: tuple[VisitKind, ...] = tuple(VisitKind)


@dataclass(frozen=True)
class ThirdParty:
    """A third-party host the scan saw, and what the registry says it is."""

    host: str
    service: str | None  # registry service id; None: undeclared
    name: str  # the service's name (from the catalog when undeclared but known), else ""
    category: str  # the service's category, else ""
    pages: int  # on how many pages it was contacted


@dataclass(frozen=True)
class ScanResult:
    target: str
    started: float
    duration_s: float
    pages: tuple[PageResult, ...]
    findings: tuple[Finding, ...]
    registry_sources: tuple[str, ...]
    gatekeeper: bool  # the site is served through gatekeeper
    options: ScanOptions
    notes: tuple[str, ...] = ()
    third_parties: tuple[ThirdParty, ...] = ()

    def at_or_above(self, severity: Severity) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity.rank >= severity.rank)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.value] += 1
        return out
