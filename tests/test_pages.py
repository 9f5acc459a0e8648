"""Pages: what the visitor sees, rendered from the registry (no server, no browser)."""

from __future__ import annotations

import datetime
import gzip
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from markupsafe import escape
from support.embeds import Embed

from gatekeeper.consent import ConsentState
from gatekeeper.pages import Pages, build_static, consent_mode_defaults, snippet_budget
from gatekeeper.registry import Category, ConfigError, Registry, load_registry

BUDGET = 5 * 1024


def make_registry(**extra: object) -> Registry:
    return load_registry(
        {
            "services": [
                {"id": "youtube"},
                {"id": "google-analytics"},
                {"id": "meta-pixel"},
                {
                    "id": "evil",
                    "name": "<script>alert(1)</script>Evil",
                    "vendor": 'Evil "Corp" & <b>Sons</b>',
                    "category": "social",
                    "purpose": "<img src=x onerror=alert(2)>",
                    "data_sent": "</textarea><script>alert(3)</script>",
                    "policy_url": "https://evil.example/privacy?a=1&b=<2>",
                    "hosts": ["evil.example"],
                    "placeholder": "post",
                },
            ],
            "cookies": [
                {"name": "lang", "category": "usability", "purpose": {"en": "Language", "ja": "表示言語"},
                 "max_age_days": 365},
                {"name": "sessionid", "category": "necessary", "purpose": "Login session"},
            ],
            **extra,
        }
    )  # fmt: skip


@pytest.fixture(scope="module")
def registry() -> Registry:
    return make_registry()


@pytest.fixture(scope="module")
def pages(registry: Registry) -> Pages:
    return Pages(registry)


def decided(*categories: Category, services: tuple[str, ...] = (), gpc: bool = False) -> ConsentState:
    return ConsentState(
        decided=True,
        categories=frozenset(categories),
        services=frozenset(services),
        policy_version="v",
        decided_at=1,
        gpc=gpc,
    )


