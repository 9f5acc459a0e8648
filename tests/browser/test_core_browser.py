"""The core promises, decided by a real Chromium against a real uvicorn: no third-party request before
consent (the CSP blocks even what no rewriter could see), requests after consenting through the
endpoint, and no cookie of an ungranted category in the browser's jar."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from gatekeeper import Gatekeeper, consent_of

KEY = "browser-test-secret-0123456789"
SERVICES = {
    "cookies": [
        {"name": "sid", "category": "necessary", "purpose": "Session"},
        {"name": "_stats", "category": "analytics", "purpose": "Visit statistics", "max_age_days": 90},
    ],
    "services": [{"id": "youtube"}, {"id": "x"}, {"id": "google-analytics"}],
}

# Markup the rewriter sees, and a script that builds its third-party URLs at run time so that only
# the browser (and the CSP) can know where they point.
STATIC = (
    '<script src="https://platform.twitter.com/widgets.js"></script>'
    '<iframe src="https://www.youtube.com/embed/abc" width="320" height="180"></iframe>'
)
DYNAMIC = """
<script>
  window.violations = [];
  document.addEventListener('securitypolicyviolation', e => violations.push(e.blockedURI));
  var host = ['platform', 'twitter', 'com'].join('.');
  var s = document.createElement('script'); s.src = 'https://' + host + '/dynamic.js';
  document.head.appendChild(s);
  var f = document.createElement('iframe'); f.src = 'https://www.' + 'youtube.com/embed/dyn';
  document.body.appendChild(f);
</script>
"""


def site(body: str) -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        response = HTMLResponse(
            f"<!doctype html><html><head><title>t</title></head><body>{body}</body></html>"
        )
        response.set_cookie("sid", "s3ss10n")
        response.set_cookie("_stats", "visits-1", max_age=3600)
        response.set_cookie("undeclared", "1")
        return response

    async def me(request: Request) -> JSONResponse:
        return JSONResponse(sorted(consent_of(request).granted))

    return Starlette(routes=[Route("/", page), Route("/me", me)])


def choose(page, choice: str) -> None:
    status = page.evaluate(
        """async (choice) => (await fetch('/_gatekeeper/consent', {method: 'POST',
             headers: {'Content-Type': 'application/json'}, body: JSON.stringify({choice})})).status""",
        choice,
    )
    assert status == 200


def jar(context) -> set[str]:
    return {c["name"] for c in context.cookies()}


def test_csp_blocks_what_no_rewriter_could_see_until_consent(serve, stub, browser_context):
    base = serve(Gatekeeper(site(DYNAMIC), secret_keys=KEY, services=SERVICES))
    context = browser_context()
    page = context.new_page()
    page.goto(base + "/", wait_until="load")
    page.wait_for_timeout(300)
    assert stub.hits == []
    blocked = page.evaluate("window.violations")
    assert any("platform.twitter.com" in b for b in blocked) and any("youtube.com" in b for b in blocked)

    choose(page, "all")
    page.reload(wait_until="load")
    stub.wait_for("platform.twitter.com", "/dynamic.js")
    stub.wait_for("www.youtube.com", "/embed/dyn")


def test_static_markup_waits_for_consent_and_loads_after(serve, stub, browser_context):
    base = serve(Gatekeeper(site(STATIC), secret_keys=KEY, services=SERVICES))
    context = browser_context()
    page = context.new_page()
    page.goto(base + "/", wait_until="load")
    page.wait_for_timeout(300)
    assert stub.hits == []

    choose(page, "all")
    page.reload(wait_until="load")
    stub.wait_for("platform.twitter.com", "/widgets.js")
    stub.wait_for("www.youtube.com", "/embed/abc")

    stub.reset()
    choose(page, "none")
    page.reload(wait_until="load")
    page.wait_for_timeout(300)
    assert stub.hits == []


def test_cookies_of_ungranted_categories_never_reach_the_jar(serve, stub, browser_context):
    base = serve(Gatekeeper(site(""), secret_keys=KEY, services=SERVICES))
    context = browser_context()
    page = context.new_page()
    page.goto(base + "/")
    assert jar(context) == {"sid"}

    choose(page, "custom")  # nothing granted: still only the necessary cookie
    page.reload()
    assert jar(context) == {"sid", "gk_consent"}

    page.evaluate(
        """async () => fetch('/_gatekeeper/consent', {method: 'POST',
             headers: {'Content-Type': 'application/json'},
             body: JSON.stringify({choice: 'custom', categories: ['analytics']})})"""
    )
    page.reload()
    assert jar(context) == {"sid", "gk_consent", "_stats"}
    assert "google-analytics" in json.loads(page.goto(base + "/me").text())

    choose(page, "none")  # withdrawing expires the analytics cookie at once
    assert jar(context) == {"sid", "gk_consent"}


def test_a_cross_site_form_cannot_consent_for_the_visitor(serve, stub, browser_context):
    base = serve(Gatekeeper(site(""), secret_keys=KEY, services=SERVICES))
    stub.route(
        "https://evil.example/",
        f'<form method="post" action="{base}/_gatekeeper/consent"><input name="choice" value="all">'
        "</form><script>document.forms[0].submit()</script>",
        content_type="text/html",
    )
    context = browser_context()
    page = context.new_page()
    page.goto("https://evil.example/")
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    assert "gk_consent" not in jar(context)
    assert page.content().count("Cross-site consent requests are refused") == 1
