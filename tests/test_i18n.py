"""Texts: every visible string comes from a gettext catalogue, every catalogue is complete and compiled,
the visitor's language is chosen from the page, the browser, then the site's default; an operator adds a
language or rewords ours with a .po file and no code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from gatekeeper import Gatekeeper
from gatekeeper.consent import ConsentState
from gatekeeper.error_pages import error_page
from gatekeeper.i18n import SHIPPED, Catalogues, best_language, shipped_dir
from gatekeeper.i18n_extract import check, messages
from gatekeeper.pages import Pages, _SampleEmbed
from gatekeeper.registry import Category, ConfigError, load_registry, undeclared_service

REGISTRY = load_registry()  # every catalog service: every catalog text is rendered somewhere
OPEN, CLOSE = "\u27e6", "\u27e7"  # ⟦ ⟧ mark a pseudo-language's every message


@pytest.fixture(scope="module")
def catalogues() -> Catalogues:
    return Catalogues.load()


# -- what the catalogues hold ----------------------------------------------------------------------


def test_catalogues_are_complete_and_compiled() -> None:
    """Every message of the templates, the Python and catalog.toml is in every .po, translated, and
    each .mo says what its .po says (`python -m gatekeeper.i18n_extract` fixes all of this)."""
    assert check() == []


@pytest.mark.parametrize("lang", [tag for tag in SHIPPED if tag != "en"])
def test_every_message_has_a_translation(catalogues: Catalogues, lang: str) -> None:
    lacking = [msgid for (context, msgid) in messages() if not catalogues.has(lang, msgid, context)]
    assert lacking == [], f"{lang} lacks {len(lacking)} messages: {lacking[:5]}"


def test_a_catalogue_that_lacks_a_message_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: a .po without one message is reported."""
    copy = tmp_path / "locales"
    for path in shipped_dir().rglob("*"):
        if path.is_file():
            target = copy / path.relative_to(shipped_dir())
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    po = copy / "ko" / "LC_MESSAGES" / "gatekeeper.po"
    with po.open("rb") as f:
        catalog = read_po(f)
    del catalog["Reject all"]
    with po.open("wb") as f:
        write_po(f, catalog)
    monkeypatch.setattr("gatekeeper.i18n_extract.shipped_dir", lambda: copy)
    problems = check()
    assert any("lacks 'Reject all'" in p for p in problems), problems
    assert any(p.endswith("not compiled from gatekeeper.po") for p in problems), problems


def test_japanese_names_vendors_as_they_are_registered_in_japan(catalogues: Catalogues) -> None:
    ja = {s.id: (catalogues.text("ja", s.name), catalogues.text("ja", s.vendor)) for s in REGISTRY.services}
    assert ja["hatena"][1] == "株式会社はてな"
    assert ja["line"][1] == "LINEヤフー株式会社" and ja["yahoo-japan-ads"][1] == "LINEヤフー株式会社"
    assert ja["youtube"][1] == "Google LLC"  # no Japanese legal name: the registered one stays
    assert ja["facebook"][0] == "Facebook（プラグイン・SDK）"
    assert not [name for name, _ in ja.values() if "(" in name], "Japanese brackets are full-width"


# -- every visible string comes from the catalogue -----------------------------------------------------


