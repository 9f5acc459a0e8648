"""Loading the registry: the built-in catalog (`catalog.toml`) and an operator's services file, parsed
and checked. Every mistake in a file is collected and reported together in one `ConfigError`, naming
the file, the entry and the fix."""

from __future__ import annotations

import datetime
import logging
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .logs import log_once
from .registry import (
    _LANG_TAG_RE,
    MAX_COOKIE_DAYS,
    Category,
    ConfigError,
    CookieDeclaration,
    HostPattern,
    Placeholder,
    Registry,
    Service,
    ServiceCookie,
    Text,
    did_you_mean,
)

__all__ = ["load_catalog", "load_registry", "required_notice"]


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
