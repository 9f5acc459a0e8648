"""The one registry: what the site uses and declares. Every other step reads it, none writes it.

Loaded from the built-in catalog (`catalog.toml`) and, optionally, an operator's services file that
extends or overrides it. Mistakes in either raise `ConfigError` at start-up, naming the file, the entry
and the fix.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import fnmatch
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, cached_property
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from .psl import normalize_host, registrable_domain

__all__ = [
    "CONSENT_MODE_TYPES",
    "UNDECLARED",
    "Category",
    "ConfigError",
    "CookieDeclaration",
    "HostPattern",
    "Placeholder",
    "Registry",
    "Service",
    "ServiceCookie",
    "Text",
    "country_domains",
    "did_you_mean",
    "load_catalog",
    "load_registry",
    "required_notice",
    "undeclared_service",
]

MAX_COOKIE_DAYS = 400  # browsers cap cookie lifetimes at 400 days; a longer declaration is a mistake


class ConfigError(ValueError):
    """A services file or a middleware argument is wrong; the message says where and how to fix it.
    `errors` holds every mistake found in one file (the message lists them all)."""

    def __init__(self, message: str, errors: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.errors = errors or (message,)


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """' (did you mean 'youtube'?)' for a near miss, else ''."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Category(StrEnum):
    NECESSARY = "necessary"
    USABILITY = "usability"
    ANALYTICS = "analytics"
    SOCIAL = "social"
    MEDIA = "media"
    MARKETING = "marketing"
    # A shared CDN (jQuery's, jsDelivr, cdnjs...) the site's own scripts and styles come from: it
    # receives the visitor's IP address, so it is a third party and is disclosed, but the site cannot
    # work without it, so it loads without consent. Never asked about, never blocked.
    REQUIRED = "required"

    @property
    def always_on(self) -> bool:
        """Granted without asking: the site's necessary cookies and the CDNs it cannot work without."""
        return self in _ALWAYS_ON


_ALWAYS_ON = frozenset({Category.NECESSARY, Category.REQUIRED})

# Google Consent Mode v2 storage types each category stands for.
CONSENT_MODE_TYPES: Mapping[Category, tuple[str, ...]] = {
    Category.NECESSARY: ("security_storage",),
    Category.USABILITY: ("functionality_storage", "personalization_storage"),
    Category.ANALYTICS: ("analytics_storage",),
    Category.SOCIAL: (),
    Category.MEDIA: (),
    Category.MARKETING: ("ad_storage", "ad_user_data", "ad_personalization"),
    Category.REQUIRED: (),  # loading a library is no storage a visitor consents to
}


class Placeholder(StrEnum):
    """How a service's embed is shown before consent."""

    VIDEO = "video"  # an embedded player: two-click placeholder of the same size
    MAP = "map"
    POST = "post"  # an embedded post or timeline
    BUTTON = "button"  # a share/like button whose plain link stays as the fallback
    NONE = "none"  # tags and pixels: nothing visible to replace


_LANG_TAG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True, slots=True)
class Text:
    """A text a visitor reads. `en` is the English and the message id in the gettext catalogues
    (gatekeeper.i18n translates it); `own` is an operator's own wording in other languages, given
    inline in a services file, which wins over the catalogues."""

    en: str
    own: tuple[tuple[str, str], ...] = ()  # (language tag, text), sorted

    def get(self, lang: str) -> str | None:
        """The text's own wording in a language (English always), else None."""
        if lang == "en":
            return self.en
        return next((text for tag, text in self.own if tag == lang), None)

    @property
    def languages(self) -> tuple[str, ...]:
        return ("en", *(tag for tag, _ in self.own))

    def __str__(self) -> str:
        return self.en


_HOST_RE = re.compile(r"^(\*\.)?([a-z0-9_-]+\.)*[a-z0-9_-]+$")
_PATH_RE = re.compile(r"(/[A-Za-z0-9\-._~!$&()+=:@%]*)*")

