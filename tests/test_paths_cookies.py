"""The cookie gate reads what the browser reads: cookie dates by RFC 6265bis, personal data however a
site's code encodes it, in names as in values; several consent cookies give the narrowest reading."""

from __future__ import annotations

import base64
import calendar
import json
import urllib.parse

import pytest
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

from gatekeeper.consent import ConsentCodec, ConsentState, state_for_choice
from gatekeeper.cookie_dates import parse_cookie_date
from gatekeeper.cookies import Verdict, gate_cookies, looks_personal
from gatekeeper.registry import Category, load_registry

NOW = calendar.timegm((2026, 12, 3, 0, 0, 0))
REGISTRY = load_registry(
    {
        "cookies": [
            {"name": "pref_*", "category": "usability", "purpose": "Preferences", "max_age_days": 365},
            {"name": "sid", "category": "necessary", "purpose": "Session"},
        ],
        "services": [{"id": "youtube"}, {"id": "google-analytics"}],
    }
)


def ts(*parts: int) -> float:
    return float(calendar.timegm((*parts, 0, 0, 0)))


# -- dates ---------------------------------------------------------------------------------------

DATES = [
    ("Thu, 01 Jan 69 00:00:00 GMT", ts(2069, 1, 1, 0, 0, 0)),  # Python's e-mail parser: 1969
    ("Thu, 01 Jan 70 00:00:00 GMT", ts(1970, 1, 1, 0, 0, 0)),
    ("Wed, 21 Oct 2015 07:28:00 GMT", ts(2015, 10, 21, 7, 28, 0)),
    ("Sunday, 06-Nov-94 08:49:37 GMT", ts(1994, 11, 6, 8, 49, 37)),  # RFC 850
    ("Sun Nov  6 08:49:37 1994", ts(1994, 11, 6, 8, 49, 37)),  # asctime
    ("06 Nov 2094 08:49:37", ts(2094, 11, 6, 8, 49, 37)),
    ("Nov 6 2030 8:9:7", ts(2030, 11, 6, 8, 9, 7)),
    ("2030 Nov 6 08:49:37 GMT", ts(2030, 11, 6, 8, 49, 37)),  # tokens in any order
    ("6-nOvEmBeR-30 08:49:37", ts(2030, 11, 6, 8, 49, 37)),
    ("Thu, 01 Jan 00 00:00:00 GMT", ts(2000, 1, 1, 0, 0, 0)),
    ("Thu, 01-Jan-2069 00:00:00 GMT+0900", ts(2069, 1, 1, 0, 0, 0)),  # zones are ignored
    ("Thu, 31 Feb 2030 00:00:00 GMT", None),  # no such day
    ("Thu, 01 Jan 1600 00:00:00 GMT", None),  # before 1601
    ("Thu, 01 Jan 2030 24:00:00 GMT", None),
    ("Thu, 01 Jan 2030 00:60:00 GMT", None),
    ("Thu, 32 Jan 2030 00:00:00 GMT", None),
    ("Thu, 01 Jan 2030", None),  # no time
    ("01 2030 00:00:00", None),  # no month
    ("", None),
    ("tomorrow", None),
]


@pytest.mark.parametrize(("text", "expected"), DATES)
def test_cookie_dates_as_browsers_read_them(text, expected):
    assert parse_cookie_date(text) == expected


@pytest.mark.parametrize(
    ("expires", "verdict"),
    [
        ("Thu, 01 Jan 69 00:00:00 GMT", Verdict.UNDECLARED),  # 2069: a cookie to judge, not a deletion
        ("Thu, 01 Jan 1970 00:00:00 GMT", Verdict.PASS),  # a deletion: always allowed
        ("Thu, 31 Feb 1999 00:00:00 GMT", Verdict.UNDECLARED),  # void: a session cookie
    ],
)
def test_a_deletion_is_only_what_the_browser_reads_as_one(expires, verdict):
    result = gate_cookies([f"tracker=taro; Expires={expires}"], ConsentState(), REGISTRY, now=NOW)
    assert result.verdicts[0].verdict is verdict
    assert bool(result.headers) is (verdict is Verdict.PASS)


# -- personal data -------------------------------------------------------------------------------

CLIENT = "203.0.113.7"


def _flask(payload: object) -> str:
    # itsdangerous compresses when it is shorter: a leading "." and base64 of a zlib stream
    return URLSafeTimedSerializer("k").dumps(payload)


