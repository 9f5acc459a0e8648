"""rewrite(): every element kind and trick, granted / not granted / undeclared (strict and report mode),
byte identity outside the rewritten elements, idempotence, snippets once, placeholders and "load once"."""

from __future__ import annotations

import re

import pytest

from gatekeeper.registry import Registry, load_registry
from gatekeeper.rewrite import Embed, PageContext, css_urls, preload_imports, rewrite
from gatekeeper.rewrite.css_edits import restored

REGISTRY = load_registry()
REPORT = Registry(REGISTRY.services, strict=False)
PAGE_URL = "https://city.example.jp/news/1"
YT = "https://www.youtube.com/embed/abc"
STRANGER = "https://cdn.stranger.example/x.png"


def placeholder(embed: Embed, lang: str | None) -> str:
    return f'<div class="gk-ph" data-gk-ph="{embed.index}">{embed.services[0].id}</div>'


def snippets(lang: str | None) -> tuple[str, str]:
    return (f"<script data-gk-snippet>/*{lang}*/</script>", "<div data-gk-snippet>banner</div>")


def ctx(granted: tuple[str, ...] = (), registry: Registry = REGISTRY, **kw: object) -> PageContext:
    return PageContext(registry, frozenset(granted), PAGE_URL, placeholder=placeholder, **kw)  # type: ignore[arg-type]


def strip_inserts(out: str) -> str:
    """Undo what the rewriter may insert, to compare with the input (byte identity)."""
    out = re.sub(r'<div class="gk-ph" data-gk-ph="\d+">[^<]*</div>', "", out)
    out = re.sub(r' data-gk="[^"]*"| type="text/plain"| hidden(?= |>|/)| data-gk-hidden', "", out)
    out = re.sub(r"(?<=[\s/\"'])data-gk-(?=[a-zA-Z])", "", out)
    return out


def check(html: str, c: PageContext) -> str:
    out = rewrite(html, c)
    assert out.error is None
    assert rewrite(out.html, c).html == out.html, "not idempotent"
    return out.html


# -- one case per element kind and attribute ----------------------------------------------------

ELEMENTS = [
    # (markup with {u} for a URL, the attribute that must be renamed)
    ('<script src="{u}"></script>', "src"),
    ('<img src="{u}" alt="">', "src"),
    ('<img srcset="/a.png 1x, {u} 2x">', "srcset"),
    ('<picture><source srcset="{u}"><img src="/a.png"></picture>', "srcset"),
    ('<video src="{u}"></video>', "src"),
    ('<video poster="{u}"></video>', "poster"),
    ('<audio src="{u}"></audio>', "src"),
    ('<video><source src="{u}"></video>', "src"),
    ('<video><track src="{u}"></video>', "src"),
    ('<iframe src="{u}"></iframe>', "src"),
    ('<frameset><frame src="{u}"></frameset>', "src"),
    ('<object data="{u}"></object>', "data"),
    ('<embed src="{u}">', "src"),
    ('<input type="image" src="{u}">', "src"),
    ('<link rel="stylesheet" href="{u}">', "href"),
    ('<link rel="preconnect" href="{u}">', "href"),
    ('<link rel="dns-prefetch" href="{u}">', "href"),
    ('<link rel="preload" as="image" href="{u}">', "href"),
    ('<link rel="prefetch" href="{u}">', "href"),
    ('<link rel="modulepreload" href="{u}">', "href"),
    ('<link rel="icon" href="{u}">', "href"),
    ('<link rel="preload" as="image" imagesrcset="{u} 2x">', "imagesrcset"),
    ('<div style="background:url({u})"></div>', "style"),
    ("<div style=\"background-image:url('{u}')\"></div>", "style"),
    ('<body background="{u}"><p>x</p></body>', "background"),
    ('<table background="{u}"><tr><td>x</td></tr></table>', "background"),
    ('<meta http-equiv="refresh" content="0; url={u}">', "http-equiv"),
    ('<svg><image href="{u}"/></svg>', "href"),
    ('<svg><image xlink:href="{u}"/></svg>', "xlink:href"),
    ('<svg><use href="{u}#i"/></svg>', "href"),
    ('<svg><filter><feImage href="{u}"/></filter></svg>', "href"),
    ('<svg><script href="{u}"></script></svg>', "href"),
    ('<noscript><img src="{u}"></noscript>', "src"),
    ('<template><img src="{u}"></template>', "src"),
    ('<img attributionsrc="{u}" src="/a.png">', "attributionsrc"),
]


