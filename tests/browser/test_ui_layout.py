"""What a visitor sees, measured in Chromium at 1280x800 and 375x812, in English and Japanese:
placeholders that never clip or cover a control, a first layer that leaves the page visible, focus
never hidden under the banner, a notice page as wide as a phone, and a banner a site's global styles
cannot rearrange."""

# ruff: noqa: E501, F401, F811 (CSS as sites write it; fixtures imported from ui_support)
from __future__ import annotations

from typing import Any

import pytest
from test_banner import CONTRAST
from ui_support import (
    CONTROLS,
    FOCUS_COVERED,
    LANGS,
    SCREENS,
    VENDOR_EMBEDS,
    demo,
    new_page,
    ready,
    vendors,
)

MATRIX = [(screen, lang) for screen in SCREENS for lang in LANGS]
LIMIT = {"desktop": 0.30, "phone": 0.50}  # of the screen the first layer may cover


def reject_all(page: Any) -> None:
    """Close the banner the way a visitor would (the placeholders stay)."""
    page.locator(".gk button[value=none]").click()
    page.wait_for_function("document.querySelector('.gk').dataset.gkDecided == '1'")


@pytest.mark.parametrize(("screen", "lang"), MATRIX)
def test_every_placeholder_control_is_whole_and_reachable(browser_context, demo, vendors, screen, lang):
    page = new_page(browser_context, screen, lang)
    seen = 0
    for url in (f"{demo}/access?lang={lang}", f"{demo}/news/3?lang={lang}", f"{vendors}/?lang={lang}"):
        page.goto(url)
        ready(page)
        if page.locator("[data-gk-banner]").is_visible():
            reject_all(page)
        controls = page.evaluate(CONTROLS, ".gk-ph")
        assert controls, url
        for c in controls:
            assert c["w"] >= 24 and c["h"] >= 24, (url, c)
            assert c["hit"], (url, c)  # its centre is the control itself: not clipped, not covered
        # no placeholder hides part of its own content
        clipped = page.evaluate(
            "[...document.querySelectorAll('.gk-ph')].filter(e => e.scrollWidth > e.clientWidth + 1"
            " || e.scrollHeight > e.clientHeight + 1).map(e => e.id)"
        )
        assert clipped == [], url
        seen += len(controls)
    kinds = page.evaluate(
        "[...new Set([...document.querySelectorAll('.gk-ph')].map(e => e.className))].sort()"
    )
    assert kinds == ["gk-ph", "gk-ph gk-ph-i", "gk-ph gk-ph-i gk-ph-s", "gk-ph gk-ph-share"]
    print(f"\n{screen} {lang}: {seen} placeholder controls, each >= 24x24 and hit at its centre")


def test_a_placeholder_in_a_paragraph_keeps_the_paragraph(browser_context, vendors):
    page = new_page(browser_context, "desktop", "en")
    page.goto(vendors + "/")
    for i in range(len(VENDOR_EMBEDS)):
        p = page.locator(f"#p{i}")
        assert p.locator("> .gk-ph").count() == 1, i  # the placeholder is inside the <p> ...
        assert p.inner_text().rstrip().endswith("after."), i  # ... and so is the text after it
    assert page.locator("#share > .gk-ph-share").count() == 6


@pytest.mark.parametrize(("screen", "lang"), MATRIX)
def test_the_first_layer_is_small_and_its_three_choices_equal(browser_context, demo, screen, lang):
    page = new_page(browser_context, screen, lang)
    page.goto(f"{demo}/access?lang={lang}")
    ready(page)
    width, height = SCREENS[screen]
    box = page.locator("[data-gk-banner]").bounding_box()
    ratio = box["width"] * box["height"] / (width * height)
    assert ratio <= LIMIT[screen], ratio
    buttons = [
        page.locator(".gk button[value=all]"),
        page.locator(".gk button[value=none]"),
        page.locator(".gk-more > summary"),
    ]
    looks = set()
    for b in buttons:
        r = b.bounding_box()
        assert r["y"] >= box["y"] and r["y"] + r["height"] <= height  # visible without scrolling
        assert r["height"] >= 24 and r["width"] >= 24
        hit = b.evaluate("(e, [x, y]) => e.contains(document.elementFromPoint(x, y))",
                         [r["x"] + r["width"] / 2, r["y"] + r["height"] / 2])  # fmt: skip
        assert hit
        looks.add(b.evaluate(
            "e => { const s = getComputedStyle(e); return [s.backgroundColor, s.color, s.fontSize,"
            " s.fontWeight, s.borderTopWidth, Math.round(e.getBoundingClientRect().height)].join() }"
        ))  # fmt: skip
    assert len(looks) == 1, looks  # equally prominent: same colours, type and height
    assert page.locator(".gk-asks").is_hidden()  # the per-service detail is the second layer
    assert page.locator("#gk-desc a[data-gk-policy]").get_attribute("href") == "/privacy"
    print(f"\n{screen} {lang}: the first layer covers {ratio:.0%} of the screen")


# a link of the page's own in the strip the banner covers on the first screen (the demo's controls
# may all sit above or below it, depending on the screen and the language)
LOW_LINK = """() => document.querySelector('main').insertAdjacentHTML('afterbegin',
  '<a id="low" href="#x" style="position:absolute;left:8px;top:calc(100vh - 40px)">low</a>')"""


def tab_through(page: Any) -> tuple[int, list[str]]:
    """Tab from the header through the page: (elements of the page focused, those the banner covered)."""
    page.evaluate(LOW_LINK)
    page.locator("header a").first.focus()
    seen, covered = 0, []
    for _ in range(40):
        page.keyboard.press("Tab")
        info = page.evaluate(FOCUS_COVERED)
        if info is None:
            continue
        seen += 1
        if info["covered"]:
            covered.append(info["what"])
    return seen, covered