class Visible(HTMLParser):
    """The text a visitor reads (text nodes and title/aria-label/alt/placeholder attributes), each
    with the language of its nearest `lang`; <code> (cookie names) and link texts equal to the link
    (URLs) are data, not texts."""

    VOID = frozenset({"input", "br", "meta", "link", "img", "hr", "source", "wbr"})

    def __init__(self, html: str, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str, str | None]] = [("", lang, None)]
        self.texts: list[tuple[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        lang = a.get("lang") or self.stack[-1][1]
        for name in ("title", "aria-label", "alt", "placeholder"):
            if a.get(name) and tag != "meta":
                self.texts.append((lang, a[name] or ""))
        if tag not in self.VOID:
            self.stack.append((tag, lang, a.get("href")))

    def handle_endtag(self, tag: str) -> None:
        while len(self.stack) > 1:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        tags = {t for t, _, _ in self.stack}
        if tags & {"script", "style", "code"} or not data.strip():
            return
        tag, lang, href = self.stack[-1]
        if tag == "a" and href == data.strip():
            return
        self.texts.append((lang, data))


def renders(pages: Pages, lang: str) -> Iterator[tuple[str, str]]:
    """(what, html) for banner (undecided, decided, GPC), every placeholder (full and one-line) and the
    notice page."""
    for name, state in {
        "banner": ConsentState(),
        "banner, decided": ConsentState(
            decided=True, categories=frozenset({Category.MEDIA}), policy_version="v"
        ),
        "banner, GPC": ConsentState(
            decided=True, gpc=True, categories=frozenset(Category), policy_version="v"
        ),
    }.items():
        yield name, pages.snippets(state, lang, "/", frozenset())[1]
        yield f"notice page ({name})", pages.disclosure(state, lang)
    receipt = pages.env.get_template("_receipt.html")
    yield "receipt", receipt.render(lang=lang, date="2026-12-03", code="K7Q2-9XWD", url="/receipt")
    for tag in ("iframe", "video", "audio", "object"):
        stand_in = undeclared_service("https://unknown.example/embed")
        embed = _SampleEmbed((stand_in,), tag=tag)  # type: ignore[arg-type]
        yield f"undeclared {tag}", pages.placeholder(embed, lang, "/")
    for s in pages.registry.services:
        for size in ((560, 315), (100, 20)):
            embed = _SampleEmbed((s.id,), width=size[0], height=size[1])
            yield f"placeholder {s.id} {size}", pages.placeholder(embed, lang, "/", "https://example.jp/")
        if s.share_url:
            embed = _SampleEmbed((s.id,), share=True, url="https://example.jp/news")
            yield f"share link {s.id}", pages.placeholder(embed, lang, "/", "https://example.jp/")


def pseudo_language(root: Path) -> Path:
    """A language `xx` whose every message is its English inside ⟦ ⟧, as an operator would add one."""
    catalog = Catalog(locale=None, domain="gatekeeper")
    for context, msgid in messages():
        catalog.add(msgid, f"{OPEN}{msgid}{CLOSE}", context=context)
    folder = root / "xx" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "gatekeeper.po").open("wb") as f:
        write_po(f, catalog)
    return root


def test_every_visible_string_comes_from_the_catalogue(tmp_path: Path) -> None:
    cat = Catalogues.load(["xx", "en"], locale_dir=pseudo_language(tmp_path))
    pages = Pages(REGISTRY, consent_cookie=("gk_consent", 182), catalogues=cat)
    inner = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
    seen = 0
    for what, html in renders(pages, "xx"):
        for lang, text in Visible(html, "xx").texts:
            rest = text
            while inner.search(rest):
                rest = inner.sub("", rest)
            if lang == "xx":
                seen += 1
                assert not re.search(r"\w", rest), f"{what}: {text!r} has text from outside the catalogue"
    assert seen > 1000


@pytest.mark.parametrize("lang", [tag for tag in SHIPPED if tag != "en"])
def test_no_english_in_another_language(catalogues: Catalogues, lang: str) -> None:
    pages = Pages(REGISTRY, consent_cookie=("gk_consent", 182), catalogues=catalogues)
    english = {
        msgid
        for (context, msgid) in messages()
        if catalogues.gettext(lang, msgid) != msgid and re.search(r"[A-Za-z]{3}", msgid) and context is None
    }
    for what, html in renders(pages, lang):
        for text_lang, text in Visible(html, lang).texts:
            if text_lang != lang:
                continue  # the language switcher names each language in itself
            for msgid in english:
                leaked = msgid == text.strip() if " " not in msgid else msgid in text
                assert not leaked, f"{lang} {what}: English {msgid!r} in {text!r}"


def test_japanese_reads_without_stray_spaces_or_repetition(catalogues: Catalogues) -> None:
    pages = Pages(REGISTRY, consent_cookie=("gk_consent", 182), catalogues=catalogues)
    html = pages.disclosure(ConsentState(), "ja")
    texts = " ".join(t for _, t in Visible(html, "ja").texts)
    assert " （" not in texts and "）（" not in texts
    assert texts.count("このサイトのドメイン") == 0  # said once, by the template: 本サイトのドメインに設定
    ga = REGISTRY.by_id["google-analytics"]
    line = next(c for c in ga.cookies if c.name == "_ga")
    assert catalogues.text("ja", line.purpose) == "ランダムな識別子で訪問者を区別します。"


# -- choosing the language -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("ja", "ja"), ("ja-JP", "ja"), ("JA_jp", "ja"), ("ko", "ko"), ("ko-KR", "ko"), ("en-GB", "en"),
        ("zh", "zh-Hans"), ("zh-CN", "zh-Hans"), ("zh-SG", "zh-Hans"), ("zh-Hans", "zh-Hans"),
        ("zh-hans-cn", "zh-Hans"), ("zh_Hans", "zh-Hans"), ("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"),
        ("zh-MO", "zh-Hant"), ("zh-Hant", "zh-Hant"), ("zh-Hant-HK", "zh-Hant"), ("zh-Hans-TW", "zh-Hans"),
        ("fr", None), ("x", None), ("", None), ("*", "en"),
    ],
)  # fmt: skip
def test_best_language(tag: str, expected: str | None) -> None:
    assert best_language(tag, SHIPPED) == expected