@pytest.mark.parametrize(("markup", "attr"), ELEMENTS)
@pytest.mark.parametrize("mode", ["granted", "not-granted", "undeclared-strict", "undeclared-report"])
def test_element_matrix(markup: str, attr: str, mode: str) -> None:
    url = STRANGER if mode.startswith("undeclared") else "https://i.ytimg.com/vi/x/hq.jpg"
    if "iframe" in markup or "frame " in markup:
        url = STRANGER if mode.startswith("undeclared") else YT
    body = markup.format(u=url)
    html = f"<!doctype html><html><head></head><body><p>before</p>{body}<p>after</p></body></html>"
    c = ctx(
        granted=("youtube",) if mode == "granted" else (),
        registry=REPORT if mode == "undeclared-report" else REGISTRY,
    )
    result = rewrite(html, c)
    out = check(html, c)
    if mode in ("granted", "undeclared-report"):
        assert out == html
        assert not result.blocked
        if mode == "undeclared-report":
            assert result.reported
        return
    marker = "?" if mode == "undeclared-strict" else "youtube"
    if attr == "style":  # the style stays, its URL gets a mark that makes it fetch nothing
        assert "data-gk-css style=" in out and f"url(https://[gk]/{marker}/" in out.replace("'", ""), out
        out = restored(out.replace(" data-gk-css", ""))
    else:
        assert f"data-gk-{attr}=" in out, out
    assert f'data-gk="{marker}"' in out
    assert strip_inserts(out) == html
    assert result.blocked and result.blocked[0].services == (() if marker == "?" else ("youtube",))


def test_first_party_untouched() -> None:
    html = (
        '<img src="/a.png"><img src="https://city.example.jp/b.png"><img src="//static.example.jp/c.png">'
        '<script src="app.js"></script><img src="data:image/png;base64,AA"><a href="https://x.com">x</a>'
        '<link rel="canonical" href="https://elsewhere.example/">'
    )
    assert check(html, ctx()) == html


# -- URL tricks -------------------------------------------------------------------------------

TRICKS = [
    "//www.youtube.com/embed/x",
    "HTTPS://WWW.YOUTUBE.COM/embed/x",
    "https://www.YouTube.com./embed/x",
    "&#x68;ttps://www.youtube.com/embed/x",
    "https&colon;//www.youtube.com/embed/x",
    "https:&#47;&#47;www.youtube.com/embed/x",
    " \t https://www.youtube.com/embed/x \n",
    "ht\ttps://www.you\ntube.com/embed/x",
    "https:\\\\www.youtube.com\\embed\\x",
    "/\\www.youtube.com/embed/x",
    "https://user:pw@www.youtube.com:443/embed/x",
    "https://%77ww.youtube.com/embed/x",
    "https://ｗｗｗ．ｙｏｕｔｕｂｅ．ｃｏｍ/embed/x",
]


@pytest.mark.parametrize("url", TRICKS)
def test_url_tricks(url: str) -> None:
    html = f'<iframe src="{url}"></iframe>'
    out = check(html, ctx())
    assert 'data-gk="youtube"' in out and "data-gk-src=" in out


def test_punycode_and_idn() -> None:
    reg = Registry(REGISTRY.services, first_party_hosts=())
    html = '<img src="https://xn--r8jz45g.jp/a.png"><img src="https://例え.jp/b.png">'
    out = check(html, ctx(registry=reg))
    assert out.count('data-gk="?"') == 2


