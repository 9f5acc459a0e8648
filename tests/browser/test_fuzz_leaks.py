"""Browser-level leak check (issue 5 §2): the differential generator's documents (tests/fuzz/htmlgen.py,
fixed seed) served through the middleware on uvicorn (document N at /N) and loaded in Chromium, every
third-party name mapped to the stub, nothing consented.

Counted: requests to a third party that left the browser, as Chromium reports them for the page and
all its frames (Playwright's request events); a request the browser stopped itself (the CSP: failure
"csp"; a URL with credentials: "origin") did not leave. The stub cross-checks: every hit it got with
one of our pages in its Referer must be one of the counted requests.

Passes over the same documents (the JavaScript-off ones only over documents that have a `<noscript>`:
without one, turning scripts off shows the rewriter nothing new):

- CSP report-only, JavaScript on and off: the rewriter alone is measured, as Chromium reads its output
  (its preload scanner included, which the html5lib oracle of tests/fuzz/leaks.py does not model). It
  does not reach zero yet, so the documents it lets a request through from are asserted against
  `KNOWN_LEAKING`, a recorded list whose length can only go down: shorten it when the rewriter
  improves (empty is the target), never lengthen it. Run with `-s` to see every miss with its document
  (`fuzz.htmlgen.document(seed)` rebuilds it), or `bench/fuzz_browser.py --count N`;
- CSP enforced, JavaScript on and off: exactly zero, for subresources and frames as for navigations.
  A top-level navigation (`<meta http-equiv=refresh>` to a third party) is outside any CSP: only the
  rewriter stops it, and a page served unchanged (over `max_body_bytes`, or a `rewrite()` that failed)
  still loses its third-party refreshes (test_page_served_unchanged_does_not_navigate_...).

Not seen here: what a page would request later than the settle window (a `<meta refresh>` with a delay
of seconds, lazy content far below the fold) and connections without a request (`preconnect`,
`dns-prefetch`); the html5lib oracle (tests/test_hardening_rewrite.py) covers those statically.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from fuzz.htmlgen import Document, documents
from support import StubServer, serve_app

from gatekeeper import Gatekeeper
from scanner.browser import context_options

COUNT = 300
SEED = 2  # documents(COUNT, SEED): other seeds than tests/test_hardening_rewrite.py reads
TABS = 8  # pages loading at once in one context: loads and settling overlap, each page is reused
SETTLE_MS = 60  # after load: no request started for this long and none in flight ...
CAP_MS = 1500  # ... or stop waiting after this long (a page that refreshes itself for ever)
KEY = "fuzz-browser-secret-0123456789"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})

# The documents (/N) from which the rewriter alone lets a request through to a third party (CSP
# report-only). A page leaking that is not listed fails the test; a listed one that does not leak is
# printed. The list can only get shorter: remove a document when the rewriter is fixed for it.
# At 96de3dc (one generator) it was 10 with JavaScript and 8 without, all Chromium's own reading of the
# page (its preload scanner), which the html5lib oracle cannot see; b4badd7 models that reading
# (test_what_the_preload_scanner_would_fetch_is_inert), and the commit after it the last one (/90: a
# <base> inside MathML, which the scanner takes for the page's).
KNOWN_LEAKING = {
    "js": frozenset[int](),  # 0 of 300
    "nojs": frozenset[int](),  # 0 of the 169 with a <noscript>
}


def site(docs: Sequence[Document]) -> Callable[..., Any]:
    """Document N at /N (text/html, UTF-8); anything else a small 404."""
    pages = [d.html.encode("utf-8", "surrogatepass") for d in docs]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        name = scope["path"].strip("/")
        if name.isdigit() and int(name) < len(pages):
            status, body, ctype = 200, pages[int(name)], b"text/html; charset=utf-8"
        else:
            status, body, ctype = 404, b"not found", b"text/plain"
        headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def with_noscript(docs: Sequence[Document]) -> list[int]:
    return [n for n, d in enumerate(docs) if "<noscript" in d.html.lower()]


@dataclass(frozen=True)
class Miss:
    index: int  # served at /N
    seed: int  # fuzz.htmlgen.document(seed) rebuilds the page
    url: str
    resource: str  # Playwright's resource type: script, image, document, ...
    navigation: bool  # the page itself navigated there (no CSP governs that)
    failure: str | None  # None: answered; else Chromium's net error (it left the browser all the same)

    def __str__(self) -> str:
        what = "navigation" if self.navigation else self.resource
        how = f" ({self.failure})" if self.failure else ""
        return f"/{self.index} (seed {self.seed}): {what} {self.url[:120]}{how}"


@dataclass
class Pass:
    """One pass over the documents: what left the browser for a third party."""

    pages: int = 0
    misses: list[Miss] = field(default_factory=list)
    blocked: int = 0  # third-party requests the browser stopped (the CSP, credentials in the URL)
    requests: int = 0  # every request the pages made, first party included
    timeouts: list[int] = field(default_factory=list)  # documents whose load did not finish in time
    unexplained: list[str] = field(default_factory=list)  # stub hits from our pages no miss explains
    seconds: float = 0.0

    @property
    def subresources(self) -> list[Miss]:
        return [m for m in self.misses if not m.navigation]

    @property
    def navigations(self) -> list[Miss]:
        return [m for m in self.misses if m.navigation]


def third_party(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and (parts.hostname or "") not in LOOPBACK


class _Tab:
    """A reused page and the requests of the document it shows."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.requests: list[tuple[Any, bool]] = []  # (request, a navigation of the page itself)
        self.pending: set[Any] = set()
        self.last = 0.0
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: Any) -> None:
        top = request.is_navigation_request() and request.frame == self.page.main_frame
        self.requests.append((request, top))
        self.pending.add(request)
        self.last = time.monotonic()

    def _ended(self, request: Any) -> None:
        self.pending.discard(request)

    def open(self, url: str) -> None:
        self.requests, self.pending = [], set()
        try:
            self.page.goto(url, wait_until="commit", timeout=15_000)
        except Exception as e:
            # a document that refreshes itself at once (a <meta refresh> to its own URL) interrupts
            # its own navigation: it was requested all the same, and its requests are being counted
            if "interrupted by another navigation" not in str(e):
                raise

    def quiet(self, now: float) -> bool:
        return not self.pending and now - self.last >= SETTLE_MS / 1000


