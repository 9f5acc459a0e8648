"""Response start: the cookie gate. Every Set-Cookie of the app is checked against the declarations
and the visitor's consent; cookies holding personal data never pass, in any mode."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .consent import ConsentState
from .cookie_dates import parse_cookie_date
from .personal import looks_personal
from .registry import Category, CookieDeclaration, Registry

__all__ = [
    "CookieVerdict",
    "GateResult",
    "Verdict",
    "expire_cookie",
    "gate_cookies",
    "in_page_gate",
    "looks_personal",
    "parse_set_cookie",
]


class Verdict(StrEnum):
    PASS = "pass"
    CLAMPED = "clamped"  # passed with its lifetime cut to the declaration
    UNDECLARED = "undeclared"  # passed with a warning (report mode) or dropped (strict mode)
    NOT_GRANTED = "not-granted"  # its category is not granted: dropped
    PERSONAL_DATA = "personal-data"  # dropped in every mode
    MALFORMED = "malformed"  # not a cookie a browser would keep: dropped, nothing to pass


@dataclass(frozen=True, slots=True)
class CookieVerdict:
    name: str
    verdict: Verdict
    kept: bool
    detail: str  # the reason, in words an operator acts on


@dataclass(frozen=True, slots=True)
class GateResult:
    headers: tuple[str, ...]  # the Set-Cookie values that stay, in order
    verdicts: tuple[CookieVerdict, ...]


@dataclass(frozen=True, slots=True)
class SetCookie:
    name: str
    value: str
    attributes: tuple[tuple[str, str | None], ...]  # (name as written, value or None), in order

    def attribute(self, key: str) -> str | None:
        for k, v in reversed(self.attributes):  # the last one wins, as in browsers
            if k.lower() == key:
                return v if v is not None else ""
        return None

    def lifetime_seconds(self, now: float) -> float | None:
        """What the browser would keep it for; None for a session cookie."""
        max_age = self.attribute("max-age")
        if max_age is not None and re.fullmatch(r"-?\d+", max_age.strip()):
            return float(max_age)
        expires = self.attribute("expires")
        if expires:
            when = parse_cookie_date(expires)  # as browsers read it: "01 Jan 69" is 2069
            return None if when is None else when - now
        return None

    def emptied(self) -> str:
        return self._render("", self.attributes)

    def _render(self, value: str, attributes: Iterable[tuple[str, str | None]]) -> str:
        return f"{self.name}={value}" + "".join(
            f"; {k}" if v is None else f"; {k}={v}" for k, v in attributes
        )

    def with_max_age(self, seconds: int) -> str:
        kept = [(k, v) for k, v in self.attributes if k.lower() not in ("max-age", "expires")]
        kept.append(("Max-Age", str(seconds)))
        return self._render(self.value, kept)


def parse_set_cookie(header: str) -> SetCookie | None:
    """The cookie a browser would keep, as RFC 6265bis reads it; None when it keeps nothing."""
    pair, *rest = header.split(";")
    name, eq, value = pair.partition("=")
    if not eq:  # "taro@example.jp": a nameless cookie with that value, which browsers keep
        name, value = "", name
    name, value = name.strip(), value.strip()
    if not name and not value:
        return None
    attributes: list[tuple[str, str | None]] = []
    for part in rest:
        k, has_value, v = part.strip().partition("=")
        if k:
            attributes.append((k.strip(), v.strip() if has_value else None))
    return SetCookie(name, value, tuple(attributes))


# -- the gate ---------------------------------------------------------------------------------


def gate_cookies(
    set_cookies: Sequence[str],
    state: ConsentState,
    registry: Registry,
    *,
    client_ip: str | None = None,
    now: float = 0.0,
) -> GateResult:
    """Which of the app's Set-Cookie values may reach the browser, and why each one may or may not."""
    kept: list[str] = []
    verdicts: list[CookieVerdict] = []
    for header in set_cookies:
        cookie = parse_set_cookie(header)
        if cookie is None:
            verdicts.append(CookieVerdict("", Verdict.MALFORMED, False, "no name and no value"))
            continue
        verdict = _judge(cookie, header, state, registry, client_ip, now)
        verdicts.append(verdict[0])
        if verdict[1] is not None:
            kept.append(verdict[1])
    return GateResult(tuple(kept), tuple(verdicts))