def test_base_href() -> None:
    # a third-party base would send every relative URL (the loader's too) there: it is made inert,
    # and the page's URLs resolve against the page again
    html = '<head><base href="https://cdn.stranger.example/"></head><img src="a.png"><img src="#top">'
    result = rewrite(html, ctx())
    assert result.html == (
        '<head><base data-gk="?" data-gk-href="https://cdn.stranger.example/"></head>'
        '<img src="a.png"><img src="#top">'
    )
    assert [b.kind for b in result.blocked] == ["base"]
    assert check(html, ctx()) == result.html
    # then the next <base href> is the one that counts
    html = (
        '<base href="https://cdn.stranger.example/"><base href="https://cdn2.stranger.example/"><img src=a>'
    )
    assert check(html, ctx()).count("data-gk-href") == 2
    html2 = '<head><base href="/static/"></head><img src="a.png">'
    assert check(html2, ctx()) == html2
    # the first base wins; a later third-party one is made inert all the same (another reading of
    # the page may take it for the first; browsers ignore it either way)
    html3 = '<base href="/x/"><base href="https://cdn.stranger.example/"><img src="a.png">'
    assert check(html3, ctx()) == html3.replace('<base href="https', '<base data-gk="?" data-gk-href="https')
    # a base of a granted service stays, and what resolves against it is judged there
    html4 = '<base href="https://www.youtube.com/embed/"><iframe src="x"></iframe><img src="#top">'
    assert check(html4, ctx(granted=("youtube",))) == html4
    assert "data-gk-href" in check(html4, ctx(registry=REPORT))  # a declared service waits even so


# -- what is not markup ----------------------------------------------------------------------

NOT_MARKUP = [
    "<script>var s = '<img src=\"{u}\">';</script>",
    '<style>/* <img src="{u}"> */</style>',
    '<textarea><img src="{u}"></textarea>',
    '<title><img src="{u}"></title>',
    '<xmp><img src="{u}"></xmp>',
    '<iframe><img src="{u}"></iframe>',
    '<noembed><img src="{u}"></noembed>',
    '<noframes><img src="{u}"></noframes>',
    '<!-- <img src="{u}"> -->',
    '<!--> <img src="{u}" hidden> -->'.replace(" hidden", ""),
    '<div title="<img src={u}>"></div>',
    "<div title='<img src=\"{u}\">'></div>",
    '<? <img src="{u}" ?>',
    "<script><!--<script></script><img src='{u}'>--></script>",
    '<plaintext><img src="{u}">',
]


@pytest.mark.parametrize("markup", NOT_MARKUP)
def test_not_markup(markup: str) -> None:
    html = markup.format(u=STRANGER)
    out = check(html, ctx())
    if markup.startswith("<!-->"):  # "<!-->" is a whole comment: the img is real
        assert 'data-gk="?"' in out
    else:
        assert out == html


def test_script_double_escape() -> None:
    # "<!--<script>" inside a script: the first "</script>" only ends the inner, so the img is script text
    html = f"<script><!--<script></script><img src='{STRANGER}'>--></script><p>x</p><img src='{STRANGER}'>"
    out = check(html, ctx())
    assert out.count("data-gk-src") == 1 and out.endswith("data-gk-src='" + STRANGER + "'>")


def test_comment_forms() -> None:
    for comment in ("<!---->", "<!--->", "<!-- a -- b --!>", "<!---- x --->"):
        html = f"{comment}<img src='{STRANGER}'>"
        assert "data-gk-src" in check(html, ctx()), comment


def test_awkward_tags() -> None:
    cases = [
        f"<IMG SRC='{STRANGER}'>",
        f"<img src={STRANGER}>",
        f"<img/src={STRANGER}>",
        f'<img alt=">" src="{STRANGER}">',
        f'<img src="{STRANGER}" src="/first-wins-only-for-the-browser">',
        f'<img\nsrc\n=\n"{STRANGER}"\n>',
        f'<img alt="a"src="{STRANGER}">',
    ]
    for html in cases:
        out = check(html, ctx())
        assert 'data-gk="?"' in out and "data-gk-" in out, html
        assert re.search(r"(?i)[\s/\"]src\s*=", out) is None, out  # every src renamed


def test_duplicate_attribute_first_wins() -> None:
    html = f'<img src="/mine.png" src="{STRANGER}">'
    assert check(html, ctx()) == html  # the browser loads /mine.png


def test_unterminated_tag_is_not_an_element() -> None:
    html = f'<p>x</p><img src="{STRANGER}'
    assert check(html, ctx()) == html


