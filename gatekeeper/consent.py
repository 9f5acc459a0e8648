"""Consent state: read from one signed cookie and the request's `Sec-GPC`, written back by the endpoints.

The cookie holds the granted categories, explicit per-service grants, the services opted in to despite
GPC, the policy version and the time of the choice: no identifier and nothing personal. Anything wrong
with it (tampered, another key, expired, oversized, malformed, an older policy version) reads as
"not decided yet" and is logged at debug level, never raised.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from .registry import Category, ConfigError, Registry, did_you_mean

__all__ = [
    "COOKIE_LIMIT",
    "ConsentCodec",
    "ConsentState",
    "cookie_values",
    "gpc_requested",
    "state_for_choice",
]

log = logging.getLogger("gatekeeper.consent")

COOKIE_LIMIT = 4096  # bytes for name, value and attributes together: what every browser keeps
DEFAULT_LIFETIME_DAYS = 182  # six months
MAX_LIFETIME_DAYS = 396  # thirteen months, the longest a consent may be remembered


@dataclass(frozen=True, slots=True)
class ConsentState:
    decided: bool = False
    categories: frozenset[Category] = frozenset()  # granted categories (necessary is implied)
    services: frozenset[str] = frozenset()  # services granted one by one
    gpc_optin: frozenset[str] = frozenset()  # sale/share services chosen explicitly under GPC
    policy_version: str = ""
    decided_at: int | None = None
    gpc: bool = False  # this request carries Sec-GPC: 1 (a request fact, not stored)
    granted: frozenset[str] = frozenset()  # the services granted now, all rules applied (derived)
    # the ids of the site's services (derived): an id outside them is the app's typo, not a "no"
    offered: AbstractSet[str] | None = dataclasses.field(default=None, compare=False, repr=False)

    def allows(self, service_id: str) -> bool:
        """Whether the visitor allows this service now (its category or itself, GPC applied). An id
        the site does not offer raises ConfigError (a typo would otherwise read as a silent "no")."""
        if self.offered is not None and service_id not in self.offered:
            hint = did_you_mean(service_id, self.offered)
            raise ConfigError(
                f"allows({service_id!r}): the site offers no service {service_id!r}{hint}; "
                f"its services are: {', '.join(sorted(self.offered)) or '(none)'}"
            )
        return service_id in self.granted

    def category_granted(self, category: Category) -> bool:
        return category.always_on or (self.decided and category in self.categories)

    def service_granted(self, service_id: str, registry: Registry) -> bool:
        service = registry.by_id.get(service_id)
        if service is None:
            return False
        if service.sale_share and self.gpc and service_id not in self.gpc_optin:
            return False
        if service.category.always_on:  # like the site's necessary cookies; a CDN it is built on
            return True
        return self.decided and (service_id in self.services or service.category in self.categories)

    def derive(self, registry: Registry) -> ConsentState:
        """The same state with `granted` worked out against the registry."""
        return dataclasses.replace(
            self, granted=self.granted_services(registry), offered=registry.by_id.keys()
        )

    def granted_services(self, registry: Registry) -> frozenset[str]:
        return frozenset(s.id for s in registry.services if self.service_granted(s.id, registry))

    @property
    def key(self) -> tuple[Any, ...]:
        """Everything a page rendered for this state depends on (for caches)."""
        return (
            self.decided,
            self.categories,
            self.services,
            self.gpc_optin,
            self.policy_version,
            self.gpc,
        )

    def to_json(self, registry: Registry) -> dict[str, Any]:
        granted = self.granted_services(registry)
        return {
            "decided": self.decided,
            "policy_version": registry.policy_version,
            "decided_at": self.decided_at,
            "gpc": self.gpc,
            "categories": {c.value: self.category_granted(c) for c in registry.categories},
            "services": {s.id: s.id in granted for s in registry.services},
        }


def gpc_requested(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Global Privacy Control: `Sec-GPC: 1`, exactly, as the specification says."""
    return any(k == b"sec-gpc" and v.strip() == b"1" for k, v in headers)


def cookie_values(cookie_header: str, name: str) -> list[str]:
    """Every value the Cookie header carries for `name` (a browser may send several)."""
    out = []
    for part in cookie_header.split(";"):
        key, eq, value = part.strip().partition("=")
        if eq and key == name:
            out.append(value.strip().strip('"'))
    return out


class _ClockSigner(TimestampSigner):
    clock: Callable[[], float] = time.time

    def get_timestamp(self) -> int:
        return int(self.clock())


