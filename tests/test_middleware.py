"""The middleware's wiring: cookie gate, CSP and Vary at response start, the consent in scope,
pass-through of what is not ours, HTML buffering rules, ETags, configuration errors, frameworks."""

import asyncio
import gzip
import json

import pytest
from asgi import acall, call, run
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from gatekeeper import ConfigError, Gatekeeper, consent_of

KEY = "test-secret-key-0123456789"
SERVICES = {
    "cookies": [
        {"name": "sid", "category": "necessary", "purpose": "Session"},
        {"name": "lang", "category": "usability", "purpose": "Language", "max_age_days": 365},
    ],
    "services": [{"id": "youtube"}],
}
PAGE = b"<!doctype html><html><head><title>t</title></head><body><p>hello</p></body></html>"


def responder(body=PAGE, media_type="text/html", headers=None, status=200):
    async def app(scope, receive, send):
        await Response(body, status_code=status, media_type=media_type, headers=headers)(scope, receive, send)

    return app


def wrap(app, **options):
    return Gatekeeper(app, secret_keys=KEY, services=options.pop("services", SERVICES), **options)


def grant_all(gk):
    answer = call(
        gk,
        "POST",
        "/_gatekeeper/consent",
        headers=[("content-type", "application/json")],
        body=b'{"choice": "all"}',
    )
    return next(v for v in answer.all("set-cookie") if v.startswith("gk_consent=")).split(";", 1)[0]


def test_cookie_gate_runs_on_every_response():
    async def app(scope, receive, send):
        response = PlainTextResponse("x")
        response.set_cookie("sid", "abc")
        response.set_cookie("lang", "ja", max_age=10 * 365 * 86400)
        response.set_cookie("tracker", "1")
        response.set_cookie("mail", "taro@example.jp")
        await response(scope, receive, send)

    gk = wrap(app)
    names = [v.split("=", 1)[0] for v in call(gk).all("set-cookie")]
    assert names == ["sid"]
    granted = call(gk, headers=[("cookie", grant_all(gk))]).all("set-cookie")
    assert [v.split("=", 1)[0] for v in granted] == ["sid", "lang"]
    assert "Max-Age=31536000" in granted[1]  # clamped to the declared 365 days


def test_csp_on_every_response_vary_on_documents_only():
    gk = wrap(responder())
    answer = call(gk)
    csp = answer.header("content-security-policy")
    assert csp.startswith("default-src 'self'") and "youtube.com" not in csp
    assert "report-uri /_gatekeeper/csp-report" in csp
    assert answer.header("vary") == "Cookie, Sec-GPC"
    after = call(gk, headers=[("cookie", grant_all(gk))]).header("content-security-policy")
    assert "youtube.com" in after and "*.ytimg.com" in after
    plain = call(wrap(responder(b"{}", "application/json")))
    # an asset gets the policy of nothing granted: the same for every visitor, so caches keep it
    assert plain.header("content-security-policy") == csp and plain.header("vary") is None


def test_app_csp_is_kept_and_vary_is_merged():
    gk = wrap(responder(headers={"Content-Security-Policy": "script-src 'none'", "Vary": "Accept-Encoding"}))
    answer = call(gk)
    assert answer.all("content-security-policy")[0] == "script-src 'none'"
    assert len(answer.all("content-security-policy")) == 2
    assert answer.header("vary") == "Accept-Encoding, Cookie, Sec-GPC"


def test_report_only_and_off():
    assert call(wrap(responder(), csp="report-only")).header("content-security-policy-report-only")
    assert call(wrap(responder(), csp="report-only")).header("content-security-policy") is None
    off = call(wrap(responder(), csp="off"))
    assert (
        off.header("content-security-policy") is None
        and off.header("content-security-policy-report-only") is None
    )


def test_consent_is_in_scope_for_the_app():
    seen = []

    async def page(request: Request):
        seen.append(consent_of(request))
        return PlainTextResponse("ok")

    gk = wrap(Starlette(routes=[Route("/", page)]))
    call(gk)
    call(gk, headers=[("cookie", grant_all(gk))])
    assert [s.decided for s in seen] == [False, True]