def test_foreign_content() -> None:
    # in SVG, <style> is not raw text: its content is markup, and CDATA is text
    html = f"<svg><style><![CDATA[ .a{{background:url({STRANGER})}} ]]></style></svg>"
    out = check(html, ctx())
    assert out == html.replace("<style>", '<style data-gk="?" data-gk-css>').replace(
        "url(", "url(https://[gk]/?/"
    )
    # with a reference in it, the SVG style sheet is made inert as a whole
    html = f"<svg><style>.a{{background:url({STRANGER})}} .b{{content:'&amp;'}}</style></svg>"
    assert '<style data-gk="?" type="text/plain">' in check(html, ctx())
    # an HTML element breaks out of SVG
    html = f"<svg><g><img src='{STRANGER}'></g></svg>"
    assert "data-gk-src" in check(html, ctx())
    # CDATA in SVG hides markup; in HTML it is a bogus comment that ends at the first ">"
    html = f"<svg><![CDATA[<img src='{STRANGER}'>]]></svg>"
    assert check(html, ctx()) == html
    html = f"<div><![CDATA[x]]><img src='{STRANGER}'></div>"
    assert "data-gk-src" in check(html, ctx())
    # foreignObject holds HTML again
    html = f"<svg><foreignObject><iframe src='{YT}'></iframe></foreignObject></svg>"
    assert "data-gk-src" in check(html, ctx())
    # <script> in SVG is not raw text: an <img> in it is a real element (it breaks out)
    html = f"<svg><script><img src='{STRANGER}'></script></svg>"
    assert "data-gk-src" in check(html, ctx())


def test_noscript_read_both_ways() -> None:
    # With scripting off the img is in an attribute; with it on, </noscript> ends the element first.
    html = f'<noscript><p title="</noscript><img src={STRANGER}>"></p></noscript><p>after</p>'
    out = check(html, ctx())
    assert "data-gk-src" in out


# -- CSS ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("css", "urls"),
    [
        ("a{background:url(x.png)}", ["x.png"]),
        ("a{background:URL( 'x.png' )}", ["x.png"]),
        ('@import "//f.example/a.css";', ["//f.example/a.css"]),
        ("@import url(//f.example/a.css) screen;", ["//f.example/a.css"]),
        ("@import/**/'//f.example/a.css';", ["//f.example/a.css"]),
        ("a{b:u\\72l(//f.example/x)}", ["//f.example/x"]),
        ("a{b:\\75\\72\\6c(//f.example/x)}", ["//f.example/x"]),
        ('a{b:image-set("//f.example/1.png" 1x, url(/2.png) 2x)}', ["//f.example/1.png", "/2.png"]),
        ('a{content:"url(//no.example/)"}', []),
        ("a{color:red}", []),
        ('a{content:"/*"} b{background:url(//f.example/x)} /* */', ["//f.example/x"]),
    ],
)
def test_css_urls(css: str, urls: list[str]) -> None:
    assert css_urls(css) == urls


def test_style_element_and_attribute() -> None:
    html = "<style>@import url('https://fonts.googleapis.com/css2?family=X');</style>"
    # the @import fetches nothing (its URL is marked), the preload scanner stops before it
    assert check(html, ctx()) == (
        '<style data-gk="google-fonts" data-gk-css>'
        "<!---->@import url('https://[gk]/google-fonts/https://fonts.googleapis.com/css2?family=X');</style>"
    )
    html = '<style type="text/css">a{background:url(//cdn.stranger.example/x)}b{color:red}</style>'
    out = check(html, ctx())
    assert out == (
        '<style data-gk="?" data-gk-css type="text/css">'
        "a{background:url(https://[gk]/?///cdn.stranger.example/x)}b{color:red}</style>"
    )
    html = '<p style="color:red;background:url(&quot;//cdn.stranger.example/x&quot;)">x</p>'
    out = check(html, ctx())
    assert out == html.replace("<p ", '<p data-gk="?" data-gk-css ').replace(
        "&quot;//", "&quot;https://[gk]/?///"
    )
    # where a mark would change how a reference reads, the attribute is renamed as a whole
    html = '<p style="color:red;background:url(&quot//cdn.stranger.example/x&quot)">x</p>'
    assert "data-gk-style" in check(html, ctx())
    # a URL both readers of style sheets do not agree on: the whole element, as before
    html = "<style>@import '\fhttps://cdn.stranger.example/x.css';</style>"
    assert check(html, ctx()).startswith('<style data-gk="?" type="text/plain">')


