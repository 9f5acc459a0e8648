"""The consent endpoints' pure rules: parsing choices, `next` redirects, cross-site refusal."""

import json

import pytest
from starlette.datastructures import Headers

from gatekeeper.endpoints import BadRequest, is_cross_site, parse_choice, safe_next
from gatekeeper.registry import Category, load_registry

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@pytest.fixture(scope="module")
def registry():
    return load_registry({"services": [{"id": "youtube"}, {"id": "google-analytics"}]})


@pytest.mark.parametrize(
    ("ctype", "body", "choice", "cats", "svcs", "next_"),
    [
        (FORM, b"choice=all", "all", set(), set(), "/"),
        (FORM, b"choice=none&next=%2Fnews%3Fp%3D2", "none", set(), set(), "/news?p=2"),
        (
            FORM,
            b"choice=custom&category=media&service=google-analytics&next=/a",
            "custom",
            {Category.MEDIA},
            {"google-analytics"},
            "/a",
        ),
        (FORM, b"choice=custom", "custom", set(), set(), "/"),
        (
            FORM + "; charset=utf-8",
            b"choice=allow&service=youtube&submit=Save",
            "allow",
            set(),
            {"youtube"},
            "/",
        ),
        (
            JSON,
            json.dumps({"choice": "custom", "categories": ["analytics"], "services": ["youtube"]}).encode(),
            "custom",
            {Category.ANALYTICS},
            {"youtube"},
            "/",
        ),
        (JSON, b'{"choice": "none"}', "none", set(), set(), "/"),
    ],
)
def test_parse_choice(registry, ctype, body, choice, cats, svcs, next_):
    parsed, as_json = parse_choice(ctype, body, registry)
    assert parsed.choice == choice and parsed.categories == cats and parsed.services == svcs
    assert parsed.next == next_ and as_json is (ctype == JSON)


def test_once_needs_a_service_and_an_embed(registry):
    parsed, _ = parse_choice(FORM, b"choice=once&service=youtube&embed=3&next=/v%23gk-ph-3", registry)
    assert parsed.embed == 3 and parsed.services == {"youtube"} and parsed.next == "/v#gk-ph-3"


@pytest.mark.parametrize(
    ("ctype", "body", "reason"),
    [
        (FORM, b"", "'choice' must be one of"),
        (FORM, b"choice=maybe", "'choice' must be one of"),
        (FORM, b"choice=all&choice=none", "'choice' must be one of"),
        (FORM, b"choice=custom&category=tasty", "unknown category 'tasty'"),
        (FORM, b"choice=custom&category=marketing", "not offered on this site"),
        (FORM, b"choice=custom&service=nope", "unknown service 'nope'"),
        (FORM, b"choice=once&service=youtube", "'once' needs"),
        (FORM, b"choice=once&service=youtube&embed=-1", "'once' needs"),
        (FORM, b"choice=all&\xff", "malformed"),
        (FORM, b"choice=all&&&=", "malformed"),
        (JSON, b"{", "not JSON"),
        (JSON, b"[1]", "must be an object"),
        (JSON, b'{"choice": 1}', "'choice' must be a string"),
        (JSON, b'{"choice": "custom", "categories": "media"}', "must be a list"),
        (JSON, b'{"choice": "custom", "services": [1]}', "must be a list"),
        (JSON, b'{"choice": "once", "services": ["youtube"], "embed": true}', "'embed' must be an integer"),
        (JSON, b'{"choice": "all", "admin": true}', "unknown field 'admin'"),
        (JSON, b"\xff\xfe", "not JSON"),
        ("text/plain", b"choice=all", "send application/x-www-form-urlencoded"),
        ("", b"choice=all", "send application/x-www-form-urlencoded"),
    ],
)
def test_bad_choices_say_why(registry, ctype, body, reason):
    with pytest.raises(BadRequest, match=reason):
        parse_choice(ctype, body, registry)


OPEN_REDIRECTS = [
    "https://evil.example/",
    "http:evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%252F%252Fevil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%09/evil.example",
    "/%0d%0a/evil.example",
    "javascript:alert(1)",
    "data:text/html,hi",
    " /news",
    "news",
    "",
    "/" + "a" * 3000,
    "/\x00/evil.example",
    "/\x7f/evil.example",
    "／／evil.example",  # fullwidth solidus: not "/" at the start
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_open_redirect_tricks_go_home(target):
    assert safe_next(target) == "/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "/"),
        ("/news/2024?page=2#top", "/news/2024?page=2#top"),
        ("/search?q=a%20b", "/search?q=a%20b"),
        ("/a:b", "/a:b"),
        ("/お知らせ", "/%E3%81%8A%E7%9F%A5%E3%82%89%E3%81%9B"),
        ("/v#gk-ph-3", "/v#gk-ph-3"),
    ],
)
def test_same_origin_paths_are_kept(target, expected):
    assert safe_next(target) == expected


@pytest.mark.parametrize(
    ("headers", "cross"),
    [
        ({}, False),
        ({"origin": "http://site.example:8000"}, False),
        ({"origin": "https://site.example:8000"}, False),  # behind a TLS proxy
        ({"origin": "http://evil.example"}, True),
        ({"origin": "http://site.example:9000"}, True),
        ({"origin": "http://sub.site.example:8000"}, True),
        ({"origin": "null"}, True),
        ({"sec-fetch-site": "same-origin"}, False),
        ({"sec-fetch-site": "same-site"}, True),
        ({"sec-fetch-site": "cross-site"}, True),
        ({"sec-fetch-site": "none"}, True),
        ({"sec-fetch-site": "same-origin", "origin": "http://evil.example"}, True),
    ],
)
def test_cross_site_posts_are_recognised(headers, cross):
    assert is_cross_site(Headers(headers), "site.example:8000") is cross
