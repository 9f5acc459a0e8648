"""The loader in Chromium: inert markup comes back on after consent, in document order; the CSP decides
between in place and a reload; "load once" and "always allow"; Consent Mode and the DOM event.

`Site` serves a page with our snippets and hand-written inert markup (the rewriter's contract in
docs/ARCHITECTURE.md) behind the real consent endpoints and cookie codec, so the loader and the
templates are tested on their own; the whole middleware is tested end to end elsewhere.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from support.embeds import Embed
from support.stub import Hit, Response

from gatekeeper.consent import ConsentCodec, gpc_requested
from gatekeeper.csp import build_csp
from gatekeeper.endpoints import Endpoints
from gatekeeper.pages import Pages
from gatekeeper.registry import Registry, load_registry

PREFIX = "/_gatekeeper/"
KEY = "test-key-0123456789abcdef"
REGISTRY = load_registry(
    {
        "services": [{"id": "youtube"}, {"id": "vimeo"}, {"id": "google-analytics"}, {"id": "meta-pixel"}],
        "cookies": [
            {"name": "lang", "category": "usability", "purpose": {"en": "Language", "ja": "表示言語"},
             "max_age_days": 365},
        ],
    }
)  # fmt: skip
GTAG = "https://www.googletagmanager.com/gtag/js?id=G-1"
ANALYTICS = "https://www.google-analytics.com/analytics.js"
COLLECT = "https://www.google-analytics.com/collect?v=1"


EMBEDS = (
    Embed(0, "iframe", "https://www.youtube.com/embed/one", 560, 315, ("youtube",)),
    Embed(1, "iframe", "https://www.youtube.com/embed/two", 480, 270, ("youtube",)),
    Embed(2, "iframe", "https://player.vimeo.com/video/3", 400, 225, ("vimeo",)),
)
SCRIPTS = (  # (service, live markup, inert markup): external, inline, external with a type
    ("google-analytics", f'<script async src="{GTAG}"></script>',
     f'<script type="text/plain" data-gk="google-analytics" data-gk-src="{GTAG}" async></script>'),
    ("google-analytics", '<script>window.order.push("inline")</script>',
     '<script type="text/plain" data-gk="google-analytics">window.order.push("inline")</script>'),
    ("google-analytics", f'<script type="text/javascript" src="{ANALYTICS}"></script>',
     f'<script type="text/plain" data-gk-type="text/javascript" data-gk="google-analytics" '
     f'data-gk-src="{ANALYTICS}"></script>'),
    ("google-analytics", f'<img src="{COLLECT}" alt="" width="1" height="1">',
     f'<img data-gk="google-analytics" data-gk-src="{COLLECT}" alt="" width="1" height="1">'),
    ("meta-pixel", '<img src="https://www.facebook.com/tr?id=1" alt="" width="1" height="1">',
     '<img data-gk="meta-pixel" data-gk-src="https://www.facebook.com/tr?id=1" alt="" width="1" height="1">'),
    ("?", "", '<img data-gk="?" data-gk-src="https://tracker.example/p.gif" alt="" width="1" height="1">'),
)  # fmt: skip


class Site:
    """The page and the consent endpoints, wired like the middleware minus the rewriter."""

    def __init__(
        self,
        csp: str = "enforce",
        html_lang: str | None = None,
        registry: Registry = REGISTRY,
        site_css: str = "",
    ):
        self.registry = registry
        self.site_css = site_css
        self.csp = csp
        self.html_lang = html_lang
        self.codec = ConsentCodec(KEY, registry)
        self.pages = Pages(registry, prefix=PREFIX, csp_enforced=csp == "enforce")
        self.endpoints = Endpoints(registry, self.codec, PREFIX, self.pages, lambda scope: False)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = {k.decode(): v.decode("latin-1") for k, v in scope["headers"]}
        cookie = headers.get("cookie", "")
        state = self.codec.read(cookie, https=False, gpc=gpc_requested(scope["headers"]))
        scope["gatekeeper"] = state
        if scope["path"].startswith(PREFIX):
            await self.endpoints(scope, receive, send)
            return
        if scope["path"] != "/":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        granted = state.granted_services(self.registry)
        grant = self.endpoints.once.grant(cookie, scope["path"], https=False)
        once = (grant.service, grant.embed) if grant else None
        next_path = "/" + (("?" + scope["query_string"].decode()) if scope["query_string"] else "")
        lang = self.pages.language(headers.get("accept-language"), self.html_lang)
        html = self.page(state, granted, once, lang, next_path)
        out = [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store")]
        live = granted | {once[0]} if once else granted
        policy = build_csp(self.registry, live, headers.get("host", "").split(":")[0])
        if self.csp == "enforce":
            out.append((b"content-security-policy", policy.encode()))
        elif self.csp == "report-only":
            out.append((b"content-security-policy-report-only", policy.encode()))
        if once:
            out.append((b"set-cookie", self.endpoints.once.spent(https=False).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": out})
        await send({"type": "http.response.body", "body": html.encode()})

    def page(
        self, state: Any, granted: frozenset[str], once: tuple[str, int] | None, lang: str, next_path: str
    ) -> str:
        head, body = self.pages.snippets(state, lang, next_path, granted)
        parts = []
        for e in EMBEDS:
            sid = e.services[0]
            if sid in granted or once == (sid, e.index):
                parts.append(
                    f'<iframe id="e{e.index}" src="{e.url}" width="{e.width}" height="{e.height}" '
                    'frameborder="0"></iframe>'
                )
            else:
                parts.append(self.pages.placeholder(e, lang, next_path))
                parts.append(
                    f'<iframe id="e{e.index}" data-gk="{sid}" data-gk-src="{e.url}" width="{e.width}" '
                    f'height="{e.height}" frameborder="0" hidden></iframe>'
                )
            parts.append("<p>Text between the embeds.</p>")
        for sid, live, inert in SCRIPTS:
            parts.append(live if sid in granted else inert)
        lang_attr = f' lang="{self.html_lang}"' if self.html_lang else ""
        return (
            f"<!doctype html><html{lang_attr}><head>{head}<meta charset=utf-8><title>Site</title>"
            f"<script>window.order = [];</script><style>{self.site_css}</style></head>"
            f"<body><h1>A page</h1><p>Some text.</p>{''.join(parts)}"
            f'<div style="height:1500px">filler</div><p id="end">end</p>{body}</body></html>'
        )


def route_scripts(stub: Any) -> None:
    def slow(hit: Hit) -> Response:
        time.sleep(0.3)  # the first script arrives last: the loader must still run it first
        return Response(200, b'window.order.push("ext1")', "application/javascript", [])

    stub.route(GTAG, slow)
    stub.route(ANALYTICS, 'window.order.push("ext2")', content_type="application/javascript")


def everything_arrived(page: Any, stub: Any, pixel: bool = True) -> None:
    """After "accept all": every embed, script and pixel reached the stub."""
    for e in EMBEDS:
        url = urlsplit(e.url)
        stub.wait_for(url.hostname, url.path)
    stub.wait_for("www.google-analytics.com", "/collect?v=1")
    if pixel:
        stub.wait_for("www.facebook.com", "/tr?id=1")  # no GPC: accept all includes the pixel
    page.wait_for_function("window.order.length == 3")


def ours(stub: Any, base: str) -> list[Hit]:
    """What this test's pages asked of third parties (a request of an earlier test may still land)."""
    return [h for h in stub.hits if h.headers.get("referer", "").startswith(base)]