# -- scripts --------------------------------------------------------------------------------------


def test_inline_signature() -> None:
    html = "<script>gtag('config', 'G-1');</script><script>var x = 1;</script>"
    out = check(html, ctx())
    assert out == (
        "<script data-gk=\"google-analytics\" type=\"text/plain\">gtag('config', 'G-1');</script>"
        "<script>var x = 1;</script>"
    )
    assert check(html, ctx(granted=("google-analytics",))) == html
    # a data block is not run: not touched
    html = '<script type="application/ld+json">{"x": "gtag(\'config\'"}</script>'
    assert check(html, ctx()) == html


def test_script_type_kept() -> None:
    html = '<script type="module" src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
    out = check(html, ctx())
    assert out == (
        '<script data-gk="google-analytics" type="text/plain" data-gk-type="module"'
        ' data-gk-src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
    )


# -- embeds, placeholders, "load once" -----------------------------------------------------------


def test_placeholders_and_once() -> None:
    html = (
        f'<iframe src="{YT}1" width="560" height="315"></iframe>'
        '<iframe src="https://www.google.com/maps/embed?pb=1" style="width:100%;height:300px"></iframe>'
        f'<iframe src="{YT}2" hidden></iframe>'
    )
    result = rewrite(html, ctx())
    out = result.html
    assert [e.index for e in result.embeds] == [0, 1, 2]
    assert [e.services[0].id for e in result.embeds] == ["youtube", "google-maps", "youtube"]
    assert (result.embeds[0].width, result.embeds[0].height) == ("560", "315")
    assert (result.embeds[1].width, result.embeds[1].height) == ("100%", "300px")
    assert out.count('class="gk-ph"') == 3
    assert '<div class="gk-ph" data-gk-ph="0">youtube</div><iframe data-gk="youtube" hidden ' in out
    assert "data-gk-hidden" in out  # the third was hidden already
    assert rewrite(out, ctx()).html == out
    once = ctx(once=frozenset({1}))
    out1 = check(html, once)
    assert 'https://www.google.com/maps/embed?pb=1"' in out1 and 'data-gk-ph="1"' not in out1
    assert '<span id="gk-ph-1"></span><iframe src="https://www.google.com/maps/embed' in out1  # #gk-ph-1
    assert 'data-gk-ph="0"' in out1 and 'data-gk-ph="2"' in out1


def test_snippets_once() -> None:
    html = '<!DOCTYPE html><html lang="ja"><head><title>t</title></head><body><p>x</p></body></html>'
    c = ctx(snippets=snippets)
    out = check(html, c)
    assert out == (
        '<!DOCTYPE html><html lang="ja"><head><script data-gk-snippet>/*ja*/</script><title>t</title>'
        "</head><body><p>x</p><div data-gk-snippet>banner</div></body></html>"
    )
    bare = "<!doctype html><p>x</p>"
    assert (
        check(bare, c)
        == "<!doctype html><script data-gk-snippet>/*None*/</script><p>x</p><div data-gk-snippet>banner</div>"
    )


# -- where the tree builder's state decides what is markup (each was a miss once, or could be) -----