def test_a_websocket_gets_the_consent_state():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope)

    gk = wrap(app)
    scope = {"type": "websocket", "headers": [], "path": "/"}
    run(gk(scope, None, None))
    assert seen == [scope] and scope["gatekeeper"].decided is False


def test_html_is_rewritten_and_content_length_fixed():
    gk = wrap(responder())
    answer = call(gk)
    assert answer.header("content-length") == str(len(answer.body))
    assert b"data-gk-snippet" in answer.body  # the banner and loader were injected
    assert answer.body.count(b"<p>hello</p>") == 1


@pytest.mark.parametrize(
    ("method", "status"),
    [("HEAD", 200), ("GET", 204), ("GET", 304)],
)
def test_head_204_304_bodies_are_untouched(method, status):
    gk = wrap(responder(b"" if status != 200 else PAGE, status=status))
    answer = call(gk, method)
    assert b"data-gk-snippet" not in answer.body
    assert answer.header("content-security-policy")  # headers still protect


def test_streamed_html_is_buffered_and_rewritten():
    async def chunks():
        for part in (PAGE[:20], PAGE[20:50], PAGE[50:]):
            yield part

    async def app(scope, receive, send):
        await StreamingResponse(chunks(), media_type="text/html")(scope, receive, send)

    answer = call(wrap(app))
    assert b"data-gk-snippet" in answer.body and answer.header("content-length") == str(len(answer.body))


def test_over_the_limit_passes_through_unchanged_in_pieces(caplog):
    big = b"<html><body>" + b"<p>x</p>" * 2000 + b"</body></html>"

    async def chunks():
        for i in range(0, len(big), 1000):
            yield big[i : i + 1000]

    async def app(scope, receive, send):
        await StreamingResponse(chunks(), media_type="text/html")(scope, receive, send)

    answer = call(wrap(app, max_body_bytes=5000), path="/streamed-over-the-limit")  # logged once per path
    assert answer.body == big
    assert answer.header("content-security-policy")
    assert any("max_body_bytes" in r.getMessage() for r in caplog.records)
    declared = call(wrap(responder(big), max_body_bytes=5000))
    # streamed as it comes: a third-party refresh in it would change its length (below)
    assert declared.body == big and declared.header("content-length") is None


REFRESH = b"<meta http-equiv=refresh content='0;url=https://www.instagram.com/'>"
INERT_REFRESH = b"<meta data-gk-http-equiv=refresh content='0;url=https://www.instagram.com/'>"


@pytest.mark.parametrize("split", [0, 3, 20, len(REFRESH) - 1])
def test_a_page_streamed_over_the_limit_loses_its_third_party_refresh(split):
    head = b"<!doctype html><title>t</title>" + b"<p>x</p>" * 700
    big = head + REFRESH + b"<p>" + b"y" * 6000 + b"<meta http-equiv=refresh content='5;url=/local'>"
    at = len(head) + split

    async def chunks():
        yield big[:at]  # the tag split between two chunks, where it is split at all
        for i in range(at, len(big), 1000):
            yield big[i : i + 1000]

    async def app(scope, receive, send):
        await StreamingResponse(chunks(), media_type="text/html")(scope, receive, send)

    answer = call(wrap(app, max_body_bytes=5000), path="/streamed-refresh")
    assert answer.body == big.replace(REFRESH, INERT_REFRESH)


def test_a_page_over_the_declared_limit_loses_its_third_party_refresh():
    big = b"<!doctype html>" + REFRESH + b"<p>" + b"x" * 6000
    answer = call(wrap(responder(big), max_body_bytes=5000), path="/declared-refresh")
    assert answer.body == big.replace(REFRESH, INERT_REFRESH)
    assert answer.header("content-length") is None