def check_pages(
    context: Any,
    base: str,
    docs: Sequence[Document],
    indices: Sequence[int] | None = None,
    stub: StubServer | None = None,
    tabs: int = TABS,
) -> Pass:
    """Load documents `indices` (default: all) of the site at `base` in `context`, `tabs` at a time."""
    indices = list(range(len(docs))) if indices is None else list(indices)
    result = Pass(pages=len(indices))
    start = time.monotonic()
    if stub is not None:
        stub.reset()
    open_tabs = [_Tab(context.new_page()) for _ in range(max(1, min(tabs, len(indices))))]
    for first in range(0, len(indices), len(open_tabs)):
        batch = list(zip(open_tabs, indices[first : first + len(open_tabs)], strict=False))
        for tab, n in batch:
            tab.open(f"{base}/{n}")
        for tab, n in batch:
            try:
                tab.page.wait_for_load_state("load", timeout=10_000)
            except Exception:  # what it requested so far still counts
                result.timeouts.append(n)
        _settle([tab for tab, _ in batch])
        for tab, n in batch:
            result.requests += len(tab.requests)
            for request, top in tab.requests:
                if not third_party(request.url):
                    continue
                failure = request.failure
                if failure is not None and not failure.startswith("net::"):
                    result.blocked += 1  # Chromium's blocked reason ("csp", "origin"): never sent
                else:
                    result.misses.append(
                        Miss(n, docs[n].seed, request.url, request.resource_type, top, failure)
                    )
    for tab in open_tabs:
        tab.page.close()
    if stub is not None:
        result.unexplained = _unexplained(stub.hits, base, result.misses)
    result.seconds = time.monotonic() - start
    return result