E = "//cdn.stranger.example/x.png"
PARSER_STATES = [
    f"<select><xmp></select><img src={E}>",
    f"<select><style></select><img src={E}>",
    f"<select><textarea></select><img src={E}>",
    f"<select><iframe></select><img src={E}>",
    f"<select><noembed></select><img src={E}>",
    f"<select><script></select><img src={E}>",
    f"<svg><p><style><img src={E}></style>",
    f"<svg></p><style><img src={E}></style>",
    f"<svg><g></div><style><img src={E}></style>",
    f"<div><svg></div><style><img src={E}></style>",
    f"<math><mtext><style><img src={E}></style></mtext></math>",
    f"<math><mi><svg><style><img src={E}></style></svg></mi></math>",
    f"<svg><foreignObject><div></foreignObject><style><img src={E}></style>",
    f"<svg><desc><svg><style><![CDATA[</style><img src={E}>]]></style></svg></desc></svg>",
    f"<svg><desc><p>x<svg><g><img src=/x.png></g></svg></desc><title><img src={E}></title></svg>",
    f"<table><style><img src={E}></style></table>",
    f"<template><xmp></template><img src={E}>",
    f"<svg><title><style></title><img src={E}></style></svg>",
    f"<math><annotation-xml encoding=text/html><style><img src={E}></style></annotation-xml></math>",
    f"<svg><font color=red><style><img src={E}></style></svg>",
    f"<svg><font><style><img src={E}></style></svg>",
    f"<noscript><style></noscript><img src={E}></style></noscript>",
    f"<head><noscript><style></noscript><img src={E}></style></noscript>",
    f'<noscript><p title="</noscript><img src={E}>"></p></noscript>',
    f"<p><svg><![CDATA[</svg><img src={E}>]]>",
    f"<iframe><svg></iframe><img src={E}>",
    f"<textarea><!--</textarea><img src={E}>-->",
    f"<script><!--<script></script><img src={E}>--></script><img src={E}>",
    f"<a <img src={E}>",
    f"<a title=x<img src={E}>",
    f"<image src={E}>",
    f"<svg><animate attributeName=href values={E} /><image/></svg>",
    f"<input type=IMAGE src={E}>",
    f"<svg><desc><p><div></p></desc><title><style></title><img src={E}>",
    f"<template><svg></template><video src={E} poster={E}>",
    f"<svg><iframe src={E}></iframe><script>gtag('config', 'G-1');</script></svg>",
    "<svg><script><![CDATA[ gtag('config', 'G-1'); ]]></script></svg>",
    f'<noscript><img alt="</noscript><img\nsrc=" https://www.googletagman><img src={E}>',
    "<svg><style>@import url</xmp>(https://cdn.stranger.example/x.css);</style></svg>",
    "<svg><style>@import url(https://cdn.stranger.e<div>xample.com/x.css);</style></svg>",
    f'<!doctype html><noscript><img alt="</noscript><img src=" x><iframe src={YT}></iframe>',
    f"<x-y><svg></x-y><style><img src={E}></style>",
    f'<svg><desc><IMG/ARIA-LABEL="<img src={E}>"/srcset="{E} 2x"><select><textarea></textarea>x</desc>'
    f'<title><IMG/ARIA-LABEL="<img src={E}>"/srcset="{E} 2x"></title></svg>',
]


@pytest.mark.parametrize("html", PARSER_STATES)
def test_parser_states(html: str) -> None:
    from fuzz.leaks import find_leaks

    out = check(html, ctx())
    assert find_leaks(out, PAGE_URL, REGISTRY) == [], out  # scripting on and off


def test_a_kept_third_party_base_applies_from_the_top() -> None:
    # Google Maps granted: the base stays; "../x.png" leaves /maps for the rest of www.google.com
    html = '<img src="../x.png"><base href="https://www.google.com/maps/"><img src="../y.png">'
    out = check(html, ctx(granted=("google-maps",)))
    assert out.count('data-gk="?"') == 2 and "<base href" in out


def test_widget_class_outside_a_tag_is_no_widget() -> None:
    html = (
        '<p title="<blockquote class=twitter-tweet>">x</p><!-- <div class="fb-post"> -->'
        '<script>var c = "<a class=twitter-timeline>";</script>'
    )
    result = rewrite(html, ctx())
    assert result.html == html and not result.embeds


def test_post_widgets() -> None:
    html = (
        '<blockquote class="twitter-tweet"><p>hi</p><a href="https://twitter.com/a/status/1">d</a></blockquote>'
        '<script async src="https://platform.twitter.com/widgets.js"></script>'
        '<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/x/">x</blockquote>'
        '<a data-flickr-embed="true" href="https://www.flickr.com/photos/a/1/"><img src="https://live.staticflickr.com/1.jpg"></a>'
        '<script async src="//embedr.flickr.com/assets/client-code.js" charset="utf-8"></script>'
    )
    result = rewrite(html, ctx())
    assert [(e.index, e.tag, e.services[0].id, e.url) for e in result.embeds] == [
        (0, "blockquote", "x", "https://platform.twitter.com/widgets.js"),
        (1, "blockquote", "instagram", "https://www.instagram.com/p/x/"),
        (2, "a", "flickr", "https://www.flickr.com/photos/a/1/"),
    ]
    assert result.html.count('class="gk-ph"') == 3 and result.html.count(" hidden") == 3
    assert check(html, ctx()) == result.html
    once = rewrite(html, ctx(once=frozenset({0})))
    # "load once" on the post: the post and its widget script come alive, the other post waits
    assert 'data-gk-ph="0"' not in once.html and 'src="https://platform.twitter.com/widgets.js"' in once.html
    assert 'data-gk-ph="1"' in once.html