# Vendors that serve the same thing from a domain per country (google.co.uk, google.co.jp, ...): a host
# pattern "google.*" stands for each of their published registrable domains (data/<name>_domains.txt).
_COUNTRY_DOMAIN_LISTS = {"google": "data/google_domains.txt"}


@cache
def country_domains(name: str) -> tuple[str, ...]:
    """The registrable domains `name.*` stands for, each checked against the Public Suffix List."""
    text = resources.files("gatekeeper").joinpath(_COUNTRY_DOMAIN_LISTS[name]).read_text("utf-8")
    domains = []
    for line in text.splitlines():
        suffix = line.strip()
        if not suffix or suffix.startswith("#"):
            continue
        domain = f"{name}.{suffix}"
        if registrable_domain("www." + domain) != domain:  # a public suffix: no one site's name
            raise ConfigError(f"{_COUNTRY_DOMAIN_LISTS[name]}: {suffix!r} is not a public suffix")
        domains.append(domain)
    return tuple(domains)


@dataclass(frozen=True, slots=True)
class HostPattern:
    """`example.com` (that host and its subdomains), `*.example.com` (subdomains only), optionally with
    a path prefix: `www.google.com/maps`. `google.*` (or `maps.google.*`) stands for the same pattern on
    each of the vendor's country domains: see `expand`."""

    host: str
    subdomains_only: bool
    path: str  # "" or "/maps"
    family: str = ""  # the "name.*" pattern this one was expanded from, else ""

    @classmethod
    def parse(cls, text: str) -> HostPattern:
        raw = text.strip()
        if "://" in raw or raw.startswith("//"):
            raise ValueError(f"{text!r}: write a host without a scheme, e.g. 'cdn.example.com'")
        host, slash, path = raw.partition("/")
        path = "/" + path.rstrip("/") if slash else ""
        if not _PATH_RE.fullmatch(path):
            # it goes into the CSP as written: a space, ';', ',' or '*' there would add a source
            # ("*") or a directive ("; script-src *"), a CR or LF would break every response
            raise ValueError(
                f"{text!r}: the path may hold only letters, digits and - . _ ~ ! $ & ( ) + = : @ % /"
            )
        if ":" in host:
            raise ValueError(f"{text!r}: ports are not part of a host pattern")
        wildcard = host.startswith("*.")
        name = normalize_host(host[2:] if wildcard else host)
        if not name or not _HOST_RE.match(name) or "*" in name:
            raise ValueError(
                f"{text!r}: not a host pattern; use 'example.com' (it and its subdomains), "
                "'*.example.com' (subdomains only), 'www.example.com/path' or 'google.*' "
                "(every country domain of a vendor that has them)"
            )
        return cls(name, wildcard, path)

    @classmethod
    def expand(cls, text: str) -> tuple[HostPattern, ...]:
        """`parse`, and a trailing `.*` (`google.*/maps`, `maps.google.*`) as one pattern per country
        domain of that vendor: every consumer (rewriter, CSP, scanner) then sees plain host names."""
        raw = text.strip()
        host, slash, path = raw.partition("/")
        if not host.endswith(".*"):
            return (cls.parse(raw),)
        stem = host[:-2]
        vendor = stem.removeprefix("*.").rsplit(".", 1)[-1].lower()
        if vendor not in _COUNTRY_DOMAIN_LISTS:
            known = ", ".join(f"'{k}.*'" for k in sorted(_COUNTRY_DOMAIN_LISTS))
            raise ValueError(
                f"{text!r}: a '.*' ending is known only for vendors with published country domains "
                f"({known}); list the hosts one by one"
            )
        prefix = stem[: len(stem) - len(vendor)]
        return tuple(
            dataclasses.replace(cls.parse(prefix + domain + slash + path), family=raw)
            for domain in country_domains(vendor)
        )

    def matches(self, host: str, path: str = "/") -> bool:
        if host == self.host:
            if self.subdomains_only:
                return False
        elif not host.endswith("." + self.host):
            return False
        if not self.path:
            return True
        return path == self.path or path.startswith(self.path + "/")

    @property
    def specificity(self) -> tuple[int, int]:
        return (1 if self.path else 0, self.host.count(".") + (0 if self.subdomains_only else 1))

    def csp_sources(self) -> tuple[str, ...]:
        """Scheme-less CSP host sources: they match https (and http on an http page). A CSP path
        without a final "/" matches exactly that path, one with it everything below: give both.
        A country-domain family gives one short source per domain (`*.google.de`), no path: with
        paths and bare names, Google's 187 domains alone would pass the 8 KB a proxy allows a header
        (the rewriter still tells /maps from the rest; the CSP is the net under it)."""
        if self.family:
            return (f"*.{registrable_domain(self.host)}",)
        paths = (self.path, self.path + "/") if self.path else ("",)
        hosts = (f"*.{self.host}",) if self.subdomains_only else (self.host, f"*.{self.host}")
        return tuple(h + p for h in hosts for p in paths)

    def __str__(self) -> str:
        return ("*." if self.subdomains_only else "") + self.host + self.path