@pytest.mark.parametrize(
    ("html_lang", "accept", "default", "expected"),
    [
        ("zh-TW", "ja", None, "zh-Hant"),  # the page's language first
        ("fr", "zh-CN,ja;q=0.5", None, "zh-Hans"),  # one we do not speak: the browser's
        (None, "fr,ko;q=0.4", None, "ko"),
        (None, "fr,de", None, "en"),  # neither: the default
        (None, "fr,de", "ja", "ja"),
        (None, None, "ko", "ko"),
        ("", "", "zh-Hant", "zh-Hant"),
        (None, "ja;q=0,zh-HK;q=0.1", None, "zh-Hant"),
    ],
)
def test_page_then_browser_then_default(
    html_lang: str | None, accept: str | None, default: str | None, expected: str
) -> None:
    assert Catalogues.load(default=default).choose(html_lang, accept) == expected


def test_a_site_offers_only_the_languages_it_names() -> None:
    cat = Catalogues.load(["ja", "en"])
    assert cat.default == "ja" and cat.choose(None, "ko,zh-TW") == "ja" and cat.choose("en", None) == "en"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"languages": ["fr"]}, "no catalogue for 'fr'.*fr/LC_MESSAGES/gatekeeper.po"),
        ({"languages": []}, "at least one"),
        ({"languages": ["en", "ja"], "default": "ko"}, "not one of languages"),
        ({"languages": ["ja jp"]}, "not a language tag"),
        ({"locale_dir": "/nonexistent/locales"}, "not a directory"),
    ],
)
def test_language_settings_mistakes_say_how_to_fix_them(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Catalogues.load(**kwargs)  # type: ignore[arg-type]


def test_an_unreadable_po_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "fr" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "fr" / "LC_MESSAGES" / "gatekeeper.po").write_text('msgid "a"\n', "utf-8")
    with pytest.raises(ConfigError, match="not a readable gettext catalogue"):
        Catalogues.load(locale_dir=tmp_path)


# -- an operator's own texts -----------------------------------------------------------------------------


def operator_po(folder: Path, lang: str, texts: dict[str, str]) -> None:
    catalog = Catalog(locale=None, domain="gatekeeper")
    for msgid, msgstr in texts.items():
        catalog.add(msgid, msgstr)
    (folder / lang / "LC_MESSAGES").mkdir(parents=True)
    with (folder / lang / "LC_MESSAGES" / "gatekeeper.po").open("wb") as f:
        write_po(f, catalog)