def test_a_page_served_unread_loses_its_third_party_refresh():
    body, ctype = b"<!doctype html>" + REFRESH + b"\xff\xfe not utf-8", "text/html; charset=utf-8"
    answer = call(wrap(responder(body, media_type=ctype)), path="/unread-refresh")
    assert answer.body == body.replace(REFRESH, INERT_REFRESH)
    assert answer.header("content-length") == str(len(answer.body))
    # granted, it stays; to the site itself, it stays
    granted = wrap(responder(body, media_type=ctype), services={"services": [{"id": "instagram"}]})
    assert call(granted, headers=[("cookie", grant_all(granted))]).body == body
    local = body.replace(b"https://www.instagram.com/", b"/elsewhere")
    assert call(wrap(responder(local, media_type=ctype))).body == local


def test_a_gzip_page_served_unread_loses_its_third_party_refresh():
    body = b"<!doctype html>" + REFRESH + b"\xff not utf-8"
    gk = wrap(responder(gzip.compress(body), headers={"Content-Encoding": "gzip"}))
    assert gzip.decompress(call(gk, path="/gzip-unread-refresh").body) == body.replace(REFRESH, INERT_REFRESH)


def test_a_refresh_header_to_a_third_party_is_dropped():
    to_them = {"Refresh": "0; url=https://www.instagram.com/"}
    assert call(wrap(responder(headers=to_them))).header("refresh") is None
    assert (
        call(wrap(responder(b"{}", media_type="application/json", headers=to_them))).header("refresh") is None
    )
    to_us = {"Refresh": "5; url=/next"}
    assert call(wrap(responder(headers=to_us))).header("refresh") == "5; url=/next"


def test_gzip_html_is_rewritten_and_recompressed():
    gk = wrap(responder(gzip.compress(PAGE), headers={"Content-Encoding": "gzip"}))
    answer = call(gk)
    assert answer.header("content-encoding") == "gzip"
    assert b"data-gk-snippet" in gzip.decompress(answer.body)
    assert answer.header("content-length") == str(len(answer.body))


def test_unknown_encoding_passes_through():
    gk = wrap(responder(b"\x00\x01zstd", headers={"Content-Encoding": "zstd"}))
    assert call(gk).body == b"\x00\x01zstd"


def test_app_errors_stay_the_apps():
    async def app(scope, receive, send):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        call(wrap(app))


def test_pathsend_passes_through():
    async def app(scope, receive, send):
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
        )
        await send({"type": "http.response.pathsend", "path": "/tmp/x.html"})

    answer = call(wrap(app))
    assert [m["type"] for m in answer.messages] == ["http.response.start", "http.response.pathsend"]


def test_etag_carries_the_consent_and_304_only_for_the_same_consent():
    async def app(scope, receive, send):
        inm = dict(scope["headers"]).get(b"if-none-match")
        if inm == b'"v1"':
            await Response(status_code=304, headers={"ETag": '"v1"'})(scope, receive, send)
        else:
            await Response(PAGE, media_type="text/html", headers={"ETag": '"v1"', "Last-Modified": "x"})(
                scope, receive, send
            )

    gk = wrap(app)
    first = call(gk)
    etag = first.header("etag")
    assert etag.startswith('W/"v1-gk') and first.header("last-modified") is None
    assert call(gk, headers=[("if-none-match", etag)]).status == 304
    cookie = grant_all(gk)
    other = call(gk, headers=[("if-none-match", etag), ("cookie", cookie)])
    assert other.status == 200 and other.header("etag") != etag


def test_configuration_errors_raise_at_construction():
    with pytest.raises(ConfigError, match="secret_keys"):
        Gatekeeper(responder(), secret_keys="")
    with pytest.raises(ConfigError, match="prefix"):
        Gatekeeper(responder(), secret_keys=KEY, prefix="gk")
    with pytest.raises(ConfigError, match="csp"):
        Gatekeeper(responder(), secret_keys=KEY, csp="maybe")
    with pytest.raises(ConfigError, match="mode"):
        Gatekeeper(responder(), secret_keys=KEY, mode="lax")
    with pytest.raises(ConfigError, match="unknown key"):
        Gatekeeper(responder(), secret_keys=KEY, services={"cookies": [{"nam": "x"}]})