@pytest.mark.parametrize(("screen", "lang"), MATRIX)
def test_focus_is_never_hidden_under_the_banner(browser_context, demo, screen, lang):
    page = new_page(browser_context, screen, lang)
    page.goto(f"{demo}/access?lang={lang}")
    ready(page)
    seen, covered = tab_through(page)
    assert seen >= 8  # the page's links and all the placeholders' controls
    assert covered == []


@pytest.mark.parametrize(("screen", "lang"), MATRIX)
def test_without_javascript_focus_is_never_hidden_under_the_banner(browser_context, demo, screen, lang):
    """No loader measures the banner: the style sheet's own reserve (a share of the screen) holds."""
    page = new_page(browser_context, screen, lang, javascript=False)
    page.goto(f"{demo}/access?lang={lang}")
    assert page.locator("[data-gk-banner]").is_visible()
    assert page.evaluate("window.__gk") is None  # (the test's evaluate runs; the page's scripts do not)
    seen, covered = tab_through(page)
    assert seen >= 8
    assert covered == []


@pytest.mark.parametrize("javascript", [True, False])
def test_focus_control_without_scroll_padding_the_banner_hides_it(browser_context, demo, javascript):
    """The checks above can fail: without the style sheet's scroll-padding, Tab lands under the banner."""
    page = new_page(browser_context, "desktop", "en", bypass_csp=True, javascript=javascript)
    page.goto(f"{demo}/access?lang=en")
    assert tab_through(page)[1] == []
    page.goto(f"{demo}/access?lang=en")
    page.evaluate(  # (add_style_tag waits for an event no page without JavaScript fires)
        "document.head.append(Object.assign(document.createElement('style'),"
        " {textContent: 'html:has(.gk) { scroll-padding-bottom: 0 !important }'}))"
    )
    assert tab_through(page)[1]


@pytest.mark.parametrize("lang", LANGS)
def test_the_notice_fits_a_phone_and_leads_back(browser_context, demo, lang):
    page = new_page(browser_context, "phone", lang)
    page.goto(f"{demo}/_gatekeeper/disclosure?lang={lang}")
    assert page.evaluate("document.documentElement.scrollWidth") == 375
    back = page.locator(".gk-nav a").first
    assert back.get_attribute("href") == "/"
    host = demo.split("//")[1].split(":")[0]
    assert host in back.inner_text()  # named after the request's host when no site_name is set
    text = page.locator("main").inner_text()
    assert "Midori City Office" in text
    assert ("Last changed on December 3, 2026" if lang == "en" else "最終更新日：2026年12月3日") in text
    assert page.locator("a[data-gk-policy]").get_attribute("href") == "/privacy"


def test_a_sites_global_styles_do_not_move_the_banner(browser_context, demo):
    hostile = (  # a reset, element rules, and a utility framework's base layer (Tailwind's preflight)
        "*,::before,::after{box-sizing:border-box;border-width:0;border-style:solid;margin:0;padding:0}"
        "html{line-height:1.15;font-size:20px} body{font-family:serif;letter-spacing:.2em}"
        "h1,h2,h3,p,ul,li,figure{margin:2rem 0;padding:0;font-size:inherit;font-weight:inherit}"
        "ul{list-style:none;padding:3rem} p{line-height:3;text-indent:2em} a{color:inherit;text-decoration:none;"
        "padding:1rem} button,[type=submit]{-webkit-appearance:button;background:transparent;background-image:none;"
        "padding:2rem;text-transform:uppercase;font-size:2rem;line-height:inherit;width:100%}"
        "div,section,form,details,summary{display:grid;gap:3rem;padding:1rem} summary{list-style:disclosure-open}"
        "input{appearance:none;width:3rem;height:3rem}"
    )
    page = new_page(browser_context, "desktop", "en")
    page.goto(f"{demo}/access?lang=en")
    ready(page)
    boxes = """() => [...document.querySelectorAll('.gk [data-gk-banner] *, .gk-ph, .gk-ph *')]
      .filter(e => e.getClientRects().length).map(e => { const r = e.getBoundingClientRect(),
        s = getComputedStyle(e); return [e.tagName, Math.round(r.width), Math.round(r.height),
        s.fontSize, s.color, s.backgroundColor].join(); })"""
    before = page.evaluate(boxes)
    page.add_style_tag(content=hostile)
    assert page.evaluate(boxes) == before


def test_dark_mode_and_reduced_motion_follow_the_visitor(browser_context, demo):
    light = new_page(browser_context, "desktop", "en", reduced_motion="no-preference")
    light.goto(f"{demo}/access?lang=en")
    panel = light.locator("[data-gk-banner]")
    assert panel.evaluate("e => getComputedStyle(e).animationName") == "gk-in"
    assert panel.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"
    dark = new_page(browser_context, "desktop", "en", color_scheme="dark")
    dark.goto(f"{demo}/access?lang=en")
    panel = dark.locator("[data-gk-banner]")
    assert panel.evaluate("e => getComputedStyle(e).animationName") == "none"
    assert panel.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(28, 28, 28)"
    for root in ("[data-gk-banner]", "#gk-ph-0"):
        seen = dark.locator(root).evaluate(CONTRAST)
        assert seen and min(r for _, r in seen) >= 4.5, seen
    dark.goto(f"{demo}/_gatekeeper/disclosure?lang=en")
    seen = dark.locator("main").evaluate(CONTRAST)
    assert seen and min(r for _, r in seen) >= 4.5
