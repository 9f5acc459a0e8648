"""The corpus pages (tests/corpus/pages) and the vendors' real embed codes (gatekeeper/demo/embeds):
nothing leaks (html5lib, scripting on and off), granted services stay untouched, rewriting twice
changes nothing, and every insertion sits where it belongs."""

from __future__ import annotations

import re

import pytest
from corpus import EMBEDS, PAGE_URL, PAGES
from corpus.placement import assert_well_placed
from fuzz.leaks import find_leaks

from gatekeeper.body import process_html
from gatekeeper.registry import load_registry
from gatekeeper.rewrite import Embed, PageContext, plan, rewrite

REGISTRY = load_registry()
ALL = frozenset(s.id for s in REGISTRY.services)
HTML_PAGES = sorted(p.name for p in PAGES.glob("*.html") if p.name != "shift_jis.html")
EMBED_FILES = sorted(p.name for p in EMBEDS.glob("*.html")) if EMBEDS.is_dir() else []


def placeholder(embed: Embed, lang: str | None) -> str:
    return f'<div class="gk-ph" data-gk-ph="{embed.index}">{embed.services[0].name}</div>'


def snippets(lang: str | None) -> tuple[str, str]:
    return ("<script data-gk-snippet>/*head*/</script>", "<div data-gk-snippet>banner</div>")


def ctx(granted: frozenset[str] = frozenset()) -> PageContext:
    return PageContext(REGISTRY, granted, PAGE_URL, snippets=snippets, placeholder=placeholder)


def check_no_leaks(out: str, granted: frozenset[str]) -> None:
    found = find_leaks(out, PAGE_URL, REGISTRY, granted)  # scripting on and off
    assert found == [], [str(leak) for leak in found]


@pytest.mark.parametrize("name", HTML_PAGES)
def test_corpus_page(name: str) -> None:
    html = (PAGES / name).read_text("utf-8")
    c = ctx()
    p = plan(html, c)
    out = p.apply(html)
    assert_well_placed(html, p)
    check_no_leaks(out, frozenset())
    assert rewrite(out, c).html == out
    assert p.blocked  # every page has something to stop


def test_elements_page_blocks_every_kind() -> None:
    html = (PAGES / "elements.html").read_text("utf-8")
    result = rewrite(html, ctx())
    kinds = {b.kind for b in result.blocked}
    for kind in ("script", "inline-script", "link", "style", "meta-refresh", "body", "img", "source",
                 "video", "track", "audio", "iframe", "object", "embed", "input", "div", "table", "image",
                 "use", "feimage"):  # fmt: skip
        assert kind in kinds, kind
    assert "https://elsewhere.example/page" in result.html  # rel=canonical fetches nothing
    assert '<script src="/local.js">' in result.html
    # undeclared hosts' video, audio, object and embed get a box that names the host ("?")
    assert [e.services[0].id for e in result.embeds] == ["?", "?", "youtube", "google-maps", "?", "?", "x"]
    assert {e.services[0].name.en for e in result.embeds if e.services[0].id == "?"} == {
        "cdn.stranger.example"
    }
    share = result.embeds[6]  # X's script-drawn share button: a share link for the page itself
    assert share.share and share.tag == "a" and share.url == PAGE_URL


def test_awkward_page_text_stays_text() -> None:
    html = (PAGES / "awkward.html").read_text("utf-8")
    out = rewrite(html, ctx()).html
    for text in ("in-title-is-text", "commented", "in-a-js-string", "in-css-comment", "in-textarea",
                 "in-xmp", "in-noembed", "iframe-content", "in-attribute", "in-cdata", "in-bogus-comment",
                 "after-bogus", "last.png"):  # fmt: skip
        i = html.index(text)
        segment = html[html.rindex("<", 0, i) : i]
        assert segment in out, text  # untouched
    for real in ("upper-unquoted", "after-html-cdata", "breaks-out-of-svg", "in-foreign-object",
                 "in-mathml-text", "select-xmp", "noscript-trick", "in-template"):  # fmt: skip
        i = out.index(real)
        assert "data-gk" in out[out.rindex("<", 0, i) : i], real


@pytest.mark.parametrize("name", EMBED_FILES)
def test_vendor_embed_codes(name: str) -> None:
    code = (EMBEDS / name).read_text("utf-8")
    html = f'<!DOCTYPE html><html lang="ja"><head><title>t</title></head><body>{code}</body></html>'
    p = plan(html, ctx())
    assert_well_placed(html, p)
    out = p.apply(html)
    check_no_leaks(out, frozenset())
    assert rewrite(out, ctx()).html == out
    granted = rewrite(html, PageContext(REGISTRY, ALL, PAGE_URL))
    assert granted.html == html and not granted.blocked  # all allowed: nothing changes
    check_no_leaks(html, ALL)


def test_shift_jis_page_through_the_body_pipeline() -> None:
    raw = (PAGES / "shift_jis.html").read_bytes()
    out = process_html(raw, "text/html", None, ctx())  # the charset comes from <meta http-equiv>
    assert out.changed and out.reason is None
    text = out.body.decode("cp932")
    assert "①②③ 髙島屋 﨑陽軒" in text
    check_no_leaks(text, frozenset())
    stripped = re.sub(
        rb'<div class="gk-ph" data-gk-ph="\d+">[^<]*</div>|<script data-gk-snippet>/\*head\*/</script>'
        rb"|<div data-gk-snippet>banner</div>| data-gk=\"[^\"]*\"| type=\"text/plain\"| hidden(?=[ >])",
        b"",
        out.body,
    ).replace(b"data-gk-", b"")
    assert stripped == raw


def test_body_snippet_never_lands_inside_an_unfinished_tag() -> None:
    for tail in (
        '<img src="https://cdn.stranger.example/x.png" alt="a"',
        "<!-- unfinished",
        "<script>x",
        "<plaintext>",
    ):
        html = "<!doctype html><p>text</p>" + tail
        out = rewrite(html, ctx()).html
        head = "<!doctype html><script data-gk-snippet>/*head*/</script>"
        assert out == head + "<p>text</p><div data-gk-snippet>banner</div>" + tail
        check_no_leaks(out, frozenset())
