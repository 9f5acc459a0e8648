"""The consent endpoints through the middleware: forms and JSON, CSRF, 400/403/405/408/413, withdrawal."""

import json

import pytest
from asgi import call
from starlette.responses import PlainTextResponse

import gatekeeper.endpoints
from gatekeeper import Gatekeeper

KEY = "test-secret-key-0123456789"
FORM = ("content-type", "application/x-www-form-urlencoded")
JSON = ("content-type", "application/json")
SERVICES = {
    "cookies": [
        {"name": "lang", "category": "usability", "purpose": "Language", "max_age_days": 365},
        {
            "name": "pref_*",
            "category": "usability",
            "purpose": "Preferences",
            "max_age_days": 30,
            "path": "/",
        },
        {"name": "sid", "category": "necessary", "purpose": "Session"},
        {"name": "_stats", "category": "analytics", "purpose": "Statistics", "max_age_days": 90},
    ],
    "services": [{"id": "youtube"}, {"id": "google-analytics"}],
}


async def app(scope, receive, send):
    await PlainTextResponse("app")(scope, receive, send)


@pytest.fixture(scope="module")
def gk():
    return Gatekeeper(app, secret_keys=KEY, services=SERVICES)


def consent_cookie(answer):
    (value,) = [v for v in answer.all("set-cookie") if v.startswith("gk_consent=")]
    return value.split(";", 1)[0]


def post(gk, body, *headers, path="/_gatekeeper/consent", cookie=None):
    hs = list(headers)
    if cookie:
        hs.append(("cookie", cookie))
    return call(gk, "POST", path, headers=hs, body=body)


def test_state_starts_undecided(gk):
    answer = call(gk, "GET", "/_gatekeeper/consent")
    assert answer.status == 200 and answer.header("cache-control") == "no-store"
    state = answer.json()
    assert state["decided"] is False
    assert state["services"] == {"youtube": False, "google-analytics": False}
    assert state["categories"] == {"usability": False, "analytics": False, "media": False}


def test_form_accept_all_redirects_and_sets_consent(gk):
    answer = post(gk, b"choice=all&next=%2Fnews%3Fp%3D2", FORM)
    assert answer.status == 303 and answer.header("location") == "/news?p=2"
    cookie = consent_cookie(answer)
    state = call(gk, "GET", "/_gatekeeper/consent", headers=[("cookie", cookie)]).json()
    assert state["decided"] and all(state["services"].values()) and all(state["categories"].values())


@pytest.mark.parametrize(
    ("body", "query", "location", "services"),
    [  # a placeholder's button: the choice in the body, its fields in the form action's query
        (b"choice=allow", "service=youtube&embed=0&next=%2Fwatch%3Fv%3D1%23gk-ph-0", "/watch?v=1#gk-ph-0",
         {"youtube": True, "google-analytics": False}),
        (b"", "choice=allow&service=youtube&next=%2F", "/", {"youtube": True, "google-analytics": False}),
        (b"choice=none", "next=%2Fa", "/a", {"youtube": False, "google-analytics": False}),
    ],
)  # fmt: skip
def test_a_form_posts_query_string_is_part_of_the_form(gk, body, query, location, services):
    answer = call(gk, "POST", "/_gatekeeper/consent", headers=[FORM], body=body, query=query)
    assert answer.status == 303 and answer.header("location") == location
    state = call(gk, "GET", "/_gatekeeper/consent", headers=[("cookie", consent_cookie(answer))]).json()
    assert state["services"] == services


def test_a_json_posts_query_string_is_not_read(gk):
    answer = call(gk, "POST", "/_gatekeeper/consent", headers=[JSON], body=b'{"choice": "none"}',
                  query="choice=all")  # fmt: skip
    assert answer.status == 200 and answer.json()["services"] == {"youtube": False, "google-analytics": False}


def test_json_choice_answers_the_new_state(gk):
    body = json.dumps({"choice": "custom", "categories": ["media"], "services": ["google-analytics"]})
    answer = post(gk, body.encode(), JSON)
    assert answer.status == 200
    assert answer.json()["services"] == {"youtube": True, "google-analytics": True}
    assert answer.json()["categories"] == {"usability": False, "analytics": False, "media": True}
    assert consent_cookie(answer)


@pytest.mark.parametrize(
    "next_",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "/%2F%2Fevil.example", "javascript:x"],
)
def test_form_never_redirects_off_site(gk, next_):
    from urllib.parse import quote

    answer = post(gk, f"choice=none&next={quote(next_)}".encode(), FORM)
    assert answer.status == 303 and answer.header("location") == "/"


@pytest.mark.parametrize(
    "headers",
    [
        [("origin", "https://evil.example")],
        [("origin", "null")],
        [("sec-fetch-site", "cross-site")],
        [("sec-fetch-site", "same-site")],
    ],
)
def test_cross_site_posts_are_refused(gk, headers):
    answer = post(gk, b"choice=all", FORM, *headers)
    assert answer.status == 403
    assert not answer.all("set-cookie")


def test_same_origin_browser_post_is_accepted(gk):
    answer = post(
        gk, b"choice=all", FORM, ("origin", "http://site.example"), ("sec-fetch-site", "same-origin")
    )
    assert answer.status == 303


def test_big_bodies_get_413(gk):
    big = b"choice=all&next=/" + b"a" * (17 * 1024)
    assert post(gk, big, FORM).status == 413
    assert post(gk, big, FORM, ("content-length", str(len(big)))).status == 413
    # announced small, sent big, in chunks
    assert (
        call(
            gk, "POST", "/_gatekeeper/consent", headers=[FORM], body=[b"choice=all&x="] + [b"a" * 4096] * 5
        ).status
        == 413
    )