class ConsentCodec:
    """Reads and writes the consent cookie. `secret_keys`: one key, or a list oldest to newest; the
    newest signs, every one verifies (so keys can be rotated without asking visitors again)."""

    SALT = "gatekeeper.consent"

    def __init__(
        self,
        secret_keys: str | bytes | Sequence[str | bytes],
        registry: Registry,
        *,
        lifetime_days: float = DEFAULT_LIFETIME_DAYS,
        cookie_name: str = "gk_consent",
        clock: Callable[[], float] = time.time,
        salt: str = SALT,
    ) -> None:
        keys = [secret_keys] if isinstance(secret_keys, str | bytes) else list(secret_keys)
        if not keys or any(not k for k in keys):
            raise ConfigError("secret_keys: give at least one non-empty secret key")
        if any(len(k) < 16 for k in keys):
            raise ConfigError(
                "secret_keys: each key needs at least 16 characters; "
                "make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        if not 0 < lifetime_days <= MAX_LIFETIME_DAYS:
            raise ConfigError(
                f"consent lifetime {lifetime_days} days: use more than 0 and at most "
                f"{MAX_LIFETIME_DAYS} (13 months)"
            )
        self.registry = registry
        self.lifetime_seconds = int(lifetime_days * 86400)
        self.cookie_name = cookie_name
        self.clock = clock
        signer = type("Signer", (_ClockSigner,), {"clock": staticmethod(clock)})
        self._serializer = URLSafeTimedSerializer(
            [k.encode() if isinstance(k, str) else k for k in keys],
            salt=salt,
            signer=signer,
            signer_kwargs={"digest_method": hashlib.sha256},
        )
        self._others: dict[str, URLSafeTimedSerializer] = {}
        self._undecided = {gpc: ConsentState(gpc=gpc).derive(registry) for gpc in (False, True)}
        worst = ConsentState(
            True,
            frozenset(registry.categories),
            frozenset(s.id for s in registry.services),
            frozenset(s.id for s in registry.services if s.sale_share),
            registry.policy_version,
            int(clock()),
        )
        if len(self.set_cookie(worst, https=True)) > COOKIE_LIMIT:
            raise ConfigError(
                f"the registry offers {len(registry.services)} services: a consent naming every one "
                f"would not fit in a {COOKIE_LIMIT}-byte cookie; offer fewer services"
            )

    def name(self, https: bool) -> str:
        return f"__Host-{self.cookie_name}" if https else self.cookie_name

    # -- reading ---------------------------------------------------------------------------------

    def read(self, cookie_header: str, *, https: bool, gpc: bool) -> ConsentState:
        """The visitor's consent. Several valid cookies (another path, or a parent domain that a
        sibling subdomain or a plain-HTTP response could set) that disagree give the most
        restrictive reading: only what every one of them grants."""
        states = [
            state
            for value in cookie_values(cookie_header, self.name(https))
            if (state := self.loads(value, gpc=gpc)).decided
        ]
        if not states:
            return self._undecided[gpc]
        if len(states) == 1 or all(s.key == states[0].key for s in states):
            return states[0]
        return self._narrowest(states, gpc)

    def _narrowest(self, states: list[ConsentState], gpc: bool) -> ConsentState:
        categories = frozenset.intersection(*(s.categories for s in states))
        granted = frozenset.intersection(*(s.granted for s in states))
        by_id = self.registry.by_id
        return ConsentState(
            decided=True,
            categories=categories,
            services=frozenset(sid for sid in granted if by_id[sid].category not in categories),
            gpc_optin=frozenset.intersection(*(s.gpc_optin for s in states)),
            policy_version=states[0].policy_version,
            decided_at=max(s.decided_at or 0 for s in states),
            gpc=gpc,
        ).derive(self.registry)

    def loads(self, value: str, *, gpc: bool = False) -> ConsentState:
        undecided = self._undecided[gpc]
        if len(value) > COOKIE_LIMIT:
            log.debug("consent cookie ignored: %d bytes, over the limit", len(value))
            return undecided
        try:
            data = self._serializer.loads(value, max_age=self.lifetime_seconds)
        except BadData as e:
            log.debug("consent cookie ignored: %s", type(e).__name__)
            return undecided
        except Exception as e:  # a signed payload we cannot even decompress: still no consent
            log.debug("consent cookie ignored: %r", e)
            return undecided
        state = self._from_payload(data, gpc)
        if state is None:
            log.debug("consent cookie ignored: malformed payload")
            return undecided
        if state.policy_version != self.registry.policy_version:
            log.debug(
                "consent cookie for policy %s, now %s: asking again",
                state.policy_version,
                self.registry.policy_version,
            )
            return undecided
        return state.derive(self.registry)

    def _from_payload(self, data: Any, gpc: bool) -> ConsentState | None:
        if not isinstance(data, Mapping):
            return None
        version, cats, svcs, optin, at = (data.get(k) for k in ("v", "c", "s", "o", "t"))
        if not isinstance(version, str) or not isinstance(at, int) or isinstance(at, bool):
            return None
        lists = (cats, svcs, optin)
        if not all(isinstance(x, list) and all(isinstance(i, str) for i in x) for x in lists):
            return None
        try:
            categories = frozenset(Category(c) for c in cats)  # type: ignore[union-attr]
        except ValueError:
            return None
        known = self.registry.by_id
        return ConsentState(
            decided=True,
            categories=categories - {Category.NECESSARY},
            services=frozenset(s for s in svcs if s in known),  # type: ignore[union-attr]
            gpc_optin=frozenset(s for s in optin if s in known),  # type: ignore[union-attr]
            policy_version=version,
            decided_at=at,
            gpc=gpc,
        )

    # -- writing ---------------------------------------------------------------------------------

    def dumps(self, state: ConsentState) -> str:
        payload = {
            "v": self.registry.policy_version,
            "c": sorted(c.value for c in state.categories if c is not Category.NECESSARY),
            # a service whose whole category is granted needs no entry of its own
            "s": sorted(
                s
                for s in state.services
                if s in self.registry.by_id and self.registry.by_id[s].category not in state.categories
            ),
            "o": sorted(state.gpc_optin),
            "t": state.decided_at if state.decided_at is not None else int(self.clock()),
        }
        return self._serializer.dumps(payload)

    def set_cookie(self, state: ConsentState, *, https: bool) -> str:
        attrs = f"Path=/; Max-Age={self.lifetime_seconds}; HttpOnly; SameSite=Lax"
        if https:
            attrs += "; Secure"
        return f"{self.name(https)}={self.dumps(state)}; {attrs}"

    def clear_cookie(self, *, https: bool) -> str:
        attrs = "Path=/; Max-Age=0; HttpOnly; SameSite=Lax" + ("; Secure" if https else "")
        return f"{self.name(https)}=; {attrs}"

    # -- small signed values with their own purpose (the "load once" ticket) ------------------------

    def sign(self, data: Any, salt: str) -> str:
        return self._purpose(salt).dumps(data)

    def unsign(self, value: str, salt: str, max_age: int) -> Any:
        """The signed data, or None when it is not ours or too old."""
        if len(value) > COOKIE_LIMIT:
            return None
        try:
            return self._purpose(salt).loads(value, max_age=max_age)
        except Exception:
            return None

    def _purpose(self, salt: str) -> URLSafeTimedSerializer:
        serializer = self._others.get(salt)
        if serializer is None:
            serializer = self._others[salt] = URLSafeTimedSerializer(
                self._serializer.secret_keys,
                salt=salt,
                signer=self._serializer.signer,
                signer_kwargs={"digest_method": hashlib.sha256},
            )
        return serializer


def state_for_choice(
    choice: str,
    *,
    previous: ConsentState,
    registry: Registry,
    categories: Iterable[Category],
    services: Iterable[str],
    gpc: bool,
    now: int,
) -> ConsentState:
    """The state a visitor's choice leads to (`all`, `none`, `custom` replaces, `allow` adds)."""
    cats = frozenset(categories) - {Category.NECESSARY}
    svcs = frozenset(services)
    if choice == "all":
        cats, svcs, optin = frozenset(registry.categories), frozenset(), frozenset[str]()
        # "accept all" is not an explicit opt-in to sale/share under GPC; previous opt-ins remain
        optin = previous.gpc_optin if previous.decided else frozenset()
    elif choice == "none":
        cats, svcs, optin = frozenset(), frozenset(), frozenset()
    else:
        chosen_sale = frozenset(
            s.id for s in registry.services if s.sale_share and (s.id in svcs or s.category in cats)
        )
        if choice == "allow" and previous.decided:
            cats = cats | previous.categories
            svcs = svcs | previous.services
            optin = previous.gpc_optin | (chosen_sale if gpc else frozenset())
        else:
            optin = chosen_sale if gpc else previous.gpc_optin & chosen_sale
    return ConsentState(
        decided=True,
        categories=cats,
        services=svcs,
        gpc_optin=optin,
        policy_version=registry.policy_version,
        decided_at=now,
        gpc=gpc,
    ).derive(registry)
