"""HTML documents that embed third-party references in every position the rewriter must handle (issue 3),
written every awkward way HTML allows, wrapped in the markup that changes how they are read, then
mutated. The one generator of the rewriter's fuzz tests. Deterministic: `document(seed)` is always the
same page, so a miss is reproduced by its seed; `hypothesis_documents()` builds the same kind of page
from hypothesis's choices, so hypothesis can shrink a failing one.

A document is built from fragments: one per fetching position (script src, iframe src/srcdoc, img
src/srcset, picture source, video/audio/poster/track, link rel=... (and rels that fetch nothing),
object/embed, style url()/@import, style attributes, background, input type=image, meta refresh, SVG
image/use/feImage/script, <base>, <noscript>, <template>), inline scripts with the vendors' signatures,
the vendors' real embed codes (gatekeeper/demo/embeds/), and noise (comments, raw-text elements holding
markup, foreign content, broken tags). Fragments nest in wrappers up to three deep: comments of every
kind, raw-text and RCDATA elements with end tags that do and do not close them, SVG and MathML with
their integration points and breakouts, <template>, <noscript> (and "</noscript>" in an attribute),
<select>, tables, CDATA. URLs are written with the tricks browsers forgive (case, protocol-relative,
entities, backslashes, tabs, percent-encoded, fullwidth or IDN hosts, trailing dots, user info, ports)
and attributes with every quoting, names in any case and order, quotes, entities and ">" in values.
Mutations then truncate, duplicate, upper-case and splice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = [
    "SITE_URL", "THIRD_PARTY", "Document", "document", "documents", "fragment", "hypothesis_documents",
    "mutate", "page", "wrap",
]  # fmt: skip

SITE_URL = "https://site.example/articles/page.html"

# (URL, what it is) -- declared services of the catalog, undeclared third parties, first party.
THIRD_PARTY = [
    "https://www.youtube.com/embed/M7lc1UVf-VE",
    "https://www.youtube-nocookie.com/embed/abc",
    "https://player.vimeo.com/video/76979871",
    "https://platform.twitter.com/widgets.js",
    "https://connect.facebook.net/en_US/sdk.js",
    "https://www.facebook.com/tr?id=1&ev=PageView&noscript=1",
    "https://www.facebook.com/plugins/like.php?href=x",
    "https://www.googletagmanager.com/gtag/js?id=G-1",
    "https://www.googletagmanager.com/ns.html?id=GTM-1",
    "https://www.google-analytics.com/analytics.js",
    "https://fonts.googleapis.com/css2?family=Noto+Sans+JP",
    "https://fonts.gstatic.com/s/notosansjp/v1/a.woff2",
    "https://www.google.com/maps/embed?pb=1",
    "https://maps.googleapis.com/maps/api/js?key=1",
    "https://www.instagram.com/embed.js",
    "https://b.hatena.ne.jp/js/widget.js",
    "https://i.ytimg.com/vi/abc/hqdefault.jpg",
    "https://tracker.example/pixel.gif",
    "https://cdn.evil.example/x.js",
    "https://evil.example/a.css",
    "https://例え.example/m.png",
    "https://xn--r8jz45g.example/l.png",
]
FIRST_PARTY = [
    "/static/site.css",
    "img/logo.png",
    "local.png",
    "https://site.example/a.js",
    "https://cdn.site.example/b.png",
    "//static.site.example/q.png",
    "data:image/gif;base64,R0lGODlhAQABAAAAACw=",
    "#top",
    "about:blank",
    "javascript:void(0)",
    "",
]
BASES = ["https://www.youtube.com/", "//evil.example/dir/", "https://cdn.evil.example", "/local/", "/x/"]
# Inline scripts: the vendors' signatures (tests/fuzz/leaks.py looks for them) and code without any.
INLINE_SCRIPTS = [
    "gtag('config', 'G-1');", "fbq('init', '1');", "twttr.widgets.load();", "var x = 1;",
    "new YT.Player('p', {});", "window.fbAsyncInit = function () {};",
]  # fmt: skip
RELATIVE = ["embed/xyz", "x.js", "../a.png", "?q=1", "pixel.gif"]


@dataclass(frozen=True)
class Document:
    seed: int
    html: str


def _embeds() -> list[str]:
    # Services of the `required` category (shared CDNs) load without consent by design: their embed
    # codes are no leak to look for.
    from gatekeeper.registry import Category, load_registry

    required = {s.id for s in load_registry(None).services if s.category is Category.REQUIRED}
    folder = resources.files("gatekeeper.demo").joinpath("embeds")
    return [
        f.read_text("utf-8")
        for f in sorted(folder.iterdir(), key=lambda f: f.name)
        if f.name.endswith(".html") and f.name.removesuffix(".html") not in required
    ]


EMBEDS = _embeds()


# -- URLs and attributes, written every way a browser still reads ----------------------------------


def _entity(c: str, rng: random.Random) -> str:
    named = {"/": "&sol;", ":": "&colon;", ".": "&period;", "&": "&amp;", "?": "&quest;"}
    return rng.choice([f"&#{ord(c)};", f"&#x{ord(c):x};", f"&#X{ord(c):X}", named.get(c, f"&#{ord(c)};")])


def url_variant(url: str, rng: random.Random) -> str:
    """The same URL, as a browser would still resolve it."""
    trick = rng.randrange(17)
    if trick == 16:  # two tricks at once: " //HOST/x ", "https://user@host:443/"
        return url_variant(url_variant(url, rng), rng)
    if trick == 15 and url.startswith("https://"):
        return "/\\" + url[len("https://") :]  # "/\\host/...": protocol-relative, a backslash for a slash
    if trick == 14 and url[:1].isalpha():
        return _entity(url[0], rng) + url[1:]  # "&#x68;ttps://"
    if trick == 0 and url.startswith("https:"):
        return url[len("https:") :]  # protocol-relative
    if trick == 1:
        scheme, _, rest = url.partition("://")
        host, slash, path = rest.partition("/")
        return f"{scheme.upper()}://{host.upper()}{slash}{path}"
    if trick == 2:
        return "".join(_entity(c, rng) if c in "/:." and rng.random() < 0.5 else c for c in url)
    if trick == 3:
        return url.replace("/", "\\", 3) if rng.random() < 0.5 else url.replace("//", "/\\", 1)
    if trick == 4:
        return rng.choice([" ", "\n", "\t", "\x0c"]) + url + rng.choice(["", " ", "\n"])
    if trick == 5:
        i = rng.randrange(len(url))
        return url[:i] + rng.choice(["\t", "\n", "\r", "&#9;", "&#10;"]) + url[i:]
    if trick == 6 and "://" in url:
        scheme, _, rest = url.partition("://")
        host, slash, path = rest.partition("/")
        return f"{scheme}://{host}.{slash}{path}"  # trailing dot
    if trick == 7 and "://" in url:
        scheme, _, rest = url.partition("://")
        host, slash, path = rest.partition("/")
        i = rng.randrange(len(host) or 1)
        if not host:
            return url
        return f"{scheme}://{host[:i]}%{ord(host[i]):02x}{host[i + 1 :]}{slash}{path}"  # percent-encoded host
    if trick == 8 and "://" in url:
        scheme, _, rest = url.partition("://")
        host, slash, path = rest.partition("/")
        wide = "".join(chr(ord(c) + 0xFEE0) if c.isalpha() and rng.random() < 0.4 else c for c in host)
        return f"{scheme}://{wide.replace('.', rng.choice(['.', '。', '．']))}{slash}{path}"  # fullwidth
    if trick == 9 and "://" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://site.example@{rest}"  # user-info
    if trick == 10 and "://" in url:
        scheme, _, rest = url.partition("://")
        host, slash, path = rest.partition("/")
        return f"{scheme}://{host}:443{slash}{path}"
    if trick == 11 and url.startswith("https://"):
        return "https:" + rng.choice(["/", "///", "\\\\", "/\\"]) + url[len("https://") :]
    if trick == 12 and url.startswith("https://"):
        return "http://" + url[len("https://") :]
    return url


def attr(name: str, value: str, rng: random.Random) -> str:
    """` name="value"` with some quoting (values that cannot go unquoted are quoted)."""
    if rng.random() < 0.15:
        name = name.upper() if rng.random() < 0.5 else name.capitalize()
    sep = rng.choice([" ", " ", " ", "\n", "\t", "  ", "/"])
    eq = rng.choice(["=", "=", " = ", "=\n"])
    style = rng.randrange(4)
    if style == 0 and value and not any(c in value for c in " \t\n\f\r\"'=<>`"):
        return f"{sep}{name}{eq}{value}"
    if style == 1 and "'" not in value:
        return f"{sep}{name}{eq}'{value}'"
    return f'{sep}{name}{eq}"{value.replace(chr(34), "&quot;")}"'


# Attribute values that look like markup: a tokenizer that misses a quote reads them as tags.
JUNK_VALUES = ["", "a", "a > b", "<img src=//evil.example/z.png>", "x'y", 'x"y', "&amp;", "-->", "</script>",
               "<!--", "</noscript>", "src=https://evil.example/"]  # fmt: skip


def noise_attrs(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randrange(3)):
        if rng.random() < 0.4:
            name = rng.choice(["x", "data-a", "class", "title", "alt", "id", "aria-label"])
            out.append(attr(name, rng.choice(JUNK_VALUES), rng))
            continue
        out.append(
            rng.choice([
                ' alt="a > b"', " title='it&apos;s \"x\"'", ' data-x="<img src=https://evil.example/q.png>"',
                " class=embed", ' width="560"', " height=315", " loading=lazy",
                ' alt="src=https://evil.example/"', " crossorigin", ' data-src="https://evil.example/lazy.png"',
                " hidden", ' id="x"',
            ])
        )  # fmt: skip
    return "".join(out)


def open_tag(name: str, attrs: list[tuple[str, str]], rng: random.Random) -> str:
    """A start tag: the name in any case, the attributes and some noise in any order, any ending."""
    parts = [attr(n, v, rng) for n, v in attrs] + [noise_attrs(rng)]
    rng.shuffle(parts)
    return "<" + _tag(name, rng) + "".join(parts) + rng.choice([">", ">", ">", " >", "/>"])


# -- fragments, one per fetching position ----------------------------------------------------------


def pick_url(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.75:
        return url_variant(rng.choice(THIRD_PARTY), rng)
    if r < 0.85:
        return rng.choice(RELATIVE)
    return rng.choice(FIRST_PARTY)


def _tag(name: str, rng: random.Random) -> str:
    r = rng.random()
    return name.upper() if r < 0.15 else name.capitalize() if r < 0.2 else name


def fragment(rng: random.Random) -> str:
    """One element (or a small group) that fetches from a URL, in one of the positions of issue 3."""
    u = pick_url(rng)
    a = lambda n, v: attr(n, v, rng)  # noqa: E731
    t = lambda n: _tag(n, rng)  # noqa: E731
    na = noise_attrs(rng)
    kind = rng.randrange(40)
    if kind == 34:
        return open_tag("img", [("src", u)], rng)
    if kind == 35:
        return open_tag("iframe", [("src", u), ("width", "1")], rng) + "</iframe>"
    if kind == 36:
        rel = rng.choice(["stylesheet", "preload", "icon", "apple-touch-icon", "canonical", "alternate"])
        return open_tag("link", [("rel", rel), ("href", u)], rng)
    if kind == 37:
        typ = rng.choice(
            ["", a("type", "text/javascript"), a("type", "text/plain"), a("language", "javascript")]
        )
        return f"<{t('script')}{typ}>{rng.choice(INLINE_SCRIPTS)}</script>"
    if kind == 38:  # duplicate attributes: the first one counts, first party or not
        return f"<img{a('src', rng.choice(FIRST_PARTY))}{a('src', u)}>"
    if kind == 39:
        name = rng.choice(["video", "audio", "object", "embed", "input", "track", "source", "img"])
        at = {"object": "data", "img": "attributionsrc"}.get(name, "src")
        extra = {"input": [("type", "image")], "img": [("src", "/a.png")]}.get(name, [])
        return open_tag(name, [*extra, (at, u)], rng)
    if kind == 0:
        typ = rng.choice(["", a("type", "text/javascript"), a("type", "module"), a("type", "TEXT/JAVASCRIPT"),
                          a("type", " application/javascript "), a("language", "javascript"),
                          a("async", "")])  # fmt: skip
        return f"<{t('script')}{typ}{a('src', u)}{na}></{t('script')}>"
    if kind == 1:
        return f"<{t('iframe')}{a('src', u)}{na}></iframe>"
    if kind == 2:
        inner = fragment(rng)
        return f"<{t('iframe')}{a('srcdoc', inner)}{na}></iframe>"
    if kind == 3:
        return f"<{t('img')}{na}{a('src', u)}>"
    if kind == 4:
        srcset = a("srcset", f"{u} 1x, {pick_url(rng)} 2x")
        return f"<img{srcset}{a('src', rng.choice(FIRST_PARTY))}>"
    if kind == 5:
        source = f"<source{a('srcset', u + ' 600w')}{a('media', '(min-width: 600px)')}>"
        return f"<{t('picture')}>{source}<img src=/a.png></picture>"
    if kind == 6:
        return f"<{t('video')}{a('src', u)}{a('poster', pick_url(rng))} controls></video>"
    if kind == 7:
        source = "<source" + a("src", u) + a("type", "video/mp4") + ">"
        return f"<video controls>{source}<track{a('src', pick_url(rng))} kind=captions></video>"
    if kind == 8:
        return f"<{t('audio')}{a('src', u)}></audio>"
    if kind == 9:
        rel = rng.choice(["stylesheet", "preconnect", "dns-prefetch", "preload", "prefetch", "modulepreload",
                          "icon", "shortcut icon", "STYLESHEET", " stylesheet\t", "preload prefetch",
                          "apple-touch-icon", "canonical", "alternate"])  # fmt: skip
        extra = a("as", rng.choice(["script", "style", "image", "font"])) if "preload" in rel else ""
        if "preload" in rel and rng.random() < 0.3:
            extra += a("imagesrcset", f"{pick_url(rng)} 2x")
        return f"<{t('link')}{a('rel', rel)}{a('href', u)}{extra}{na}>"
    if kind == 10:
        return f"<{t('object')}{a('data', u)}{a('type', 'text/html')}></object>"
    if kind == 11:
        return f"<{t('embed')}{a('src', u)}{a('type', 'application/x-shockwave-flash')}>"
    if kind == 12:
        css = rng.choice([f"@import url({u});", f'@import "{u}";', f"body{{background:url('{u}')}}",
                          f"@font-face{{font-family:x;src:url(\"{u}\")}}", f"a{{background:URL( {u} )}}",
                          f"p{{background-image:image-set(\"{u}\" 1x)}}", f"@IMPORT '{u}' screen;",
                          f"/* x */ i{{background:u\\72l({u})}}"])  # fmt: skip
        return f"<{t('style')}{a('media', 'all') if rng.random() < 0.2 else ''}>{css}</style>"
    if kind == 13:
        style = rng.choice([f"background:url({u})", f"background-image: url('{u}')",
                            f"list-style:URL(\"{u}\")", f"--x: 1; cursor: url({u}), auto",
                            f"b:image-set(\"{u}\" 1x)", f"b:u\\72l({u})"])  # fmt: skip
        return f"<{t(rng.choice(['div', 'span', 'p', 'td', 'li']))}{a('style', style)}>text</div>"
    if kind == 14:
        return (
            f"<{t('body') if rng.random() < 0.3 else 'table'}{a('background', u)}><tr><td>x</td></tr></table>"
        )
    if kind == 15:
        return f"<input{a('type', rng.choice(['image', 'IMAGE']))}{a('src', u)}{a('alt', 'go')}>"
    if kind == 16:
        content = rng.choice([f"0; url={u}", f"0;URL='{u}'", f"5, {u}", f'1; url = "{u}"', f"0.5;url={u}"])
        return (
            f"<meta{a('http-equiv', rng.choice(['refresh', 'Refresh', 'REFRESH']))}{a('content', content)}>"
        )
    if kind == 17:
        href = a(rng.choice(["href", "xlink:href"]), u)
        inner = rng.choice([f"<image{href} width=10 height=10/>", f"<use{href}/>",
                            f"<filter id=f><feImage{href}/></filter>", f"<script{href}></script>",
                            f"<style>@import url({u});</style>", f"<g><image{href}></image></g>",
                            f"<rect{a('fill', f'url({u}#g)')}/>"])  # fmt: skip
        return f"<{t('svg')} width=10 height=10>{inner}</svg>"
    if kind == 18:
        return (
            f"<{t('noscript')}><img{a('src', u)}{a('height', '1')}{a('style', 'display:none')}/></noscript>"
        )
    if kind == 19:
        return f"<noscript><{t('iframe')}{a('src', u)} height=0></iframe></noscript>"
    if kind == 20:
        return f"<{t('template')}>{fragment(rng)}</template>"
    if kind == 21:
        return f"<base{a('href', rng.choice(BASES))}>" + fragment_relative(rng)
    if kind == 22:
        return rng.choice(EMBEDS)
    if kind == 23:  # an element whose alt holds "</noscript>": scripting on ends the noscript there
        return f'<noscript><img alt="</noscript><img{a("src", u)}>"></noscript>'
    if kind == 24:
        return f"<{t('math')}><mtext><img{a('src', u)}></mtext></math>"
    if kind == 25:
        return f"<svg><foreignObject><img{a('src', u)}></foreignObject></svg>"
    if kind == 26:
        return f"<svg><p><img{a('src', u)}></svg>"  # breaks out of foreign content
    if kind == 27:
        return f"<table><tr><td>x</td><img{a('src', u)}></tr></table>"  # foster-parented
    if kind == 28:
        return f"<frameset><frame{a('src', u)}></frameset>"
    if kind == 29:  # duplicate attributes: the first one counts
        return f"<img{a('src', u)}{a('src', '/ok.png')}>"
    if kind == 30:
        return f'<img alt="x"src="{u}">'  # no space between attributes
    if kind == 31:
        return f'<img/src="{u}"/>'
    if kind == 32:
        return f"<iframe {a('width', '1')} {a('src', u)}\n>fallback <b>text</b></iframe>"
    return (
        f"<{t('script')}{a('src', u)} {a('integrity', 'sha384-x')} {a('crossorigin', 'anonymous')}></script>"
    )


def fragment_relative(rng: random.Random) -> str:
    """An element whose relative URL resolves against a <base> set just before it."""
    rel = rng.choice(RELATIVE)
    a = lambda n, v: attr(n, v, rng)  # noqa: E731
    return rng.choice([
        f"<iframe{a('src', rel)}></iframe>", f"<img{a('src', rel)}>", f"<script{a('src', rel)}></script>",
        f"<link rel=stylesheet{a('href', rel)}>", f"<div{a('style', f'background:url({rel})')}></div>",
        f"<img{a('srcset', rel + ' 2x')}>",
    ])  # fmt: skip


# Markup that holds tag-like text without tags, or tags the tokenizer reads differently.
NOISE = [
    "<!-- <script src=https://evil.example/commented.js></script> -->",
    "<!--> <p>x</p>", "<!---> <p>y</p>", "<!-- a -- b --!> <p>z</p>", "<!-- unterminated? --",
    "<?php echo '<img src=https://evil.example/php.png>' ?>", "</ img>", "<//p>", "<a <img src=x>",
    "<textarea><img src=https://evil.example/ta.png></textarea>",
    "<title><script src=https://evil.example/t.js></script></title>",
    "<xmp><iframe src=https://evil.example/x></iframe></xmp>",
    "<noembed><img src=https://evil.example/ne.png></noembed>",
    "<script>var s = '<img src=https://evil.example/s.png>'; // </scr' + 'ipt>\n</script>",
    "<script><!-- document.write('<script src=x></script>') --></script>",
    "<style>a::after{content:'</styl'}</style>", "<svg><![CDATA[<img src=https://evil.example/cd.png>]]></svg>",
    "<math><mi>x</mi></math>", "<svg><desc><p>desc</p></desc></svg>", "<select><option>x</select>",
    "<p>a < b > c & d</p>", "<p>&amp;lt;img src=x&gt;</p>", "<ul><li>1<li>2</ul>", "<br/>", "<hr>",
    "<div><span>unclosed", "</div></div>", "<p id='a'b>", "<b><i>mis</b>nested</i>", "<!doctype html>",
    "<form action=https://evil.example/submit><input name=q></form>", "<a href=https://evil.example/>link</a>",
    "<a ping=https://evil.example/ping href=/x>ping</a>", "<p>Ｆｕｌｌ　ｗｉｄｔｈ、日本語の文章。</p>",
]  # fmt: skip


# Text and stray tags between fragments: end tags of the wrappers below, a lone "<".
FILLER = ["text ", "a < b ", "&lt;img&gt; ", "x > y ", "<br>", "</p>", "<p>", "</div>", "<b>", "</svg>",
          "</math>", "</noscript>", "</template>", "</select>", "<"]  # fmt: skip
COMMENTS = ["<!-- {x} -->", "<!--{x}--!>", "<!-->{x}", "<!--->{x}", "<!---->{x}", "<!{x}>", "<?{x}?>",
            "</ {x}>", "<![CDATA[{x}]]>", "<!-- -- {x} -- -->"]  # fmt: skip
RAW_TEXT = ["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"]


# (before, after) a fragment: foreign content, <template>, <noscript>, <select>, tables, unclosed <p>.
AROUND = [
    ("<svg>", "</svg>"), ("<svg><foreignObject>", "</foreignObject></svg>"), ("<math>", "</math>"),
    ("<template>", "</template>"), ("<noscript>", "</noscript>"), ("<select><option>", "</select>"),
    ("<table><tr><td>", "</td></tr></table>"), ("<svg><style>", "</style></svg>"),
    ("<svg><script>", "</script></svg>"), ("<svg><![CDATA[", "]]></svg>"), ("<p>", ""),
    ("<div><svg></div><style>", "</style>"),
]  # fmt: skip


def wrap(inner: str, rng: random.Random) -> str:
    """Something around a fragment that changes how it is read: text, markup, or foreign content."""
    kind = rng.randrange(25)
    if kind >= 13:
        before, after = AROUND[kind - 13]
        return before + inner + after
    if kind == 0:
        return rng.choice(COMMENTS).format(x=inner)
    if kind == 1:  # raw text and RCDATA, with end tags that close them and one that does not
        raw = rng.choice(RAW_TEXT)
        return f"<{raw}>{inner}" + rng.choice([f"</{raw}>", f"</{raw.upper()} >", f"</{raw}/>", f"</{raw}x>"])
    if kind == 2:  # the script data double-escaped state
        return "<script><!--<script>" + inner + "</script>-->" + rng.choice(["</script>", ""])
    if kind == 3:
        return "<svg><desc>" + inner + "</desc><title>" + inner + "</title></svg>"
    if kind == 4:
        return f"<math><mi>{inner}</mi><annotation-xml encoding=text/html>{inner}</annotation-xml></math>"
    if kind == 5:
        return f'<div title="{rng.choice(JUNK_VALUES).replace(chr(34), "&quot;")}">' + inner + "</div>"
    if kind == 6:  # with scripting on, the noscript ends inside the attribute
        return f'<noscript><p title="</noscript>{inner}"></p></noscript>'
    if kind == 7:
        raw = rng.choice(
            ["xmp", "style", "iframe", "noembed", "noframes", "noscript", "textarea", "plaintext"]
        )
        return f"<select><{raw}>" + rng.choice(["</select>", ""]) + inner + f"</{raw}>"
    if kind == 8:  # an HTML end tag breaks out of foreign content (</p> and </br> make a start tag)
        closer = rng.choice(["</p>", "</br>", "</div>", "</span>", "</x-y>", "</a>", "</table>"])
        raw = rng.choice(["style", "script", "xmp", "title"])
        return f"<svg><g>{closer}<{raw}>{inner}</{raw}></g></svg>"
    if kind == 9:  # integration points, left or not before the style
        html_open = rng.choice(["<div>", "<p>", "<span>", "<p><div>", ""])
        point = rng.choice(["foreignObject", "desc", "title"])
        closer = rng.choice([f"</{point}>", "</svg>", "</div>", "</p>", ""])
        return f"<svg><{point}>{html_open}{closer}<style>" + inner + "</style></svg>"
    if kind == 10:  # <font> with an attribute breaks out of SVG, without one it does not
        font = rng.choice(["<font>", "<font color=red>", "<FONT SIZE=2>"])
        return f"<svg>{font}<style>" + inner + "</style></svg>"
    if kind == 11:
        return f"<math><mtext><style>{inner}</style></mtext><mglyph><style>{inner}</style></mglyph></math>"
    return (
        f"<svg><desc><p>{inner}<svg><g><img src=/x.png></g></svg></desc>"
        f"<title><style>{inner}</style></title></svg>"
    )


def group(rng: random.Random, depth: int = 0) -> str:
    """One to three fragments, filler and wrapped groups, nested up to three deep."""
    parts = []
    for _ in range(rng.randrange(1, 4)):
        choice = rng.randrange(6 if depth < 3 else 3)
        if choice <= 1:
            parts.append(fragment(rng))
        elif choice == 2:
            parts.append(rng.choice(FILLER))
        else:
            parts.append(wrap(group(rng, depth + 1), rng))
    return "".join(parts)


def page(rng: random.Random) -> str:
    """One page, built and mutated with `rng`'s choices."""
    head = [fragment(rng) if rng.random() < 0.6 else rng.choice(NOISE) for _ in range(rng.randrange(4))]
    if rng.random() < 0.2:
        head.insert(rng.randrange(len(head) + 1), f"<base{attr('href', rng.choice(BASES), rng)}>")
    body = []
    for _ in range(rng.randrange(2, 14)):
        r = rng.random()
        if r < 0.5:
            body.append(fragment(rng))
        elif r < 0.7:
            body.append(rng.choice(NOISE))
        elif r < 0.8:
            body.append(f"<div class=c{rng.randrange(9)}>{fragment(rng)}</div>")
        else:
            body.append(wrap(group(rng, 1), rng))
    lang = rng.choice(["", " lang=ja", " lang=en", ' LANG="ja"'])
    shell = rng.randrange(7)
    if shell == 0:
        html = "".join(body)  # a fragment: no html, head or body tags
    elif shell == 1:
        html = f"<html{lang}><body>{''.join(body)}"  # unclosed
    elif shell == 2:
        html = f"<!doctype html>{''.join(head)}{''.join(body)}"  # no head or body tags
    elif shell == 3:
        html = f"<HTML><HEAD>{''.join(head)}</HEAD><BODY>{''.join(body)}"  # upper case, unclosed
    else:
        doctype = rng.choice(["<!DOCTYPE html>\n", "<!doctype HTML>", "", "\ufeff<!DOCTYPE html>"])
        html = (
            f"{doctype}<html{lang}>\n<head>\n<meta charset=utf-8><title>t &amp; t</title>{''.join(head)}"
            f"</head>\n<{_tag('body', rng)}>\n{chr(10).join(body)}\n</body>\n</html>\n"
        )
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        html = mutate(html, rng)
    return html