AMP_COMPONENTS = (
    '<script async custom-element="amp-youtube" src="https://cdn.ampproject.org/v0/amp-youtube-0.1.js"></script>'
    '<script async custom-element="amp-iframe" src="https://cdn.ampproject.org/v0/amp-iframe-0.1.js"></script>'
)


@pytest.mark.parametrize(
    ("markup", "service", "url"),
    [
        ('<amp-youtube data-videoid="abc" width="480" height="270">', "youtube", YT),
        ('<amp-vimeo data-videoid="1" width="500" height="281">', "vimeo", "https://player.vimeo.com/video/1"),
        ('<amp-dailymotion data-videoid="x7" width="480" height="270">', "dailymotion",
         "https://www.dailymotion.com/embed/video/x7"),
        ('<amp-iframe src="https://www.google.com/maps/embed?pb=1" width="600" height="450">', "google-maps",
         "https://www.google.com/maps/embed?pb=1"),
    ],
)  # fmt: skip
def test_amp_embeds(markup: str, service: str, url: str) -> None:
    tag = markup[1 : markup.index(" ")]
    html = f"<html><head>{AMP_COMPONENTS}</head><body><p>x</p>{markup}</{tag}></body></html>"
    amp = ctx(granted=("amp",))
    result = rewrite(html, amp)
    assert [(e.index, e.tag, e.services[0].id, e.url, e.width) for e in result.embeds] == [
        (0, tag, service, url, markup.split('width="')[1].split('"')[0])
    ]
    out = check(html, amp)
    assert f'<{tag} data-gk="{service}" hidden' in out and 'class="gk-ph"' in out
    # a player keeps its attributes (its component waits); amp-iframe loses its src until then
    element = out[out.index(f"<{tag} ") :].split(">")[0]
    assert ("data-gk-src=" in element) == (tag == "amp-iframe")
    youtube_component = 'data-gk-custom-element="amp-youtube" data-gk-src="https://cdn.ampproject.org/'
    assert (youtube_component in out) is True  # whatever the page holds, YouTube's waits for YouTube
    assert 'custom-element="amp-iframe" src="https://cdn.ampproject.org/' in out  # shared: live
    # "load once" on the player: it and its component come alive, nothing else (before the grant
    # below: outcomes are memoized per registry, and the grant must not be what makes this true)
    once = check(html, ctx(granted=("amp",), once=frozenset({0})))
    assert 'data-gk-ph="0"' not in once and f"<{tag} data-gk" not in once
    if tag == "amp-youtube":
        assert 'custom-element="amp-youtube" src="https://cdn.ampproject.org/' in once
    assert check(html, ctx(granted=("amp", service, "youtube"))) == html


def test_too_many_readings_falls_back_to_taking_every_tag() -> None:
    # select, svg, noscript, title and style ambiguities stacked: more readings than the budget
    from fuzz.leaks import find_leaks

    html = (
        '<svg><foreignObject><div></svg><svg><foreignObject><select><xmp><input type="image" x="" '
        'src="https&colon;//cdn.stranger.example/e.png" x=""><math><mi><p></mi><p></svg><select><iframe>'
        '<noscript><svg></svg><title><style><input type="image" x="" '
        'src="https&colon;//cdn.stranger.example/e.png" x=""></iframe></xmp><math><mi><p></noscript>'
        '<iframe src="ht\ttps://cdn.stranger.example/f.png" x="" x=""></iframe></mi>'
    ) * 2
    out = check(html, ctx())
    assert find_leaks(out, PAGE_URL, REGISTRY) == []  # scripting on and off