@dataclass(frozen=True, slots=True)
class ServiceCookie:
    """A cookie a service sets on its own domain (shown to visitors; the scanner explains it)."""

    name: str
    purpose: Text
    max_age_days: float | None
    first_party: bool = False  # set by the service's script on the site's own domain (e.g. `_ga`)

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name, self.name) if "*" in self.name else name == self.name


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    name: Text
    vendor: Text  # the recipient's legal name
    category: Category
    purpose: Text
    data_sent: Text
    policy_url: str
    hosts: tuple[HostPattern, ...]
    script_urls: tuple[str, ...] = ()  # glob patterns of the vendor's script URLs
    iframe_urls: tuple[str, ...] = ()  # glob patterns of the vendor's embed URLs
    inline_signatures: tuple[str, ...] = ()  # substrings that identify the vendor's inline snippet
    placeholder: Placeholder = Placeholder.NONE
    cookies: tuple[ServiceCookie, ...] = ()
    sale_share: bool = False  # a "sale" or "sharing" that Global Privacy Control opts out of
    share_url: str = ""  # the network's own share page, "{url}" standing for the page shared

    def consent_fingerprint(self) -> dict[str, Any]:
        """What a visitor is asked to consent to about this service (feeds the policy version)."""
        return {
            "id": self.id,
            "name": [self.name.en, self.name.own],
            "vendor": [self.vendor.en, self.vendor.own],
            "category": self.category.value,
            "purpose": [self.purpose.en, self.purpose.own],
            "data_sent": [self.data_sent.en, self.data_sent.own],
            "policy_url": self.policy_url,
            "sale_share": self.sale_share,
            "hosts": sorted(str(h) for h in self.hosts),
            "cookies": sorted(
                [c.name, c.purpose.en, c.purpose.own, c.max_age_days, c.first_party] for c in self.cookies
            ),
        }


# The marker of an undeclared third party (in a made-inert element's data-gk) and the id of the stand-in
# service an embed from such a host gets, so that its placeholder can name the host.
UNDECLARED = "?"


def undeclared_service(url: str) -> Service:
    """A stand-in for an embed no declared service covers: its name is the host it would contact."""
    try:
        host = urlsplit(url).hostname or url
    except ValueError:  # not a URL a browser would fetch either: name what was written
        host = url[:100]
    blank = Text("")
    return Service(
        UNDECLARED, Text(host), blank, Category.MEDIA, blank, blank, "", (), placeholder=Placeholder.POST
    )


@dataclass(frozen=True, slots=True)
class CookieDeclaration:
    """A first-party cookie the site sets: exact name or a glob such as `pref_*`."""

    name: str
    category: Category
    purpose: Text
    max_age_days: float | None = None  # None: a session cookie, or no limit stated
    path: str = "/"
    domain: str | None = None

    @property
    def is_pattern(self) -> bool:
        return any(c in self.name for c in "*?[")

    def matches(self, name: str) -> bool:
        if self.is_pattern:
            return fnmatch.fnmatchcase(name, self.name)
        return name == self.name


