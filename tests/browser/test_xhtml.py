"""XHTML pages get the promise HTML pages get, decided by Chromium: served as application/xhtml+xml,
text/xml or with no type (sniffed), a page with a declared YouTube embed, an undeclared tracker (an
<img>, a prefixed <h:img>, an SVG <image>, an xml-stylesheet PI) and a <meta> refresh to the tracker
inside <title> (real elements in XML) contacts no third party before consent, renders (well-formed),
shows the banner and the placeholder; "Accept all" loads the embed, with JavaScript and without it (the
banner's plain forms). The same page served bare (no gatekeeper) reaches the tracker and navigates
away: the control that shows the test can fail."""

from __future__ import annotations

from typing import Any

import pytest

from gatekeeper import Gatekeeper

KEY = "xhtml-browser-secret-0123456789"
SERVICES: dict[str, Any] = {"services": [{"id": "youtube"}]}
TRACKER = "tracker.example"  # undeclared: strict mode blocks it
YOUTUBE = "www.youtube.com"
PAGE = f"""<?xml version="1.0" encoding="utf-8"?>
<?xml-stylesheet type="text/css" href="https://{TRACKER}/pi.css"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:h="http://www.w3.org/1999/xhtml" lang="en">
<head><title>XHTML <meta http-equiv="refresh" content="1;url=https://{TRACKER}/refresh"/>page</title>
<script>//<![CDATA[
if (1 < 2 && true) {{ document.documentElement.setAttribute("data-ran", "1"); }}
//]]></script>
</head>
<body><p id="text">An XHTML page &amp; its embeds <!-- a comment with <img src="x"/> --></p>
<iframe width="560" height="315" src="https://{YOUTUBE}/embed/xhtml1"></iframe>
<img src="https://{TRACKER}/img.gif" alt=""/>
<h:img src="https://{TRACKER}/prefixed.gif" alt=""/>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">
<image xlink:href="https://{TRACKER}/svg.gif" width="10" height="10"/></svg>
</body></html>""".encode()
# the page's Content-Type: "none" sends none (Chromium sniffs "<?xml" as XML)
TYPES = {"xhtml": b"application/xhtml+xml", "xml": b"text/xml", "none": b""}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    ctype = TYPES.get(scope["path"].strip("/"))
    if ctype is None:  # (the browser's /favicon.ico)
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [(b"content-type", ctype)] if ctype else []
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": PAGE})


@pytest.fixture(scope="module")
def guarded() -> Gatekeeper:
    return Gatekeeper(app, secret_keys=KEY, services=SERVICES)


def leaks(stub: Any) -> list[str]:
    return [h.path for h in stub.hits if h.host in (TRACKER, YOUTUBE)]


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_the_bare_page_leaks(serve, stub, browser_context, kind):
    """The control: without gatekeeper Chromium renders this page, fetches the tracker in each way the
    page asks, and follows the refresh in <title>."""
    tab = browser_context().new_page()
    tab.goto(f"{serve(app)}/{kind}", wait_until="load")
    stub.wait_for(TRACKER, "/refresh", timeout=5)
    paths = set(leaks(stub))
    assert {"/img.gif", "/prefixed.gif", "/svg.gif", "/pi.css", "/embed/xhtml1"} <= paths


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_nothing_leaves_and_accept_loads_the_embed(serve, stub, browser_context, guarded, kind):
    tab = browser_context().new_page()
    url = f"{serve(guarded)}/{kind}"
    tab.goto(url, wait_until="load")
    tab.wait_for_timeout(1500)  # past the refresh's second
    assert tab.url == url  # not navigated by the refresh in <title>
    assert leaks(stub) == []
    # it rendered as XML (a well-formedness error would show Chromium's error page instead)
    assert tab.evaluate("document.documentElement.namespaceURI") == "http://www.w3.org/1999/xhtml"
    assert tab.evaluate("document.querySelector('parsererror')") is None
    assert tab.get_attribute("html", "data-ran") == "1"  # the page's own CDATA script ran
    assert tab.is_visible("[data-gk-banner]")
    assert tab.is_visible("[data-gk-ph='0']")
    tab.click("[data-gk-banner] button[name=choice][value=all]")
    stub.wait_for(YOUTUBE, "/embed/xhtml1", timeout=10)
    tab.wait_for_selector("iframe[src*='youtube']", state="attached")
    assert tab.locator("[data-gk-ph]").count() == 0
    # the tracker is undeclared: no consent makes it a service of the page's
    assert stub.hits_for(TRACKER) == []


# the banner's "Accept all", a placeholder's "Always allow" and "Load once"
NO_JS_CHOICES = {
    "banner": "[data-gk-banner] button[name=choice][value=all]",
    "placeholder": "[data-gk-ph='0'] button[value=allow]",
    "once": "[data-gk-ph='0'] button[value=once]",
}


@pytest.mark.parametrize(
    ("choice", "kind"), [*(("banner", k) for k in sorted(TYPES)), ("placeholder", "xml"), ("once", "xhtml")]
)
def test_without_javascript_the_forms_decide(serve, stub, browser_context, guarded, kind, choice):
    button = NO_JS_CHOICES[choice]
    tab = browser_context(javascript=False).new_page()
    url = f"{serve(guarded)}/{kind}"
    tab.goto(url, wait_until="load")
    tab.wait_for_timeout(1500)
    assert tab.url == url and leaks(stub) == []
    assert tab.is_visible("[data-gk-banner]")
    with tab.expect_navigation():
        tab.click(button)
    assert tab.url.split("#")[0] == url  # back on the page (303 to next)
    stub.wait_for(YOUTUBE, "/embed/xhtml1", timeout=10)
    # decided: only "Privacy settings" shows; "Load once" decides nothing
    assert tab.is_visible("[data-gk-banner]") is (choice == "once")
    assert stub.hits_for(TRACKER) == []


async def xhtml_site(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":  # a site with no start-up work of its own
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await app(scope, receive, send)


@pytest.mark.parametrize("kind", ["xml"])  # (text/xml: createElement would make no XHTML element)
def test_the_receipt_of_a_choice_shows_in_an_xhtml_page(serve, stub, browser_context, tmp_path, kind):
    """With consent records kept, the loader puts the receipt the endpoint answers into the settings
    panel: in an XML document too (where innerHTML parses as XML, and the receipt is HTML)."""
    guarded = Gatekeeper(xhtml_site, secret_keys=KEY, services=SERVICES, records=f"sqlite:///{tmp_path}/c.db")
    tab = browser_context().new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{serve(guarded, lifespan='on')}/{kind}", wait_until="load")
    with tab.expect_response(lambda r: r.url.split("?")[0].endswith("/_gatekeeper/consent")):
        tab.click("[data-gk-banner] button[name=choice][value=none]")
    tab.wait_for_function("!document.querySelector('[data-gk-box]').open")
    tab.click(".gk-reopen")
    receipt = tab.locator("[data-gk-receipt]")
    receipt.wait_for(state="visible")
    assert "Receipt code" in receipt.inner_text() and errors == []
    assert (
        tab.evaluate("document.querySelector('[data-gk-receipt]').namespaceURI")
        == "http://www.w3.org/1999/xhtml"
    )
    assert leaks(stub) == []
