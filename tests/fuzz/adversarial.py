"""Pages built to make a rewriter slow: one family per shape that stresses a tokenizer or the tree
state (unclosed comments and quotes, deep nesting of every foreign, raw-text, template and select
element, thousands of <base>, srcdoc nesting, a huge srcset, CSS url()/@import storms, vendor signatures
in huge scripts...), each built at any size. Read by `bench/adversarial.py` (ms per MB at 1x to 8x) and
tests/test_rewrite_linear.py (a reduced set, time ratio between sizes)."""

# ruff: noqa: E501 (one family a line: the shape of each page reads best whole)
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gatekeeper.registry import load_registry
from gatekeeper.rewrite import PageContext

ROOT = Path(__file__).resolve().parent.parent.parent

T = "https://tracker.stranger.example"  # an undeclared third party (strict mode: made inert)
YT = "https://www.youtube.com/embed/x"  # a declared one with a placeholder


def _fill(unit: str, size: int, head: str = "", tail: str = "") -> str:
    n = max(1, (size - len(head) - len(tail)) // max(1, len(unit)))
    return head + unit * n + tail


# name -> (description, size -> page)
FAMILIES: dict[str, tuple[str, Callable[[int], str]]] = {
    "ordinary": ("CMS page with ten embeds, repeated", lambda s: _ordinary(s)),
    "svg-script": ("<svg> then <script>x</script> x N", lambda s: _fill("<script>a()</script>", s, "<svg>")),
    "svg-style": ("<svg> then <style>a{}</style> x N", lambda s: _fill("<style>a{}</style>", s, "<svg>")),
    "svg-style-url": (
        "<svg><style> with tags and url() x N",
        lambda s: _fill(f"<style><b>x</b>a{{background:url({T}/a.png)}}</style>", s, "<svg>"),
    ),
    "svg-foreignobject": ("<svg><foreignObject> x N", lambda s: _fill("<svg><foreignObject>", s)),
    "math-mi": ("<math><mi> x N", lambda s: _fill("<math><mi>", s)),
    "svg-end-tags": ("<svg> then </div> x N (doubtful end tags)", lambda s: _fill("</div>x", s, "<svg>")),
    "svg-noscript-open": ("<svg> then <noscript> x N, unclosed", lambda s: _fill("<noscript>a", s, "<svg>")),
    "svg-raw-closed": (
        "<svg> then <noscript>, <textarea>, <xmp> closed x N",
        lambda s: _fill("<noscript>a</noscript><textarea>b</textarea><xmp>c</xmp>", s, "<svg>"),
    ),
    "svg-cdata": ("<svg> then <![CDATA[> x N (preload readings)", lambda s: _fill("<![CDATA[>", s, "<svg>")),
    "noscript-open": ("HTML <noscript> x N, unclosed", lambda s: _fill("<noscript>a", s)),
    "noscript-closed": ("<noscript><img></noscript> x N", lambda s: _fill("<noscript><p>a</p></noscript>", s)),
    "nested-div-svg": ("<svg><foreignObject> then <div> x N", lambda s: _fill("<div>", s, "<svg><foreignObject>")),
    "nested-template": ("<template> x N", lambda s: _fill("<template>", s)),
    "nested-select": ("<select><xmp> x N", lambda s: _fill("<select><xmp>a</xmp>", s)),
    "nested-object": ("<object> x N (embeds)", lambda s: _fill(f'<object data="{YT}">', s)),
    "text-post": ("text 'a-post ' x N (widget hints)", lambda s: _fill("a-post ", s)),
    "class-media": (
        "Next.js-style class names with -media",
        lambda s: _fill('<div class="x-media y-post"><span class="a-embed">t</span></div>', s),
    ),
    "unclosed-comment": ("<!-- then tags x N", lambda s: _fill("<img src=x><b>", s, "<!--")),
    "comment-opens": ("<!-x> and <!--> x N", lambda s: _fill("<!-x><!--><?x>", s)),
    "unclosed-quote": ('<p title=" then tags x N', lambda s: _fill(f"<img src={T}/a>", s, '<p title="')),
    "unclosed-tags": ("'<img src=x ' x N, no '>'", lambda s: _fill("<img src=x ", s)),
    "script-escapes": ("<script><!--<script> x N", lambda s: _fill("<!--<script>a", s, "<script>")),
    "script-open": ("<script> x N, unclosed", lambda s: _fill("<script>a", s)),
    "many-base": ("thousands of third-party <base>", lambda s: _fill(f"<base href=\"{T}/b/\"><img src=a>", s)),
    "srcdoc-nest": ("iframe srcdoc nested 4 deep, x N", lambda s: _fill(_srcdoc(4), s)),
    "srcdoc-huge": ("one srcdoc with N images", lambda s: _fill(f"&lt;img src={T}/a&gt;", s, '<iframe srcdoc="', '">')),
    "srcset-huge": ("one srcset of N candidates", lambda s: _fill(f"{T}/a.png 1x, ", s, '<img srcset="', '">')),
    "srcset-parens": ("srcset with unbalanced '(' x N", lambda s: _fill("a (b, ", s, '<img srcset="', '">')),
    "css-url-storm": ("<style> with N url()", lambda s: _fill(f"a{{background:url({T}/a.png)}}", s, "<style>", "</style>")),
    "css-import-storm": ("<style> with N @import", lambda s: _fill(f"@import url({T}/a.css);", s, "<style>", "</style>")),
    "style-attr-storm": ("N tags with style url()", lambda s: _fill(f'<p style="background:url({T}/a.png)">x</p>', s)),
    "css-escapes": ("<style> of CSS escapes", lambda s: _fill("\\75 rl(\\", s, "<style>", "</style>")),
    "signature-script": (
        "vendor signatures in one huge script",
        lambda s: _fill("fbq('init','1');var x=1;", s, "<script>", "</script>"),
    ),
    "signature-spaced": (
        "near-signatures spaced out in one script",
        lambda s: _fill("f b q ( ' i n x  n e w  Y T . P l a y e r x ", s, "<script>", "</script>"),
    ),
    "meta-refresh": ("N <meta http-equiv=refresh>", lambda s: _fill(f'<meta http-equiv=refresh content="0;url={T}/">', s)),
    "entities": ("an attribute of N character references", lambda s: _fill("&amp;&#x41;&notin", s, '<img src="', '">')),
    "many-attrs": ("one tag with N attributes", lambda s: _fill("a=1 ", s, "<img ", f"src={T}/a>")),
    "widgets": ("N twitter-tweet blockquotes", lambda s: _fill('<blockquote class="twitter-tweet"><a href="https://twitter.com/a/status/1">x</a></blockquote>', s)),
    "paranoid-open-names": (
        "past the readings' budget, '<b' x N: tag names open to the end",
        lambda s: _fill("<b", s, _DOUBTS),
    ),
    "paranoid-open-quote": (
        "past the readings' budget, an open quote, then tags",
        lambda s: _fill(f"<b>x<img src={T}/a>", s, _DOUBTS + '<p title="x'),
    ),
    "iframes": ("N distinct embeds", lambda s: "".join(f'<iframe src="{YT}{i}"></iframe>' for i in range(max(1, s // 45)))),
}  # fmt: skip


# more places in doubt than the secondary readings may take: the rest of the page is read paranoid
_DOUBTS = "<select><xmp>a</xmp>" * 300


def _srcdoc(depth: int) -> str:
    inner = f"<img src={T}/a>"
    for _ in range(depth):
        inner = '<iframe srcdoc="' + inner.replace("&", "&amp;").replace('"', "&quot;") + '"></iframe>'
    return inner


def _ordinary(size: int) -> str:
    import sys

    sys.path.insert(0, str(ROOT))
    from bench.rewrite_speed import build

    page = build(100_000, embeds=True)
    return page * max(1, size // len(page))


def context() -> PageContext:
    """Nothing granted, snippets and placeholders on; a new registry every time, so nothing is
    memoized from a run before."""
    return PageContext(
        load_registry(),
        frozenset(),
        "https://city.example.jp/news/1.html",
        snippets=lambda lang: ("<script data-gk-snippet></script>", "<div data-gk-snippet></div>"),
        placeholder=lambda embed, lang: '<div class="gk-ph"></div>',
    )