def test_works_in_starlettes_middleware_list():
    async def home(request):
        return HTMLResponse(PAGE.decode())

    app = Starlette(
        routes=[Route("/", home)], middleware=[Middleware(Gatekeeper, secret_keys=KEY, services=SERVICES)]
    )
    answer = call(app)
    assert answer.status == 200 and answer.header("content-security-policy")
    assert call(app, "GET", "/_gatekeeper/consent").json()["decided"] is False


def test_works_with_fastapi():
    fastapi = pytest.importorskip("fastapi")
    api = fastapi.FastAPI()

    @api.get("/", response_class=fastapi.responses.HTMLResponse)
    def home():
        return PAGE.decode()

    @api.get("/me")
    def me(request: fastapi.Request):
        return {"decided": consent_of(request).decided}

    api.add_middleware(Gatekeeper, secret_keys=KEY, services=SERVICES)
    assert b"data-gk-snippet" in call(api).body
    assert call(api, "GET", "/me").json() == {"decided": False}


def test_https_uses_the_host_prefix_and_secure():
    gk = wrap(responder())
    answer = call(
        gk,
        "POST",
        "/_gatekeeper/consent",
        headers=[("content-type", "application/json")],
        body=b'{"choice": "none"}',
        scheme="https",
    )
    cookie = answer.header("set-cookie")
    assert cookie.startswith("__Host-gk_consent=") and "Secure" in cookie


def test_concurrent_requests_with_different_consent_never_mix():
    gk = wrap(responder(b'<html><body><iframe src="https://www.youtube.com/embed/x"></iframe></body></html>'))
    cookie = grant_all(gk)

    async def both():
        tasks = []
        for i in range(40):
            headers = [("cookie", cookie)] if i % 2 else []
            tasks.append(acall(gk, headers=headers))
        return await asyncio.gather(*tasks)

    for i, answer in enumerate(run(both())):
        live = b'iframe src="https://www.youtube.com' in answer.body
        assert live is bool(i % 2), i
        assert ("youtube.com" in answer.header("content-security-policy")) is bool(i % 2)


def test_no_host_header_is_served():
    gk = wrap(responder())
    answer = call(gk, host="")
    assert answer.status == 200 and answer.header("content-security-policy")


def test_json_state_shape():
    gk = wrap(responder())
    state = json.loads(call(gk, "GET", "/_gatekeeper/consent").body)
    assert set(state) == {"decided", "policy_version", "decided_at", "gpc", "categories", "services"}


def test_a_charset_only_a_meta_declared_goes_into_the_content_type():
    # the snippets go into the head before the <meta>, which may then be past the 1024 bytes browsers read
    page = '<!doctype html><html><head><meta charset="Shift_JIS"><title>髙</title></head><p>①'.encode("cp932")

    def app_with(ctype):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", ctype)]})
            await send({"type": "http.response.body", "body": page})

        return app

    answer = call(wrap(app_with(b"text/html")))
    assert answer.header("content-type") == "text/html; charset=shift_jis"
    assert "①".encode("cp932") in answer.body and b"data-gk-snippet" in answer.body
    declared = call(wrap(app_with(b"text/html; charset=cp932")))
    assert declared.header("content-type") == "text/html; charset=cp932"


def test_header_names_in_any_case_are_judged():
    # ASGI asks for lower-case names but does not enforce it: a raw app's "Set-Cookie" is gated too
    async def app(scope, receive, send):
        headers = [
            (b"Content-Type", b"text/html"),
            (b"Set-Cookie", b"tracker=1"),
            (b"Refresh", b"0;url=https://www.instagram.com/"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": PAGE})

    answer = call(wrap(app))
    assert answer.all("set-cookie") == [] and answer.header("refresh") is None
    assert answer.header("content-security-policy") and b"data-gk-snippet" in answer.body
