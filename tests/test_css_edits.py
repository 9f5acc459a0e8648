"""gatekeeper/rewrite/css_edits.py against an independent reader of CSS (tinycss2, which shares no code
with ours): after the edits no URL of a non-granted host can be fetched, and everything else in the
sheet (every token, every declaration) is byte for byte what it was."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

import pytest
import tinycss2  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.rewrite.css_edits import (
    INERT_HOST,
    apply_inserts,
    attribute_inserts,
    inert_inserts,
    inert_mark,
    restored,
    sheet_urls,
)
from gatekeeper.rewrite.urls import _target, decode_attribute

BLOCKED = {"evil.example": "evil", "ads.example": "ads"}


def mark_for(url: str) -> str | None:
    target = _target(url, "https")
    if target is None or not target[0]:
        return None  # no request, or the page's own host
    service = BLOCKED.get(target[0].lower())
    if service is None and target[0].lower() != "ok.example":
        service = "?"
    return None if service is None else inert_mark(service)


# -- the oracle: tinycss2's tokens, read for what a browser fetches --------------------------------


def _significant(nodes: list[Any]) -> Iterator[Any]:
    return (n for n in nodes if n.type not in ("whitespace", "comment"))


def oracle_urls(css: str) -> list[str]:
    """What a browser fetches from this sheet, read from tinycss2's component values."""
    found: list[str] = []

    def walk(nodes: list[Any]) -> None:
        after_import = False
        for node in nodes:
            if node.type in ("whitespace", "comment"):
                continue
            if after_import and node.type == "string":
                found.append(node.value)
            after_import = node.type == "at-keyword" and node.lower_value == "import"
            if node.type == "url":
                found.append(node.value)
            elif node.type == "function":
                name = node.lower_name
                args = list(_significant(node.arguments))
                if name in ("url", "src") and args and args[0].type == "string":
                    found.append(args[0].value)
                elif name in ("image-set", "-webkit-image-set"):
                    found.extend(a.value for a in args if a.type == "string")
                walk(node.arguments)
            elif node.type in ("() block", "[] block", "{} block"):
                walk(node.content)

    walk(tinycss2.parse_component_value_list(css))
    return found


def leaves(css: str) -> list[tuple[str, str]]:
    """Every token of the sheet, blocks opened up, as (kind, text)."""
    out: list[tuple[str, str]] = []

    def walk(nodes: list[Any]) -> None:
        for node in nodes:
            if node.type == "function":
                out.append(("function", node.name))
                walk(node.arguments)
            elif node.type in ("() block", "[] block", "{} block"):
                out.append((node.type, ""))
                walk(node.content)
            else:
                out.append((node.type, node.serialize()))

    walk(tinycss2.parse_component_value_list(css))
    return out


def check(css: str) -> str:
    """Edit `css`; assert what the edit promises, with tinycss2 as the judge; the edited sheet."""
    inserts = inert_inserts(css, mark_for)
    if inserts is None:
        # our second reader still saw a URL to mark: the caller makes the whole element inert
        return css
    edited = apply_inserts(css, inserts)
    assert restored(edited) == css
    live = [u for u in oracle_urls(edited) if not u.startswith(INERT_HOST) and mark_for(u) is not None]
    assert not live, (css, edited, live)
    before, after = leaves(css), leaves(edited)
    assert len(before) == len(after), (css, edited)
    for (kind, text), (kind2, text2) in zip(before, after, strict=True):
        assert kind == kind2
        if text != text2:  # only a URL may change, and only by the mark in front of it
            assert kind in ("url", "string") and restored(text2) == text, (text, text2)
            assert INERT_HOST in text2
    return edited


# -- a matrix of the shapes URLs take ---------------------------------------------------------


URLS = [
    "https://evil.example/a.png",
    "//ads.example/b.png",
    "HTTP://EVIL.EXAMPLE/c.png",
    "https://ok.example/d.png",
    "img/e.png",
    "https://unknown.example/f.png",
]


def forms(url: str) -> list[str]:
    quoted_escaped = url.replace("/", "\\2f ", 2)
    unquoted_escaped = url.replace(":", "\\:").replace("/", "\\/")
    return [
        f"url({url})",
        f"url(  {url}\t)",
        f'url("{url}")',
        f"url( '{url}' )",
        f"URL({url})",
        f'Url("{url}")',
        f"\\75 rl({url})",
        f'u\\72l("{url}")',
        f"\\55 RL({unquoted_escaped})",
        f'url("{quoted_escaped}")',
        f"url({unquoted_escaped})",
        f"url({url}",  # open to the end of the sheet: fetched all the same
    ]