@pytest.mark.parametrize(
    ("css", "urls"),
    [
        ("@import url(https://a.example/x.css);", ["https://a.example/x.css"]),
        (" /* c */ @charset 'x'; @import 'https://b.example/y.css';", ["https://b.example/y.css"]),
        ("@IMPORT url(https://c.example/)", ["https://c.example/"]),
        ("@import url( https://d.example/ );", []),  # a space in the value ends the rule unread
        ('@import "https://e.example/z" screen;', []),  # a media list: not preloaded
        ("a{} @import url(https://f.example/)", []),  # after a rule nothing is read
        ("/@import url(https://g.example/)", []),  # a lone "/" passes over the "@"
        ("<!---->@import url(https://h.example/)", []),  # the rewriter's stop
        ("@import url(https://k.example/a?b=&#47;c);", ["https://k.example/a?b=&#47"]),  # ";" ends it
        ("@import url(https://l.example/", ["https://l.example/"]),  # the text ends in it
        (
            "@import url(https://i.example/)@import url(https://j.example/)",
            ["https://i.example/", "https://j.example/"],
        ),
    ],
)
def test_preload_imports_reads_a_style_like_chromiums_preload_scanner(css, urls):
    assert preload_imports(css) == urls


@pytest.mark.parametrize(
    "markup",
    [
        "<style>@import url(https://evil.example/a.css);</style>",
        "<style type=text/x-template>@import url(https://evil.example/a.css);</style>",
        "<svg><style>@import url(https://evil.example/a.css);</style></svg>",
        "<math><style>@import url(https://evil.example/a.css);</style></math>",
    ],
)
def test_a_style_opening_with_a_third_party_import_starts_with_an_empty_comment(markup):
    ctx = PageContext(REGISTRY, frozenset(), PAGE_URL)
    out = rewrite(markup, ctx).html
    assert "><!---->@import" in out
    assert rewrite(out, ctx).html == out


@pytest.mark.parametrize(
    ("markup", "service", "shared"),
    [  # each network's script-drawn share button, as its generator writes it, and the page it shares
        ('<a href="https://twitter.com/share?ref_src=twsrc%5Etfw" class="twitter-share-button">Tweet</a>',
         "x", PAGE_URL),
        ('<div class="fb-share-button" data-href="https://a.example/1" data-layout="button"></div>',
         "facebook", "https://a.example/1"),
        ('<div class="line-it-button" data-type="share-a" data-url="/news/2" style="display: none;"></div>',
         "line", "https://city.example.jp/news/2"),
        ('<a href="https://b.hatena.ne.jp/entry/" class="hatena-bookmark-button" title="x"></a>',
         "hatena", PAGE_URL),
        ('<a data-pin-do="buttonBookmark" href="https://www.pinterest.com/pin/create/button/"></a>',
         "pinterest", PAGE_URL),
        ('<script type="IN/Share" data-url="https://a.example/3"></script>', "linkedin", "https://a.example/3"),
        ("<SCRIPT TYPE='in/share'></SCRIPT>", "linkedin", PAGE_URL),
    ],
)  # fmt: skip
def test_script_drawn_share_buttons_become_share_embeds(markup: str, service: str, shared: str) -> None:
    html = f"<p>Share: {markup}</p>"
    out = rewrite(html, ctx())
    (embed,) = out.embeds
    assert embed.share and embed.services[0].id == service and embed.url == shared
    assert f'data-gk="{service}"' in out.html and " hidden" in out.html
    again = rewrite(out.html, ctx())
    assert again.html == out.html and again.embeds == ()  # idempotent; an inert one keeps its number
    assert rewrite(html, ctx((service,))).html == html  # granted: the network's own button, untouched


def test_other_scripts_and_posts_are_no_share_buttons() -> None:
    html = '<script type="IN/Member">x</script><blockquote class="twitter-tweet"><a href="https://twitter.com/a/status/1">a</a></blockquote>'
    out = rewrite(html, ctx())
    assert [(e.tag, e.share) for e in out.embeds] == [("blockquote", False)]


@pytest.mark.parametrize(
    "srcset",
    [
        "/a.png (b (c) , {u} 2x",  # parentheses do not nest: the first ")" ends them (found by the
        "/a.png (x) , {u}",  # spec-written srcset parser of tests/fuzz/leaks.py)
        "/a.png 1x,{u} 2x",
    ],
)
def test_srcset_candidates_as_the_standard_splits_them(srcset: str) -> None:
    out = check(f'<img srcset="{srcset.format(u=STRANGER)}">', ctx())
    assert "data-gk-srcset=" in out
