"""Load once (gatekeeper/once.py): the ticket a placeholder's "Load once" sets, what it grants, on which
page, for how long; and the whole round trip through the middleware."""

import re

import pytest
from asgi import call
from starlette.responses import HTMLResponse

from gatekeeper import Gatekeeper
from gatekeeper.consent import ConsentCodec
from gatekeeper.once import SECONDS, OnceGrant, OnceTickets, anchor_id
from gatekeeper.registry import load_registry

KEY = "test-secret-key-0123456789"
SERVICES = {"services": [{"id": "youtube"}, {"id": "vimeo"}]}
REGISTRY = load_registry(SERVICES)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def tickets(cookie: str = "gk_once", clock: Clock | None = None) -> OnceTickets:
    codec = ConsentCodec(KEY, REGISTRY, clock=clock or Clock())
    return OnceTickets(codec, REGISTRY, cookie)


def held(set_cookie: str) -> str:
    """The Cookie header a browser sends back for a Set-Cookie value."""
    return set_cookie.split(";", 1)[0]


@pytest.mark.parametrize("https", [False, True])
@pytest.mark.parametrize(
    ("next_path", "path", "grant"),
    [
        ("/video", "/video", OnceGrant("youtube", 2)),
        ("/video?t=1#gk-ph-2", "/video", OnceGrant("youtube", 2)),  # the path only
        ("/video", "/other", None),  # another page: nothing
        ("/video", "/video/", None),
        ("/", "/", OnceGrant("youtube", 2)),
        ("", "/", OnceGrant("youtube", 2)),
    ],
)
def test_a_ticket_grants_its_service_and_embed_on_its_page_only(https, next_path, path, grant):
    t = tickets()
    set_cookie, ticket = t.issue("youtube", 2, next_path, https=https)
    assert set_cookie.startswith(("__Host-gk_once=" if https else "gk_once=") + ticket + ";")
    assert f"Max-Age={SECONDS}" in set_cookie and "HttpOnly" in set_cookie
    assert ("; Secure" in set_cookie) == https
    assert t.grant("a=1; " + held(set_cookie), path, https=https) == grant
    # the https name is not read over http, nor the other way round
    assert t.grant(held(set_cookie), path, https=not https) is None


def test_a_ticket_is_spent_and_expires():
    clock = Clock()
    t = tickets(clock=clock)
    set_cookie, _ = t.issue("vimeo", 0, "/", https=False)
    assert t.grant(held(set_cookie), "/", https=False) == OnceGrant("vimeo", 0)
    clock.now += SECONDS + 1
    assert t.grant(held(set_cookie), "/", https=False) is None
    spent = t.spent(https=True)
    assert spent.startswith("__Host-gk_once=;") and "Max-Age=0" in spent and "Secure" in spent


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x" * 5000,
        ".eJw.AAA.BBB",
        "not-a-ticket",
    ],
)
def test_a_forged_ticket_is_no_grant(value):
    assert tickets().grant("gk_once=" + value, "/", https=False) is None


def test_a_ticket_of_another_key_service_or_purpose_is_no_grant():
    other_key = OnceTickets(ConsentCodec("another-secret-key-0123456789", REGISTRY), REGISTRY)
    set_cookie, _ = other_key.issue("youtube", 1, "/", https=False)
    assert tickets().grant(held(set_cookie), "/", https=False) is None
    # a site whose registry no longer has the service
    wider = load_registry({"services": [{"id": "youtube"}, {"id": "vimeo"}, {"id": "google-maps"}]})
    set_cookie, _ = OnceTickets(ConsentCodec(KEY, wider), wider).issue("google-maps", 1, "/", https=False)
    assert tickets().grant(held(set_cookie), "/", https=False) is None
    # the consent cookie's value is signed for another purpose
    consent = ConsentCodec(KEY, REGISTRY).set_cookie(
        ConsentCodec(KEY, REGISTRY).read("", https=False, gpc=False), https=False
    )
    assert tickets().grant("gk_once=" + held(consent).split("=", 1)[1], "/", https=False) is None


def test_an_operator_named_cookie_is_read():
    t = tickets("site_once")
    set_cookie, _ = t.issue("youtube", 3, "/", https=False)
    assert set_cookie.startswith("site_once=")
    assert t.grant(held(set_cookie), "/", https=False) == OnceGrant("youtube", 3)


def test_what_a_grant_adds_and_where_it_comes_back_to():
    assert OnceGrant("vimeo", 4).granted(frozenset({"youtube"})) == {"youtube", "vimeo"}
    assert anchor_id(4) == "gk-ph-4"


# -- the round trip through the middleware ------------------------------------------------------

EMBEDS = (
    b"<!doctype html><html><head><title>v</title></head><body>"
    b'<iframe src="https://www.youtube.com/embed/a"></iframe>'
    b'<iframe src="https://www.youtube.com/embed/b"></iframe>'
    b"</body></html>"
)


def site():
    async def app(scope, receive, send):
        await HTMLResponse(EMBEDS, headers={"ETag": '"p1"'})(scope, receive, send)

    return Gatekeeper(app, secret_keys=KEY, services=SERVICES)


def live_srcs(html: str) -> list[str]:
    return re.findall(r'<iframe src="([^"]+)"', html)


def test_load_once_round_trip_leaves_that_embed_live_for_that_page_once():
    gk = site()
    before = call(gk, path="/video")
    assert live_srcs(before.text) == [] and 'id="gk-ph-1"' in before.text
    posted = call(
        gk,
        "POST",
        "/_gatekeeper/consent",
        headers=[("content-type", "application/x-www-form-urlencoded"), ("origin", "http://site.example")],
        body=b"choice=once&service=youtube&embed=1&next=/video%23gk-ph-1",
    )
    assert posted.status == 303 and posted.header("location") == "/video#gk-ph-1"
    (ticket,) = [held(v) for v in posted.all("set-cookie") if v.startswith("gk_once=")]
    assert not any(v.startswith("gk_consent=") for v in posted.all("set-cookie"))  # no consent given

    page = call(gk, path="/video", headers=[("cookie", ticket)])
    assert live_srcs(page.text) == ["https://www.youtube.com/embed/b"]  # embed 1 only
    assert '<span id="gk-ph-1"></span><iframe src="https://www.youtube.com/embed/b"' in page.text
    assert "youtube.com" in page.header("content-security-policy")
    assert "youtube.com" not in before.header("content-security-policy")
    spent = [v for v in page.all("set-cookie") if v.startswith("gk_once=")]
    assert spent and "Max-Age=0" in spent[0]
    assert page.header("etag") != before.header("etag")  # a cache keeps the two apart

    elsewhere = call(gk, path="/other", headers=[("cookie", ticket)])
    assert live_srcs(elsewhere.text) == [] and not elsewhere.all("set-cookie")
    assert "youtube.com" not in elsewhere.header("content-security-policy")
