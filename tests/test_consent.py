"""The consent cookie codec: round trip, every tamper, key rotation, expiry, policy version, GPC."""

import dataclasses
import re

import pytest

from gatekeeper.consent import (
    COOKIE_LIMIT,
    ConsentCodec,
    ConsentState,
    cookie_values,
    gpc_requested,
    state_for_choice,
)
from gatekeeper.registry import Category, ConfigError, load_registry

KEY = "k" * 32
OTHER = "o" * 32


PIXEL = {
    "id": "pixel",
    "name": "Pixel",
    "vendor": "Pixel Inc.",
    "category": "marketing",
    "purpose": {"en": "Ads.", "ja": "広告。"},
    "data_sent": {"en": "Visits.", "ja": "訪問。"},
    "policy_url": "https://pixel.example/privacy",
    "hosts": ["pixel.example"],
    "sale_share": True,
}


@pytest.fixture(scope="module")
def registry():
    return load_registry({"services": [{"id": "youtube"}, {"id": "google-analytics"}, PIXEL]})


def codec(registry, keys=KEY, clock=None, **kw):
    if clock is not None:
        kw["clock"] = clock
    return ConsentCodec(keys, registry, **kw)


def decided(registry, cats=(Category.MEDIA,), services=(), optin=()):
    return ConsentState(
        decided=True,
        categories=frozenset(cats),
        services=frozenset(services),
        gpc_optin=frozenset(optin),
        policy_version=registry.policy_version,
        decided_at=1_700_000_000,
    )


def test_round_trip(registry):
    c = codec(registry)
    state = decided(registry, services=("google-analytics",))
    back = c.loads(c.dumps(state))
    assert back == state.derive(registry)
    assert back.granted == {"youtube", "google-analytics"} and back.allows("youtube")


@pytest.mark.parametrize(
    ("typo", "hint"),
    [("youtbe", "did you mean 'youtube'"), ("YouTube", "did you mean 'youtube'"), ("ga", ""), ("", "")],
)
def test_allows_names_a_mistyped_service_instead_of_saying_no(registry, typo, hint):
    state = decided(registry).derive(registry)
    assert state.allows("youtube") and not state.allows("google-analytics")
    with pytest.raises(ConfigError, match=f"no service {typo!r}.*{re.escape(hint)}.*its services are: "):
        state.allows(typo)
    assert ConsentState().allows(typo) is False  # no middleware ran: nothing to check against


def test_payload_holds_nothing_but_the_choice(registry):
    c = codec(registry)
    ok, payload = c._serializer.loads_unsafe(c.dumps(decided(registry)))
    assert ok and set(payload) == {"v", "c", "s", "o", "t"}
    assert payload["c"] == ["media"] and isinstance(payload["t"], int)


def _flip_signature(value: str) -> str:
    """Another first character of the signature (its last character carries padding bits that
    base64 decoding ignores, so changing that one may change nothing)."""
    i = value.rindex(".") + 1
    return value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: _flip_signature(v),
        lambda v: ("e" if v[0] != "e" else "f") + v[1:],  # payload byte
        lambda v: v.split(".")[0],  # no signature
        lambda v: "",  # empty
        lambda v: "not-a-cookie",
        lambda v: v + ".extra",
        lambda v: "é" + v,  # non-ASCII
        lambda v: "x" * (COOKIE_LIMIT + 1),  # oversized
        lambda v: v.replace(".", "..", 1),
    ],
)
def test_any_tamper_means_undecided(registry, tamper):
    c = codec(registry)
    value = tamper(c.dumps(decided(registry)))
    state = c.loads(value)
    assert state == ConsentState()


def test_wrong_key_means_undecided(registry):
    value = codec(registry, OTHER).dumps(decided(registry))
    assert not codec(registry).loads(value).decided


def test_key_rotation_newest_signs_all_verify(registry):
    old_value = codec(registry, [OTHER]).dumps(decided(registry))
    rotated = codec(registry, [OTHER, KEY])  # oldest first, newest last
    assert rotated.loads(old_value).decided
    new_value = rotated.dumps(decided(registry))
    assert codec(registry, [KEY]).loads(new_value).decided  # the newest key signed it
    assert not codec(registry, [OTHER]).loads(new_value).decided


def test_expired_means_undecided(registry):
    now = [1_700_000_000.0]
    c = codec(registry, clock=lambda: now[0], lifetime_days=30)
    value = c.dumps(decided(registry))
    now[0] += 29 * 86400
    assert c.loads(value).decided
    now[0] += 2 * 86400
    assert not c.loads(value).decided


def test_old_policy_version_means_undecided(registry):
    value = codec(registry).dumps(decided(registry))
    narrower = registry.restricted_to(["youtube"])
    assert narrower.policy_version != registry.policy_version
    assert not codec(narrower).loads(value).decided


@pytest.mark.parametrize("days", [0, -1, 397, 1000])
def test_lifetime_is_bounded(registry, days):
    with pytest.raises(ConfigError, match="13 months"):
        codec(registry, lifetime_days=days)