def test_an_operator_adds_a_language_and_rewords_ours_without_code(tmp_path: Path) -> None:
    operator_po(
        tmp_path,
        "fr",
        {"Accept all": "Tout accepter", "Plays the videos embedded in this page.": "Lit les vidéos."},
    )
    operator_po(tmp_path, "ja", {"Accept all": "同意する"})
    cat = Catalogues.load(locale_dir=tmp_path)
    assert cat.languages == (*SHIPPED, "fr")
    assert cat.choose(None, "fr-CA") == "fr"
    pages = Pages(REGISTRY, catalogues=cat)
    body = pages.snippets(ConsentState(), "fr", "/", frozenset())[1]
    assert "Tout accepter" in body and "Reject all" in body  # untranslated: the English
    assert "同意する" in pages.snippets(ConsentState(), "ja", "/", frozenset())[1]
    assert "すべて拒否する" in pages.snippets(ConsentState(), "ja", "/", frozenset())[1]  # ours still
    assert "Lit les vidéos." in pages.disclosure(ConsentState(), "fr")
    assert Catalogues.load().gettext("ja", "Accept all") == "すべて同意する"  # another site is unchanged


def test_an_operator_service_speaks_its_own_languages_inline() -> None:
    registry = load_registry(
        {
            "services": [
                {
                    "id": "town-map",
                    "name": {"en": "Town map", "ja": "町の地図", "ko": "마을 지도"},
                    "vendor": {"en": "Example Maps K.K.", "ja": "株式会社例地図"},
                    "category": "media",
                    "purpose": {"en": "Shows maps.", "zh-Hant": "顯示地圖。"},
                    "data_sent": "IP address.",
                    "policy_url": "https://maps.example.net/privacy",
                    "hosts": ["maps.example.net"],
                    "placeholder": "map",
                }
            ]
        }
    )
    cat = Catalogues.load()
    s = registry.by_id["town-map"]
    assert [cat.text(lang, s.name) for lang in ("en", "ja", "ko", "zh-Hans")] == [
        "Town map", "町の地図", "마을 지도", "Town map"
    ]  # fmt: skip
    assert cat.text("zh-Hant", s.purpose) == "顯示地圖。" and cat.text("ja", s.vendor) == "株式会社例地図"
    assert not cat.speaks("ko", s.purpose) and cat.speaks("ko", s.name)
    html = Pages(registry, catalogues=cat).disclosure(ConsentState(), "ja")
    assert "町の地図" in html and "株式会社例地図" in html


def test_the_middleware_takes_languages_and_a_default(tmp_path: Path) -> None:
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    async def page(request: object) -> HTMLResponse:
        return HTMLResponse("<!doctype html><html><head></head><body><p>hi</p></body></html>")

    operator_po(tmp_path, "fr", {"Accept all": "Tout accepter"})
    app = Gatekeeper(
        Starlette(routes=[Route("/", page)]),
        secret_keys="k" * 32,
        services={"services": [{"id": "youtube"}]},
        languages=["fr", "ja", "en"],
        default_language="ja",
        locale_dir=tmp_path,
    )
    client = TestClient(app)
    assert "すべて同意する" in client.get("/").text
    assert "Tout accepter" in client.get("/", headers={"Accept-Language": "fr-FR"}).text
    assert "Accept all" in client.get("/", headers={"Accept-Language": "ko,en;q=0.5"}).text
    notice = client.get("/_gatekeeper/disclosure?lang=zh-TW")  # not offered here: the visitor's default
    assert '<html lang="ja">' in notice.text
    links = re.findall(r'hreflang="([^"]+)">([^<]+)<', notice.text)
    assert links == [("fr", "français"), ("en", "English")]  # fr.po does not name French: CLDR does


@pytest.mark.parametrize(
    ("accept", "lang", "title"),
    [
        ("zh-TW", "zh-Hant", "目前無法連線至本網站"),
        ("zh-CN,en;q=0.5", "zh-Hans", "目前无法访问本网站"),
        ("ko", "ko", "지금은 이 사이트에 접속할 수 없습니다"),
        (None, "en", "The site is not reachable right now"),
    ],
)
def test_the_proxy_error_page_speaks_the_visitor_language(accept: str | None, lang: str, title: str) -> None:
    page = error_page(502, accept).decode()
    assert f'<html lang="{lang}">' in page and f"<h1>{title}</h1>" in page
