"""The catalog's vendors in Chromium, behind the whole middleware: each new service's published embed
code (gatekeeper/demo/embeds/<id>.html) is inert before consent (a placeholder where the vendor draws
a box, no request to the vendor), and live after "allow"; an embed from an undeclared host gets a box
naming the host; shared CDNs load with a one-line declaration and are named on the notice page; an AMP
page whose runtime is made inert is not left hidden. One browser; a fresh context per page."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from support import serve_app

import gatekeeper
from gatekeeper import Gatekeeper
from gatekeeper.registry import load_registry

KEY = "test-key-0123456789abcdef"
PREFIX = "/_gatekeeper/"
EMBEDS = Path(gatekeeper.__file__).parent / "demo" / "embeds"

# service -> the request its embed code makes first (host, path prefix): what "live after" waits for
EXPECT = {
    "dailymotion": ("www.dailymotion.com", "/embed/video/x8j3k1a"),
    "niconico": ("embed.nicovideo.jp", "/watch/sm9"),
    "brid-tv": ("services.brid.tv", "/player/build/brid.min.js"),
    "flickr": ("live.staticflickr.com", "/65535/"),
    "slideshare": ("www.slideshare.net", "/slideshow/embed_code/"),
    "speakerdeck": ("speakerdeck.com", "/player/"),
    "google-docs": ("docs.google.com", "/document/"),
    "google-calendar": ("calendar.google.com", "/calendar/embed"),
    "microsoft-forms": ("forms.office.com", "/r/"),
    "note": ("note.com", "/embed/notes/"),
    "ameba": ("ameblo.jp", "/s/embed/reblog-card/"),
    "turnstile": ("challenges.cloudflare.com", "/turnstile/v0/api.js"),
    "hotjar": ("static.hotjar.com", "/c/hotjar-1234567.js"),
    "microsoft-clarity": ("www.clarity.ms", "/tag/abcdefghij"),
    "adobe-analytics": ("assets.adobedtm.com", "/0123456789ab/"),
    "google-adsense": ("pagead2.googlesyndication.com", "/pagead/js/adsbygoogle.js"),
    "yahoo-japan-tag-manager": ("s.yjtag.jp", "/tag.js"),
    "taboola": ("cdn.taboola.com", "/libtrc/"),
    "outbrain": ("widgets.outbrain.com", "/outbrain.js"),
    "google-maps": ("maps.google.co.uk", "/maps"),
}
# Google serves maps from every country domain: the UK's published embed code
FRAGMENTS = {
    "google-maps": '<iframe src="https://maps.google.co.uk/maps?q=London&amp;t=m&amp;z=12&amp;output=embed" '
    'width="600" height="450" style="border:0;" allowfullscreen=""></iframe>',
}
# vendors whose published code is an iframe, or a link their script turns into one (Flickr's): the
# box stands before it
BOXED = {"dailymotion", "niconico", "brid-tv", "flickr", "slideshare", "speakerdeck", "google-docs",
         "google-calendar", "microsoft-forms", "note", "ameba", "google-maps"}  # fmt: skip
UNKNOWN = (
    '<iframe src="https://player.unknown-video.example/e/1" width="640" height="360"></iframe>'
    '<iframe src="https://px.unknown-ads.example/i?c=1" width="1" height="1"></iframe>'
)
CDN_PAGE = """<link rel="stylesheet" href="https://stackpath.bootstrapcdn.com/bootstrap/4.5.2/css/bootstrap.min.css">
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<p id="own">waiting</p>
<script>jQuery(function () { document.getElementById("own").textContent = "jQuery ran"; });</script>"""
AMP_PAGE = (EMBEDS / "amp.html").read_text("utf-8")
# AMP's own embeds (amp.dev's examples), on an AMP page
AMP_EMBEDS = (
    AMP_PAGE
    + '<script async custom-element="amp-youtube" src="https://cdn.ampproject.org/v0/amp-youtube-0.1.js"></script>'
    '<script async custom-element="amp-iframe" src="https://cdn.ampproject.org/v0/amp-iframe-0.1.js"></script>'
    '<amp-youtube id="yt" data-videoid="mGENRKrdoGY" layout="responsive" width="480" height="270">'
    "</amp-youtube>"
    '<amp-iframe id="map" width="600" height="450" layout="responsive"'
    ' sandbox="allow-scripts allow-same-origin" src="https://www.google.com/maps/embed?pb=!1m18"></amp-iframe>'
)
# Stand-ins for AMP's runtime and components (the real ones are not here): the runtime shows the body
# (ends the boilerplate's hiding), each component builds its player's iframe from the attributes it
# has when it runs
AMP_COMPONENTS = {
    "v0": "document.body.style.animation = 'none';",
    "amp-youtube": "document.querySelectorAll('amp-youtube').forEach(function (e) {"
    " var f = document.createElement('iframe');"
    " f.src = 'https://www.youtube.com/embed/' + e.getAttribute('data-videoid'); e.appendChild(f); });",
    "amp-iframe": "document.querySelectorAll('amp-iframe[src]').forEach(function (e) {"
    " var f = document.createElement('iframe'); f.src = e.getAttribute('src'); e.appendChild(f); });",
}


def fragment(sid: str) -> str:
    return FRAGMENTS.get(sid) or (EMBEDS / f"{sid}.html").read_text("utf-8")


def document(body: str) -> bytes:
    head = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>'
    return (head + body + "</body></html>").encode()


async def site(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """/embed/<id>, /unknown, /cdn and /amp: the pages a site would write."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path.startswith("/embed/") and path[7:] in EXPECT:
        body = document(fragment(path[7:]))
    elif path == "/all":
        body = document("".join(fragment(s) for s in EXPECT))
    elif path in ("/unknown", "/cdn", "/amp", "/amp-embeds"):
        pages = {"/unknown": UNKNOWN, "/cdn": CDN_PAGE, "/amp": AMP_PAGE, "/amp-embeds": AMP_EMBEDS}
        body = document(pages[path])
    else:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [(b"content-type", b"text/html; charset=utf-8")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def declared(*ids: str, csp: str = "enforce") -> Any:
    services = {"services": [{"id": i} for i in ids]}
    return Gatekeeper(site, secret_keys=KEY, services=services, csp=csp)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def declared_site() -> Any:
    """One server for the vendor pages: every service under test declared."""
    with serve_app(declared(*EXPECT), lifespan="off") as base:
        yield base


def vendor_hits(stub: Any, sid: str) -> list[str]:
    registry = load_registry({"services": [{"id": sid}]})
    return [h.url for h in stub.hits if registry.services_for(h.host, h.path.split("?")[0])]


def allow(page: Any, sid: str) -> None:
    """The visitor allows one service (the JSON endpoint, as the settings panel does), then reloads."""
    status = page.evaluate(
        """async ([url, sid]) => (await fetch(url, {method: "POST",
             headers: {"content-type": "application/x-www-form-urlencoded"},
             body: "choice=allow&service=" + sid + "&next=" + location.pathname})).status""",
        [PREFIX + "consent", sid],
    )
    assert status == 200  # the 303 back to this page, followed
    page.reload()


def test_bare_page_control_every_vendor_code_makes_its_request(serve, stub, page):
    base = serve(site, lifespan="off")
    page.goto(base + "/all")
    for host, path in EXPECT.values():
        stub.wait_for(host, path)


@pytest.mark.parametrize("sid", sorted(EXPECT))
def test_vendor_code_is_inert_with_a_box_before_consent_and_live_after(declared_site, stub, page, sid):
    base = declared_site
    page.goto(base + f"/embed/{sid}")
    boxes = page.locator(f'[data-gk-ph][data-gk-services~="{sid}"]')
    if sid in BOXED:
        assert boxes.count() >= 1 and boxes.first.is_visible()
        assert sid in {s for s in boxes.first.get_attribute("data-gk-services").split()}
    assert page.locator("[data-gk]").count() >= 1
    assert vendor_hits(stub, sid) == []
    allow(page, sid)
    host, path = EXPECT[sid]
    stub.wait_for(host, path)
    assert page.locator(f'[data-gk-ph][data-gk-services~="{sid}"]').count() == 0


def test_an_undeclared_embed_gets_a_box_naming_its_host_and_one_log_line(serve, stub, page, caplog):
    caplog.set_level(logging.WARNING, logger="gatekeeper")
    base = serve(declared("youtube"), lifespan="off")
    page.goto(base + "/unknown")
    page.goto(base + "/unknown")
    box = page.locator(".gk-ph-u")
    assert box.count() == 1  # the 1x1 frame is a pixel: inert, no box
    assert "player.unknown-video.example" in box.inner_text() and box.is_visible()
    assert box.bounding_box()["width"] == 640
    assert not {h.host for h in stub.hits} & {"player.unknown-video.example", "px.unknown-ads.example"}
    lines = [r.getMessage() for r in caplog.records if "player.unknown-video.example" in r.getMessage()]
    assert len(lines) == 1 and 'hosts = ["player.unknown-video.example"]' in lines[0]


def test_jquery_and_bootstrap_cdns_work_with_one_line_each_and_are_disclosed(serve, stub, browser_context):
    stub.route(
        "https://code.jquery.com/jquery-3.7.1.min.js",
        "window.jQuery = function (f) { f(); };",
        content_type="text/javascript",
    )
    stub.route("https://stackpath.bootstrapcdn.com/bootstrap/4.5.2/css/bootstrap.min.css",
               "#own { color: rgb(1, 2, 3); }", content_type="text/css")  # fmt: skip
    for ids, works in ((("jquery-cdn", "bootstrap-cdn"), True), ((), False)):
        base = serve(declared(*ids), lifespan="off")
        page = browser_context().new_page()
        page.goto(base + "/cdn")
        own = page.locator("#own")
        if works:  # before any choice: the site's own script ran on jQuery, the style applied
            own.filter(has_text="jQuery ran").wait_for()
            assert own.evaluate("e => getComputedStyle(e).color") == "rgb(1, 2, 3)"
            page.goto(base + PREFIX + "disclosure?lang=en")
            text = page.locator("body").inner_text()
            assert "jQuery CDN" in text and "BootstrapCDN" in text and "Required for the site to work" in text
        else:  # the control: undeclared, strict mode makes them inert and the page breaks
            page.wait_for_timeout(200)
            assert own.inner_text() == "waiting"
    assert len(stub.hits_for("code.jquery.com")) == 1


@pytest.mark.parametrize("amp", [False, True])
def test_an_amp_page_is_not_left_hidden_when_its_runtime_is_inert(serve, stub, page, amp):
    base = serve(declared("amp") if amp else declared("youtube"), lifespan="off")
    page.goto(base + "/amp")
    visibility = page.evaluate("getComputedStyle(document.body).visibility")
    if amp:  # declared: the runtime loads at once (it shows the page itself when it runs)
        stub.wait_for("cdn.ampproject.org", "/v0.js")
    else:
        assert visibility == "visible" and not stub.hits_for("cdn.ampproject.org")


def test_amp_control_the_boilerplate_hides_a_bare_page(serve, stub, page):
    base = serve(site, lifespan="off")
    stub.route("https://cdn.ampproject.org/v0.js", "", content_type="text/javascript")
    page.goto(base + "/amp")
    assert page.evaluate("getComputedStyle(document.body).visibility") == "hidden"


def amp_components(stub: Any) -> None:
    for name, code in AMP_COMPONENTS.items():
        path = "v0.js" if name == "v0" else f"v0/{name}-0.1.js"
        stub.route(f"https://cdn.ampproject.org/{path}", code, content_type="text/javascript")


def test_amp_embeds_control_a_bare_page_loads_the_players(serve, stub, page):
    amp_components(stub)
    base = serve(site, lifespan="off")
    page.goto(base + "/amp-embeds")
    stub.wait_for("www.youtube.com", "/embed/mGENRKrdoGY")
    stub.wait_for("www.google.com", "/maps/embed")


def test_amp_embeds_get_boxes_and_come_back_in_place(serve, stub, page):
    amp_components(stub)
    base = serve(declared("amp", "youtube", "google-maps", csp="off"), lifespan="off")
    page.goto(base + "/amp-embeds")
    for sid, element in (("youtube", "#yt"), ("google-maps", "#map")):
        box = page.locator(f'[data-gk-ph][data-gk-services~="{sid}"]')
        assert box.count() == 1 and box.is_visible()
        assert page.locator(element).is_hidden()
    stub.wait_for("cdn.ampproject.org", "/v0/amp-iframe-0.1.js")  # AMP itself is required: it loads
    page.wait_for_timeout(300)
    assert page.evaluate("getComputedStyle(document.body).visibility") == "visible"
    assert not stub.hits_for("cdn.ampproject.org", "/v0/amp-youtube-0.1.js")  # waits for YouTube
    assert vendor_hits(stub, "youtube") == [] and vendor_hits(stub, "google-maps") == []
    page.evaluate("window.__mark = 1")
    page.locator(".gk button[value=all]").click()
    stub.wait_for("cdn.ampproject.org", "/v0/amp-youtube-0.1.js")
    stub.wait_for("www.youtube.com", "/embed/mGENRKrdoGY")
    assert page.evaluate("window.__mark") == 1  # in place: no reload
    assert page.locator("#yt").is_visible() and page.locator("[data-gk-ph]").count() == 0
    # amp-iframe's component, shared by every amp-iframe, ran before: the page served after the
    # choice has the map live
    page.reload()
    stub.wait_for("www.google.com", "/maps/embed")
    assert page.locator("#map iframe").count() == 1