@dataclass(frozen=True)
class Registry:
    services: tuple[Service, ...]  # the services offered to visitors
    cookies: tuple[CookieDeclaration, ...] = ()
    first_party_hosts: tuple[HostPattern, ...] = ()
    strict: bool = True
    sources: tuple[str, ...] = field(default=(), compare=False)  # files it was loaded from
    # when the operator last changed what visitors are asked ([site] policy_date), shown on the notice
    policy_date: datetime.date | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for s in self.services:
            if s.id in seen:
                raise ConfigError(f"service id {s.id!r} appears twice; ids must be unique")
            seen.add(s.id)

    @cached_property
    def by_id(self) -> Mapping[str, Service]:
        return {s.id: s for s in self.services}

    @cached_property
    def categories(self) -> tuple[Category, ...]:
        """The categories a visitor is asked about: those of the offered services and cookies."""
        used = {s.category for s in self.services} | {c.category for c in self.cookies}
        return tuple(c for c in Category if c in used and not c.always_on)

    @cached_property
    def policy_version(self) -> str:
        """Stable hash of what visitors are asked to consent to; a change asks them again."""
        data = {
            "services": sorted((s.consent_fingerprint() for s in self.services), key=lambda d: str(d["id"])),
            "cookies": sorted(
                [c.name, c.category.value, c.purpose.en, c.purpose.own, c.max_age_days]
                for c in self.cookies
                if c.category is not Category.NECESSARY
            ),
        }
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    @cached_property
    def _host_index(self) -> tuple[tuple[HostPattern, Service], ...]:
        pairs = [(h, s) for s in self.services for h in s.hosts]
        pairs.sort(key=lambda p: p[0].specificity, reverse=True)
        return tuple(pairs)

    def cookie_declaration(self, name: str) -> CookieDeclaration | None:
        exact = self._exact_cookies.get(name)
        if exact is not None:
            return exact
        for decl in self._pattern_cookies:
            if decl.matches(name):
                return decl
        return None

    @cached_property
    def _exact_cookies(self) -> Mapping[str, CookieDeclaration]:
        return {c.name: c for c in self.cookies if not c.is_pattern}

    @cached_property
    def _pattern_cookies(self) -> tuple[CookieDeclaration, ...]:
        return tuple(c for c in self.cookies if c.is_pattern)

    def is_first_party(self, host: str, site_host: str) -> bool:
        """Same registrable domain as the site, or one of the site's declared hosts."""
        host = normalize_host(host)
        if registrable_domain(host) == registrable_domain(site_host):
            return True
        return any(p.matches(host) for p in self.first_party_hosts)

    def services_for(self, host: str, path: str = "/") -> tuple[Service, ...]:
        """The offered services a URL belongs to: those of its most specific matching host pattern."""
        host = normalize_host(host)
        found: list[Service] = []
        best: tuple[int, int] | None = None
        for pattern, service in self._host_index:
            if best is not None and pattern.specificity < best:
                break
            if pattern.matches(host, path):
                best = pattern.specificity
                if service not in found:
                    found.append(service)
        return tuple(found)

    def services_for_url(self, url: str) -> tuple[Service, ...]:
        parts = urlsplit(url)
        return self.services_for(parts.hostname or "", parts.path or "/")

    def restricted_to(self, ids: Iterable[str]) -> Registry:
        keep = set(ids)
        return Registry(
            tuple(s for s in self.services if s.id in keep),
            self.cookies,
            self.first_party_hosts,
            self.strict,
            self.sources,
            self.policy_date,
        )


# Loading is services_file.py's; the names stay importable from here.
from .services_file import load_catalog, load_registry, required_notice  # noqa: E402
