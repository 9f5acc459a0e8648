"""What a scan records and concludes: options in, visit records and findings out (frozen, JSON-ready)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

__all__ = [
    "ApiUse",
    "BannerContent",
    "BannerRecord",
    "ButtonLook",
    "CookieRecord",
    "Finding",
    "FormRecord",
    "FrameRecord",
    "JarCookie",
    "PageResult",
    "Phase",
    "RequestRecord",
    "RuleId",
    "ScanOptions",
    "ScanResult",
    "Severity",
    "SocketFrame",
    "StorageWrite",
    "Technique",
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


class RuleId(StrEnum):
    """Every rule the scanner has: a typo in a rule id fails at import, not in a report."""

    PAGE_NOT_JUDGED = "page-not-judged"
    PAGE_ERROR = "page-error"
    PAGE_TIMEOUT = "page-timeout"
    REQUEST_BEFORE_CONSENT = "request-before-consent"
    COOKIE_BEFORE_CONSENT = "cookie-before-consent"
    STORAGE_BEFORE_CONSENT = "storage-before-consent"
    THIRD_PARTY_STORAGE = "third-party-storage-before-consent"
    REQUEST_AFTER_REJECT = "request-after-reject"
    COOKIE_AFTER_REJECT = "cookie-after-reject"
    GPC_IGNORED = "gpc-ignored"
    FINGERPRINTING = "fingerprinting"
    KEYLOGGING = "keylogging"
    SESSION_RECORDING = "session-recording"
    UNDECLARED_THIRD_PARTY = "undeclared-third-party"
    UNDECLARED_COOKIE = "undeclared-cookie"
    PERSONAL_DATA_IN_COOKIE = "personal-data-in-cookie"
    COOKIE_INSECURE = "cookie-insecure"
    COOKIE_LIFETIME = "cookie-lifetime"
    FORM_OVER_HTTP = "form-over-http"
    NO_BANNER = "no-banner"
    NO_REJECT_ON_FIRST_LAYER = "no-reject-on-first-layer"
    REJECT_NOT_AS_EASY = "reject-not-as-easy"
    PRETICKED_BOXES = "preticked-boxes"
    BANNER_NO_PURPOSES = "banner-no-purposes"
    BANNER_NO_THIRD_PARTIES = "banner-no-third-parties"
    BANNER_NO_RETENTION = "banner-no-retention"
    BANNER_NO_WITHDRAWAL = "banner-no-withdrawal"
    BANNER_NO_PRIVACY_POLICY = "banner-no-privacy-policy"
    CONSENT_NOT_WITHDRAWN = "consent-not-withdrawn"


class Technique(StrEnum):
    """Browser APIs read to tell one device from another, as the in-page instrumentation sees them."""

    CANVAS = "canvas"  # text drawn on a canvas, then its pixels read back
    FONTS = "font-enumeration"  # measureText over many font families
    WEBGL = "webgl"  # the unmasked GPU vendor/renderer read
    AUDIO = "audio"  # an oscillator rendered through an OfflineAudioContext


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
    source: str = "page"  # who sent it: "page" (any frame), "worker", "service_worker", "shared_worker"
    post_data: str = ""  # the request body as DevTools gives it (first 2,000 characters)


@dataclass(frozen=True)
class SocketFrame:
    """A WebSocket message the page sent (the socket itself is a RequestRecord of type WebSocket)."""

    url: str
    payload: str  # first 500 characters
    phase: Phase
    ms: int = 0


@dataclass(frozen=True)
class ApiUse:
    """A fingerprinting technique, and the script that used it."""

    technique: Technique
    script: str  # the script's URL (the document's URL for an inline script)
    document: str
    detail: str
    phase: Phase


@dataclass(frozen=True)
class FormRecord:
    action: str  # resolved URL
    method: str  # "get" or "post"
    document: str


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
    area: str  # "local", "session" or "indexedDB" (key: "database/store/key")
    origin: str
    key: str
    value: str  # truncated to 200 characters
    phase: Phase
    initiator: str = ""  # the script that wrote it, when known


@dataclass(frozen=True)
class FrameRecord:
    url: str
    parent_url: str  # "" for the main frame
    name: str = ""


@dataclass(frozen=True)
class ButtonLook:
    """How a banner button looks: what decides whether "reject" is as easy as "accept"."""

    label: str
    width: float
    height: float
    text_contrast: float  # WCAG contrast of its text on its background
    fill_contrast: float  # of its background (or border) against the banner's: 1.0 = no visible box
    font_px: float
    layer: int = 1  # 1: on the banner as shown; 2: behind a "settings" step


@dataclass(frozen=True)
class BannerContent:
    """What the banner says and offers (both layers: the settings are in the page, perhaps hidden)."""

    text: str  # first 6,000 characters
    links: tuple[tuple[str, str], ...] = ()  # (text, href)
    accept: ButtonLook | None = None
    reject: ButtonLook | None = None
    prechecked: tuple[str, ...] = ()  # labels of consent boxes ticked before any choice


@dataclass(frozen=True)
class BannerRecord:
    found: bool
    kind: str = ""  # "gatekeeper", "onetrust", ..., "text" (heuristic), "" when none
    has_accept: bool = False
    has_reject: bool = False  # on the first layer
    clicked: str = ""  # "accept", "reject" or "" (nothing clicked)
    note: str = ""  # why a click was not possible, or what the heuristic matched
    content: BannerContent | None = None  # FIRST_VIEW only


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
    timed_out: bool = False  # the load did not finish in time: judged on what was recorded
    socket_frames: tuple[SocketFrame, ...] = ()
    api_uses: tuple[ApiUse, ...] = ()
    forms: tuple[FormRecord, ...] = ()  # FIRST_VIEW only
    typed: str = ""  # the text the visit typed into a field (never submitted)
    globals_found: tuple[str, ...] = ()  # FIRST_VIEW: known session-recording globals on the page
    interaction: str = ""  # what the visit did like a visitor before it was judged


@dataclass(frozen=True)
class Finding:
    rule: RuleId
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
    timeout: float = 20.0  # seconds per navigation; a visit that runs out is judged on what it saw
    settle_ms: int = 300  # network quiet time that ends a load
    dwell_ms: int = 3000  # how long a first view stays after load, for late trackers
    max_quiet_wait_ms: int = 2000  # after the dwell, wait at most this long for the network to go quiet
    interact: bool = True  # scroll, move the pointer, type into a text field, before judging
    unjudged_ok: bool = False  # a page that could not be judged is a warning, not an error
    shard: tuple[int, int] = (1, 1)  # (K, N): visit only the K-th of N stable shares of the pages
    journal: Path | None = None  # finished pages are appended here (JSON lines), for --resume
    resume: bool = False  # take the pages already in `journal` as done
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
