"""Hypothesis strategies for HTML documents that embed third-party references in every position the
rewriter handles, wrapped in the markup that makes HTML hard: comments, raw text, RCDATA, SVG and
MathML (with integration points), <template>, <noscript>, <select>, tables, CDATA, bogus comments,
attributes with quotes, entities and ">" in values, upper case, duplicates, unclosed tags.

    from corpus.generate import documents
    @given(documents())
    def test(doc): ...
"""

from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["FIRST_PARTY_URLS", "PAGE_URL", "THIRD_PARTY_URLS", "documents", "fragments", "urls"]

PAGE_URL = "https://city.example.jp/news/1"

THIRD_PARTY_URLS = [
    "https://cdn.stranger.example/a.png",
    "//cdn.stranger.example/b.js",
    "HTTPS://CDN.STRANGER.EXAMPLE/c.css",
    "https://www.youtube.com/embed/x",
    "https://i.ytimg.com/vi/x/0.jpg",
    "https://www.facebook.com/tr?id=1",
    "https://connect.facebook.net/en_US/sdk.js",
    "https://www.googletagmanager.com/gtag/js?id=G-1",
    "https://fonts.googleapis.com/css2?family=X",
    "https://platform.twitter.com/widgets.js",
    "https://www.google.com/maps/embed?pb=1",
    "&#x68;ttps://cdn.stranger.example/d.png",
    "https&colon;//cdn.stranger.example/e.png",
    "ht\ttps://cdn.stranger.example/f.png",
    " //cdn.stranger.example/g.png ",
    "https:\\\\cdn.stranger.example\\h.png",
    "/\\cdn.stranger.example/i.png",
    "https://user@cdn.stranger.example:8443/j.png",
    "https://%63dn.stranger.example/k.png",
    "https://xn--r8jz45g.example/l.png",
    "https://例え.example/m.png",
    "https://cdn.stranger.example./n.png",
    "http://cdn.stranger.example/o.png",
]
FIRST_PARTY_URLS = [
    "/local.png",
    "local.png",
    "https://city.example.jp/p.png",
    "//static.city.example.jp/q.png",
    "data:image/gif;base64,R0lGOD",
    "#frag",
    "javascript:void(0)",
    "",
]

urls = st.sampled_from(THIRD_PARTY_URLS + FIRST_PARTY_URLS)
third_party = st.sampled_from(THIRD_PARTY_URLS)

_names = st.sampled_from(["x", "data-a", "class", "title", "alt", "id", "aria-label"])
_junk_values = st.sampled_from(
    [
        "",
        "a",
        "a > b",
        "<img src=//cdn.stranger.example/z.png>",
        "x'y",
        'x"y',
        "&amp;",
        "-->",
        "</script>",
        "<!--",
    ]
)


def _case(s: str) -> st.SearchStrategy[str]:
    return st.sampled_from([s, s.upper(), s[:1].upper() + s[1:]])


@st.composite
def attribute(draw: st.DrawFn, name: str, value: str) -> str:
    """One attribute, quoted in any of the ways HTML allows (unquoted only when that is valid)."""
    name = draw(_case(name))
    space = draw(st.sampled_from([" ", "\n", "\t", "  ", "/"]))
    eq = draw(st.sampled_from(["=", " = ", "=\n"]))
    quotes = ['"', "'"] if any(c in value for c in " \t\n\f\r\"'=<>`") or not value else ['"', "'", ""]
    if '"' in value:
        quotes = [q for q in quotes if q != '"'] or ["'"]
    if "'" in value:
        quotes = [q for q in quotes if q != "'"] or ['"']
    if '"' in value and "'" in value:
        value = value.replace('"', "&quot;")
        quotes = ['"']
    q = draw(st.sampled_from(quotes))
    return f"{space}{name}{eq}{q}{value}{q}"


@st.composite
def tag(draw: st.DrawFn, name: str, attrs: list[tuple[str, str]], close: bool = False) -> str:
    parts = [draw(attribute(n, v)) for n, v in attrs]
    extra = draw(st.lists(st.tuples(_names, _junk_values), max_size=2))
    parts += [draw(attribute(n, v.replace('"', "&quot;"))) for n, v in extra]
    order = draw(st.permutations(parts))
    end = draw(st.sampled_from([">", " >", "/>"])) if not close else ">"
    return "<" + draw(_case(name)) + "".join(order) + end


def _srcset(draw: st.DrawFn) -> str:
    items = draw(st.lists(urls, min_size=1, max_size=3))
    return ", ".join(f"{u.strip() or '/e.png'} {i + 1}x" for i, u in enumerate(items))


