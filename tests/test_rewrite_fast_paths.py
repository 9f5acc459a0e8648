"""The rewriter's shortcuts give what the long way gives: an absolute URL kept as urljoin would keep
it, an SVG <style>/<script> whose text is plain read in place, a tag with no attributes passed over."""

from __future__ import annotations

import random
from urllib.parse import urljoin

import pytest
from fuzz.adversarial import YT, T, context

from gatekeeper.rewrite import rewrite
from gatekeeper.rewrite.urls import _SCHEME, _SPECIAL, _STRIP, _TAB_NL, _join

PIECES = [
    *"ab/:?#;.[]@%&= \\x-_~",
    "https://", "http://", "HTTP://", "//", "..", "/./", "%2e", "[::1]", ":443", "é", "\x00", "\t", "\n",
    "\x0b", "\u3000", "?#", ";x",
]  # fmt: skip


def joined_the_long_way(raw: str, base: str) -> str:
    url = raw.strip(_STRIP).translate(_TAB_NL)
    m = _SCHEME.match(url)
    if (m is None or m.group(1).lower() in _SPECIAL) and "\\" in url:
        url = url.replace("\\", "/")
    try:
        return urljoin(base, url)
    except ValueError:
        return url


@pytest.mark.parametrize("base", ["https://site.example/p/q?x#y", "http://site.example/"])
def test_an_absolute_url_is_what_urljoin_makes_of_it(base: str) -> None:
    rng = random.Random(9)
    for _ in range(20_000):
        raw = "".join(rng.choice(PIECES) for _ in range(rng.randrange(12)))
        if rng.random() < 0.7:
            raw = rng.choice(["https://", "http://"]) + raw
        assert _join(raw, base) == joined_the_long_way(raw, base), repr(raw)


# (text of an SVG <style>, made inert?)
STYLES = [
    ("a{color:red}", False),
    (f"a{{background:url({T}/a.png)}}", True),
    (f"@import '{T}/a.css';", True),
    (f"a{{background:image-set('{T}/a.png' 1x)}}", True),
    ("a{background:\\75 rl(" + T + "/a.png)}", True),  # a CSS escape
    (f"a{{background:&#x75;rl({T}/a.png)}}", True),  # a character reference (markup in SVG)
    (f"a{{background:u<b></b>rl({T}/a.png)}}", True),  # a tag inside the word
    (f"a{{background:u<!---->rl({T}/a.png)}}", True),  # a comment inside it
    (f"<![CDATA[a{{background:url({T}/a.png)}}]]>", True),
    ("a{background:url(/local.png)}", False),
    ("<![CDATA[a{color:red}]]>", False),
]


@pytest.mark.parametrize(("text", "inert"), STYLES)
@pytest.mark.parametrize("attrs", ["", ' media="all"'])
def test_an_svg_style_sheet_is_read_plain_or_not(text: str, inert: bool, attrs: str) -> None:
    html = f"<p>x</p><svg><style{attrs}>{text}</style></svg><p>y</p>"
    out = rewrite(html, context()).html
    assert ("<style data-gk=" in out) == inert, out


SCRIPTS = [
    ("a();", False),
    ("fbq('init','1');", True),
    ("fbq('init'&#44;'1');", True),  # a character reference
    ("<![CDATA[fbq('init','1');]]>", True),
    ("fb<b></b>q('init','1');", True),  # a tag taken out of the text
    ("f b q ( 'x' )", False),
]


@pytest.mark.parametrize(("text", "inert"), SCRIPTS)
@pytest.mark.parametrize("attrs", ["", ' type="text/javascript"'])
def test_an_svg_script_is_read_plain_or_not(text: str, inert: bool, attrs: str) -> None:
    html = f"<svg><script{attrs}>{text}</script></svg>"
    out = rewrite(html, context()).html
    assert ("<script data-gk=" in out) == inert, out


@pytest.mark.parametrize(
    "tag", ["iframe", "img", "object", "embed", "video", "script", "link", "style", "base"]
)
def test_a_tag_without_attributes_is_left_and_its_neighbours_are_not(tag: str) -> None:
    html = f'<p>a</p><{tag}></{tag}><iframe src="{YT}"></iframe>'
    out = rewrite(html, context()).html
    assert f"<p>a</p><{tag}></{tag}>" in out and '<iframe data-gk="youtube"' in out