def third_party(stub: Any, base: str) -> set[str]:
    return {h.host for h in ours(stub, base)}


def state_of(context: Any, base: str) -> dict[str, Any]:
    data: dict[str, Any] = context.request.get(base + PREFIX + "consent").json()
    return data


def listen(page: Any) -> None:
    page.evaluate(
        "window.__events = []; window.__mark = 1;"
        "document.addEventListener('gatekeeper:consent', e => window.__events.push(e.detail))"
    )


def reloaded(page: Any) -> bool:
    return bool(page.evaluate("window.__mark === undefined"))


def click(page: Any, selector: str) -> None:
    page.locator(selector).first.click()


ACCEPT = ".gk button[value=all]"
REJECT = ".gk button[value=none]"


# -- in place (no CSP in the way) ------------------------------------------------------------------


@pytest.mark.parametrize("csp", ["off", "report-only"])
def test_accept_all_activates_everything_in_place_in_document_order(serve, stub, page, csp):
    route_scripts(stub)
    base = serve(Site(csp=csp), lifespan="off")
    page.goto(base + "/", wait_until="load")
    assert third_party(stub, base) == set()
    assert page.locator("[data-gk-ph]").count() == 3
    listen(page)

    click(page, ACCEPT)
    page.wait_for_function("window.order.length == 3")
    assert page.evaluate("window.order") == ["ext1", "inline", "ext2"]
    assert not reloaded(page)
    assert page.locator("[data-gk-ph]").count() == 0
    for e in EMBEDS:
        frame = page.locator(f"#e{e.index}")
        assert frame.get_attribute("src") == e.url and frame.is_visible()
        assert frame.get_attribute("data-gk") is None and frame.get_attribute("data-gk-src") is None
    everything_arrived(page, stub)
    page.wait_for_timeout(200)
    assert "tracker.example" not in third_party(stub, base)  # undeclared: never activated
    assert page.evaluate("window.__events.length") == 1