def contexts(ref: str, string: str) -> list[str]:
    return [
        f".a{{background:#fff {ref} no-repeat;color:red}}",
        f".a{{color:red;background-image:{ref}}}\n.b{{margin:0}}",
        f".a{{background-image:image-set({string} 1x, {ref} 2x)}}",
        f".a{{background-image:-webkit-image-set({string} 1x,{string} 2x);width:1px}}",
        f'@font-face{{font-family:f;src:{ref} format("woff2"),local(x),{ref}}}',
        f"@import {ref};\n.a{{color:red}}",
        f"@import {string} screen;@import {string} layer(x) supports(display:grid);",
        f"@import/**/{string};",
        f".a{{x:src({string});y:1}}",
        f"@media (min-width:1px){{.a{{cursor:{ref},auto}}}}",
        f".a{{color:red;&:hover{{background:{ref}, {ref}}}}}",
        f'/* {ref} */.a{{content:"{ref}"}}',
        f".a{{mask:{ref} /* {string} */;list-style:{ref}}}",
        f".a{{--x:{ref};background:var(--x)}}",
        f"<!--{ref}-->",
    ]


def matrix() -> Iterator[str]:
    for url in URLS:
        string = '"' + url + '"'
        for ref, ctx in itertools.product(forms(url), range(15)):
            yield contexts(ref, string)[ctx]


@pytest.mark.parametrize("url", URLS)
def test_every_shape_of_a_url(url: str) -> None:
    string = '"' + url + '"'
    fetchable = mark_for(url) is not None
    for ref in forms(url):
        for css in contexts(ref, string):
            assert inert_inserts(css, mark_for) is not None, css  # no shape needs the whole element
            edited = check(css)
            wanted = fetchable and any(mark_for(u) for u in oracle_urls(css))
            if wanted:
                assert edited != css, css
            elif not fetchable:
                assert edited == css, css
            else:  # only in what no browser fetches (a bad url, marked for other readers' sake)
                assert leaves(edited) == leaves(css), css


def test_random_sheets_of_those_shapes() -> None:
    rng = random.Random(14)
    shapes = list(matrix())
    for _ in range(300):
        check("\n".join(rng.choice(shapes) for _ in range(rng.randint(1, 8))))


# characters and words that change how CSS tokenizes, in any order
_PIECES = st.sampled_from(
    [
        "url(", "URL(", "\\75 rl(", "image-set(", "src(", "@import ", "@\\69mport ", "(", ")", "{", "}",
        ";", ":", ",", '"', "'", "\\", "\\\n", "/*", "*/", "\n", " ", "<!--", "-->", "2", "-", "a",
        "#", "@", "https://evil.example/x", "//ads.example/y", "https://ok.example/z", "x.png", "%",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=24).map("".join))
def test_any_text_keeps_the_promises(css: str) -> None:
    check(css)


def test_what_is_not_a_url_is_left_alone() -> None:
    css = (
        '.a{content:"url(https://evil.example/)"} /* url(https://evil.example/) */'
        ".b{x:a-url(https://evil.example/) #url(https://evil.example/)}"
        '@namespace "https://evil.example/ns"; .c{font-family:"https://evil.example/"}'
    )
    assert [u.url for u in sheet_urls(css)] == []


def test_the_loader_rule_restores_by_service() -> None:
    css = ".a{background:url(https://evil.example/a.png),url(//ads.example/b.png);color:red}"
    edited = check(css)
    assert edited.count(INERT_HOST) == 2
    only_evil = restored(edited, ["evil"])
    assert "url(https://evil.example/a.png)" in only_evil and INERT_HOST + "ads/" in only_evil
    assert restored(only_evil, ["ads"]) == css


@pytest.mark.parametrize(
    "raw",
    [
        "background:url(&quot;https://evil.example/a.png&quot;);color:red",
        "background:url(&#34;https://evil.example/a.png&#x22;);color:red",
        "background:url(https://evil.example/a.png&amp;x=1);color:red",
        "color:red;background:url('https://evil.example/a.png')",
        "background:url(&quot//evil.example/a.png&quot)",  # a reference the mark would change
        "background:url(https&colon;//evil.example/)",
        "&#117;rl(https://evil.example/a.png)",
    ],
)
def test_attribute_values_with_references(raw: str) -> None:
    inserts = attribute_inserts(raw, mark_for)
    value = decode_attribute(raw)
    if inserts is None:
        assert "&quot/" in raw  # only where an insertion would change how a reference reads
        return
    assert inserts
    edited = decode_attribute(apply_inserts(raw, inserts))
    assert edited == apply_inserts(value, inert_inserts(value, mark_for) or [])
    assert not [u for u in oracle_urls(edited) if not u.startswith(INERT_HOST) and mark_for(u)]
    assert restored(edited) == value


def test_the_mark_makes_no_request() -> None:
    assert _target(inert_mark("evil") + "https://evil.example/a.png", "https") is None
    assert _target(inert_mark("?") + "//evil.example/", "https") is None
    assert _target("https://[::1]/a.png", "https") == ("[::1]", "/a.png")


def test_one_pass_over_a_large_sheet() -> None:
    rule = ".a{background:url(https://evil.example/a.png) no-repeat;color:red;margin:0 auto}\n"
    small, large = rule * 500, rule * 4000
    assert len(sheet_urls(large)) == 8 * len(sheet_urls(small)) == 4000
    # every "(" left open: each later token still costs the same
    opened = "a(" * 20000 + "url(https://evil.example/)"
    assert [u.url for u in sheet_urls(opened)] == ["https://evil.example/"]
