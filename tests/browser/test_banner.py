"""The banner in Chromium: keyboard, focus, contrast, no layout shift, equal choices, and every path
with JavaScript and without it."""

from __future__ import annotations

from typing import Any

import pytest
from test_loader import (
    ACCEPT,
    EMBEDS,
    PREFIX,
    REJECT,
    Site,
    everything_arrived,
    listen,
    ours,
    route_scripts,
    state_of,
)

# A site whose own styles would wreck a careless banner: dark page, element rules on everything.
HOSTILE = (
    "body{background:#111;color:#eee;font-size:10px} p,li,label,span,strong,h2,legend,dt,dd{color:#ccc}"
    "a{color:#ff0} button{background:#f0f;color:#fff;padding:40px;font-size:30px}"
    "details,form,div,section,fieldset,ul{background:#000} summary{color:#333}"
)

# Text contrast from computed styles: every visible text node against the backgrounds behind it.
CONTRAST = """root => {
  const rgba = c => { const p = c.match(/[\\d.]+/g).map(Number); return p.length > 3 ? p : [...p, 1]; };
  const lum = c => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const over = (top, under) => under.map((v, i) => v * (1 - top[3]) + top[i] * top[3]);
  const behind = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let out = [255, 255, 255];
    for (const c of layers.reverse()) out = over(c, out);
    return out;
  };
  const seen = [];
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const text = walk.currentNode.textContent.trim(), el = walk.currentNode.parentElement;
    if (!text || !el.getClientRects().length || getComputedStyle(el).visibility == 'hidden') continue;
    const bg = behind(el), fg = over(rgba(getComputedStyle(el).color), bg);
    const a = lum(fg), b = lum(bg);
    seen.push([text.slice(0, 30), Math.round((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) * 100) / 100]);
  }
  return seen;
}"""

SHIFTS = """() => { window.__shifts = [];
  new PerformanceObserver(l => { for (const e of l.getEntries()) window.__shifts.push({value: e.value,
      input: e.hadRecentInput, what: e.sources.map(s => s.node && (s.node.id || s.node.className))}); })
    .observe({type: 'layout-shift', buffered: true}); }"""


def ready(page: Any) -> None:
    page.wait_for_function("window.__gk === 1")


def active(page: Any) -> dict[str, Any]:
    info: dict[str, Any] = page.evaluate(
        """() => { const e = document.activeElement, s = getComputedStyle(e);
        return {tag: e.tagName, text: e.textContent.trim().slice(0, 40), value: e.value || null,
                banner: !!e.closest('[data-gk-banner]'), dialog: e.hasAttribute('data-gk-banner'),
                outline: s.outlineStyle, width: parseFloat(s.outlineWidth), cls: e.className}; }"""
    )
    return info


# -- keyboard and focus ----------------------------------------------------------------------------


def test_keyboard_reaches_and_operates_everything_with_visible_focus(serve, stub, page):
    base = serve(Site(csp="off"), lifespan="off")
    page.goto(base + "/")
    ready(page)
    assert active(page)["dialog"]  # a first visit starts in the banner
    page.keyboard.press("Tab")
    assert active(page)["tag"] == "A" and active(page)["banner"]
    page.keyboard.press("Tab")
    accept = active(page)
    assert accept["value"] == "all"
    assert accept["outline"] == "solid" and accept["width"] >= 2
    page.keyboard.press("Tab")
    assert active(page)["value"] == "none"
    page.keyboard.press("Tab")
    assert active(page)["tag"] == "SUMMARY" and active(page)["outline"] == "solid"
    page.keyboard.press("Enter")  # the settings layer opens
    page.keyboard.press("Tab")
    box = active(page)
    assert box["tag"] == "INPUT" and box["outline"] == "solid"
    page.keyboard.press("Space")
    assert page.locator(".gk input[name=category][value=usability]").is_checked()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # analytics, which ticks its one service along with it
    assert page.locator(".gk input[name=service][value=google-analytics]").is_checked()
    for _ in range(30):
        page.keyboard.press("Tab")
        if active(page)["value"] == "custom":
            break
    listen(page)
    page.keyboard.press("Enter")
    page.wait_for_function("window.__events.length == 1")
    state = state_of(page.context, base)
    assert state["categories"] == {"usability": True, "analytics": True, "media": False, "marketing": False}
    reopen = active(page)
    assert reopen["cls"] == "gk-reopen" and reopen["outline"] == "solid"  # focus is not lost
    page.keyboard.press("Enter")
    assert page.locator("[data-gk-banner]").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("[data-gk-banner]").is_visible()
    assert active(page)["cls"] == "gk-reopen"