def test_a_custom_choice_activates_only_what_it_grants(serve, stub, page):
    route_scripts(stub)
    base = serve(Site(csp="off"), lifespan="off")
    page.goto(base + "/")
    page.locator(".gk-more > summary").click()
    page.locator(".gk input[name=service][value=vimeo]").check()
    page.locator(".gk button[value=custom]").click()
    stub.wait_for("player.vimeo.com")
    page.wait_for_timeout(300)
    assert third_party(stub, base) == {"player.vimeo.com"}
    assert page.locator("[data-gk-ph]").count() == 2
    assert page.evaluate("window.order") == []


# -- an enforced CSP: a page cannot widen its own policy, so new hosts need a fresh page ------------


def test_enforced_csp_reloads_when_a_choice_needs_new_hosts(serve, stub, browser_context):
    route_scripts(stub)
    base = serve(Site(csp="enforce"), lifespan="off")
    context = browser_context()
    page = context.new_page()
    page.goto(base + "/")
    page.evaluate("window.scrollTo(0, 400)")
    listen(page)
    with page.expect_navigation():
        click(page, ACCEPT)
    assert reloaded(page)
    assert state_of(context, base)["decided"] is True
    page.wait_for_function("window.order.length == 3")  # served live: the page's own order (async)
    assert sorted(page.evaluate("window.order")) == ["ext1", "ext2", "inline"]
    assert page.locator("[data-gk-ph]").count() == 0
    stub.wait_for("www.youtube.com", "/embed/one")
    assert page.evaluate("window.scrollY") == 400  # the browser kept the place
    assert page.locator(".gk-reopen").is_visible()


def test_a_choice_that_adds_nothing_new_does_not_reload(serve, stub, browser_context):
    base = serve(Site(csp="enforce"), lifespan="off")
    context = browser_context()
    page = context.new_page()
    page.goto(base + "/")
    with page.expect_navigation():
        click(page, ACCEPT)
    listen(page)
    page.locator(".gk-reopen").click()
    page.locator(".gk button[value=all]").click()
    page.wait_for_function("window.__events.length == 1")
    page.wait_for_timeout(300)
    assert not reloaded(page)


# -- withdrawing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("csp", ["enforce", "off"])
def test_withdrawing_reloads_and_nothing_reaches_third_parties_again(serve, stub, browser_context, csp):
    route_scripts(stub)
    base = serve(Site(csp=csp), lifespan="off")
    context = browser_context()
    page = context.new_page()
    page.goto(base + "/")
    click(page, ACCEPT)
    page.wait_for_load_state("load")
    # (under the enforced CSP the pixel at /tr is blocked: the policy lists "www.facebook.com/tr/",
    # which only matches paths below /tr/; a csp.py matter)
    everything_arrived(page, stub, pixel=csp == "off")
    page.wait_for_timeout(300)
    listen(page)
    stub.reset()
    page.locator(".gk-reopen").click()
    with page.expect_navigation():
        page.locator(".gk button[value=none]").click()
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    assert third_party(stub, base) == set()
    assert page.locator("[data-gk-ph]").count() == 3
    assert state_of(context, base)["services"] == {s.id: False for s in REGISTRY.services}


# -- load once, always allow -----------------------------------------------------------------------


def test_load_once_in_place_loads_only_that_embed(serve, stub, browser_context):
    base = serve(Site(csp="off"), lifespan="off")
    context = browser_context()
    page = context.new_page()
    page.goto(base + "/")
    listen(page)
    page.locator("#gk-ph-1 button[value=once]").click()
    stub.wait_for("www.youtube.com", "/embed/two")
    page.wait_for_timeout(300)
    assert [h.path for h in ours(stub, base)] == ["/embed/two"]
    assert page.locator("#gk-ph-1").count() == 0 and page.locator("#e1").is_visible()
    assert page.locator("#gk-ph-0").is_visible() and page.locator("#gk-ph-2").is_visible()
    assert not reloaded(page)
    assert state_of(context, base)["decided"] is False  # once is not a consent


@pytest.mark.parametrize("javascript", [True, False])
def test_load_once_under_an_enforced_csp_is_served_by_the_server(serve, stub, browser_context, javascript):
    base = serve(Site(csp="enforce"), lifespan="off")
    context = browser_context(javascript=javascript)
    page = context.new_page()
    page.goto(base + "/")
    with page.expect_navigation():
        page.locator("#gk-ph-1 button[value=once]").click()
    assert page.url == base + "/#gk-ph-1"
    stub.wait_for("www.youtube.com", "/embed/two")
    page.wait_for_timeout(300)
    assert [h.path for h in ours(stub, base)] == ["/embed/two"]
    assert page.locator("#gk-ph-0").is_visible() and page.locator("#gk-ph-2").is_visible()
    stub.reset()
    page.reload()
    page.wait_for_timeout(300)
    assert ours(stub, base) == []  # once was once
    assert state_of(context, base)["decided"] is False