def _settle(tabs: Sequence[_Tab]) -> None:
    deadline = time.monotonic() + CAP_MS / 1000
    while True:
        tabs[0].page.wait_for_timeout(SETTLE_MS)  # Playwright delivers the events meanwhile
        now = time.monotonic()
        if now >= deadline or all(tab.quiet(now) for tab in tabs):
            return


def _unexplained(hits: Sequence[Any], base: str, misses: Sequence[Miss]) -> list[str]:
    """Stub hits our pages caused (their Referer is our origin) that no counted request explains: the
    browser's own traffic (a component update check) carries no Referer and is not a page's."""
    counted = {(urlsplit(m.url).hostname, _path(m.url)) for m in misses}
    return [
        f"{hit.method} {hit.url} (referer {hit.headers.get('referer')})"
        for hit in hits
        if hit.headers.get("referer", "").startswith(base) and (hit.host, hit.path) not in counted
    ]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def report(name: str, result: Pass) -> str:
    pages = len({m.index for m in result.misses})
    lines = [
        f"{name}: {result.pages} documents, {len(result.misses)} third-party requests from {pages} of "
        f"them ({len(result.navigations)} navigations), {result.blocked} stopped in the browser, "
        f"{result.requests} requests in all, {result.seconds:.1f} s"
    ]
    lines += [f"  {m}" for m in result.misses]
    if result.timeouts:
        lines.append(f"  load did not finish in time: {result.timeouts}")
    lines += [f"  unexplained stub hit: {u}" for u in result.unexplained]
    return "\n".join(lines)


@contextlib.contextmanager
def quiet_gatekeeper_log() -> Iterator[None]:
    """The middleware logs the CSP's reports and the rewriter's failures: hundreds here, none news."""
    log = logging.getLogger("gatekeeper")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


# -- the tests -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docs() -> list[Document]:
    return documents(COUNT, SEED)


@pytest.fixture(scope="module")
def run(docs, browser, _stub_server) -> Iterator[Callable[[str, bool], Pass]]:
    """`run(csp, javascript)`: that pass over the documents, made once for the module."""
    app = site(docs)
    done: dict[tuple[str, bool], Pass] = {}
    with (
        serve_app(Gatekeeper(app, secret_keys=KEY, csp="report-only")) as report_only,
        serve_app(Gatekeeper(app, secret_keys=KEY, csp="enforce")) as enforced,
    ):
        bases = {"report-only": report_only, "enforce": enforced}

        def make(csp: str, javascript: bool) -> Pass:
            if (csp, javascript) not in done:
                context = browser.new_context(
                    **context_options(ignore_https_errors=True, java_script_enabled=javascript)
                )
                indices = None if javascript else with_noscript(docs)
                try:
                    with quiet_gatekeeper_log():
                        done[csp, javascript] = check_pages(context, bases[csp], docs, indices, _stub_server)
                finally:
                    context.close()
                print(report(f"csp {csp}, javascript {'on' if javascript else 'off'}", done[csp, javascript]))
            return done[csp, javascript]

        yield make


JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])


@JS
def test_rewriter_alone_leaks_from_no_more_documents_than_recorded(run, javascript):
    result = run("report-only", javascript)
    assert result.unexplained == []
    assert result.requests > result.pages  # the pages loaded, and fetched first-party things
    key = "js" if javascript else "nojs"
    leaking = {m.index for m in result.misses}
    fixed = sorted(KNOWN_LEAKING[key] - leaking)
    if fixed:
        print(f"listed but not leaking this time ({key}): {fixed}; once that holds, remove them")
    new = [str(m) for m in result.misses if m.index not in KNOWN_LEAKING[key]]
    assert new == [], report(f"report-only, {key}", result)