@st.composite
def fetcher(draw: st.DrawFn) -> str:
    """One element that fetches, with a URL in one of its fetching attributes."""
    u = draw(urls)
    kind = draw(st.integers(0, 24))
    if kind == 0:
        return draw(tag("img", [("src", u)]))
    if kind == 1:
        return draw(tag("img", [("srcset", _srcset(draw))]))
    if kind == 2:
        return draw(tag("iframe", [("src", u)], close=True)) + "</iframe>"
    if kind == 3:
        return draw(tag("script", [("src", u)], close=True)) + "</script>"
    if kind == 4:
        rel = draw(
            st.sampled_from(
                ["stylesheet", "preconnect", "dns-prefetch", "preload", "icon", "canonical", "alternate"]
            )
        )
        return draw(tag("link", [("rel", rel), ("href", u)]))
    if kind == 5:
        return draw(tag("video", [("src", u), ("poster", draw(urls))], close=True)) + "</video>"
    if kind == 6:
        return draw(tag("video", [], close=True)) + draw(tag("source", [("src", u)])) + "</video>"
    if kind == 7:
        return draw(tag("audio", [("src", u)], close=True)) + "</audio>"
    if kind == 8:
        return draw(tag("object", [("data", u)], close=True)) + "</object>"
    if kind == 9:
        return draw(tag("embed", [("src", u)]))
    if kind == 10:
        return draw(tag("input", [("type", "image"), ("src", u)]))
    if kind == 11:
        css = draw(
            st.sampled_from(
                [
                    "background:url({u})",
                    "background-image: url('{u}')",
                    'b:image-set("{u}" 1x)',
                    "b:u\\72l({u})",
                ]
            )
        )
        return draw(tag("div", [("style", css.format(u=u.strip()))], close=True)) + "x</div>"
    if kind == 12:
        css = draw(
            st.sampled_from(
                [
                    "@import url({u});",
                    '@import "{u}";',
                    "a{{background:url({u})}}",
                    "/* x */ a{{b:URL( {u} )}}",
                ]
            )
        )
        return draw(tag("style", [], close=True)) + css.format(u=u.strip()) + "</style>"
    if kind == 13:
        return draw(tag("meta", [("http-equiv", "refresh"), ("content", f"0; url={u.strip()}")]))
    if kind == 14:
        return (
            draw(tag("picture", [], close=True))
            + draw(tag("source", [("srcset", _srcset(draw))]))
            + "<img src=/x.png></picture>"
        )
    if kind == 15:
        return draw(tag("table", [("background", u)], close=True)) + "<tr><td>x</td></tr></table>"
    if kind == 16:
        attr = draw(st.sampled_from(["href", "xlink:href"]))
        el = draw(st.sampled_from(["image", "use", "feImage"]))
        return "<svg>" + draw(tag(el, [(attr, u)])) + "</svg>"
    if kind == 17:
        return "<noscript>" + draw(tag("img", [("src", u)])) + "</noscript>"
    if kind == 18:
        return "<template>" + draw(tag("img", [("src", u)])) + "</template>"
    if kind == 19:
        sig = draw(
            st.sampled_from(
                ["gtag('config', 'G-1');", "fbq('init', '1');", "var x = 1;", "twttr.widgets.load();"]
            )
        )
        return draw(tag("script", [], close=True)) + sig + "</script>"
    if kind == 20:
        return (
            draw(tag("iframe", [("srcdoc", f"<img src=&quot;{u.strip()}&quot;>")], close=True)) + "</iframe>"
        )
    if kind == 21:
        return draw(tag("frameset", [], close=True)) + draw(tag("frame", [("src", u)])) + "</frameset>"
    if kind == 22:
        return draw(tag("track", [("src", u)]))
    if kind == 23:
        return draw(tag("img", [("src", "/first.png"), ("src", u)]))
    return draw(tag("link", [("rel", "preload"), ("imagesrcset", _srcset(draw))]))


_RAW = st.sampled_from(["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"])
_COMMENTS = [
    "<!-- {x} -->", "<!--{x}--!>", "<!-->{x}", "<!--->{x}", "<!---->{x}", "<!{x}>", "<?{x}?>",
    "</ {x}>", "<![CDATA[{x}]]>", "<!-- -- {x} -- -->",
]  # fmt: skip


