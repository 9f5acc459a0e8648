"""Two-click placeholders in Chromium: the embed's size, readable and operable, "always allow" without
JavaScript, and the way to the notice."""

from __future__ import annotations

import pytest
from test_banner import CONTRAST, active
from test_loader import EMBEDS, PREFIX, Embed, Site, ours, state_of

# what a box hides of its own content: none of it may be clipped
CLIPPED = "e => [e.scrollWidth - e.clientWidth, e.scrollHeight - e.clientHeight]"


def test_placeholders_take_the_embeds_size(serve, stub, page):
    base = serve(Site(csp="enforce"), lifespan="off")
    page.goto(base + "/")
    for e in EMBEDS:
        ph = page.locator(f"#gk-ph-{e.index}")
        box = ph.bounding_box()
        # the embed's size, or taller when its text needs more (never clipped)
        assert box["width"] == e.width and box["height"] >= e.height
        assert ph.evaluate(CLIPPED) == [0, 0]
        assert page.locator(f"#e{e.index}").is_hidden()
    assert page.locator("#gk-ph-0").bounding_box()["height"] == 315
    assert ours(stub, base) == []


def test_placeholder_says_who_gets_what(serve, stub, page):
    base = serve(Site(csp="enforce"), lifespan="off")
    page.goto(base + "/")
    text = page.locator("#gk-ph-2").inner_text()
    assert "Vimeo" in text and "Vimeo.com, Inc." in text and "IP address" in text
    assert page.locator("#gk-ph-2 button[value=allow]").inner_text() == "Always allow Vimeo"
    seen = page.locator("#gk-ph-2").evaluate(CONTRAST)
    assert seen and min(r for _, r in seen) >= 4.5
    with page.expect_navigation():
        page.locator("#gk-ph-2 a").click()
    assert page.url.endswith(PREFIX + "disclosure?lang=en#gk-s-vimeo")
    assert page.locator("#gk-s-vimeo h3").inner_text() == "Vimeo"


def test_placeholder_buttons_by_keyboard(serve, stub, page):
    base = serve(Site(csp="off"), lifespan="off")
    page.goto(base + "/")
    page.locator("#gk-ph-0 a").focus()
    page.keyboard.press("Tab")
    assert active(page)["value"] == "once" and active(page)["outline"] == "solid"
    page.keyboard.press("Tab")
    assert active(page)["value"] == "allow"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    stub.wait_for("www.youtube.com", "/embed/one")
    assert page.locator("#e0").is_visible() and page.locator("#gk-ph-1").is_visible()


@pytest.mark.parametrize("javascript", [True, False])
def test_always_allow_returns_to_the_same_place(serve, stub, browser_context, javascript):
    base = serve(Site(csp="enforce"), lifespan="off")
    context = browser_context(javascript=javascript)
    page = context.new_page()
    page.goto(base + "/")
    with page.expect_navigation():
        page.locator("#gk-ph-2 button[value=allow]").click()
    # with JS the loader reloads (new hosts, enforced CSP); without, the form comes back to #gk-ph-2
    assert page.url == base + ("/" if javascript else "/#gk-ph-2")
    stub.wait_for("player.vimeo.com", "/video/3")
    assert page.locator("#e2").is_visible() and page.locator("#gk-ph-0").is_visible()
    assert state_of(context, base)["services"] == {
        "youtube": False, "vimeo": True, "google-analytics": False, "meta-pixel": False}  # fmt: skip


def test_a_small_box_grows_rather_than_clips(serve, stub, page):
    base = serve(Site(csp="off"), lifespan="off")
    page.goto(base + "/")
    page.locator("#gk-ph-0").evaluate("e => { e.style.width = '220px'; e.style.minHeight = '140px'; }")
    box = page.locator("#gk-ph-0").bounding_box()
    assert box["width"] == 220 and box["height"] > 140  # it grows, it does not clip
    assert page.locator("#gk-ph-0").evaluate(CLIPPED) == [0, 0]
    page.locator("#gk-ph-0 button[value=once]").click()
    stub.wait_for("www.youtube.com", "/embed/one")


def test_a_button_sized_embed_gets_a_one_line_placeholder(serve, stub, page):
    site = Site(csp="off")
    base = serve(site, lifespan="off")
    page.goto(base + "/")
    small = Embed(7, "iframe", "https://www.youtube.com/embed/tiny", 240, 40, ("youtube",))
    html = site.pages.placeholder(small, "en", "/")
    page.evaluate("html => document.body.insertAdjacentHTML('afterbegin', html)", html)
    box = page.locator("#gk-ph-7").bounding_box()
    assert box["width"] >= 240 and box["height"] <= 40  # one line, as long as it needs
    tops = set()
    for button in ("once", "allow"):
        b = page.locator(f"#gk-ph-7 button[value={button}]").bounding_box()
        assert box["x"] <= b["x"] and b["x"] + b["width"] <= box["x"] + box["width"] + 1
        assert b["height"] >= 24
        tops.add(b["y"])
    assert len(tops) == 1
    assert min(r for _, r in page.locator("#gk-ph-7").evaluate(CONTRAST)) >= 4.5