def test_slow_bodies_get_408(gk, monkeypatch):
    monkeypatch.setattr(gatekeeper.endpoints, "BODY_TIMEOUT", 0.2)
    answer = call(gk, "POST", "/_gatekeeper/consent", headers=[FORM], body=b"choice=", stall=True)
    assert answer.status == 408


@pytest.mark.parametrize(
    ("body", "ctype", "reason"),
    [
        (b"choice=maybe", FORM, "'choice' must be one of"),
        (b"choice=custom&category=marketing", FORM, "not offered"),
        (b"choice=custom&service=tracker", FORM, "unknown service 'tracker'"),
        (b"{", JSON, "not JSON"),
        (b'{"choice": ["all"]}', JSON, "must be a string"),
        (b"choice=all", ("content-type", "text/plain"), "send application/x-www-form-urlencoded"),
    ],
)
def test_bad_bodies_get_400_with_a_reason(gk, body, ctype, reason):
    answer = post(gk, body, ctype)
    assert answer.status == 400 and reason in answer.text and "\n" not in answer.text.strip()


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/_gatekeeper/consent", "GET, HEAD, POST"),
        ("DELETE", "/_gatekeeper/consent", "GET, HEAD, POST"),
        ("POST", "/_gatekeeper/disclosure", "GET, HEAD"),
        ("GET", "/_gatekeeper/csp-report", "POST"),
    ],
)
def test_other_methods_get_405(gk, method, path, allow):
    answer = call(gk, method, path)
    assert answer.status == 405 and answer.header("allow") == allow


def test_unknown_paths_under_the_prefix_are_404_not_the_app(gk):
    assert call(gk, "GET", "/_gatekeeper/nope").status == 404
    assert call(gk, "GET", "/_gatekeeper/static/loader.0000.js").status == 404


def test_withdrawing_expires_declared_cookies_of_revoked_categories(gk):
    granted = consent_cookie(post(gk, b"choice=all", FORM))
    cookies = f"{granted}; lang=ja; pref_size=large; pref_theme=dark; sid=abc; _stats=1; other=1"
    answer = post(gk, b"choice=none", FORM, cookie=cookies)
    expired = {v.split("=", 1)[0]: v for v in answer.all("set-cookie") if "Max-Age=0" in v}
    assert set(expired) == {"lang", "pref_size", "pref_theme", "_stats"}  # not sid: necessary
    assert all("Path=/" in v for v in expired.values())


def test_withdrawing_one_category_keeps_the_others(gk):
    granted = consent_cookie(post(gk, b"choice=all", FORM))
    answer = post(gk, b"choice=custom&category=usability", FORM, cookie=f"{granted}; lang=ja; _stats=1")
    expired = [v.split("=", 1)[0] for v in answer.all("set-cookie") if "Max-Age=0" in v]
    assert expired == ["_stats"]


def test_tampered_consent_cookie_is_no_consent_not_an_error(gk):
    granted = consent_cookie(post(gk, b"choice=all", FORM))
    tampered = granted[:-2] + ("AA" if not granted.endswith("AA") else "BB")
    answer = call(gk, "GET", "/_gatekeeper/consent", headers=[("cookie", tampered)])
    assert answer.status == 200 and answer.json()["decided"] is False


def test_gpc_is_reported_and_honoured(gk):
    state = call(gk, "GET", "/_gatekeeper/consent", headers=[("sec-gpc", "1")]).json()
    assert state["gpc"] is True


def test_disclosure_page(gk):
    answer = call(gk, "GET", "/_gatekeeper/disclosure", query="lang=ja")
    assert answer.status == 200 and answer.header("content-type").startswith("text/html")
    assert "YouTube" in answer.text and "Google LLC" in answer.text
    assert "lang" in answer.text and 'lang="ja"' in answer.text
    assert answer.header("content-security-policy")


def test_static_snippets_are_immutable(gk):
    for name in gk.pages.static:
        answer = call(gk, "GET", "/_gatekeeper/static/" + name)
        assert answer.status == 200
        assert "immutable" in answer.header("cache-control")


def test_csp_reports_are_accepted_and_logged_once(gk, caplog):
    report = {
        "csp-report": {
            "blocked-uri": "https://tracker.example/x.js",
            "violated-directive": "default-src",
            "document-uri": "http://site.example/",
        }
    }
    for _ in range(3):
        answer = call(
            gk,
            "POST",
            "/_gatekeeper/csp-report",
            headers=[("content-type", "application/csp-report")],
            body=json.dumps(report).encode(),
        )
        assert answer.status == 204
    assert sum("tracker.example" in r.getMessage() for r in caplog.records) == 1


def test_csp_reports_for_services_granted_by_now_are_not_warned_about(gk, caplog):
    granted = consent_cookie(post(gk, b"choice=all", FORM))
    report = {
        "csp-report": {
            "blocked-uri": "https://www.youtube.com/embed/late",
            "violated-directive": "default-src",
        }
    }
    answer = call(
        gk,
        "POST",
        "/_gatekeeper/csp-report",
        body=json.dumps(report).encode(),
        headers=[("content-type", "application/csp-report"), ("cookie", granted)],
    )
    assert answer.status == 204
    assert not any("www.youtube.com" in r.getMessage() for r in caplog.records)