@st.composite
def wrapper(draw: st.DrawFn, inner: str) -> str:
    """Something around a fragment that changes how it is read."""
    kind = draw(st.integers(0, 24))
    if kind == 0:
        return draw(st.sampled_from(_COMMENTS)).format(x=inner)
    if kind == 1:
        raw = draw(_RAW)
        end = draw(st.sampled_from([f"</{raw}>", f"</{raw.upper()} >", f"</{raw}/>", f"</{raw}x>"]))
        return f"<{raw}>{inner}{end}"
    if kind == 2:
        return "<script><!--<script>" + inner + "</script>-->" + draw(st.sampled_from(["</script>", ""]))
    if kind == 3:
        return "<svg>" + inner + "</svg>"
    if kind == 4:
        return "<svg><foreignObject>" + inner + "</foreignObject></svg>"
    if kind == 5:
        return "<svg><desc>" + inner + "</desc><title>" + inner + "</title></svg>"
    if kind == 6:
        return (
            "<math><mi>"
            + inner
            + "</mi><annotation-xml encoding=text/html>"
            + inner
            + "</annotation-xml></math>"
        )
    if kind == 7:
        return "<math>" + inner + "</math>"
    if kind == 8:
        return "<template>" + inner + "</template>"
    if kind == 9:
        return "<noscript>" + inner + "</noscript>"
    if kind == 10:
        return "<select><option>" + inner + "</select>"
    if kind == 11:
        return "<table><tr><td>" + inner + "</td></tr></table>"
    if kind == 12:
        return f'<div title="{draw(_junk_values)}">' + inner + "</div>"
    if kind == 13:
        return "<svg><style>" + inner + "</style></svg>"
    if kind == 14:
        return "<svg><script>" + inner + "</script></svg>"
    if kind == 15:
        return "<svg><![CDATA[" + inner + "]]></svg>"
    if kind == 16:
        return "<p>" + inner  # unclosed
    if kind == 17:
        return f'<noscript><p title="</noscript>{inner}"></p></noscript>'
    if kind == 18:
        raw = draw(
            st.sampled_from(
                ["xmp", "style", "iframe", "noembed", "noframes", "noscript", "textarea", "plaintext"]
            )
        )
        return f"<select><{raw}>" + draw(st.sampled_from(["</select>", ""])) + inner + f"</{raw}>"
    if kind == 19:
        closer = draw(st.sampled_from(["</p>", "</br>", "</div>", "</span>", "</x-y>", "</a>", "</table>"]))
        raw = draw(st.sampled_from(["style", "script", "xmp", "title"]))
        return f"<svg><g>{closer}<{raw}>{inner}</{raw}></g></svg>"
    if kind == 20:
        return "<div><svg></div><style>" + inner + "</style>"
    if kind == 21:
        html_open = draw(st.sampled_from(["<div>", "<p>", "<span>", "<p><div>", ""]))
        point = draw(st.sampled_from(["foreignObject", "desc", "title"]))
        closer = draw(st.sampled_from([f"</{point}>", "</svg>", "</div>", "</p>", ""]))
        return f"<svg><{point}>{html_open}{closer}<style>" + inner + "</style></svg>"
    if kind == 22:
        font = draw(st.sampled_from(["<font>", "<font color=red>", "<FONT SIZE=2>"]))
        return f"<svg>{font}<style>" + inner + "</style></svg>"
    if kind == 23:
        return (
            "<math><mtext><style>"
            + inner
            + "</style></mtext><mglyph><style>"
            + inner
            + "</style></mglyph></math>"
        )
    return (
        f"<svg><desc><p>{inner}<svg><g><img src=/x.png></g></svg></desc>"
        f"<title><style>{inner}</style></title></svg>"
    )


@st.composite
def fragments(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        choice = draw(st.integers(0, 5 if depth < 3 else 2))
        if choice <= 1:
            parts.append(draw(fetcher()))
        elif choice == 2:
            parts.append(
                draw(
                    st.sampled_from(
                        [
                            "text ",
                            "a < b ",
                            "&lt;img&gt; ",
                            "x > y ",
                            "<br>",
                            "</p>",
                            "<p>",
                            "</div>",
                            "<b>",
                            "</svg>",
                            "</math>",
                            "</noscript>",
                            "</template>",
                            "</select>",
                            "<",
                        ]
                    )
                )
            )
        else:
            parts.append(draw(wrapper(draw(fragments(depth + 1)))))
    return "".join(parts)


@st.composite
def documents(draw: st.DrawFn) -> str:
    body = draw(fragments())
    base = draw(
        st.sampled_from(["", "", "", '<base href="/x/">', '<base href="https://cdn.stranger.example/">'])
    )
    shape = draw(st.integers(0, 3))
    if shape == 0:
        return (
            f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">{base}<title>t</title></head>'
            f"<body>{body}</body></html>"
        )
    if shape == 1:
        return f"<!doctype html>{base}{body}"
    if shape == 2:
        return body
    return f"<HTML><HEAD>{base}</HEAD><BODY>{body}"