@pytest.mark.parametrize("csp", ["enforce", "off"])
def test_always_allow_persists(serve, stub, browser_context, csp):
    base = serve(Site(csp=csp), lifespan="off")
    context = browser_context()
    page = context.new_page()
    page.goto(base + "/")
    listen(page)
    page.locator("#gk-ph-0 button[value=allow]").click()
    stub.wait_for("www.youtube.com", "/embed/one")
    stub.wait_for("www.youtube.com", "/embed/two")
    assert reloaded(page) == (csp == "enforce")
    assert page.locator("#gk-ph-2").is_visible()  # vimeo was not asked about
    assert state_of(context, base)["services"]["youtube"] is True
    stub.reset()
    fresh = context.new_page()
    fresh.goto(base + "/")
    stub.wait_for("www.youtube.com", "/embed/one")
    assert fresh.locator("#gk-ph-0").count() == 0 and fresh.locator("#gk-ph-2").count() == 1
    assert "player.vimeo.com" not in third_party(stub, base)


# -- Consent Mode and the DOM event ----------------------------------------------------------------

DATA_LAYER = "window.dataLayer.map(a => Array.from(a))"


def test_consent_mode_default_then_update_and_the_event(serve, stub, page):
    base = serve(Site(csp="off"), lifespan="off")
    page.goto(base + "/")
    layer = page.evaluate(DATA_LAYER)
    assert layer[0][:2] == ["consent", "default"]
    assert set(layer[0][2].values()) == {"denied", "granted"}
    assert layer[0][2]["analytics_storage"] == "denied" and layer[0][2]["security_storage"] == "granted"
    listen(page)

    page.locator(".gk-more > summary").click()
    page.locator(".gk input[name=category][value=analytics]").check()
    page.locator(".gk button[value=custom]").click()
    page.wait_for_function("window.__events.length == 1")
    layer = page.evaluate(DATA_LAYER)
    update = layer[-1]
    assert update[:2] == ["consent", "update"]
    assert update[2]["analytics_storage"] == "granted"
    assert update[2]["ad_storage"] == update[2]["ad_user_data"] == "denied"
    detail = page.evaluate("window.__events[0]")
    assert detail["decided"] is True and detail["categories"]["analytics"] is True
    assert detail["services"]["google-analytics"] is True and detail["services"]["youtube"] is False
    assert detail["policy_version"] == REGISTRY.policy_version


def test_consent_mode_under_gpc(serve, stub, browser_context):
    base = serve(Site(csp="off"), lifespan="off")
    page = browser_context(extra_http_headers={"Sec-GPC": "1"}).new_page()
    page.goto(base + "/")
    listen(page)
    click(page, ACCEPT)
    page.wait_for_function("window.__events.length == 1")
    update = page.evaluate(DATA_LAYER)[-1][2]
    assert update["ad_storage"] == "granted" and update["analytics_storage"] == "granted"
    assert update["ad_user_data"] == update["ad_personalization"] == "denied"
    page.wait_for_timeout(300)
    assert "www.facebook.com" not in third_party(stub, base)  # a sale/share pixel stays off under GPC
    assert page.evaluate("window.__events[0].gpc") is True


def test_consent_mode_default_reflects_an_earlier_choice(serve, stub, browser_context):
    base = serve(Site(csp="enforce"), lifespan="off")
    context = browser_context()
    page = context.new_page()
    page.goto(base + "/")
    with page.expect_navigation():
        click(page, ACCEPT)
    default = page.evaluate(DATA_LAYER)[0]
    assert default[1] == "default" and set(default[2].values()) == {"granted"}


# -- robustness ------------------------------------------------------------------------------------


def test_when_the_json_endpoint_fails_the_form_still_does_the_job(serve, stub, browser_context):
    base = serve(Site(csp="off"), lifespan="off")
    context = browser_context()
    page = context.new_page()

    def refuse_json(route: Any) -> None:
        if "json" in (route.request.headers.get("content-type") or ""):
            route.fulfill(status=500, body="down")
        else:
            route.continue_()

    page.route("**" + PREFIX + "consent?*", refuse_json)
    page.goto(base + "/")
    with page.expect_navigation():
        click(page, ACCEPT)
    assert state_of(context, base)["decided"] is True
    assert page.locator(".gk-reopen").is_visible()


def test_the_loader_runs_once_even_if_included_twice(serve, stub, page):
    base = serve(Site(csp="off"), lifespan="off")
    page.goto(base + "/")
    url = page.locator("script[data-gk-prefix]").get_attribute("src")
    page.evaluate(
        """url => new Promise(r => { const s = document.createElement('script');
           s.src = url; s.onload = r; document.body.append(s); })""",
        url,
    )
    listen(page)
    click(page, ACCEPT)
    page.wait_for_function("window.__events.length >= 1")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__events.length") == 1
