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
import logging
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .logs import log_once
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


# ---------------------------------------------------------------------------------------------
# Loading and validation: every mistake in a file is collected and reported together.

_SERVICE_KEYS = {
    "id",
    "name",
    "vendor",
    "category",
    "purpose",
    "data_sent",
    "policy_url",
    "hosts",
    "script_urls",
    "iframe_urls",
    "inline_signatures",
    "placeholder",
    "cookies",
    "sale_share",
    "share_url",
}
_REQUIRED_SERVICE_KEYS = ("name", "vendor", "category", "purpose", "data_sent", "policy_url", "hosts")
_COOKIE_KEYS = {"name", "category", "purpose", "max_age_days", "path", "domain"}
_SERVICE_COOKIE_KEYS = {"name", "purpose", "max_age_days", "first_party"}
_SITE_KEYS = {"first_party_hosts", "mode", "policy_date"}
_TOP_KEYS = {"site", "cookies", "services"}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_COOKIE_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z?\[\]]+$")


class _Skip(Exception):
    """An entry whose mistakes are already collected: leave it out and go on."""


class _Where:
    """Names the place of a mistake (file, entry, key) and collects every mistake of a file."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[str] = []

    def error(self, entry: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: {entry}: {message}")

    def note(self, e: ConfigError) -> None:
        self.errors.extend(e.errors)

    def raise_collected(self) -> None:
        if len(self.errors) == 1:
            raise ConfigError(self.errors[0])
        if self.errors:
            lines = "\n".join(f"  - {e}" for e in self.errors)
            raise ConfigError(f"{self.source}: {len(self.errors)} mistakes:\n{lines}", tuple(self.errors))


def _check_keys(where: _Where, entry: str, table: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise where.error(
            entry,
            f"unknown key {unknown[0]!r}{did_you_mean(unknown[0], known)}; "
            f"the keys known here are: {', '.join(sorted(known))}",
        )


def _text(where: _Where, entry: str, key: str, value: Any) -> Text:
    if isinstance(value, str) and value.strip():
        return Text(value)
    if isinstance(value, Mapping):
        bad = [tag for tag in value if not _LANG_TAG_RE.match(str(tag).replace("_", "-"))]
        if bad:
            raise where.error(
                f"{entry} {key}", f"{bad[0]!r} is not a language tag; use one such as 'ja' or 'zh-Hant'"
            )
        texts = {str(tag).replace("_", "-"): v for tag, v in value.items()}
        if all(isinstance(v, str) and v.strip() for v in texts.values()) and "en" in texts:
            own = tuple(sorted((tag, v) for tag, v in texts.items() if tag != "en"))
            return Text(texts["en"], own)
    raise where.error(
        entry, f"{key!r} must be a text, or a table of texts by language {{ en = '...', ja = '...' }}"
    )


def _category(where: _Where, entry: str, value: Any) -> Category:
    try:
        return Category(value)
    except ValueError:
        choices = [c.value for c in Category]
        hint = did_you_mean(value, choices)
        message = f"unknown category {value!r}{hint}; use one of: {', '.join(choices)}"
        raise where.error(entry, message) from None


def _str_list(where: _Where, entry: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise where.error(entry, f"{key!r} must be a list of texts")
    return tuple(value)


def _hosts(where: _Where, entry: str, key: str, value: Any) -> tuple[HostPattern, ...]:
    out: list[HostPattern] = []
    for text in _str_list(where, entry, key, value):
        try:
            out.extend(HostPattern.expand(text))
        except ValueError as e:
            raise where.error(entry, f"{key}: {e}") from None
    return tuple(out)


def _days(where: _Where, entry: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise where.error(entry, "'max_age_days' must be a number of days (0 or more)")
    if value > MAX_COOKIE_DAYS:
        raise where.error(
            entry, f"'max_age_days' = {value}: browsers keep cookies {MAX_COOKIE_DAYS} days at most"
        )
    return float(value)


def _cookie_name(where: _Where, entry: str, value: Any) -> str:
    if not isinstance(value, str) or not _COOKIE_NAME_RE.match(value):
        raise where.error(entry, f"cookie name {value!r} is not a cookie name or a glob of one")
    return value


class _Fields:
    """Reads one entry's keys, collecting each key's mistake and going on to the next."""

    def __init__(self, where: _Where, table: Mapping[str, Any]) -> None:
        self.where = where
        self.table = table
        self.start = len(where.errors)

    def get(self, key: str, parse: Any, default: Any) -> Any:
        if key not in self.table:
            return default
        try:
            return parse(self.table[key])
        except ConfigError as e:
            self.where.note(e)
            return default

    def check(self, run: Any) -> None:
        try:
            run()
        except ConfigError as e:
            self.where.note(e)

    def done(self) -> None:
        """Leave the entry out when any of its keys was wrong (each mistake is already collected)."""
        if len(self.where.errors) > self.start:
            raise _Skip


def _declaration(where: _Where, index: int, table: Any) -> CookieDeclaration:
    entry = f"[[cookies]] #{index + 1}"
    if not isinstance(table, Mapping):
        raise where.error(entry, "must be a table")
    if "name" in table:
        entry += f" ({table['name']!r})"
    fields = _Fields(where, table)
    fields.check(lambda: _check_keys(where, entry, table, _COOKIE_KEYS))
    for key in ("name", "category", "purpose"):
        if key not in table:
            where.note(where.error(entry, f"missing {key!r}"))

    def path(value: Any) -> str:
        if not isinstance(value, str) or not value.startswith("/"):
            raise where.error(entry, "'path' must start with '/'")
        return value

    def domain(value: Any) -> str:
        if not isinstance(value, str):
            raise where.error(entry, "'domain' must be a host name")
        return value

    out = CookieDeclaration(
        name=fields.get("name", lambda v: _cookie_name(where, entry, v), ""),
        category=fields.get("category", lambda v: _category(where, entry, v), Category.NECESSARY),
        purpose=fields.get("purpose", lambda v: _text(where, entry, "purpose", v), Text("")),
        max_age_days=fields.get("max_age_days", lambda v: _days(where, entry, v), None),
        path=fields.get("path", path, "/"),
        domain=fields.get("domain", domain, None),
    )
    fields.done()
    return out


def _service_cookies(where: _Where, entry: str, value: Any) -> tuple[ServiceCookie, ...]:
    if not isinstance(value, list):
        raise where.error(entry, "'cookies' must be a list of tables")
    out = []
    for i, c in enumerate(value):
        sub = f"{entry} cookies #{i + 1}"
        if not isinstance(c, Mapping):
            where.note(where.error(sub, "must be a table"))
            continue
        fields = _Fields(where, c)
        fields.check(lambda c=c, sub=sub: _check_keys(where, sub, c, _SERVICE_COOKIE_KEYS))
        if "name" not in c or "purpose" not in c:
            where.note(where.error(sub, "needs 'name' and 'purpose'"))

        def first_party(value: Any, sub: str = sub) -> bool:
            if not isinstance(value, bool):
                raise where.error(sub, "'first_party' must be true or false")
            return value

        cookie = ServiceCookie(
            fields.get("name", lambda v, sub=sub: _cookie_name(where, sub, v), ""),
            fields.get("purpose", lambda v, sub=sub: _text(where, sub, "purpose", v), Text("")),
            fields.get("max_age_days", lambda v, sub=sub: _days(where, sub, v), None),
            fields.get("first_party", first_party, False),
        )
        if len(where.errors) == fields.start:
            out.append(cookie)
    return tuple(out)


def _service(
    where: _Where, index: int, table: Any, base: Service | None, catalog: Mapping[str, Service] | None
) -> Service:
    entry = f"[[services]] #{index + 1}"
    if not isinstance(table, Mapping):
        raise where.error(entry, "must be a table")
    sid = table.get("id")
    if not isinstance(sid, str) or not _ID_RE.match(sid):
        raise where.error(entry, f"'id' {sid!r} must be lower-case letters, digits and '-' (e.g. 'youtube')")
    entry += f" ({sid!r})"
    fields = _Fields(where, table)
    fields.check(lambda: _check_keys(where, entry, table, _SERVICE_KEYS))
    if base is None:
        missing = [k for k in _REQUIRED_SERVICE_KEYS if k not in table]
        if missing:
            hint = did_you_mean(sid, catalog or ())
            raise where.error(
                entry,
                f"{sid!r} is not in the built-in catalog{hint}, so it needs all of: "
                f"{', '.join(_REQUIRED_SERVICE_KEYS)} (missing: {', '.join(missing)})",
            )

    def pick(key: str, parse: Any, default: Any) -> Any:
        return fields.get(key, parse, getattr(base, key) if base is not None else default)

    def placeholder(value: Any) -> Placeholder:
        try:
            return Placeholder(value)
        except ValueError:
            kinds = [p.value for p in Placeholder]
            hint = did_you_mean(value, kinds)
            message = f"unknown placeholder {value!r}{hint}; use one of: {', '.join(kinds)}"
            raise where.error(entry, message) from None

    def policy_url(value: Any) -> str:
        if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
            raise where.error(entry, "'policy_url' must be an http(s) URL")
        return value

    def share_url(value: Any) -> str:
        if not isinstance(value, str) or not value.startswith("https://") or value.count("{url}") != 1:
            raise where.error(entry, "'share_url' must be an https URL with one '{url}' (the page shared)")
        return value

    def flag(value: Any) -> bool:
        if not isinstance(value, bool):
            raise where.error(entry, "'sale_share' must be true or false")
        return value

    def signatures(value: Any) -> tuple[str, ...]:
        sigs = _str_list(where, entry, "inline_signatures", value)
        if any(len(s) < 6 for s in sigs):
            raise where.error(entry, "inline_signatures must be at least 6 characters each")
        return sigs

    def globs(key: str) -> Any:
        def parse(value: Any) -> tuple[str, ...]:
            items = _str_list(where, entry, key, value)
            for item in items:
                if not re.match(r"^(https?:|http\*:)?//", item):  # http*:// is either scheme
                    raise where.error(entry, f"{key}: {item!r} must be a URL (glob) with a host")
            return items

        return parse

    def text(key: str) -> Any:
        return lambda v: _text(where, entry, key, v)

    hosts = pick("hosts", lambda v: _hosts(where, entry, "hosts", v), ())
    if (not hosts and "hosts" not in table) or (not hosts and len(where.errors) == fields.start):
        where.note(where.error(entry, "'hosts' must list at least one host the service loads from"))
    service = Service(
        id=sid,
        name=pick("name", text("name"), Text(sid)),
        vendor=pick("vendor", text("vendor"), Text("")),
        category=pick("category", lambda v: _category(where, entry, v), Category.MARKETING),
        purpose=pick("purpose", text("purpose"), Text("")),
        data_sent=pick("data_sent", text("data_sent"), Text("")),
        policy_url=pick("policy_url", policy_url, ""),
        hosts=hosts,
        script_urls=pick("script_urls", globs("script_urls"), ()),
        iframe_urls=pick("iframe_urls", globs("iframe_urls"), ()),
        inline_signatures=pick("inline_signatures", signatures, ()),
        placeholder=pick("placeholder", placeholder, Placeholder.NONE),
        cookies=pick("cookies", lambda v: _service_cookies(where, entry, v), ()),
        sale_share=pick("sale_share", flag, False),
        share_url=pick("share_url", share_url, ""),
    )
    fields.done()
    return service


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None


@dataclass(frozen=True)
class _Parsed:
    services: tuple[Service, ...]
    cookies: tuple[CookieDeclaration, ...]
    first_party_hosts: tuple[HostPattern, ...]
    strict: bool
    policy_date: datetime.date | None = None


def _each(where: _Where, items: Iterable[tuple[int, Any]], parse: Any) -> list[Any]:
    out = []
    for i, item in items:
        try:
            out.append(parse(where, i, item))
        except ConfigError as e:
            where.note(e)
        except _Skip:
            pass
    return out


def _once_each(where: _Where, tables: list[Any], kind: str, key: str, what: str, fix: str) -> None:
    """A mistake for each entry whose `key` an earlier entry of the list already has."""
    first: dict[str, int] = {}
    for i, t in enumerate(tables):
        value = t.get(key) if isinstance(t, Mapping) else None
        if not isinstance(value, str):
            continue
        if value in first:
            where.note(
                where.error(f"[[{kind}]] #{i + 1} ({value!r})", f"{what} (also #{first[value] + 1}); {fix}")
            )
        else:
            first[value] = i


def _parse(data: Mapping[str, Any], source: str, catalog: Mapping[str, Service] | None) -> _Parsed:
    where = _Where(source)
    try:
        _check_keys(where, "top level", data, _TOP_KEYS)
    except ConfigError as e:
        where.note(e)
    site = data.get("site", {})
    mode = "strict"
    first_party: tuple[HostPattern, ...] = ()
    policy_date: datetime.date | None = None
    if not isinstance(site, Mapping):
        where.note(where.error("[site]", "must be a table"))
    else:
        fields = _Fields(where, site)
        fields.check(lambda: _check_keys(where, "[site]", site, _SITE_KEYS))

        def site_mode(value: Any) -> str:
            if value not in ("strict", "report"):
                raise where.error("[site]", f"mode {value!r}: use 'strict' (the default) or 'report'")
            return str(value)

        mode = fields.get("mode", site_mode, "strict")
        first_party = fields.get(
            "first_party_hosts", lambda v: _hosts(where, "[site]", "first_party_hosts", v), ()
        )

        def date(value: Any) -> datetime.date:
            if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
                raise where.error("[site]", "policy_date: a TOML date such as 2026-12-01 (no quotes)")
            return value

        policy_date = fields.get("policy_date", date, None)
    raw_cookies = data.get("cookies", [])
    raw_services = data.get("services", [])
    if not isinstance(raw_cookies, list) or not isinstance(raw_services, list):
        where.note(where.error("top level", "write cookies and services as [[cookies]] and [[services]]"))
        where.raise_collected()
    cookies = _each(where, enumerate(raw_cookies), _declaration)
    _once_each(where, raw_cookies, "cookies", "name", "declared twice", "keep one declaration per name")

    def service(where: _Where, i: int, t: Any) -> Service:
        sid = t.get("id") if isinstance(t, Mapping) else None
        base = catalog.get(sid) if catalog is not None and isinstance(sid, str) else None
        return _service(where, i, t, base, catalog)

    services = _each(where, enumerate(raw_services), service)
    _once_each(where, raw_services, "services", "id", "duplicate id", "list each service once")
    where.raise_collected()
    return _Parsed(tuple(services), tuple(cookies), first_party, mode == "strict", policy_date)


def load_catalog() -> tuple[Service, ...]:
    """The built-in catalog, parsed and validated."""
    return _catalog()


_CATALOG: tuple[Service, ...] | None = None


def _catalog() -> tuple[Service, ...]:
    global _CATALOG
    if _CATALOG is None:
        text = resources.files("gatekeeper").joinpath("catalog.toml").read_text("utf-8")
        _CATALOG = _parse(_parse_toml(text, "catalog.toml"), "gatekeeper/catalog.toml", None).services
    return _CATALOG


def required_notice(registry: Registry) -> str | None:
    """What a start with this registry loads without consent, and how to declare it (one line)."""
    required = [s for s in registry.services if s.category is Category.REQUIRED]
    if not required:
        return None
    listed = ", ".join(f"{s.id} ({' '.join(str(h) for h in s.hosts[:2])})" for s in required)
    return (
        f"{len(required)} shared CDNs and runtimes load WITHOUT consent as 'required' (disclosed on the "
        f"notice page, receive visitors' IP addresses): {listed}. In a services file keep only those "
        'your pages use, one line each: [[services]] id = "jquery-cdn"'
    )


def _log_required(registry: Registry) -> None:
    notice = required_notice(registry)
    if notice is not None:
        log_once(logging.getLogger("gatekeeper"), ("zero-config-required",), logging.INFO,
                 "zero-config start: %s", notice)  # fmt: skip


def load_registry(
    services: str | os.PathLike[str] | Mapping[str, Any] | None = None,
) -> Registry:
    """The built-in catalog plus an operator's services file (a path, or its parsed TOML).

    With no file every catalog service is offered (a zero-config start); with one, the services it
    lists, each either a catalog id (enabled, fields overridable) or a new service with all fields.
    """
    catalog = {s.id: s for s in _catalog()}
    if services is None:
        registry = Registry(tuple(catalog.values()), sources=("catalog",))
        _log_required(registry)
        return registry
    if isinstance(services, Mapping):
        source = "<services>"
        data: Mapping[str, Any] = services
    else:
        path = Path(services)
        source = str(path)
        try:
            text = path.read_text("utf-8")
        except OSError as e:
            raise ConfigError(f"{source}: cannot read the services file: {e.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{source}: the services file must be UTF-8") from None
        data = _parse_toml(text, source)
    parsed = _parse(data, source, catalog)
    return Registry(
        parsed.services,
        parsed.cookies,
        parsed.first_party_hosts,
        parsed.strict,
        sources=("catalog", source),
        policy_date=parsed.policy_date,
    )