@JS
def test_enforced_csp_lets_no_subresource_or_frame_through(run, javascript):
    result = run("enforce", javascript)
    assert [str(m) for m in result.subresources] == []
    assert result.unexplained == []
    assert result.requests > result.pages  # the pages loaded, and fetched first-party things


def test_enforced_no_navigation_to_a_third_party(run):
    navigations = run("enforce", True).navigations + run("enforce", False).navigations
    assert [str(m) for m in navigations] == []


# Whenever a page is served without rewriting (over max_body_bytes, an encoding it cannot read, a
# rewrite() that failed), "the CSP still protects" holds for subresources and frames only: a refresh to
# a third party is a navigation, and no CSP governs that (at 0323f1a a KeyError in rewrite() on
# upper-cased vendor markup, document seed 2000061, let one through). Such a page still loses its
# third-party refreshes (rewrite.inert_refreshes, a byte scan that needs no parse).
REFRESH = (
    "<!doctype html><title>t</title><meta http-equiv=refresh content='0;url=https://www.instagram.com/'>"
)


def test_page_served_unchanged_does_not_navigate_to_a_third_party(serve, stub, browser_context):
    big = REFRESH + "<p>" + "x" * 2048
    bare = serve(site([Document(0, big)]))
    behind = serve(Gatekeeper(site([Document(0, big)]), secret_keys=KEY, max_body_bytes=1024))
    page = browser_context().new_page()
    with quiet_gatekeeper_log():
        page.goto(behind + "/0", wait_until="load")
        page.wait_for_timeout(300)
        assert stub.hits_for(host="www.instagram.com") == []
        page.goto(bare + "/0", wait_until="load")  # the control: Chromium does follow it
        stub.wait_for(host="www.instagram.com")


# Chromium's preload scanner fetches ahead of the parser, reading the page its own way: the @import
# rules opening any <style> (any type, any namespace, inert ones too), <source srcset>, <link href> and
# <video poster> inside SVG, a <noscript> or CDATA section there as in HTML. What the parser never
# makes an element is fetched all the same. Each was a document the rewriter alone let through (the
# html5lib oracle cannot see them); reduced from bench/fuzz_browser.py. The control shows the bare page
# does fetch.
PRELOADED = [
    "<style>@import url(https://evil.example/a.css);</style>",
    "<style type=text/x-template> /**/ @charset 'x'; @IMPORT 'https://evil.example/b.css';</style>",
    "<svg><style>@import url(https://evil.example/c.css);</style></svg>",
    "<math><style>@import url(https://evil.example/d.css);</style></math>",
    "<style>@import //evil.example/e.css</style>",
    "<style>@import url(https://evil.example/e.css?a=&#47;b);</style>",  # ";" ends it, ")" or not
    "<svg><PICTURE><source srcset=https://evil.example/f.png><img>",
    '<svg><noscript><p t="</noscript><img src=https://evil.example/g.png>">',
    '<svg><![CDATA[><input type="IMAGE" src=https://evil.example/h.png>',
    "<math><base href=https://evil.example/><img src=i.png>",  # the scanner's base for what follows
]


@pytest.mark.parametrize("markup", PRELOADED)
def test_what_the_preload_scanner_would_fetch_is_inert(markup, serve, stub, browser_context):
    html = "<!doctype html><title>t</title>" + markup + "<p>x"
    bare = serve(site([Document(0, html)]))
    behind = serve(Gatekeeper(site([Document(0, html)]), secret_keys=KEY, csp="report-only"))
    page = browser_context().new_page()
    with quiet_gatekeeper_log():
        page.goto(behind + "/0", wait_until="load")
        page.wait_for_timeout(300)
        assert stub.hits_for(host="evil.example") == []
        page.goto(bare + "/0", wait_until="load")
        stub.wait_for(host="evil.example")