@pytest.mark.parametrize("keys", [[], "", ["short"], [KEY, ""]])
def test_bad_keys_raise_at_construction(registry, keys):
    with pytest.raises(ConfigError, match="secret_keys"):
        codec(registry, keys)


def test_set_cookie_attributes(registry):
    c = codec(registry)
    plain = c.set_cookie(decided(registry), https=False)
    assert plain.startswith("gk_consent=")
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Path=/" in plain
    assert f"Max-Age={182 * 86400}" in plain and "Secure" not in plain
    secure = c.set_cookie(decided(registry), https=True)
    assert secure.startswith("__Host-gk_consent=") and "; Secure" in secure and "Domain" not in secure


def test_cookie_fits_with_every_service_granted(registry):
    c = codec(registry)
    every = decided(
        registry,
        cats=(),
        services=[s.id for s in registry.services],
        optin=[s.id for s in registry.services if s.sale_share],
    )
    assert len(c.set_cookie(every, https=True)) < COOKIE_LIMIT


def test_read_of_duplicates_takes_the_most_restrictive(registry):
    # a sibling subdomain (or a plain-HTTP response) may plant a valid "all" for the parent domain,
    # newer than the visitor's own choice: it must not override a refusal
    c = codec(registry)
    older = c.dumps(decided(registry, cats=()))
    newer_state = decided(registry, cats=(Category.ANALYTICS,))
    newer = c.dumps(dataclasses.replace(newer_state, decided_at=1_800_000_000))
    header = f"gk_consent=garbage; gk_consent={older}; other=1; gk_consent={newer}"
    state = c.read(header, https=False, gpc=False)
    assert state.decided and not state.categories and not state.granted
    alone = c.read(f"gk_consent=garbage; gk_consent={newer}", https=False, gpc=False)
    assert Category.ANALYTICS in alone.categories  # one valid cookie is read as it is


def test_read_uses_host_prefix_on_https(registry):
    c = codec(registry)
    value = c.dumps(decided(registry))
    assert not c.read(f"gk_consent={value}", https=True, gpc=False).decided
    assert c.read(f"__Host-gk_consent={value}", https=True, gpc=False).decided


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"sec-gpc", b"1")], True),
        ([(b"sec-gpc", b" 1 ")], True),
        ([(b"sec-gpc", b"0")], False),
        ([(b"sec-gpc", b"true")], False),
        ([(b"sec-gpc", b"11")], False),
        ([], False),
    ],
)
def test_gpc_header_is_exactly_one(headers, expected):
    assert gpc_requested(headers) is expected


def test_gpc_turns_off_sale_share_services_unless_opted_in(registry):
    sale = next(s for s in registry.services if s.sale_share)
    granted_all = state_for_choice(
        "all", previous=ConsentState(), registry=registry, categories=(), services=(), gpc=False, now=1
    )
    assert granted_all.service_granted(sale.id, registry)
    with_gpc = dataclasses.replace(granted_all, gpc=True)
    assert not with_gpc.service_granted(sale.id, registry)
    # "accept all" under GPC is not an explicit opt-in
    all_under_gpc = state_for_choice(
        "all", previous=ConsentState(gpc=True), registry=registry, categories=(), services=(), gpc=True, now=1
    )
    assert not all_under_gpc.service_granted(sale.id, registry)
    # naming the service while GPC is on is
    explicit = state_for_choice(
        "custom",
        previous=ConsentState(gpc=True),
        registry=registry,
        categories=(),
        services=(sale.id,),
        gpc=True,
        now=1,
    )
    assert explicit.service_granted(sale.id, registry)
    assert sale.id in explicit.gpc_optin


def test_choices(registry):
    none = state_for_choice(
        "none", previous=ConsentState(), registry=registry, categories=(), services=(), gpc=False, now=1
    )
    assert none.decided and none.granted_services(registry) == frozenset()
    assert none.category_granted(Category.NECESSARY)
    custom = state_for_choice(
        "custom",
        previous=none,
        registry=registry,
        categories=(Category.MEDIA,),
        services=("google-analytics",),
        gpc=False,
        now=1,
    )
    granted = custom.granted_services(registry)
    assert "youtube" in granted and "google-analytics" in granted
    assert not custom.category_granted(Category.ANALYTICS)
    allow = state_for_choice(
        "allow", previous=custom, registry=registry, categories=(), services=("pixel",), gpc=False, now=2
    )
    assert allow.granted_services(registry) == granted | {"pixel"}


def test_cookie_values():
    assert cookie_values('a=1; b="2"; a=3;c', "a") == ["1", "3"]
    assert cookie_values("", "a") == []


def test_necessary_services_are_always_on():
    necessary = {**PIXEL, "id": "payments", "category": "necessary", "sale_share": False}
    reg = load_registry({"services": [{"id": "youtube"}, necessary]})
    state = ConsentCodec(KEY, reg).read("", https=False, gpc=False)
    assert not state.decided and state.granted == {"payments"}