PERSONAL = [
    ("compressed-flask-session", _flask({"user": "taro@example.jp", "pad": "x" * 200}), "e-mail"),
    ("compressed-itsdangerous", URLSafeSerializer("k").dumps(["taro@example.jp"] * 20), "e-mail"),
    ("jp-landline-10-digits", "0312345678", "phone"),
    ("jp-mobile-dots", "090.1234.5678", "phone"),
    ("jp-mobile-full-width", "０９０－１２３４－５６７８", "phone"),
    ("jp-country-code-no-plus", "81-90-1234-5678", "phone"),
    ("jp-mobile-plain", "09012345678", "phone"),
    ("base64-glued-to-prefix", "u_dGFyb0BleGFtcGxlLmpw", "e-mail"),
    ("base64-glued-3", "abc" + base64.b64encode(b"taro@example.jp").decode(), "e-mail"),
    ("base64-glued-5", "abcde" + base64.b64encode(b"taro@example.jp").decode(), "e-mail"),
    ("ip-hex", "cb007107", "ip-address"),
    ("ip-hex-0x", "v=0xCB007107", "ip-address"),
    ("ip-integer", str(int.from_bytes(bytes([203, 0, 113, 7]), "big")), "ip-address"),
    ("ip-zero-padded", "203.000.113.007", "ip-address"),
    ("ip-plain", "ip=203.0.113.7", "ip-address"),
    ("ip-base64", base64.b64encode(b"203.0.113.7").decode(), "ip-address"),
    ("json-u0040", json.dumps({"m": "taro@example.jp"}).replace("@", "\\u0040"), "e-mail"),
    ("json-u0040-urlencoded", urllib.parse.quote('{"m":"taro\\u0040example.jp"}'), "e-mail"),
    ("html-entity", "taro&#64;example.jp", "e-mail"),
    ("html-hex-entity", "taro&#x40;example.jp", "e-mail"),
    ("full-width-at", "taro＠example.jp", "e-mail"),
    ("idn-domain", "taro@例え.jp", "e-mail"),
    ("idn-punycode-tld", "taro@example.xn--wgv71a", "e-mail"),
    ("unicode-local-part", "太郎@example.jp", "e-mail"),
    ("idn-punycode-domain", "taro@xn--r8jz45g.jp", "e-mail"),
]


@pytest.mark.parametrize(("value", "kind"), [p[1:] for p in PERSONAL], ids=[p[0] for p in PERSONAL])
def test_personal_data_however_it_is_encoded(value, kind):
    assert looks_personal(value, CLIENT) == kind


ORDINARY = [
    "GA1.1.1234567890.1700000000",
    "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    "0123-4567-8901",
    "05.06.2024",
    "05-06-2024",
    "2026-12-03T10:00:00Z",
    "1700000000",
    "ja",
    "font-size=large",
    "a3f9c2d1e8b74f60",
    "dark",
    _flask({"theme": "dark", "pad": "x" * 200}),
    URLSafeSerializer("k").dumps(["ja"] * 40),
    base64.b64encode(b"lang=ja;size=2").decode(),
    "cb0071070",  # a longer hex run than the client's address
    "3405803784",  # another address as an integer
]


@pytest.mark.parametrize("value", ORDINARY)
def test_ordinary_values_are_not_personal(value):
    assert looks_personal(value, CLIENT) is None


@pytest.mark.parametrize(
    "name", ["pref_taro@example.jp", "pref_0312345678", "pref_dGFyb0BleGFtcGxlLmpw", "pref_203.0.113.7"]
)
def test_a_cookie_name_is_checked_too(name):
    granted = state_for_choice(
        "all", previous=ConsentState(), registry=REGISTRY, categories=(), services=(), gpc=False, now=NOW
    )
    result = gate_cookies([f"{name}=1; Max-Age=60"], granted, REGISTRY, client_ip=CLIENT, now=NOW)
    assert result.headers == () and result.verdicts[0].verdict is Verdict.PERSONAL_DATA
    assert "its name" in result.verdicts[0].detail
    ok = gate_cookies(["pref_theme=1; Max-Age=60"], granted, REGISTRY, client_ip=CLIENT, now=NOW)
    assert ok.headers == ("pref_theme=1; Max-Age=60",)  # the control: a clean name passes


# -- several consent cookies ------------------------------------------------------------------------

KEY = "paths-cookies-secret-0123456789"


@pytest.mark.parametrize(
    ("choices", "granted"),
    [
        (("none", "all"), set()),
        (("all", "none"), set()),
        (("all", "all"), {"youtube", "google-analytics"}),
        (("media", "all"), {"youtube"}),
        (("media", "analytics"), set()),
        (("all", "media", "all"), {"youtube"}),
    ],
)
def test_disagreeing_consent_cookies_give_the_narrowest_reading(choices, granted):
    codec = ConsentCodec(KEY, REGISTRY)
    values = []
    for i, choice in enumerate(choices):
        categories = [] if choice in ("all", "none") else [Category(choice)]
        state = state_for_choice(
            choice if choice in ("all", "none") else "custom", previous=ConsentState(), registry=REGISTRY,
            categories=categories, services=(), gpc=False, now=NOW + i * 100,
        )  # fmt: skip
        values.append(f"gk_consent={codec.dumps(state)}")
    read = codec.read("; ".join(values), https=False, gpc=False)
    assert (
        read.decided
        and set(read.granted) - {s.id for s in REGISTRY.services if s.category is Category.NECESSARY}
        == granted
    )
