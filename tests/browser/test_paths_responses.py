"""Every response path keeps the promise, decided by Chromium: each kind of response a browser may render
or run (whatever its Content-Type claims), a worker and a service worker, a WebSocket handshake's
cookie, a form posted by script, the Speculation-Rules and Link headers, WebRTC. Each case is also
served bare (the same app without gatekeeper): that control must reach the third party, or the case
would prove nothing."""

from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from gatekeeper import Gatekeeper
from scanner.browser import Chromium, context_options

KEY = "paths-browser-secret-0123456789"
SERVICES: dict[str, Any] = {
    "cookies": [{"name": "sid", "category": "necessary", "purpose": "Session"}],
    "services": [{"id": "youtube"}],
}
TRACKER = "tracker.example"  # undeclared: strict mode blocks it
IMG = f'<img src="https://{TRACKER}/{{case}}.gif" alt="">'
HTML = f"<!doctype html><html><head><title>t</title></head><body><p>page</p>{IMG}</body></html>"
XHTML = (
    '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head>'
    f"<title>t</title></head><body><p>page</p>{IMG.replace('>', '/>')}</body></html>"
)
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    f'<image href="https://{TRACKER}/{{case}}.gif" width="10" height="10"/></svg>'
)


@dataclass(frozen=True)
class Answer:
    headers: list[tuple[bytes, bytes]]
    body: bytes
    ws_cookies: list[bytes] = field(default_factory=list)