def test_keyboard_without_javascript(serve, stub, browser_context):
    base = serve(Site(csp="enforce"), lifespan="off")
    page = browser_context(javascript=False).new_page()
    page.goto(base + "/")
    for _ in range(40):
        page.keyboard.press("Tab")
        if active(page)["value"] == "none":
            break
    focused = active(page)
    assert focused["banner"] and focused["outline"] == "solid"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert state_of(page.context, base)["decided"] is True
    assert page.locator(".gk-reopen").is_visible() and not page.locator("[data-gk-banner]").is_visible()


def test_category_and_service_boxes_follow_each_other(serve, stub, page):
    base = serve(Site(csp="off"), lifespan="off")
    page.goto(base + "/")
    ready(page)
    page.locator(".gk-more > summary").click()
    media = page.locator(".gk input[name=category][value=media]")
    youtube = page.locator(".gk input[name=service][value=youtube]")
    vimeo = page.locator(".gk input[name=service][value=vimeo]")
    media.check()
    assert youtube.is_checked() and vimeo.is_checked()
    vimeo.uncheck()
    assert not media.is_checked() and media.evaluate("e => e.indeterminate")
    vimeo.check()
    assert media.is_checked() and not media.evaluate("e => e.indeterminate")


# -- looks: equal choices, contrast, no layout shift ----------------------------------------------


@pytest.mark.parametrize(
    ("locale", "viewport"),
    [("en-US", {"width": 1280, "height": 900}), ("ja-JP", {"width": 375, "height": 740})],
)
def test_accept_and_reject_have_equal_prominence(serve, stub, browser_context, locale, viewport):
    base = serve(Site(csp="off", site_css=HOSTILE), lifespan="off")
    page = browser_context(locale=locale, viewport=viewport).new_page()
    page.goto(base + "/")
    accept, reject = page.locator(ACCEPT).bounding_box(), page.locator(REJECT).bounding_box()
    assert accept["top" if "top" in accept else "y"] == reject["y"]  # side by side
    assert abs(accept["width"] - reject["width"]) < 0.5 and abs(accept["height"] - reject["height"]) < 0.5
    props = ["backgroundColor", "color", "fontSize", "fontWeight", "padding", "border", "borderRadius"]
    style = "(e, p) => p.map(k => getComputedStyle(e)[k])"
    assert page.locator(ACCEPT).evaluate(style, props) == page.locator(REJECT).evaluate(style, props)
    size = page.locator(ACCEPT).evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size == (16 if viewport["width"] > 640 else 14)  # the site's 30px buttons do not leak in


def contrast(page: Any, selector: str) -> list[tuple[str, float]]:
    return [tuple(x) for x in page.locator(selector).first.evaluate(CONTRAST)]  # type: ignore[misc]


@pytest.mark.parametrize("site_css", ["", HOSTILE], ids=["plain", "hostile-site-styles"])
def test_text_contrast_is_at_least_4_5(serve, stub, browser_context, site_css):
    base = serve(Site(csp="off", site_css=site_css), lifespan="off")
    page = browser_context().new_page()
    page.goto(base + "/")
    ready(page)
    page.locator(".gk-more > summary").click()
    seen = contrast(page, ".gk") + contrast(page, "#gk-ph-0")
    page.locator(ACCEPT).click()
    page.wait_for_selector(".gk-reopen", state="visible")
    seen += contrast(page, ".gk-reopen")
    low = [(text, ratio) for text, ratio in seen if ratio < 4.5]
    assert len(seen) > 20 and not low, low
    print(f"\ncontrast ({'hostile' if site_css else 'plain'}): lowest {min(r for _, r in seen)}:1 "
          f"over {len(seen)} texts")  # fmt: skip


