"""Fuzzing the request-time parsers with hypothesis, for properties rather than "it did not raise":

- `safe_next`: whatever it returns, a browser resolving it on the site stays on the site (also after
  one more percent-decoding by a proxy), and it is a header-safe ASCII path;
- the consent cookie codec: `loads(dumps(s))` keeps what `s` grants; any text reads as undecided or as
  a state that round-trips; one changed character never yields another grant; signed but malformed
  payloads are "not decided";
- `parse_choice`: any body is a `Choice` within the registry or a `BadRequest`, never another error;
- `is_cross_site`: "same site" only when every signal the browser sent names this origin;
- `looks_personal` finds an e-mail, the client's IP or a phone number however it is encoded, and
  `parse_set_cookie`/`gate_cookies` take any header without raising and never let an undeclared or
  personal cookie through in strict mode.

The time budget is fixed by `max_examples` (the whole file runs in a few seconds).
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import string
from urllib.parse import quote, unquote

import pytest
from fuzz.urls import host_of, resolve
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers

from gatekeeper.consent import ConsentCodec, ConsentState, cookie_values, state_for_choice
from gatekeeper.cookies import gate_cookies, looks_personal, parse_set_cookie
from gatekeeper.endpoints import BadRequest, Choice, is_cross_site, parse_choice, safe_next
from gatekeeper.registry import Category, load_registry

SITE = "https://site.example/"
KEY = "fuzz-secret-key-0123456789"
REGISTRY = load_registry(
    {
        "cookies": [
            {"name": "sid", "category": "necessary", "purpose": "Session"},
            {"name": "lang", "category": "usability", "purpose": "Language", "max_age_days": 365},
            {"name": "_stats", "category": "analytics", "purpose": "Statistics", "max_age_days": 90},
        ],
        "services": [{"id": "youtube"}, {"id": "google-analytics"}, {"id": "meta-pixel"}, {"id": "x"}],
    }
)
NOW = 1_764_140_000
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- safe_next ------------------------------------------------------------------------------------

# The pieces open-redirect payload lists are built from (PayloadsAllTheThings' "Open Redirect" lists,
# OWASP's cheat sheet, the WHATWG URL parser's forgiving rules): slashes and their encodings, control
# characters a browser strips, schemes, user-info, Unicode look-alikes of "/" and ".".
REDIRECT_PIECES = [
    "/", "//", "///", "\\", "\\\\", "/\\", "\\/", "%2f", "%2F", "%5c", "%5C", "%252f", "%25252f",
    "%2e", ".", "..", "./", "../", "%2e%2e", "\t", "\n", "\r", " ", "\x00", "\x0b", "\x0c", "\x1f",
    "%09", "%0a", "%0d", "%00", "%20", "%a0", "@", ":", ";", "?", "#", "&", "=", "evil.example",
    "site.example", "site.example.evil.example", "http:", "https:", "HTTPS:", "javascript:", "data:",
    "java%0d%0ascript:", "\u3002", "%E3%80%82", "\uff0f", "\uff3c", "\u2215", "\u2044", "\ufe68",
    "\u3031", "\u30fc", "0xd8.0x3a.0xd6.0xce", "3627734734", "[::ffff:216.58.214.206]", "%40", "~",
]  # fmt: skip
redirects = st.one_of(
    st.lists(st.sampled_from(REDIRECT_PIECES), max_size=8).map("".join),
    st.text(max_size=40),
    st.lists(st.sampled_from(REDIRECT_PIECES), max_size=4).map(lambda p: "/" + "".join(p)),
)

# Payloads from the public lists, as a browser would receive them in our form's `next` field.
KNOWN_TRICKS = [
    "//evil.example/%2f..", "///evil.example/%2f..", "////evil.example/%2f..", "/https://evil.example/%2f..",
    "//site.example@evil.example/", "/%09/evil.example", "//%09/evil.example", "/%5cevil.example",
    "//%5cevil.example", "/%5cjavascript:alert(1)", "/%09/javascript:alert(1)", "\\/\\/evil.example/",
    "/\\/evil.example/", "//evil%00.example", "//evil%E3%80%82example", "/〱evil.example",
    "/ゝevil.example", "/ーevil.example", "/ｰevil.example", "//evil.example\\@site.example",
    "https://:@evil.example\\@site.example", "/\t/evil.example", "/\r\n/evil.example", "/ /evil.example",
    "/.//evil.example", "/./\\evil.example", "/..//evil.example", "/%2e%2e//evil.example",
    "/%2F%2Fevil.example", "/%252F%252Fevil.example", "/%25252F%25252Fevil.example", "/%5C%5Cevil.example",
    "/\\%2fevil.example", "/%2f\\evil.example", "/\u3000/evil.example", "/\u00a0/evil.example",
    "/\x0c/evil.example", "/\x1f/evil.example", "/\x7f/evil.example", "/\ufeff/evil.example",
    "/\uff0f/evil.example", "/\uff0fevil.example", "/\u2215\u2215evil.example", "https:evil.example",
    "http:evil.example", "https:/evil.example", "https:///evil.example", "javascript://%0aalert(1)",
    "/javascript:alert(1)", "//javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "/data:text/html,x", "/%0d%0aLocation:%20https://evil.example", "/x%0d%0aSet-Cookie:%20a=1",
    "/x\r\nSet-Cookie: a=1",
]  # fmt: skip


def stays_on_site(target: str) -> bool:
    return host_of(resolve(SITE, target)) == "site.example"


def check_next(result: str) -> None:
    assert result.startswith("/") and result.isascii()
    assert not any(ord(c) < 0x21 or ord(c) == 0x7F for c in result), "not a safe header value"
    assert stays_on_site(result), f"{result!r} leaves the site"
    decoded = result
    for _ in range(3):  # a proxy or the app may decode once (or twice) more before redirecting
        decoded = unquote(decoded)
        assert stays_on_site(decoded) or not decoded.startswith("/") or decoded == "/", decoded


@pytest.mark.parametrize("target", KNOWN_TRICKS)
def test_known_open_redirect_tricks_stay_on_site(target):
    check_next(safe_next(target))
    check_next(safe_next(quote(target, safe="/%:@\\")))


@FAST
@given(redirects)
@example("/\\evil.example")
@example("/%5c%5cevil.example")
def test_whatever_safe_next_returns_stays_on_site(target):
    check_next(safe_next(target))


@FAST
@given(st.text(alphabet=string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/%", max_size=60))
def test_plain_site_paths_are_kept(tail):
    target = "/" + tail
    assume(not target.startswith("//") and "%" not in target)
    assert safe_next(target) == target


# -- the consent cookie ---------------------------------------------------------------------------


def codec(keys=KEY, clock=lambda: NOW, days=182):
    return ConsentCodec(keys, REGISTRY, clock=clock, lifetime_days=days)


CODEC = codec()
states = st.builds(
    lambda cats, svcs, optin, age: state_for_choice(
        "custom",
        previous=ConsentState(),
        registry=REGISTRY,
        categories=cats,
        services=svcs,
        gpc=bool(optin),
        now=NOW - age,
    ),
    st.frozensets(st.sampled_from(REGISTRY.categories)),
    st.frozensets(st.sampled_from([s.id for s in REGISTRY.services])),
    st.booleans(),
    st.integers(0, 182 * 86400 - 1),
)


@FAST
@given(states)
def test_loads_of_dumps_keeps_every_grant(state):
    back = CODEC.loads(CODEC.dumps(state), gpc=state.gpc)
    assert back.decided and back.categories == state.categories
    assert back.granted == state.granted and back.decided_at == state.decided_at
    assert back.gpc_optin == state.gpc_optin
    assert len(CODEC.set_cookie(state, https=True)) <= 4096


@FAST
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
@example("")
@example("." * 5000)
@example("eyJ2IjoiMSJ9.AAAA.BBBB")
def test_any_text_reads_as_undecided(value):
    state = CODEC.loads(value)
    assert state == ConsentState()


@FAST
@given(states, st.data())
def test_one_changed_character_never_grants_something_else(state, data):
    value = CODEC.dumps(state)
    i = data.draw(st.integers(0, len(value) - 1))
    c = data.draw(st.sampled_from(string.ascii_letters + string.digits + "-_.=%"))
    tampered = value[:i] + c + value[i + 1 :]
    back = CODEC.loads(tampered)
    # base64's last character carries padding bits: a change there may decode to the same bytes
    assert back == ConsentState() or (back.granted == state.granted and back.categories == state.categories)


@FAST
@given(states)
def test_wrong_key_expired_and_future_keys(state):
    value = CODEC.dumps(state)
    assert codec("another-key-0123456789abcdef").loads(value) == ConsentState()
    assert codec([KEY, "a-newer-key-0123456789"]).loads(value).decided  # rotation: old ones verify
    later = NOW + 183 * 86400
    assert codec(clock=lambda: later).loads(value) == ConsentState()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=12,
)
payload_fields = st.fixed_dictionaries(
    {},
    optional={
        "v": st.one_of(st.just(REGISTRY.policy_version), json_values),
        "c": st.one_of(st.lists(st.sampled_from([c.value for c in Category] + ["x", ""])), json_values),
        "s": st.one_of(st.lists(st.sampled_from(["youtube", "x", "nope", ""])), json_values),
        "o": st.one_of(st.lists(st.sampled_from(["meta-pixel", "nope"])), json_values),
        "t": st.one_of(st.integers(-(2**70), 2**70), st.just(NOW), json_values),
    },
)


@FAST
@given(st.one_of(payload_fields, json_values))
def test_signed_but_malformed_payloads_are_not_decided_or_valid(payload):
    """A payload that carries our signature but was not written by `dumps` (an older version, a bug,
    a stolen key used carelessly): read as undecided, or as a state that round-trips."""
    state = CODEC.loads(CODEC._serializer.dumps(payload))
    if state.decided:
        assert state.policy_version == REGISTRY.policy_version
        assert Category.NECESSARY not in state.categories
        assert state.services <= set(REGISTRY.by_id)
        assert CODEC.loads(CODEC.dumps(state)).granted == state.granted
    else:
        assert state == ConsentState()


@FAST
@given(st.lists(st.one_of(st.text(max_size=30), st.sampled_from(["gk_consent=", "gk_consent", ";", " "])),
                max_size=10).map("".join))  # fmt: skip
def test_any_cookie_header_reads_without_raising(header):
    assert isinstance(CODEC.read(header, https=False, gpc=False), ConsentState)
    assert all(isinstance(v, str) for v in cookie_values(header, "gk_consent"))


@FAST
@given(states, states)
def test_duplicated_cookies_read_as_the_most_restrictive(a, b):
    header = f"gk_consent=garbage; gk_consent={CODEC.dumps(a)}; gk_consent={CODEC.dumps(b)}"
    got = CODEC.read(header, https=False, gpc=False)
    one = CODEC.read(f"gk_consent={CODEC.dumps(a)}", https=False, gpc=False)
    other = CODEC.read(f"gk_consent={CODEC.dumps(b)}", https=False, gpc=False)
    assert got.granted == one.granted & other.granted
    assert got.categories == one.categories & other.categories


# -- parse_choice ---------------------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
form_fields = st.lists(
    st.tuples(
        st.sampled_from(["choice", "category", "service", "next", "embed", "submit", "", "choice[]"]),
        st.one_of(
            st.sampled_from(["all", "none", "custom", "allow", "once", "media", "analytics", "necessary",
                             "marketing", "youtube", "x", "nope", "3", "-1", "99999999", "/a", "//evil"]),
            st.text(max_size=12),
        ),
    ),
    max_size=8,
)  # fmt: skip


def check_choice(parsed: Choice) -> None:
    assert parsed.choice in ("all", "none", "custom", "allow", "once")
    assert all(c is Category.NECESSARY or c in REGISTRY.categories for c in parsed.categories)
    assert parsed.services <= set(REGISTRY.by_id)
    check_next(parsed.next)
    if parsed.choice == "once":
        assert len(parsed.services) == 1 and isinstance(parsed.embed, int) and parsed.embed >= 0


@FAST
@given(form_fields, st.sampled_from([FORM, FORM + "; charset=utf-8", "APPLICATION/X-WWW-FORM-URLENCODED"]))
def test_any_form_is_a_choice_or_a_bad_request(pairs, ctype):
    body = "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs).encode()
    try:
        parsed, as_json = parse_choice(ctype, body, REGISTRY)
    except BadRequest as e:
        assert str(e) and "\n" not in str(e)
        return
    assert as_json is False
    check_choice(parsed)


@FAST
@given(st.one_of(json_values, st.dictionaries(
    st.sampled_from(["choice", "categories", "category", "services", "service", "next", "embed", "x"]),
    st.one_of(json_values, st.sampled_from(["all", "custom", "once", ["media"], ["youtube"], 2, "/a"])),
)))  # fmt: skip
def test_any_json_is_a_choice_or_a_bad_request(data):
    try:
        parsed, as_json = parse_choice(JSON_TYPE, json.dumps(data).encode(), REGISTRY)
    except BadRequest as e:
        assert str(e) and "\n" not in str(e)
        return
    assert as_json is True
    check_choice(parsed)


@FAST
@given(st.text(max_size=40), st.binary(max_size=200))
@example(JSON_TYPE, b"[" * 8000)
@example(JSON_TYPE, b'{"choice":' * 1600)
@example(FORM, b"%" * 100)
@example(FORM, b"choice=all&" * 300)
def test_any_bytes_are_a_choice_or_a_bad_request(ctype, body):
    with contextlib.suppress(BadRequest):
        check_choice(parse_choice(ctype, body, REGISTRY)[0])


def test_deeply_nested_json_is_a_bad_request_not_a_crash():
    """json.loads raises RecursionError (not a ValueError) on deep nesting: 16 KiB of "[" is enough."""
    for body in (b"[" * 8000, b'{"choice":' * 1600, b'{"choice": "all", "services": ' + b"[" * 8000):
        with pytest.raises(BadRequest):
            parse_choice(JSON_TYPE, body, REGISTRY)


# -- is_cross_site --------------------------------------------------------------------------------

origins = st.one_of(
    st.sampled_from([
        "http://site.example:8000", "https://site.example:8000", "http://SITE.EXAMPLE:8000",
        "http://site.example", "http://evil.example", "null", "", "file://", "http://site.example:8000/",
        "http://site.example:8000@evil.example", "http://evil.example#@site.example:8000",
        "http://site.example:8000.evil.example", "http://[::1]:8000", "site.example:8000",
    ]),
    st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=30),  # headers are latin-1
)  # fmt: skip
fetch_sites = st.sampled_from(["same-origin", "SAME-ORIGIN", "same-site", "cross-site", "none", "", "x"])


@FAST
@given(st.one_of(st.none(), origins), st.one_of(st.none(), fetch_sites))
def test_same_origin_only_when_every_signal_names_this_origin(origin, fetch_site):
    host = "site.example:8000"
    headers = {}
    if origin is not None:
        headers["origin"] = origin
    if fetch_site is not None:
        headers["sec-fetch-site"] = fetch_site
    cross = is_cross_site(Headers(headers), host)
    if fetch_site is not None and fetch_site.lower() != "same-origin":
        assert cross
    if origin is not None and not cross:
        # what a browser serialises as Origin is scheme://host[:port]; it must be this host exactly
        netloc = origin.split("://", 1)[1] if "://" in origin else None
        assert netloc is not None and netloc.rstrip("/").lower() == host, origin


# -- looks_personal, parse_set_cookie, gate_cookies -----------------------------------------------

local = st.text(alphabet=string.ascii_lowercase + string.digits + "._+-", min_size=1, max_size=12).filter(
    lambda s: s[0].isalnum()
)
domain = st.lists(st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=8),
                  min_size=1, max_size=3).map(".".join)  # fmt: skip
emails = st.builds(lambda u, d, tld: f"{u}@{d}.{tld}", local, domain, st.sampled_from(["com", "jp", "co.jp"]))


def encodings(text: str) -> list[str]:
    raw = text.encode()
    return [
        text,
        quote(text, safe=""),
        quote(quote(text, safe=""), safe=""),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "eyJhbGciOiJIUzI1NiJ9."
        + base64.urlsafe_b64encode(b'{"sub":"' + raw + b'"}').decode().rstrip("=")
        + ".c2lnbmF0dXJl",
        quote(base64.b64encode(raw).decode(), safe=""),
    ]


@FAST
@given(emails, st.sampled_from(["", "user=", "v1|", "a:"]), st.sampled_from(["", "|x", "&ts=1"]))
def test_emails_are_found_however_encoded(email, before, after):
    for value in encodings(email):
        assert looks_personal(before + value + after) == "e-mail", value


@FAST
@given(st.ip_addresses(v=4) | st.ip_addresses(v=6))
def test_the_clients_ip_is_found_however_encoded(ip):
    assume(not ip.is_unspecified)  # "::" is no client's address
    text = str(ip)
    for value in encodings(f"ip={text};x"):
        assert looks_personal(value, client_ip=text) == "ip-address", value
    if isinstance(ip, ipaddress.IPv4Address):  # not a longer number that merely contains it
        assert looks_personal(f"1{text}9", client_ip=text) != "ip-address"


@FAST
@given(st.sampled_from(["+81 90 1234 5678", "090-1234-5678", "09012345678", "03-1234-5678",
                        "(555) 123-4567", "555-123-4567", "+1 555 123 4567"]))  # fmt: skip
def test_phone_numbers_are_found_however_encoded(phone):
    for value in encodings(f"tel={phone}"):
        assert looks_personal(value) == "phone", value


@FAST
@given(st.uuids())
def test_random_identifiers_are_not_personal(uid):
    """A session id is not personal data in this sense: dropping it would log visitors out at random."""
    for value in (uid.hex, str(uid).replace("-", ""), base64.urlsafe_b64encode(uid.bytes).decode()):
        assert looks_personal(value) is None, value


def test_a_dashed_uuid_session_id_is_not_a_phone_number():
    assert looks_personal("deadbeef-0123-4567-8901-abcdefabcdef") is None


@FAST
@given(st.text(max_size=200))
@example("=" * 100)
@example("a=b; Expires=" + "9" * 400)
@example("a=b; Max-Age=" + "9" * 5000)
@example("a=b; Expires=Wed, 31 Dec 99999 23:59:59 GMT")
def test_any_set_cookie_parses_or_is_none_and_gates_without_raising(header):
    cookie = parse_set_cookie(header)
    if cookie is not None:
        assert ";" not in cookie.name and "=" not in cookie.name
        assert cookie.name or cookie.value  # a nameless cookie still has a value
        cookie.lifetime_seconds(NOW)
    state = ConsentState(decided=True, categories=frozenset(Category), policy_version="x")
    gate_cookies([header], state, REGISTRY, client_ip="203.0.113.7", now=NOW)


cookie_names = st.sampled_from(["sid", "lang", "_stats", "tracker", "_ga", "lang ", " sid", "LANG"])
cookie_values_ = st.one_of(emails, st.text(alphabet=string.ascii_letters + string.digits, max_size=12))
attributes = st.lists(st.sampled_from(["Path=/", "Max-Age=60", "Max-Age=0", "Max-Age=-1", "HttpOnly",
                                       "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Secure", "Max-Age=x",
                                       "Domain=site.example", "Max-Age=999999999"]), max_size=4)  # fmt: skip


@FAST
@given(st.lists(st.tuples(cookie_names, cookie_values_, attributes), max_size=6), st.booleans())
def test_the_gate_never_passes_undeclared_ungranted_or_personal_cookies(cookies, decided):
    headers = ["; ".join([f"{n}={v}", *a]) for n, v, a in cookies]
    state = (
        ConsentState(decided=True, categories=frozenset({Category.USABILITY}), policy_version="x")
        if decided
        else ConsentState()
    )
    result = gate_cookies(headers, state, REGISTRY, client_ip="203.0.113.7", now=NOW)
    for kept in result.headers:
        cookie = parse_set_cookie(kept)
        assert cookie is not None
        lifetime = cookie.lifetime_seconds(NOW)
        if lifetime is not None and lifetime <= 0:
            assert cookie.value == ""  # deleting is always allowed, with nothing in it
            continue
        assert looks_personal(cookie.value, "203.0.113.7") is None
        decl = REGISTRY.cookie_declaration(cookie.name)
        assert decl is not None and state.category_granted(decl.category), kept
        if decl.max_age_days is not None and lifetime is not None:
            assert lifetime <= decl.max_age_days * 86400 + 60


@pytest.mark.parametrize("header", ["taro@example.jp", "=taro@example.jp", "tracker-id-1234"])
def test_nameless_cookies_are_not_passed_through(header):
    """RFC 6265bis 5.7 (and Chromium): a Set-Cookie without "=" is a cookie with an empty name and this
    value, sent back as `Cookie: taro@example.jp` (tests/test_hardening_input.py shows Chromium doing
    it). Passing them "untouched" lets an undeclared, even a personal, cookie through the gate."""
    result = gate_cookies([header], ConsentState(), REGISTRY, client_ip="203.0.113.7", now=NOW)
    assert result.headers == ()