class Inputs(HTMLParser):
    """Every <input> and <button> with its attributes, and every script's text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.buttons: list[dict[str, str | None]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            self.inputs.append(dict(attrs))
        elif tag == "button":
            self.buttons.append(dict(attrs))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)

    def checkboxes(self, name: str | None = None) -> list[dict[str, str | None]]:
        return [i for i in self.inputs if i.get("type") == "checkbox" and name in (None, i.get("name"))]

    def ticked(self, name: str) -> set[str | None]:
        return {i.get("value") for i in self.checkboxes(name) if "checked" in i}


# -- the banner ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "texts"),
    [
        ("en", ["Accept all", "Reject all", "Settings", "Save choices", "Privacy settings"]),
        (
            "ja",
            ["すべて同意する", "すべて拒否する", "詳細設定", "選択した内容を保存する", "プライバシー設定"],
        ),
    ],
)
def test_banner_in_both_languages(pages: Pages, lang: str, texts: list[str]) -> None:
    head, body = pages.snippets(ConsentState(), lang, "/news/1", frozenset())
    for text in texts:
        assert text in body
    assert f'lang="{lang}"' in body
    assert 'role="dialog"' in body
    assert 'aria-labelledby="gk-title"' in body and 'id="gk-title"' in body
    assert 'aria-describedby="gk-desc"' in body and 'id="gk-desc"' in body
    assert "data-gk-banner" in body
    assert f'href="/_gatekeeper/disclosure?lang={lang}"' in body
    assert head.count("data-gk-snippet") == 2  # the inline default and the stylesheet
    assert body.count("<script") == 1 and "data-gk-snippet" in body.split("<script")[1]
    assert f'<form method="post" action="/_gatekeeper/consent?lang={lang}">' in body
    assert '<input type="hidden" name="next" value="/news/1">' in body


def test_accept_and_reject_are_the_same_kind_of_button(pages: Pages) -> None:
    _, body = pages.snippets(ConsentState(), "en", "/", frozenset())
    buttons = {b["value"]: b for b in Inputs(body).buttons}
    assert buttons["all"] == {"type": "submit", "class": "gk-btn", "name": "choice", "value": "all"}
    assert {k: v for k, v in buttons["none"].items() if k != "value"} == {
        k: v for k, v in buttons["all"].items() if k != "value"
    }
    assert buttons["custom"]["name"] == "choice"


def test_first_view_has_no_ticked_box_and_one_per_category_and_service(
    pages: Pages, registry: Registry
) -> None:
    _, body = pages.snippets(ConsentState(), "en", "/", frozenset())
    parsed = Inputs(body)
    assert [i for i in parsed.checkboxes() if "checked" in i] == []
    assert {i["value"] for i in parsed.checkboxes("category")} == {c.value for c in registry.categories}
    assert {i["value"] for i in parsed.checkboxes("service")} == {s.id for s in registry.services}
    assert "necessary" not in {i["value"] for i in parsed.checkboxes("category")}
    assert 'data-gk-decided="0"' in body and "data-gk-box open" in body


def test_reopened_banner_shows_the_current_choice(pages: Pages, registry: Registry) -> None:
    state = decided(Category.MEDIA, services=("google-analytics",))
    _, body = pages.snippets(state, "en", "/", state.granted_services(registry))
    parsed = Inputs(body)
    assert parsed.ticked("category") == {"media"}
    assert parsed.ticked("service") == {"youtube", "google-analytics"}
    assert 'data-gk-decided="1"' in body and "data-gk-box open" not in body


def test_gpc_is_acknowledged_and_keeps_sale_share_services_unticked(pages: Pages, registry: Registry) -> None:
    state = decided(Category.MARKETING, Category.MEDIA, gpc=True)
    _, body = pages.snippets(state, "en", "/", state.granted_services(registry))
    assert "Global Privacy Control" in body and "honour" in body
    assert Inputs(body).ticked("service") == {"youtube"}  # meta-pixel is a sale/share service
    _, ja = pages.snippets(ConsentState(gpc=True), "ja", "/", frozenset())
    assert "グローバル・プライバシー・コントロール（GPC）" in ja and "尊重" in ja
    _, no_gpc = pages.snippets(ConsentState(), "en", "/", frozenset())
    assert "Global Privacy Control" not in no_gpc


def test_loader_tag_says_what_the_page_was_served_with(registry: Registry) -> None:
    for enforced in (True, False):
        pages = Pages(registry, prefix="/gk/", csp_enforced=enforced)
        _, body = pages.snippets(decided(), "en", "/", frozenset({"youtube", "google-analytics"}))
        assert f'data-gk-csp="{int(enforced)}"' in body
        assert 'data-gk-granted="google-analytics youtube"' in body
        assert 'data-gk-prefix="/gk/"' in body
        assert 'data-gk-ss="meta-pixel"' in body
        assert f'src="{pages.loader_url}"' in body and pages.loader_url.startswith("/gk/static/loader.")
        assert 'action="/gk/consent?lang=' in body


def test_next_path_is_escaped_and_cached_renders_do_not_mix_pages(pages: Pages) -> None:
    _, one = pages.snippets(ConsentState(), "en", '/a?x="><script>alert(1)</script>', frozenset())
    _, two = pages.snippets(ConsentState(), "en", "/b", frozenset())
    assert 'value="/a?x=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in one
    assert "<script>alert" not in one
    assert 'value="/b"' in two and "/a?x" not in two


def test_snippets_are_cached(pages: Pages) -> None:
    state = decided(Category.ANALYTICS)
    first = pages.snippets(state, "en", "/cached", frozenset({"google-analytics"}))
    again = pages.snippets(decided(Category.ANALYTICS), "en", "/cached", frozenset({"google-analytics"}))
    assert again is first
    other_visitor = ConsentState(True, frozenset({Category.ANALYTICS}), frozenset(), frozenset(), "v", 99)
    assert pages.snippets(other_visitor, "en", "/cached", frozenset({"google-analytics"})) is first


def test_caches_are_bounded(registry: Registry) -> None:
    pages = Pages(registry)
    for i in range(1000):
        pages.snippets(ConsentState(), "en", f"/p{i}", frozenset())
        pages.placeholder(Embed(i, "iframe", "u", 1, 1, ("youtube",)), "en", "/")
    assert len(pages._snippets.data) <= 256 and len(pages._placeholders.data) <= 1024
    assert pages.snippets(ConsentState(), "en", "/p999", frozenset()) is pages._snippets.get(
        (ConsentState().key, "en", frozenset(), "/p999")
    )


def test_rendering_cost(pages: Pages, registry: Registry) -> None:
    """Printed for the report; best of several rounds, with loose bounds, so a busy machine passes."""
    granted = frozenset({"youtube"})
    state = decided(Category.MEDIA)

    def best(run: Callable[[int], object], n: int, rounds: int = 5) -> float:
        times = []
        for r in range(rounds):
            t0 = time.perf_counter()
            for i in range(n):
                run(r * n + i)
            times.append((time.perf_counter() - t0) / n)
        return min(times)

    hit = best(lambda i: pages.snippets(state, "en", "/hit", granted), 1000)
    new_path = best(lambda i: pages.snippets(state, "en", f"/new-path-{i}", granted), 100)
    fresh = Pages(registry)

    def miss(i: int) -> object:
        fresh._snippet_bases.data.clear()
        return fresh.snippets(state, "ja", f"/miss-{i}", granted)

    cold = best(miss, 10)
    print(f"\nsnippets: hit {hit * 1e6:.1f} µs, new path {new_path * 1e6:.1f} µs, miss {cold * 1e6:.0f} µs")
    assert hit < 50e-6
    assert new_path < 200e-6


# -- Consent Mode ----------------------------------------------------------------------------------


def test_consent_mode_default_is_denied_until_granted(pages: Pages, registry: Registry) -> None:
    head, _ = pages.snippets(ConsentState(), "en", "/", frozenset())
    assert head.startswith("<script data-gk-snippet>")
    assert '"consent","default"' in head
    assert '"analytics_storage":"denied"' in head and '"ad_storage":"denied"' in head
    assert '"security_storage":"granted"' in head
    assert '<link rel="stylesheet" href="/_gatekeeper/static/gatekeeper.' in head

    modes = consent_mode_defaults(decided(Category.ANALYTICS), (), registry)
    assert modes["analytics_storage"] == "granted" and modes["ad_storage"] == "denied"
    marketing = decided(Category.MARKETING, gpc=True)
    modes = consent_mode_defaults(marketing, marketing.granted_services(registry), registry)
    assert modes["ad_storage"] == "granted"
    assert modes["ad_user_data"] == modes["ad_personalization"] == "denied"  # GPC, no opt-in
    optin = ConsentState(True, frozenset({Category.MARKETING}), frozenset(), frozenset({"meta-pixel"}),
                         "v", 1, gpc=True)  # fmt: skip
    modes = consent_mode_defaults(optin, optin.granted_services(registry), registry)
    assert modes["ad_user_data"] == "granted"


# -- escaping and templates ------------------------------------------------------------------------


def test_a_language_we_do_not_speak_falls_back_to_english(pages: Pages) -> None:
    _, body = pages.snippets(ConsentState(), "fr", "/", frozenset())
    assert "Accept all" in body
    assert "Load once" in pages.placeholder(Embed(0, "iframe", "u", 1, 1, ("youtube",)), "de", "/")
    assert '<html lang="en">' in pages.disclosure(ConsentState(), "xx")


def test_a_service_name_with_markup_stays_text(pages: Pages) -> None:
    _, banner = pages.snippets(ConsentState(), "en", "/", frozenset())
    embed = Embed(0, "iframe", "https://evil.example/e", 10, 10, ("evil",))
    placeholder = pages.placeholder(embed, "en", "/")
    page = pages.disclosure(ConsentState(), "en")
    for html in (banner, placeholder, page):
        assert "<script>alert" not in html
        assert "<img src=x" not in html and "<b>Sons" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;Evil" in html
    assert "&lt;/textarea&gt;&lt;script&gt;alert(3)" in placeholder
    assert 'href="https://evil.example/privacy?a=1&amp;b=&lt;2&gt;"' in page


def test_operator_templates_override_ours_by_name(registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "placeholder.html").write_text(
        '<div class="mine" data-gk-ph="{{ index }}">{{ service.name }} by {{ service.vendor }}</div>'
    )
    pages = Pages(registry, template_dir=tmp_path)
    embed = Embed(3, "iframe", "https://www.youtube.com/embed/x", 1, 1, ("youtube",))
    html = pages.placeholder(embed, "en", "/")
    assert html == '<div class="mine" data-gk-ph="3">YouTube by Google LLC</div>'
    _, banner = pages.snippets(ConsentState(), "en", "/", frozenset())
    assert "Accept all" in banner  # ours, where none was given


def test_operator_template_mistakes_fail_at_start(registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "banner.html").write_text("{{ t.no_such_text }}")
    with pytest.raises(ConfigError, match="template"):
        Pages(registry, template_dir=tmp_path)
    (tmp_path / "banner.html").write_text("{% if %}")
    with pytest.raises(ConfigError, match=r"banner\.html"):
        Pages(registry, template_dir=tmp_path)
    with pytest.raises(ConfigError, match="not a directory"):
        Pages(registry, template_dir=tmp_path / "missing")


# -- language --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "html_lang", "expected"),
    [
        (None, None, "en"),
        ("", None, "en"),
        ("ja", None, "ja"),
        ("ja-JP,ja;q=0.9,en;q=0.8", None, "ja"),
        ("en-US,en;q=0.9,ja;q=0.8", None, "en"),
        ("fr-FR,fr;q=0.9,ja;q=0.8,en;q=0.5", None, "ja"),
        ("en;q=0.5,ja;q=0.9", None, "ja"),
        ("ja;q=0,en", None, "en"),
        ("ja;q=0", None, "en"),
        ("de,*;q=0.5", None, "en"),
        ("JA-jp", None, "ja"),
        ("ja;q=bogus,en;q=0.2", None, "en"),
        ("garbage;;;,,", None, "en"),
        ("en-US", "ja", "ja"),
        ("ja", "en", "en"),
        ("ja", "en-GB", "en"),
        ("en", "ja-JP", "ja"),
        ("ja", "fr", "ja"),  # a language we do not speak: the visitor's choice decides
        (None, "de", "en"),
        ("ja", "", "ja"),
    ],
)
def test_language_choice(pages: Pages, accept: str | None, html_lang: str | None, expected: str) -> None:
    assert pages.language(accept, html_lang) == expected


# -- placeholders ----------------------------------------------------------------------------------


def test_placeholder_names_the_service_and_offers_both_forms(pages: Pages) -> None:
    html = pages.placeholder(
        Embed(2, "iframe", "https://www.youtube.com/embed/x", "560", "315", ("youtube",)), "en", "/watch?v=1"
    )
    assert html.startswith(
        '<span class="gk-ph gk-ph-i" id="gk-ph-2" data-gk-ph="2" data-gk-services="youtube"'
        ' style="width:560px;min-height:315px"'
    )
    assert "<div" not in html and "<p" not in html and "<form" not in html  # it may stand in a <p>
    assert "YouTube" in html and "Google LLC" in html and "IP address" in html
    assert 'href="/_gatekeeper/disclosure?lang=en#gk-s-youtube"' in html
    parsed = Inputs(html)
    assert parsed.inputs == []
    assert [b["value"] for b in parsed.buttons] == ["once", "allow"]
    for b in parsed.buttons:  # the banner's empty form #gk-phf posts what each button carries
        action = urlsplit(b["formaction"] or "")
        assert b["form"] == "gk-phf" and action.path == "/_gatekeeper/consent"
        fields = [("service", "youtube"), ("embed", "2"), ("lang", "en"), ("next", "/watch?v=1#gk-ph-2")]
        assert parse_qsl(action.query) == fields
    assert "Load once" in html and "Always allow YouTube" in html
    ja = pages.placeholder(Embed(2, "iframe", "u", 560, 315, ("youtube",)), "ja", "/")
    assert "今回のみ表示する" in ja and "YouTubeを常に許可する" in ja and 'lang="ja"' in ja


@pytest.mark.parametrize(
    ("width", "height", "style"),
    [
        (640, 360, "width:640px;min-height:360px"),
        ("100%", "400", "width:100%;min-height:400px"),
        ("600", None, "width:600px;aspect-ratio:16/9"),
        (None, "300px", "width:100%;min-height:300px"),
        (None, None, "width:100%;aspect-ratio:16/9"),
        ("calc(1px)", "expression(x)", "width:100%;aspect-ratio:16/9"),
        ("0", "0", "width:100%;aspect-ratio:16/9"),
    ],
)
def test_placeholder_takes_the_embed_size(pages: Pages, width: object, height: object, style: str) -> None:
    html = pages.placeholder(Embed(0, "iframe", "u", width, height, ("youtube",)), "en", "/")  # type: ignore[arg-type]
    assert f'style="{style}"' in html


@pytest.mark.parametrize(("width", "height", "small"), [
    (120, 28, True), ("100", "20", True), (560, 100, True), (200, 300, True),
    (560, 315, False), ("100%", "20", True), ("100%", None, False), (None, None, False),
])  # fmt: skip
def test_a_button_sized_embed_gets_a_one_line_placeholder(
    pages: Pages, width: object, height: object, small: bool
) -> None:
    html = pages.placeholder(Embed(0, "iframe", "u", width, height, ("meta-pixel",)), "en", "/")  # type: ignore[arg-type]
    assert ("gk-ph-s" in html) is small
    parsed = Inputs(html)
    assert [b["value"] for b in parsed.buttons] == ["once", "allow"]
    assert "Meta Pixel" in html and "Meta Platforms, Inc." in html and "/_gatekeeper/disclosure" in html
    assert ("Loading it sends information" in html) is not small


def test_placeholder_for_an_unknown_service_is_empty(pages: Pages) -> None:
    assert pages.placeholder(Embed(0, "iframe", "u", 1, 1, ("nope",)), "en", "/") == ""


# -- the notice page -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_disclosure_lists_everything_from_the_registry(pages: Pages, registry: Registry, lang: str) -> None:
    state = decided(Category.MEDIA)
    html = pages.disclosure(state, lang)
    assert html.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in html
    assert pages.stylesheet_url in html
    assert "<script" not in html
    for s in registry.services:
        assert f'id="gk-s-{s.id}"' in html
        text = pages.catalogues.text
        assert escape(text(lang, s.data_sent)) in html and escape(text(lang, s.purpose)) in html
        assert escape(s.policy_url) in html
    assert html.count('data-gk-status="allowed"') == 1  # youtube
    assert html.count('data-gk-status="not_allowed"') == len(registry.services) - 1
    assert "<code>lang</code>" in html and "<code>sessionid</code>" in html
    assert ("365 days" if lang == "en" else "365日") in html
    assert ("Until you close the browser" if lang == "en" else "ブラウザを閉じるまで") in html
    assert registry.policy_version in html
    assert f'name="next" value="/_gatekeeper/disclosure?lang={lang}"' in html
    assert Inputs(html).ticked("category") == {"media"}


def test_disclosure_in_japanese_reads_as_a_notice(pages: Pages) -> None:
    html = pages.disclosure(ConsentState(), "ja")
    for text in ("外部送信", "送信先", "送信される情報", "利用目的", "プライバシーポリシー", "保存期間"):
        assert text in html
    assert "ます。" in html


def test_disclosure_lists_the_consent_cookie_and_vendor_cookies_on_the_site(registry: Registry) -> None:
    pages = Pages(registry, consent_cookie=("gk_consent", 182))
    html = pages.disclosure(ConsentState(), "en")
    assert "<tr><td><code>gk_consent</code></td><td>Strictly necessary</td>" in html
    assert "182 days" in html
    ga = load_registry({"services": [{"id": "google-analytics"}]})
    ja = Pages(ga).disclosure(ConsentState(), "ja")
    assert "<code>_ga</code>" in ja and "本サイトのドメインに設定）" in ja


def test_disclosure_marks_what_gpc_turned_off(pages: Pages) -> None:
    html = pages.disclosure(decided(Category.MARKETING, gpc=True), "en")
    assert 'data-gk-status="not_allowed_gpc"' in html
    assert "Global Privacy Control" in html


# -- static snippets -------------------------------------------------------------------------------


def test_loader_and_styles_fit_the_budget(pages: Pages) -> None:
    size = snippet_budget(pages.static)
    sizes = {name: len(gzip.compress(data, 9)) for name, (data, _) in pages.static.items()}
    print(f"\nloader + styles gzipped: {size} bytes {sizes}")
    assert size <= BUDGET
    # a guard, not the promise: growth past it is a decision to take (what to drop, or a new budget)
    assert size <= BUDGET - 256, "less than 256 bytes of headroom left"


def test_static_names_are_content_hashed(pages: Pages) -> None:
    assert sorted(n.split(".")[0] for n in pages.static) == ["gatekeeper", "loader"]
    for name, (data, media) in pages.static.items():
        assert pages.loader_url.endswith(name) or pages.stylesheet_url.endswith(name)
        assert media.endswith("charset=utf-8")
        assert data.decode("utf-8")
    one = build_static("var a = 1;", "a{b:c}")
    two = build_static("var a = 2;", "a{b:c}")
    assert sorted(one)[1] != sorted(two)[1]  # the loader changed: its name did
    assert sorted(one)[0] == sorted(two)[0]  # the styles did not: neither did theirs
    assert build_static("var a = 1;", "a{b:c}") == one


def test_served_loader_carries_the_consent_mode_map(pages: Pages) -> None:
    js = next(d for n, (d, _) in pages.static.items() if n.endswith(".js")).decode()
    assert '"analytics":["analytics_storage"]' in js
    assert "/*CM*/" not in js and "\n//" not in js


@pytest.mark.parametrize(
    ("embed", "page", "href"),
    [  # a script-drawn share button shares its own target; a small plugin frame its href parameter
        (Embed(0, "a", "https://site.example/news/1?a=b", None, None, ("x",), share=True), "https://site.example/",
         "https://twitter.com/intent/tweet?url=https%3A%2F%2Fsite.example%2Fnews%2F1%3Fa%3Db"),
        (Embed(1, "iframe", "https://www.facebook.com/plugins/share_button.php?href=https%3A%2F%2Fs.example%2F"
               "&width=96&height=20", 96, 20, ("facebook",)), "https://site.example/p",
         "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fs.example%2F"),
        (Embed(2, "iframe", "https://www.facebook.com/plugins/like.php?width=450", 450, 35, ("facebook",)),
         "https://site.example/p", "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fsite.example%2Fp"),
        (Embed(3, "div", "https://site.example/", None, None, ("line",), share=True), "https://site.example/",
         "https://social-plugins.line.me/lineit/share?url=https%3A%2F%2Fsite.example%2F"),
    ],
)  # fmt: skip
def test_a_share_button_becomes_a_plain_share_link(embed: Embed, page: str, href: str) -> None:
    pages = Pages(load_registry({"services": [{"id": "x"}, {"id": "facebook"}, {"id": "line"}]}))
    html = pages.placeholder(embed, "en", "/p", page)
    assert f'href="{escape(href)}"' in html and 'rel="noopener noreferrer"' in html
    assert "<button" not in html and "<form" not in html and "<div" not in html
    assert pages.placeholder(embed, "ja", "/p", page).count("で共有") == 1


def test_a_post_of_a_network_with_share_links_keeps_its_placeholder() -> None:
    pages = Pages(load_registry({"services": [{"id": "x"}]}))
    html = pages.placeholder(Embed(0, "blockquote", "https://twitter.com/a/status/1", None, None, ("x",)),
                             "en", "/", "https://site.example/")  # fmt: skip
    assert "Load once" in html and "gk-share" not in html


def test_the_notice_names_the_site_its_operator_policy_and_date() -> None:
    registry = load_registry(
        {"site": {"policy_date": datetime.date(2026, 2, 9)}, "services": [{"id": "youtube"}]}
    )
    pages = Pages(registry, site_name="Midori City", operator_name="Midori City Office",
                  privacy_policy_url="https://www.city.example/privacy")  # fmt: skip
    en = pages.disclosure(ConsentState(), "en", "ignored.example:8443")
    assert "Back to Midori City" in en and "Midori City is operated by Midori City Office." in en
    assert "Last changed on February 9, 2026." in en and registry.policy_version not in en.split("data-gk")[0]
    assert 'href="https://www.city.example/privacy"' in en
    assert "最終更新日：2026年2月9日" in pages.disclosure(ConsentState(), "ja")
    body = pages.snippets(ConsentState(), "en", "/", frozenset())[1]
    assert 'href="https://www.city.example/privacy" data-gk-policy' in body
    plain = Pages(load_registry({"services": [{"id": "youtube"}]})).disclosure(
        ConsentState(), "en", "[::1]:8000"
    )
    assert "Back to [::1]" in plain and "operated by" not in plain and "Policy version" in plain


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"privacy_policy_url": "javascript:alert(1)"}, "privacy_policy_url"),
        ({"privacy_policy_url": "//evil.example/"}, "privacy_policy_url"),
        ({"privacy_policy_url": "privacy"}, "privacy_policy_url"),
        ({"site_name": " "}, "site_name"),
        ({"operator_name": ""}, "operator_name"),
    ],
)
def test_bad_site_options_are_refused_at_start(options: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Pages(make_registry(), **options)  # type: ignore[arg-type]
