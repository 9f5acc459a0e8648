"""The cookie gate: declared / undeclared / category / personal data (plain and encoded) / lifetimes."""

import base64
from urllib.parse import quote

import pytest

from gatekeeper.consent import ConsentState
from gatekeeper.cookies import Verdict, gate_cookies, looks_personal, parse_set_cookie
from gatekeeper.registry import Category, load_registry

NOW = 1_700_000_000.0

SERVICES = {
    "site": {"mode": "strict"},
    "cookies": [
        {"name": "session", "category": "necessary", "purpose": "Keeps you signed in"},
        {"name": "lang", "category": "usability", "purpose": "Language", "max_age_days": 365},
        {"name": "pref_*", "category": "usability", "purpose": "Display preferences", "max_age_days": 30},
        {"name": "_stats", "category": "analytics", "purpose": "Counts visits", "max_age_days": 90},
    ],
    "services": [{"id": "youtube"}],
}


@pytest.fixture(scope="module")
def registry():
    return load_registry(SERVICES)


@pytest.fixture(scope="module")
def report_registry():
    return load_registry({**SERVICES, "site": {"mode": "report"}})


UNDECIDED = ConsentState()


def usability_only(registry):
    return ConsentState(True, frozenset({Category.USABILITY}), policy_version=registry.policy_version)


def gate(registry, headers, state=UNDECIDED, ip="203.0.113.7"):
    return gate_cookies(headers, state, registry, client_ip=ip, now=NOW)


@pytest.mark.parametrize(
    ("header", "granted", "verdict", "kept"),
    [
        ("session=abc123; Path=/; HttpOnly", False, Verdict.PASS, True),  # necessary: always
        ("lang=ja; Path=/; Max-Age=3600", False, Verdict.NOT_GRANTED, False),
        ("lang=ja; Path=/; Max-Age=3600", True, Verdict.PASS, True),
        ("pref_font=large; Max-Age=60", True, Verdict.PASS, True),  # glob declaration
        ("pref_font=large; Max-Age=60", False, Verdict.NOT_GRANTED, False),
        ("_stats=1; Max-Age=60", True, Verdict.NOT_GRANTED, False),  # analytics not granted
        ("tracker=1; Path=/", True, Verdict.UNDECLARED, False),  # strict mode drops
        ("prefix=1", True, Verdict.UNDECLARED, False),  # "pref_*" does not match "prefix"
    ],
)
def test_declarations_and_categories(registry, header, granted, verdict, kept):
    state = usability_only(registry) if granted else UNDECIDED
    result = gate(registry, [header], state)
    assert result.verdicts[0].verdict is verdict
    assert (header in result.headers) is kept


def test_report_mode_passes_undeclared_with_a_reason(report_registry):
    result = gate(report_registry, ["tracker=1"])
    assert result.headers == ("tracker=1",)
    v = result.verdicts[0]
    assert v.verdict is Verdict.UNDECLARED and v.kept
    assert "[[cookies]]" in v.detail and 'name = "tracker"' in v.detail


def test_strict_drop_says_how_to_declare(registry):
    v = gate(registry, ["tracker=1"]).verdicts[0]
    assert "declare it in your services file" in v.detail


def b64(text, urlsafe=False):
    raw = text.encode()
    out = base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)
    return out.decode().rstrip("=")


PERSONAL = [
    ("taro.yamada@example.jp", "e-mail"),
    (quote("taro.yamada@example.jp"), "e-mail"),
    (quote(quote("a@b.example")), "e-mail"),
    (b64("taro@example.com"), "e-mail"),
    (b64('{"user":"taro@example.com"}', urlsafe=True), "e-mail"),
    ("eyJhbGciOiJIUzI1NiJ9." + b64('{"sub":"taro@example.com"}', urlsafe=True) + ".sig", "e-mail"),
    ("user%3Dtaro%2Bshop%40example.co.jp%26x%3D1", "e-mail"),
    ("ip=203.0.113.7", "ip-address"),
    (b64("203.0.113.7"), "ip-address"),
    (quote("client:203.0.113.7|x"), "ip-address"),
    ("+81 90-1234-5678", "phone"),
    ("090-1234-5678", "phone"),
    ("03-1234-5678", "phone"),
    ("09012345678", "phone"),
    ("(555) 123-4567", "phone"),
    ("555-123-4567", "phone"),
    (quote("+1 555 123 4567"), "phone"),
    (b64("tel:+81-3-1234-5678"), "phone"),
]