def _judge(
    cookie: SetCookie,
    header: str,
    state: ConsentState,
    registry: Registry,
    client_ip: str | None,
    now: float,
) -> tuple[CookieVerdict, str | None]:
    name = cookie.name
    lifetime = cookie.lifetime_seconds(now)
    if lifetime is not None and lifetime <= 0:
        # deleting a cookie is always allowed: it only ever gives back (its value is not needed)
        return CookieVerdict(name, Verdict.PASS, True, "expires it"), cookie.emptied()
    for part, text in (("name", name), ("value", cookie.value)):
        personal = looks_personal(text, client_ip)
        if personal is not None:
            why = f"its {part} looks like personal data ({personal}); cookies here must not hold any"
            return CookieVerdict(name, Verdict.PERSONAL_DATA, False, why), None
    decl = registry.cookie_declaration(name)
    if decl is None:
        how = (
            f'declare it in your services file: [[cookies]] name = "{name}", '
            'category = "necessary|usability|analytics|...", purpose = "...", max_age_days = N'
        )
        if registry.strict:
            return CookieVerdict(name, Verdict.UNDECLARED, False, f"undeclared; {how}"), None
        return CookieVerdict(name, Verdict.UNDECLARED, True, f"undeclared (report mode); {how}"), header
    if not state.category_granted(decl.category):
        why = f"category {decl.category.value!r} is not granted by the visitor"
        return CookieVerdict(name, Verdict.NOT_GRANTED, False, why), None
    return _clamp(cookie, header, decl, lifetime)


def _clamp(
    cookie: SetCookie, header: str, decl: CookieDeclaration, lifetime: float | None
) -> tuple[CookieVerdict, str | None]:
    if decl.max_age_days is None:
        return CookieVerdict(cookie.name, Verdict.PASS, True, "declared"), header
    limit = int(decl.max_age_days * 86400)
    if lifetime is not None and lifetime <= limit + 60:  # a minute of clock skew
        return CookieVerdict(cookie.name, Verdict.PASS, True, "declared"), header
    if lifetime is None and cookie.attribute("max-age") is None and cookie.attribute("expires") is None:
        return CookieVerdict(cookie.name, Verdict.PASS, True, "declared, session"), header
    why = f"lifetime cut to the declared {decl.max_age_days:g} days"
    return CookieVerdict(cookie.name, Verdict.CLAMPED, True, why), cookie.with_max_age(limit)


def expire_cookie(decl: CookieDeclaration, name: str, *, https: bool) -> str:
    """A Set-Cookie that removes a declared cookie (when the visitor withdraws its category)."""
    out = f"{name}=; Path={decl.path}; Max-Age=0"
    if decl.domain:
        out += f"; Domain={decl.domain}"
    if https:
        out += "; Secure"
    return out


# -- the same declarations, for the in-page gate of `document.cookie` (snippets/cookie_gate.js) ---------


def _js_pattern(name: str) -> str:
    """A cookie name or glob (`pref_*`, `ab?`, `[ab]x`) as a JavaScript regular expression source."""
    out = []
    i = 0
    while i < len(name):
        c = name[i]
        end = name.find("]", i + 2) if c == "[" else -1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif end > 0:
            body = name[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "^" + "".join(out) + "$"


def in_page_gate(registry: Registry, state: ConsentState) -> str:
    """The `window.__gkc` data of the in-page gate, as a script statement: each declared name (the
    site's cookies by category, the first-party cookies of services by service), what is granted."""
    names: list[list[str]] = [[_js_pattern(c.name), c.category.value, ""] for c in registry.cookies]
    for service in registry.services:
        names.extend([_js_pattern(c.name), "", service.id] for c in service.cookies if c.first_party)
    data = {
        "n": names,
        "c": [c.value for c in Category if state.category_granted(c)],
        "s": sorted(state.granted),
        "r": 0 if registry.strict else 1,
    }
    text = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    return f"window.__gkc={text};"