def test_no_layout_shift_from_the_banner_or_the_placeholders(serve, stub, page):
    base = serve(Site(csp="off"), lifespan="off")
    page.goto(base + "/")
    ready(page)
    page.evaluate(SHIFTS)
    boxes = {i: page.locator(f"#gk-ph-{i}").bounding_box() for i in range(3)}
    # a placeholder whose text needs more than its embed's box grows rather than clips (Vimeo's
    # 400x225 here): its embed is shorter, so what follows moves up once the visitor allows it
    grew = {i for i, e in enumerate(EMBEDS) if boxes[i]["height"] > e.height}
    assert grew == {2}
    # a click from script is not input: whatever moves now counts, however long after the click
    page.evaluate("document.querySelector('.gk button[value=all]').click()")
    page.wait_for_function("document.querySelectorAll('[data-gk-ph]').length == 0")
    page.wait_for_timeout(500)
    for i, box in boxes.items():
        if i not in grew:
            assert page.locator(f"#e{i}").bounding_box() == box  # the embed took the placeholder's place
    page.wait_for_timeout(300)
    moved = {w for s in page.evaluate("window.__shifts") for w in s["what"]}
    assert moved <= {"end", "e2", ""}, moved  # only what follows the grown one, only after the choice
    page.goto(base + "/")  # again, with nothing that grew: load and banner move nothing
    ready(page)
    page.evaluate(SHIFTS)
    page.wait_for_timeout(300)
    assert page.evaluate("window.__shifts") == []
    page.locator(".gk-reopen").click()
    page.wait_for_timeout(600)
    page.keyboard.press("Escape")
    page.wait_for_timeout(600)
    shifts = page.evaluate("window.__shifts")
    cls = sum(s["value"] for s in shifts if not s["input"])
    assert cls == 0, shifts
    print(f"\nCLS 0 (load, banner, activation, reopening); shifts right after input: {shifts}")


def test_the_fixed_banner_hides_nothing_at_the_end_of_the_page(serve, stub, page):
    base = serve(Site(csp="off"), lifespan="off")
    page.goto(base + "/")
    ready(page)
    bottom = "window.scrollTo(0, document.documentElement.scrollHeight)"
    page.evaluate(bottom)
    end, panel = page.locator("#end").bounding_box(), page.locator("[data-gk-banner]").bounding_box()
    assert end["y"] + end["height"] <= panel["y"]
    page.locator(ACCEPT).click()
    page.wait_for_selector(".gk-reopen", state="visible")
    page.evaluate(bottom)
    end, control = page.locator("#end").bounding_box(), page.locator(".gk-reopen").bounding_box()
    assert end["y"] + end["height"] <= control["y"]


# -- every path with and without JavaScript ------------------------------------------------------


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize(("button", "decided_all"), [(ACCEPT, True), (REJECT, False)])
def test_accept_and_reject_by_click(serve, stub, browser_context, javascript, button, decided_all):
    route_scripts(stub)
    base = serve(Site(csp="enforce"), lifespan="off")
    context = browser_context(javascript=javascript)
    page = context.new_page()
    page.goto(base + "/")
    assert page.locator("[data-gk-banner]").is_visible()
    if javascript:
        ready(page)
    page.locator(button).click()
    page.wait_for_selector(".gk-reopen", state="visible")
    page.wait_for_load_state("load")
    state = state_of(context, base)
    assert state["decided"] is True
    assert set(state["services"].values()) == {decided_all}
    assert not page.locator("[data-gk-banner]").is_visible()
    if decided_all:
        everything_arrived(page, stub, pixel=False) if javascript else stub.wait_for("www.youtube.com")
    else:
        page.wait_for_timeout(400)
        assert ours(stub, base) == []


