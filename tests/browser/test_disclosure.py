"""The notice page in Chromium: complete, readable, in both languages, and a place to change choices
without JavaScript."""

from __future__ import annotations

import pytest
from test_banner import CONTRAST
from test_loader import PREFIX, REGISTRY, Site, ours, state_of

from gatekeeper.i18n import Catalogues

CATALOGUES = Catalogues.load()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_notice_page_lists_every_service_and_cookie(serve, stub, page, lang):
    base = serve(Site(), lifespan="off")
    page.goto(f"{base}{PREFIX}disclosure?lang={lang}")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.title() == {"en": "Cookies and information sent to other companies",
                            "ja": "Cookieと外部送信について"}[lang]  # fmt: skip
    for s in REGISTRY.services:
        section = page.locator(f"#gk-s-{s.id}")
        text = section.inner_text()
        words = [CATALOGUES.text(lang, t) for t in (s.vendor, s.data_sent, s.purpose)]
        assert all(w in text for w in words), (s.id, words)
        assert section.locator(f'a[href="{s.policy_url}"]').count() == 1
        assert section.locator("[data-gk-status]").get_attribute("data-gk-status") == "not_allowed"
    cookies = page.locator("table").inner_text()
    assert "lang" in cookies and ("365 days" if lang == "en" else "365日") in cookies
    assert REGISTRY.policy_version in page.locator("body").inner_text()
    assert ours(stub, base) == []  # the notice itself loads nothing from third parties
    low = [x for x in page.locator("body").evaluate(CONTRAST) if x[1] < 4.5]
    assert not low


@pytest.mark.parametrize("javascript", [True, False])
def test_choices_change_on_the_notice_page(serve, stub, browser_context, javascript):
    base = serve(Site(), lifespan="off")
    context = browser_context(javascript=javascript)
    page = context.new_page()
    page.goto(f"{base}{PREFIX}disclosure?lang=ja")
    page.locator("input[name=service][value=youtube]").check()
    with page.expect_navigation():
        page.locator("button[value=custom]").click()
    assert page.url == f"{base}{PREFIX}disclosure?lang=ja"
    assert page.locator("#gk-s-youtube [data-gk-status]").inner_text() == "許可しています"
    assert page.locator("#gk-s-vimeo [data-gk-status]").inner_text() == "許可していません"
    assert page.locator("input[name=service][value=youtube]").is_checked()
    assert state_of(context, base)["services"]["youtube"] is True
    with page.expect_navigation():
        page.locator("button[value=none]").click()
    assert state_of(context, base)["services"]["youtube"] is False


def test_notice_page_links_the_other_language(serve, stub, page):
    base = serve(Site(), lifespan="off")
    page.goto(f"{base}{PREFIX}disclosure?lang=en")
    page.locator("a[hreflang=ja]").click()
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("h1").inner_text() == "Cookieと外部送信について"


def test_notice_page_under_gpc(serve, stub, browser_context):
    base = serve(Site(), lifespan="off")
    context = browser_context(extra_http_headers={"Sec-GPC": "1"})
    page = context.new_page()
    page.goto(f"{base}{PREFIX}disclosure?lang=en")
    assert "Global Privacy Control" in page.locator("[data-gk-gpc]").inner_text()
    with page.expect_navigation():
        page.locator("button[value=all]").click()
    status = page.locator("#gk-s-meta-pixel [data-gk-status]")
    assert status.get_attribute("data-gk-status") == "not_allowed_gpc"
    assert page.locator("#gk-s-youtube [data-gk-status]").get_attribute("data-gk-status") == "allowed"