def raw_app(routes: dict[str, Answer]) -> Callable[..., Any]:
    """A plain ASGI app that sends exactly the headers it is given (duplicates, odd types, none)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        answer = routes[scope["path"]]
        if scope["type"] == "websocket":
            await receive()
            headers = [(b"set-cookie", c) for c in answer.ws_cookies]
            await send({"type": "websocket.accept", "headers": headers})
            await send({"type": "websocket.send", "text": "hi"})
            await receive()
            return
        await send({"type": "http.response.start", "status": 200, "headers": answer.headers})
        await send({"type": "http.response.body", "body": answer.body})

    return app


def page(case: str, template: str = HTML) -> bytes:
    return template.replace("{case}", case).encode()


CT = b"content-type"
# (case, headers, body): each one an HTML, XML or SVG document to Chromium, loading a third party
DOCUMENTS = [
    ("no-type", [], page("no-type")),
    ("two-types", [(CT, b"text/plain"), (CT, b"text/html")], page("two-types")),
    ("type-list", [(CT, b"text/plain, text/html")], page("type-list")),
    ("unknown-type", [(CT, b"unknown/unknown")], page("unknown-type")),
    ("xhtml-as-text-xml", [(CT, b"text/xml")], page("xhtml-as-text-xml", XHTML)),
    ("xhtml-as-application-xml", [(CT, b"application/xml")], page("xhtml-as-application-xml", XHTML)),
    ("xhtml", [(CT, b"application/xhtml+xml")], page("xhtml", XHTML)),
    ("svg", [(CT, b"image/svg+xml")], page("svg", SVG)),
    ("html-utf8", [(CT, b"text/html; charset=utf-8")], page("html-utf8")),
]


def _serve_both(serve: Callable[..., str], routes: dict[str, Answer]) -> tuple[str, str]:
    app = raw_app(routes)
    return serve(app), serve(Gatekeeper(app, secret_keys=KEY, services=SERVICES))


@pytest.fixture(scope="module")
def trusting_browser(_stub_server: Any, playwright: Any) -> Iterator[Any]:
    """A Chromium that takes the stub's certificate everywhere: the browser process's own requests
    (a service worker's, a cross-site prefetch) do not follow a context's `ignore_https_errors`."""
    with Chromium(host_map={"*": _stub_server.address}, extra_args=["--ignore-certificate-errors"]) as ch:
        browser = ch.connect(playwright)
        yield browser
        browser.close()


def _tab(browser: Any, **options: Any) -> Any:
    context = browser.new_context(**context_options(ignore_https_errors=True, **options))
    return context.new_page()


def _tracker_hits(stub: Any, path: str = "") -> list[Any]:
    return [h for h in stub.hits if h.host == TRACKER and h.path.startswith("/" + path)]


@pytest.fixture(scope="module")
def documents_app() -> dict[str, Answer]:
    return {f"/{case}": Answer(headers, body) for case, headers, body in DOCUMENTS}


@pytest.mark.parametrize(("case", "headers", "body"), DOCUMENTS, ids=[c[0] for c in DOCUMENTS])
def test_a_document_whatever_its_type_reaches_no_third_party(serve, stub, browser_context, documents_app,
                                                              case, headers, body):  # fmt: skip
    bare, guarded = _serve_both(serve, documents_app)
    tab = browser_context().new_page()
    tab.goto(f"{bare}/{case}", wait_until="load")
    stub.wait_for(TRACKER, f"/{case}.gif")  # the control: Chromium renders it and fetches
    stub.reset()
    tab = browser_context().new_page()
    tab.goto(f"{guarded}/{case}", wait_until="load")
    tab.wait_for_timeout(300)
    assert _tracker_hits(stub) == []


WORKER_PAGE = b"""<!doctype html><title>w</title><script>
  window.done = new Promise(function (ok) {
    var w = new Worker('/w.js'); w.onmessage = function (e) { ok(e.data); };
  });
</script>"""
WORKER = (
    b"fetch('https://tracker.example/worker.gif').then(function(){postMessage('sent')},\n"
    b"function(){postMessage('blocked')});"
)
SW_PAGE = b"""<!doctype html><title>sw</title><script>
  window.done = navigator.serviceWorker.register('/sw.js').then(function () { return 'registered'; });
</script>"""
SW = (
    b"self.addEventListener('install', function (e) {\n"
    b"  e.waitUntil(fetch('https://tracker.example/sw.gif').catch(function () {}));\n});"
)
JS = (CT, b"text/javascript")
WORKERS = {
    "/worker": Answer([(CT, b"text/html")], WORKER_PAGE),
    "/w.js": Answer([JS], WORKER),
    "/sw": Answer([(CT, b"text/html")], SW_PAGE),
    "/sw.js": Answer([JS], SW),
}


@pytest.mark.parametrize("kind", ["worker", "sw"])
def test_a_worker_gets_the_csp_too(serve, stub, trusting_browser, kind):
    bare, guarded = _serve_both(serve, WORKERS)
    tab = _tab(trusting_browser, service_workers="allow")
    tab.goto(f"{bare}/{kind}", wait_until="load")
    tab.evaluate("window.done")
    stub.wait_for(TRACKER, f"/{kind}.gif")  # the control
    stub.reset()
    tab = _tab(trusting_browser, service_workers="allow")
    tab.goto(f"{guarded}/{kind}", wait_until="load")
    tab.evaluate("window.done")
    tab.wait_for_timeout(500)
    assert _tracker_hits(stub) == []


WS_PAGE = b"""<!doctype html><title>ws</title><script>
  window.done = new Promise(function (ok) {
    var s = new WebSocket('ws://' + location.host + '/ws'); s.onmessage = function () { ok(1); };
  });
</script>"""
WS_COOKIES = [
    b"ws_tracker=taro@example.jp; Max-Age=31536000",
    b"ws_undeclared=1; Max-Age=3600",
    b"sid=s3ss10n; Path=/",
]


def test_a_websocket_handshake_goes_through_the_cookie_gate(serve, browser_context):
    routes = {"/": Answer([(CT, b"text/html")], WS_PAGE), "/ws": Answer([], b"", WS_COOKIES)}
    bare, guarded = _serve_both(serve, routes)
    jars = {}
    for name, base in (("bare", bare), ("guarded", guarded)):
        context = browser_context()
        tab = context.new_page()
        tab.goto(base + "/", wait_until="load")
        tab.evaluate("window.done")
        jars[name] = {c["name"] for c in context.cookies()}
    assert {"ws_tracker", "ws_undeclared", "sid"} <= jars["bare"]  # Chromium stores handshake cookies
    assert jars["guarded"] == {"sid"}


FORM_PAGE = f"""<!doctype html><title>f</title><form method="post" action="https://{TRACKER}/form">
<input name="q" value="taro"></form><script>document.forms[0].submit();</script>""".encode()


def test_a_scripted_form_posts_to_no_third_party(serve, stub, browser_context):
    bare, guarded = _serve_both(serve, {"/": Answer([(CT, b"text/html")], FORM_PAGE)})
    tab = browser_context().new_page()
    tab.goto(bare + "/", wait_until="commit")
    stub.wait_for(TRACKER, "/form")
    assert stub.hits_for(TRACKER, "/form")[0].method == "POST"
    tab.close()  # the tracker's page, now shown, would fetch its favicon
    stub.reset()
    tab = browser_context().new_page()
    tab.goto(guarded + "/", wait_until="commit")
    tab.wait_for_timeout(800)
    assert _tracker_hits(stub) == []  # a TLS handshake may happen; no request does


SPEC_PAGE = f"""<!doctype html><title>s</title><a href="https://{TRACKER}/linked">a link</a>""".encode()
SPEC_RULES = (
    b'{"prefetch": [{"source": "list", "urls": ["https://tracker.example/spec-list"]},'
    b' {"source": "document", "eagerness": "immediate"}]}'
)
HEADER_ROUTES = {
    "/spec": Answer([(CT, b"text/html"), (b"speculation-rules", b'"/rules.json"')], SPEC_PAGE),
    "/rules.json": Answer([(CT, b"application/speculationrules+json")], SPEC_RULES),
    "/link": Answer(
        [
            (CT, b"text/html"),
            (b"link", b"<https://tracker.example/preload.js>; rel=preload; as=script"),
            (b"link", b"</local.css>; rel=preload; as=style, <https://tracker.example/p.css>; rel=prefetch"),
        ],
        b"<!doctype html><title>l</title><p>link header",
    ),
    "/local.css": Answer([(CT, b"text/css")], b"p{}"),
}


@pytest.mark.parametrize(("path", "expected"), [("/spec", "/spec-list"), ("/link", "/preload.js")])
def test_headers_that_reach_out_by_themselves(serve, stub, trusting_browser, path, expected):
    bare, guarded = _serve_both(serve, HEADER_ROUTES)
    tab = _tab(trusting_browser)
    tab.goto(bare + path, wait_until="load")
    stub.wait_for(TRACKER, expected, timeout=10)  # the control
    tab.context.close()  # (its low-priority prefetch may still be on its way: not counted below)
    stub.reset()
    tab = _tab(trusting_browser)
    tab.goto(guarded + path, wait_until="load")
    tab.wait_for_timeout(1000)
    assert [h for h in _tracker_hits(stub) if not h.headers.get("referer", "").startswith(bare)] == []


RTC_PAGE = b"""<!doctype html><title>rtc</title><script>
  window.done = (async function () {
    var pc = new RTCPeerConnection({iceServers: [{urls: 'stun:stun.tracker.example:3478'}]}), n = 0;
    pc.onicecandidate = function (e) { if (e.candidate) n++; };
    pc.createDataChannel('x');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise(function (ok) { setTimeout(ok, 1000); });
    return n;
  })();
</script>"""


def test_webrtc_is_beyond_any_csp_in_this_chromium(serve, browser_context):
    """What docs/SECURITY.md says stays open: Chromium does not know CSP's `webrtc` directive, so ICE
    (STUN/TURN to any server) runs under any policy. When this fails, Chromium learned it: add
    `webrtc 'block'` to build_csp()."""
    routes = {"/": Answer([(CT, b"text/html"), (b"content-security-policy", b"webrtc 'block'")], RTC_PAGE)}
    tab = browser_context().new_page()
    messages: list[str] = []
    tab.on("console", lambda m: messages.append(m.text))
    tab.goto(serve(raw_app(routes)) + "/", wait_until="load")
    assert tab.evaluate("window.done") > 0  # candidates gathered despite the directive
    assert any("Unrecognized Content-Security-Policy directive 'webrtc'" in m for m in messages)


def _app_csp_page(policy: bytes, own_script: str) -> Answer:
    body = (
        "<!doctype html><html><head><title>csp</title></head><body><p>strict app</p>"
        f"{own_script}<script>window.unsanctioned = 1;</script></body></html>"
    )
    return Answer([(CT, b"text/html"), (b"content-security-policy", policy)], body.encode())


_LISTEN = (
    "window.seen = []; document.addEventListener('securitypolicyviolation', e => seen.push(e.blockedURI));"
)
_HASH = base64.b64encode(hashlib.sha256(_LISTEN.encode()).digest()).decode()
APP_CSP = {
    "/nonce": _app_csp_page(
        b"script-src 'nonce-abc' 'strict-dynamic'; report-uri https://tracker.example/csp-nonce",
        f"<script nonce=abc>{_LISTEN}</script>",
    ),
    "/hash": _app_csp_page(
        f"script-src 'self' 'sha256-{_HASH}'; report-uri https://tracker.example/csp-hash".encode(),
        f"<script>{_LISTEN}</script>",
    ),
}


@pytest.mark.parametrize("path", ["/nonce", "/hash"])
def test_the_apps_strict_csp_runs_our_loader_and_reports_to_no_third_party(
    serve, stub, browser_context, path
):
    bare, guarded = _serve_both(serve, APP_CSP)
    tab = browser_context().new_page()
    tab.goto(bare + path, wait_until="load")
    stub.wait_for(TRACKER, "/csp-")  # the control: the app's own violation is reported to the tracker
    tab.close()
    stub.reset()
    tab = browser_context().new_page()
    tab.goto(guarded + path, wait_until="load")
    tab.wait_for_function("window.__gk === 1")  # the loader ran under the app's policy
    assert tab.locator("[data-gk-banner]").count() == 1
    assert tab.evaluate("window.unsanctioned") is None  # the app's policy is enforced as before
    # the only violation is the app's own unsanctioned script: none of ours
    assert tab.evaluate("window.seen") == ["inline"]
    tab.wait_for_timeout(500)
    assert _tracker_hits(stub) == []


def _navigates_only_bare(browser_context: Any, stub: Any, bare: str, guarded: str, target: str) -> Any:
    """The bare page navigates to the tracker (the control); the guarded one stays: its tab."""
    tab = browser_context().new_page()
    tab.goto(bare + "/", wait_until="commit")
    stub.wait_for(TRACKER, target)
    tab.close()
    stub.reset()
    tab = browser_context().new_page()
    tab.goto(guarded + "/", wait_until="load")
    tab.wait_for_timeout(1000)
    assert _tracker_hits(stub) == [] and tab.url.startswith(guarded)
    return tab


REFRESH = (
    b'<meta http-equiv="refresh" data-pad="'
    + b"x" * 5000
    + b'" content="0;url=https://tracker.example/refreshed">'
)
REFRESH_PAGE = (
    b"<!doctype html><html><head>"
    + b"<!-- padding -->" * 1000
    + REFRESH
    + b"<title>r</title></head><body>r</body></html>"
)


def _refresh_app(kind: str) -> Callable[..., Any]:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if kind == "gzip-gzip":
            body = gzip.compress(gzip.compress(REFRESH_PAGE))
            headers = [(CT, b"text/html"), (b"content-encoding", b"gzip, gzip")]
            chunks = [body]
        else:  # streamed over max_body_bytes, the tag cut far from its "<"
            headers = [(CT, b"text/html")]
            cut = REFRESH_PAGE.index(b"data-pad") + 4500  # past the 4 KB hold-back
            chunks = [REFRESH_PAGE[:cut], REFRESH_PAGE[cut:]]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    return app


@pytest.mark.parametrize("kind", ["gzip-gzip", "streamed-over-the-limit"])
def test_a_refresh_served_unread_does_not_navigate(serve, stub, browser_context, kind):
    bare = serve(_refresh_app(kind))
    limit = 10_000 if kind == "streamed-over-the-limit" else 5 * 1024 * 1024
    guarded = serve(Gatekeeper(_refresh_app(kind), secret_keys=KEY, services=SERVICES, max_body_bytes=limit))
    # the control: Chromium undoes both gzips / reads the whole tag, and goes
    _navigates_only_bare(browser_context, stub, bare, guarded, "/refreshed")


def _speculation_page(rules: str) -> Answer:
    body = (
        f'<!doctype html><html><head><title>s</title><script type="speculationrules">{rules}</script></head>'
        f'<body><a href="https://{TRACKER}/linked">a link</a></body></html>'
    )
    return Answer([(CT, b"text/html")], body.encode())


SPECULATION = {
    "/list": _speculation_page(
        '{"prefetch": [{"source": "list", "urls": ["https://tracker.example/listed"]}]}'
    ),
    "/document": _speculation_page('{"prefetch": [{"source": "document", "eagerness": "immediate"}]}'),
}


@pytest.mark.parametrize(("path", "expected"), [("/list", "/listed"), ("/document", "/linked")])
def test_inline_speculation_rules_reach_no_third_party(serve, stub, trusting_browser, path, expected):
    bare, guarded = _serve_both(serve, SPECULATION)
    tab = _tab(trusting_browser)
    tab.goto(bare + path, wait_until="load")
    stub.wait_for(TRACKER, expected, timeout=10)  # the control: Chromium prefetches, with a Referer
    tab.close()
    stub.reset()
    tab = _tab(trusting_browser)
    tab.goto(guarded + path, wait_until="load")
    tab.wait_for_timeout(1000)
    assert _tracker_hits(stub) == []


XHTML_REFRESH = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t'
    b'<meta http-equiv="refresh" content="0;url=https://tracker.example/xhtml-refresh"/></title></head>'
    b"<body><p id='shown'>xhtml page</p></body></html>"
)


@pytest.mark.parametrize("media", [b"application/xhtml+xml", b"text/xml", b"application/xml"])
def test_xhtml_renders_and_its_title_refresh_does_not_navigate(serve, stub, browser_context, media):
    bare, guarded = _serve_both(serve, {"/": Answer([(CT, media)], XHTML_REFRESH)})
    # the control: in XML, <title> holds a live <meta>
    tab = _navigates_only_bare(browser_context, stub, bare, guarded, "/xhtml-refresh")
    assert tab.evaluate("document.getElementById('shown').textContent") == "xhtml page"  # well-formed