@pytest.mark.parametrize(("value", "reason"), PERSONAL)
def test_personal_data_detected(value, reason):
    assert looks_personal(value, "203.0.113.7") == reason


NOT_PERSONAL = [
    "ja",
    "1700000000",  # a timestamp
    "2024-11-26",  # a date
    "203.0.113.70",  # another address than the client's
    "1203.0.113.7",
    "a1b2c3d4e5f6a7b8c9d0",  # a random token
    b64("just some preferences"),
    "GA1.1.123456789.1700000000",
    "v=2&theme=dark&size=14",
    "550e8400-e29b-41d4-a716-446655440000",  # a UUID
    "12345678901234567890",
    "font@large",  # no domain
    "deadbeef-0123-4567-8901-abcdefabcdef",  # a UUID session id
    "05.06.2024",  # a date
    "v1-012-3456-7890-x",
]


@pytest.mark.parametrize("value", NOT_PERSONAL)
def test_ordinary_values_pass(value):
    assert looks_personal(value, "203.0.113.7") is None


@pytest.mark.parametrize("mode", ["strict", "report"])
def test_personal_data_dropped_in_every_mode_even_necessary(registry, report_registry, mode):
    reg = registry if mode == "strict" else report_registry
    result = gate(reg, ["session=taro%40example.com; Path=/"], usability_only(reg))
    assert result.headers == ()
    assert result.verdicts[0].verdict is Verdict.PERSONAL_DATA


def test_client_ip_is_the_requesting_one(registry):
    assert gate(registry, ["session=10.1.2.3"], ip="10.1.2.3").verdicts[0].verdict is Verdict.PERSONAL_DATA
    assert gate(registry, ["session=10.1.2.3"], ip="10.9.9.9").verdicts[0].verdict is Verdict.PASS


@pytest.mark.parametrize(
    ("header", "expected_max_age"),
    [
        ("lang=ja; Max-Age=99999999; Path=/", 365 * 86400),
        ("lang=ja; Expires=Fri, 31 Dec 2055 23:59:59 GMT; Path=/", 365 * 86400),
        ("lang=ja; Max-Age=3600", None),  # within the declaration: untouched
        ("lang=ja", None),  # a session cookie: untouched
    ],
)
def test_lifetime_clamped_to_declaration(registry, header, expected_max_age):
    result = gate(registry, [header], usability_only(registry))
    (out,) = result.headers
    if expected_max_age is None:
        assert out == header
        return
    cookie = parse_set_cookie(out)
    assert cookie.attribute("max-age") == str(expected_max_age)
    assert cookie.attribute("expires") is None and cookie.attribute("path") == "/"
    assert result.verdicts[0].verdict is Verdict.CLAMPED


def test_expiring_a_cookie_always_passes(registry):
    result = gate(
        registry, ["_stats=; Max-Age=0; Path=/", "tracker=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]
    )
    assert len(result.headers) == 2


def test_order_and_multiple_headers_kept(registry):
    headers = ["session=1", "tracker=2", "lang=ja", "session=3"]
    result = gate(registry, headers, usability_only(registry))
    assert result.headers == ("session=1", "lang=ja", "session=3")


@pytest.mark.parametrize("header", ["garbage-without-equals", "=value", "taro@example.jp", "", ";", " = "])
def test_nameless_and_empty_set_cookies_do_not_pass(registry, report_registry, header):
    # a browser keeps "garbage" as a cookie with an empty name: it is undeclared like any other
    assert gate(registry, [header]).headers == ()
    if "@" in header or not header.strip(" =;"):
        assert gate(report_registry, [header]).headers == ()