def document(seed: int) -> Document:
    """One page, built and mutated from `seed`."""
    return Document(seed, page(random.Random(seed)))


def hypothesis_documents() -> SearchStrategy[str]:
    """The same pages for hypothesis: built from its choices, so that it shrinks a failing one."""
    from hypothesis import strategies as st

    return st.randoms(use_true_random=False).map(page)


def mutate(html: str, rng: random.Random) -> str:
    """One random edit of the kind real pages have: truncation, duplication, splices, case changes."""
    if not html:
        return html
    i = rng.randrange(len(html) + 1)
    op = rng.randrange(8)
    if op == 0:
        return html[:i]  # truncated anywhere, even inside a tag or a comment
    if op == 1:
        j = min(len(html), i + rng.randrange(200))
        return html[:j] + html[i:j] + html[j:]  # a stretch repeated
    if op == 2:
        return html[:i] + rng.choice(["<", ">", '"', "'", "<!--", "-->", "</", "&", "=", "\x00", "<svg>",
                                      "<math>", "</svg>", "<noscript>", "</noscript>", "<template>",
                                      "<table>", "<select>", "<plaintext>"]) + html[i:]  # fmt: skip
    if op == 3:
        return html[:i] + fragment(rng) + html[i:]
    if op == 4:
        j = min(len(html), i + rng.randrange(300))
        return html[:i] + html[i:j].upper() + html[j:]
    if op == 5:
        return html[:i] + rng.choice(NOISE) + html[i:]
    if op == 6:
        return html[:i] + "<div>" + html[i:] + "</div>"
    j = min(len(html), i + rng.randrange(50))
    return html[:i] + html[j:]  # a stretch lost


def documents(count: int, seed: int = 0) -> list[Document]:
    return [document(seed * 1_000_003 + n) for n in range(count)]
