"""Share buttons without consent (as Shariff does): a script-drawn share button becomes a plain link
to the network's own share page, which reaches the network only when the visitor clicks it, with
JavaScript and without; a bare page (no gatekeeper) shows the same detection would catch a leak."""

# ruff: noqa: F401, F811 (fixtures imported from ui_support are used as arguments)
from __future__ import annotations

from urllib.parse import quote

import pytest
from test_loader import ours
from ui_support import KEY, OPTIONS, bare_vendors, vendors, vendors_app

from gatekeeper import Gatekeeper

SHARED = quote("https://www.example.org/news/1", safe="")
EXPECTED = {  # the network, and where its link goes (the page it shares: the button's own data-url)
    "X": "https://twitter.com/intent/tweet?url={page}",
    "Facebook": f"https://www.facebook.com/sharer/sharer.php?u={SHARED}",
    "LINE": f"https://social-plugins.line.me/lineit/share?url={SHARED}",
    "Hatena Bookmark": "https://b.hatena.ne.jp/add?mode=confirm&url={page}",
    "Pinterest": "https://www.pinterest.com/pin/create/button/?url={page}",
    "LinkedIn": f"https://www.linkedin.com/sharing/share-offsite/?url={SHARED}",
}


@pytest.mark.parametrize("javascript", [True, False])
def test_share_links_reach_the_network_only_when_clicked(browser_context, stub, vendors, javascript):
    context = browser_context(javascript=javascript)
    page = context.new_page()
    page.goto(vendors + "/")
    page.wait_for_timeout(500)
    links = page.locator("#share .gk-share")
    found = {a.inner_text().removeprefix("Share on "): a.get_attribute("href") for a in links.all()}
    here = quote(vendors + "/", safe="")
    assert found == {k: v.format(page=here) for k, v in EXPECTED.items()}
    for a in links.all():
        assert a.get_attribute("rel") == "noopener noreferrer" and a.get_attribute("target") == "_blank"
        assert a.is_visible()
    assert ours(stub, vendors) == []  # nothing reached any network while the page was read
    with context.expect_page() as opened:
        links.first.click()
    opened.value.wait_for_load_state()
    hit = stub.wait_for("twitter.com", "/intent/tweet")
    assert hit.path == "/intent/tweet?url=" + here
    assert "referer" not in hit.headers  # the link sends no referrer of its own either


@pytest.mark.parametrize("javascript", [True, False])
def test_bare_page_control_its_share_buttons_call_the_networks(
    browser_context, stub, bare_vendors, javascript
):
    page = browser_context(javascript=javascript).new_page()
    page.goto(bare_vendors + "/")
    page.wait_for_timeout(500)
    hosts = {h.host for h in ours(stub, bare_vendors)}
    assert "b.st-hatena.com" in hosts  # the button's image, JavaScript or not
    if javascript:
        assert {"platform.twitter.com", "www.line-website.com"} <= hosts


def test_after_consent_the_networks_own_buttons_replace_the_links(browser_context, stub, serve):
    # without an enforced CSP the loader brings them in place, with no new page (the loader's path)
    base = serve(Gatekeeper(vendors_app(), secret_keys=KEY, csp="off", **OPTIONS), lifespan="off")
    page = browser_context().new_page()
    page.goto(base + "/")
    page.wait_for_function("window.__gk === 1")
    assert page.locator("#share .gk-share").count() == len(EXPECTED)
    page.locator(".gk button[value=all]").click()
    page.wait_for_function("document.querySelectorAll('#share .gk-share').length == 0")
    assert page.locator("#share script[type='IN/Share']").count() == 1  # for LinkedIn's in.js to draw
    stub.wait_for("platform.linkedin.com", "/in.js")
    stub.wait_for("platform.twitter.com", "/widgets.js")