@pytest.mark.parametrize("javascript", [True, False])
def test_settings_layer_reopen_and_withdraw(serve, stub, browser_context, javascript):
    base = serve(Site(csp="enforce"), lifespan="off")
    context = browser_context(javascript=javascript)
    page = context.new_page()
    page.goto(base + "/")
    settings = page.locator(".gk-more > summary")
    assert not page.locator(".gk input[name=category][value=analytics]").is_visible()
    settings.click()
    page.locator(".gk input[name=category][value=analytics]").check()
    page.locator(".gk input[name=service][value=youtube]").check()
    with page.expect_navigation():  # new hosts under an enforced CSP, or a plain form: a fresh page
        page.locator(".gk button[value=custom]").click()
    state = state_of(context, base)
    assert state["categories"]["analytics"] and not state["categories"]["media"]
    assert state["services"]["youtube"] and not state["services"]["vimeo"]
    stub.wait_for("www.youtube.com")

    page.locator(".gk-reopen").click()  # reopens, showing the choice made
    assert page.locator(".gk input[name=category][value=analytics]").is_checked()
    assert page.locator(".gk input[name=service][value=youtube]").is_checked()
    assert not page.locator(".gk input[name=service][value=vimeo]").is_checked()
    assert not page.locator(".gk input[name=category][value=media]").is_checked()
    with page.expect_navigation():
        page.locator(REJECT).click()
    state = state_of(context, base)
    assert state["decided"] and not any(state["services"].values())
    stub.reset()
    page.reload()
    page.wait_for_timeout(300)
    assert ours(stub, base) == []
    assert page.locator("[data-gk-ph]").count() == 3


def test_scrolling_is_not_consent(serve, stub, page):
    base = serve(Site(csp="off"), lifespan="off")
    page.goto(base + "/")
    ready(page)
    page.mouse.wheel(0, 3000)
    page.keyboard.press("End")
    page.wait_for_timeout(400)
    assert state_of(page.context, base)["decided"] is False
    assert ours(stub, base) == [] and page.locator("[data-gk-banner]").is_visible()


# -- language and GPC -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "html_lang", "expected"),
    [("ja-JP", None, "ja"), ("en-US", None, "en"), ("ja-JP", "en", "en"), ("en-US", "ja", "ja")],
)
def test_banner_language(serve, stub, browser_context, locale, html_lang, expected):
    base = serve(Site(csp="off", html_lang=html_lang), lifespan="off")
    page = browser_context(locale=locale).new_page()
    page.goto(base + "/")
    assert page.locator(".gk").get_attribute("lang") == expected
    assert page.locator(ACCEPT).inner_text() == {"en": "Accept all", "ja": "すべて同意する"}[expected]
    assert page.locator("#gk-ph-0 button[value=once]").inner_text() == {
        "en": "Load once", "ja": "今回のみ表示する"}[expected]  # fmt: skip


def test_gpc_is_acknowledged(serve, stub, browser_context):
    base = serve(Site(csp="off"), lifespan="off")
    page = browser_context(extra_http_headers={"Sec-GPC": "1"}).new_page()
    page.goto(base + "/")
    assert "Global Privacy Control" in page.locator("[data-gk-gpc]").inner_text()
    plain = browser_context().new_page()
    plain.goto(base + "/")
    assert plain.locator("[data-gk-gpc]").count() == 0


def test_banner_names_what_it_asks_and_links_the_notice(serve, stub, page):
    base = serve(Site(csp="off"), lifespan="off")
    page.goto(base + "/")
    page.locator(".gk-more > summary").click()
    items = page.locator(".gk-asks li").all_inner_texts()  # in the second layer, behind Settings
    assert len(items) == 4  # usability, analytics, media, marketing: one sentence each
    assert any("YouTube" in i and "Vimeo" in i for i in items)
    link = page.locator("#gk-desc a")
    assert link.get_attribute("href") == PREFIX + "disclosure?lang=en"
    link.click()
    assert page.locator("h1").inner_text() == "Cookies and information sent to other companies"
