"""Response body, step 2: make third-party markup inert, put placeholders before embeds, inject the snippets.

The page is never re-serialized. One regular expression, written to follow the HTML tokenizer's states
(tags, quoted attribute values, comments, bogus comments, CDATA in SVG/MathML), walks the page and stops
only at the tags that can matter; raw-text elements (script, style, textarea, title, ...) are skipped the
way the tokenizer skips them. Every change is an insertion (a `data-gk-` prefix before an attribute name,
new attributes right after the tag name, a placeholder before an embed, the snippets), so the output
outside the rewritten elements is the input, byte for byte, and a second pass finds nothing left to do.
"""

from __future__ import annotations

import bisect
import collections
import html.entities
import itertools
import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote, urljoin, urlsplit

from .psl import normalize_host
from .registry import Placeholder, Registry, Service, undeclared_service

__all__ = [
    "Blocked",
    "Embed",
    "PageContext",
    "Plan",
    "Rewritten",
    "TooMuchWork",
    "css_urls",
    "decode_attribute",
    "inert_refreshes",
    "plan",
    "preload_imports",
    "refresh_leaves",
    "rewrite",
]


@dataclass(frozen=True, slots=True)
class Embed:
    """An element that gets a two-click placeholder."""

    index: int  # ordinal among placeholder-getting embeds on the page, document order, 0-based
    tag: str
    url: str
    width: str | None
    height: str | None
    services: tuple[Service, ...]
    share: bool = False  # a script-drawn share button: `url` is the page it shares


@dataclass(frozen=True, slots=True)
class Blocked:
    """One element made inert (or, in `Rewritten.reported`, let through in report mode)."""

    kind: str  # the element ("script", "img", ...), "inline-script", "style-attr", "meta-refresh"...
    url: str  # what it would have loaded (absolute when it could be resolved)
    services: tuple[str, ...]  # the service ids it waits for; () for an undeclared third party
    reason: str


@dataclass(frozen=True, slots=True)
class Rewritten:
    html: str
    blocked: tuple[Blocked, ...] = ()
    reported: tuple[Blocked, ...] = ()  # undeclared third parties let through (report mode)
    embeds: tuple[Embed, ...] = ()
    error: str | None = None  # set when rewriting failed and `html` is the input unchanged


@dataclass(frozen=True)
class PageContext:
    registry: Registry
    granted: frozenset[str]  # service ids granted for this response
    page_url: str  # absolute URL of the page
    once: frozenset[int] = frozenset()  # embed indexes to leave live on this load
    snippets: Callable[[str | None], tuple[str, str]] | None = None  # <html lang> -> (head, body)
    placeholder: Callable[[Embed, str | None], str] | None = None  # embed, <html lang> -> HTML
    cache_key: Hashable = None  # everything besides the HTML the output depends on; None: no cache


# ---------------------------------------------------------------------------------------------
# The scanner. Every pattern is possessive: the tokenizer never backtracks, nor do we. One regular
# expression skips text, comments and every tag that cannot matter (the exact attribute grammar, so a
# ">" or "<" in a quoted value never ends or starts anything) and stops at the next tag that can.

_VALUE: Final = r"""(?:"[^"]*+"|'[^']*+'|[^\t\n\f\r >"'][^\t\n\f\r >]*+|(?=>))"""


def _attrs(guard: str = "", value: str = _VALUE, quoted: str = r'"[^"]*+"') -> str:
    # One attribute per iteration: separators, a name, and "=" with a value (the common `="..."`
    # first). After "=" a value must follow: one the caller's pattern refuses fails the tag (as does a
    # quoted value left open to the end of the page, which the tokenizer drops).
    return (
        r"(?:[\t\n\f\r /]*+" + guard + r"[^\t\n\f\r />][^\t\n\f\r />=]*+"
        r"(?:=" + quoted + r"|[\t\n\f\r ]*+=[\t\n\f\r ]*+" + value + r"|(?![\t\n\f\r ]*+=)))*+[\t\n\f\r /]*+"
    )


def _alternation(words: Iterable[str], fold: bool = True, space: str = " ", gap: str = "") -> str:
    """Words as one alternation factored on common prefixes, ASCII letters in both cases: `re` tries
    far fewer branches than with a plain alternation, and [xX] is much cheaper than IGNORECASE."""
    groups: dict[str, list[str]] = {}
    empty = False
    for w in words:
        if w:
            groups.setdefault(w[0], []).append(w[1:])
        else:
            empty = True

    def char(c: str) -> str:
        if c == " ":
            return space
        return f"[{c.lower()}{c.upper()}]" if fold and c.isascii() and c.isalpha() else re.escape(c) + gap

    parts = [char(c) + _alternation(rest, fold, space, gap) for c, rest in sorted(groups.items())]
    if not parts:
        return ""
    alt = "(?:" + "|".join(parts) + ")" if len(parts) > 1 else parts[0]
    return "(?:" + alt + ")?" if empty else alt


_TAG_NAME: Final = r"[a-zA-Z][^\t\n\f\r />]*+"
_COMMENT: Final = r"<!--(?:>|->|(?s:.*?)--!?>)"
_BOGUS: Final = r"<\?[^>]*+>|</(?![a-zA-Z])[^>]*+>"
# groups: 1 the tag, 2 "/" of an end tag, 3 the name, 4 the attributes, 5 the end of the markup
_TOKEN: Final = r"(?:(<(/)?(" + _TAG_NAME + r")(" + _attrs() + r")>)|(<|\Z))"
_NAME_END: Final = r"[\t\n\f\r />]"

# Attributes that can fetch on any element: a boring tag has none of them.
_GENERIC_ATTRS: Final = ("style", "background", "attributionsrc")
# A style attribute only fetches through url(), image-set(), src() (or escapes and references that
# could spell them): one without any of these keeps its tag boring.
_STYLE_SAFE: Final = r"(?:[^(\\&QUOTE]++|(?<![uU][rR][lL])(?<![sS][eE][tT])(?<![sS][rR][cC])\()*+"
_SAFE_STYLE_VALUE: Final = (
    '"' + _STYLE_SAFE.replace("QUOTE", '"') + '"|\'' + _STYLE_SAFE.replace("QUOTE", "'") + "'|"
    + _STYLE_SAFE.replace("QUOTE", r"\t\n\f\r >\"'") + r"(?=[\t\n\f\r >])"
)  # fmt: skip
_GUARD: Final = r"(?!(?=[sSbBaA])" + _alternation(_GENERIC_ATTRS) + r"[\t\n\f\r />=])"
# The attributes of a boring HTML tag: a style attribute is read once, with its value checked as it
# goes; no other attribute may be one that fetches on any element.
_BORING_ATTRS: Final = (
    r"(?:[\t\n\f\r /]*+(?:[sS][tT][yY][lL][eE](?=[\t\n\f\r />=])(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"
    + _SAFE_STYLE_VALUE
    + r")|(?![\t\n\f\r ]*+=))|"
    + _GUARD
    + r"[^\t\n\f\r />][^\t\n\f\r />=]*+"
    r'(?:="[^"]*+"|[\t\n\f\r ]*+=[\t\n\f\r ]*+' + _VALUE + r"|(?![\t\n\f\r ]*+=))))*+[\t\n\f\r /]*+"
)

_RAW_TEXT: Final = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"})
_FETCHERS: Final = frozenset(
    {"img", "image", "iframe", "frame", "script", "link", "source", "video", "audio", "track",
     "object", "embed", "input", "meta"}
)  # fmt: skip
_STRUCTURE: Final = frozenset(
    {"noscript", "template", "svg", "math", "base", "head", "html", "plaintext", "select", "keygen"}
)
_SELECT_IGNORES: Final = frozenset(
    {"xmp", "style", "iframe", "noembed", "noframes", "noscript", "plaintext", "svg", "math", "title"}
)
_HTML_STARTS: Final = _RAW_TEXT | _FETCHERS | _STRUCTURE
_HTML_ENDS: Final = frozenset({"body", "template", "noscript", "video", "audio", "select"})
_WIDGET_TAGS: Final = frozenset({"blockquote", "a", "div"})
_WIDGET_CLASS: Final = (
    r"twitter-(?:tweet|timeline|video|share-button)|instagram-media|tiktok-embed|fb-(?:post|page|video|share-button)"
    r"|line-it-button|hatena-bookmark-button|data-pin-do"
)
_WIDGET_TAIL: Final = r"(?:t(?:weet|imeline)|video|media|embed|p(?:ost|age)|button|do)"
# a cheap first look for the class names above (a literal first character makes `re` fast)
_WIDGET_RE_CLASS: Final = re.compile(_WIDGET_CLASS)
_WIDGET_HINT: Final = re.compile("-" + _WIDGET_TAIL)


# Only a tag whose name is in lower case can be boring: a lower-case alternation is much cheaper for
# `re` than a case-folded one, and the rare upper-case tag is looked at in Python.
_LOWER_NAME: Final = r"[a-z][^\t\n\f\r />A-Z]*+(?=[\t\n\f\r />])"


# Foreign content (SVG, MathML): the tree builder's rules, the part the tokenizer depends on.
_BREAKOUT: Final = frozenset(
    {"b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em", "embed",
     "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing", "menu", "meta",
     "nobr", "ol", "p", "pre", "ruby", "s", "small", "span", "strong", "strike", "sub", "sup", "table",
     "tt", "u", "ul", "var"}
)  # fmt: skip
_HTML_CLOSERS: Final = frozenset(
    {"a", "address", "article", "aside", "b", "blockquote", "body", "button", "center", "dd", "details",
     "dialog", "div", "dl", "dt", "em", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
     "h3", "h4", "h5", "h6", "header", "html", "i", "label", "li", "main", "nav", "ol", "pre", "section",
     "small", "span", "strong", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
     "ul"}
)  # fmt: skip
_SVG_FETCH: Final = frozenset({"image", "use", "feimage", "script"})
_FOREIGN_NAMES: Final = _BREAKOUT | _SVG_FETCH | frozenset(
    {"font", "svg", "math", "foreignobject", "desc", "title", "annotation-xml", "mi", "mo", "mn", "ms",
     "mtext", "mglyph", "malignmark", "style", "set", "animate"}
)  # fmt: skip
_FOREIGN_GUARD: Final = (
    r"(?!" + _alternation((*_GENERIC_ATTRS, "href", "xlink:href", "src")) + r"[\t\n\f\r />=])"
)
# in SVG any attribute can hold url(...): a value with "url(" or a character reference is looked at
_NO_URL: Final = r"[uU](?![rR][lL]\()"
_FOREIGN_VALUE: Final = (
    r"""(?:"(?:[^"uU&]++|""" + _NO_URL + r""")*+"|'(?:[^'uU&]++|""" + _NO_URL + r""")*+'"""
    r"""|(?:[^\t\n\f\r >"'uU&]|"""
    + _NO_URL
    + r""")(?:[^\t\n\f\r >uU&]++|"""
    + _NO_URL
    + r""")*+(?=[\t\n\f\r >])"""
    r"""|(?=>))"""
)
_FOREIGN_QUOTED: Final = r'"(?:[^"uU&]++|' + _NO_URL + r')*+"'
# End tags skipped in foreign content: SVG and MathML element names only. Any other name may close an
# HTML element open around the SVG (and the SVG with it): those are looked at.
_FOREIGN_ONLY: Final = frozenset(
    {"animatemotion", "animatetransform", "circle", "clippath", "defs", "ellipse", "feblend",
     "fecolormatrix", "fecomponenttransfer", "fecomposite", "feconvolvematrix", "fediffuselighting",
     "fedisplacementmap", "fedropshadow", "feflood", "fefunca", "fefuncb", "fefuncg", "fefuncr",
     "fegaussianblur", "femerge", "femergenode", "femorphology", "feoffset", "fepointlight",
     "fespecularlighting", "fespotlight", "fetile", "feturbulence", "filter", "g", "line",
     "lineargradient", "marker", "mask", "metadata", "mpath", "path", "pattern", "polygon", "polyline",
     "radialgradient", "rect", "stop", "switch", "symbol", "text", "textpath", "tspan", "view",
     "mrow", "mfrac", "msqrt", "mroot", "msub", "msup", "msubsup", "munder", "mover", "munderover",
     "mtable", "mtr", "mtd", "mspace", "mstyle", "mpadded", "mphantom", "semantics", "annotation",
     "menclose", "mmultiscripts", "mprescripts", "none", "merror"}
)  # fmt: skip
_SKIP_FOREIGN: Final = (  # start and end tags of SVG/MathML names alike: skipped, or both looked at
    r"(?:[^<]*+(?:<(?=" + _alternation(_FOREIGN_ONLY) + _NAME_END + ")" + _TAG_NAME
    + _attrs(_FOREIGN_GUARD, _FOREIGN_VALUE, _FOREIGN_QUOTED) + ">"
    + r"|</(?=" + _alternation(_FOREIGN_ONLY) + _NAME_END + ")"
    + _TAG_NAME + _attrs() + ">|" + _COMMENT + r"|<!\[CDATA\[(?s:.*?)\]\]>|<!(?!--|\[CDATA\[)[^>]*+>|"
    + _BOGUS + r"|<(?![a-zA-Z!/?])))*+[^<]*+"
)  # fmt: skip
# A boring <svg> (icons): only SVG tags that change nothing and fetch nothing, and no tag that would
# change the tokenizer's state if the <svg> were ignored (as older parsers do inside <select>).
_QUIET_SVG: Final = (
    r"<[sS][vV][gG](?=[\t\n\f\r />])" + _attrs(_FOREIGN_GUARD, _FOREIGN_VALUE, _FOREIGN_QUOTED) + ">"
    r"(?:[^<]*+(?:<(?!" + _alternation(_FOREIGN_NAMES | _HTML_STARTS | {"textarea", "input", "keygen"})
    + _NAME_END + ")" + _TAG_NAME + _attrs(_FOREIGN_GUARD, _FOREIGN_VALUE, _FOREIGN_QUOTED) + ">"
    + r"|</(?!" + _alternation(_FOREIGN_NAMES | _HTML_CLOSERS | {"p", "br"}) + _NAME_END + ")"
    + _TAG_NAME + _attrs() + ">|" + _COMMENT + r"|<!(?!--|\[CDATA\[)[^>]*+>|" + _BOGUS
    + r"|<(?![a-zA-Z!/?])))*+[^<]*+</[sS][vV][gG](?=[\t\n\f\r />])" + _attrs() + ">"
)  # fmt: skip
# A fetching tag whose every value stays on the site (no scheme, no "//", no escapes): boring too,
# as long as the base URL is the site's.
_LOCAL_CHARS: Final = r"(?:[^QUOTE:\\&/]++|/(?![\t\n\r]*+[/\\]))*+"
_LOCAL_VALUE: Final = (
    '(?:"' + _LOCAL_CHARS.replace("QUOTE", '"') + '"|\'' + _LOCAL_CHARS.replace("QUOTE", "'") + "'|"
    + r"(?:[^\t\n\f\r >\"':\\&/]|/(?![\t\n\r]*+[/\\]))" + _LOCAL_CHARS.replace("QUOTE", r"\t\n\f\r >")
    + r"(?=[\t\n\f\r >])|(?=>))"
)  # fmt: skip
_LOCAL_FETCH: Final = (
    "<" + _alternation(("img", "source", "link", "meta", "input"), fold=False) + "(?=[\t\n\f\r />])"
    + _attrs(_GUARD, _LOCAL_VALUE, _LOCAL_VALUE) + ">"
)  # fmt: skip
_POINT_SKIP: Final = (  # inside an integration point every tag is looked at
    r"(?:[^<]*+(?:" + _COMMENT + r"|<!\[CDATA\[(?s:.*?)\]\]>|<!(?!--|\[CDATA\[)[^>]*+>|" + _BOGUS
    + r"|<(?![a-zA-Z!/?])))*+[^<]*+"
)  # fmt: skip
_NESTED_SKIP: Final = (  # inside an HTML element inside foreign content: every tag, no CDATA
    r"(?:[^<]*+(?:" + _COMMENT + r"|<!(?!--)[^>]*+>|" + _BOGUS + r"|<(?![a-zA-Z!/?])))*+[^<]*+"
)
# kinds of frames on the stack of open foreign content: an SVG/MathML element, an HTML integration
# point (foreignObject, desc, title, annotation-xml for HTML), a MathML text integration point (mi,
# mo, mn, ms, mtext), and an HTML element opened inside one of those
_FOREIGN, _HTML_POINT, _TEXT_POINT, _HTML_ELEMENT = 0, 1, 2, 3


def _skip_html(local: bool) -> str:
    starts = _alternation(_HTML_STARTS, fold=False) + _NAME_END
    boring_start = r"<(?!" + starts + r")" + _LOWER_NAME + _BORING_ATTRS + ">"
    ends = _alternation(_HTML_ENDS, fold=False) + _NAME_END
    boring_end = r"</(?!" + ends + r")" + _LOWER_NAME + _attrs() + ">"
    return (
        r"(?:[^<]*+(?:" + boring_start + "|" + boring_end + "|" + _COMMENT + "|" + _QUIET_SVG
        + ("|" + _LOCAL_FETCH if local else "")
        + r"|<!(?!--)[^>]*+>|" + _BOGUS + r"|<(?![a-zA-Z!/?])))*+[^<]*+"
    )  # fmt: skip


_CLOSES_P: Final = frozenset(
    {"address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl",
     "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
     "hgroup", "hr", "main", "menu", "nav", "ol", "p", "pre", "listing", "search", "section", "summary",
     "table", "ul"}
)  # fmt: skip
_VOID: Final = frozenset(
    {"area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img", "input",
     "keygen", "link", "meta", "param", "source", "track", "wbr", "html", "head", "body", "frameset"}
)  # fmt: skip

_FLAGS: Final = re.ASCII | re.IGNORECASE
_HTML_RE: Final = re.compile(_skip_html(True) + _TOKEN, re.ASCII)
_HTML_RE_BASE: Final = re.compile(_skip_html(False) + _TOKEN, re.ASCII)  # under a third-party <base>
_TOKEN_RE: Final = re.compile(_TOKEN, re.ASCII)
_TAG_OPEN: Final = re.compile(r"<[a-zA-Z]")
_WIDGET_TAG_AT: Final = re.compile(
    r"<(?:[aA]|[dD][iI][vV]|[bB][lL][oO][cC][kK][qQ][uU][oO][tT][eE])[\t\n\f\r /]"
)
_FOREIGN_RE: Final = re.compile(_SKIP_FOREIGN + _TOKEN, re.ASCII)
_POINT_RE: Final = re.compile(_POINT_SKIP + _TOKEN, re.ASCII)
_NESTED_RE: Final = re.compile(_NESTED_SKIP + _TOKEN, re.ASCII)
_ATTR_RE: Final = re.compile(
    r"[\t\n\f\r /]*+([^\t\n\f\r />][^\t\n\f\r />=]*+)(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+"
    r"""(?:"([^"]*+)"|'([^']*+)'|([^\t\n\f\r >"'][^\t\n\f\r >]*+)|(?=>)))?+""",
    re.ASCII,
)
_END_TAG_REST: Final = re.compile(r"[^\t\n\f\r />]*+" + _attrs() + ">", _FLAGS)
_RAW_END: dict[str, re.Pattern[str]] = {
    name: re.compile(r"</" + name + r"[\t\n\f\r />]", _FLAGS)
    for name in (*_RAW_TEXT, "noscript", "video", "audio")
}
_SCRIPT_STATES: Final = re.compile(r"<!--|</script[\t\n\f\r />]", _FLAGS)
_SCRIPT_ESCAPED: Final = re.compile(r"-->|</script[\t\n\f\r />]|<script[\t\n\f\r />]", _FLAGS)
_SCRIPT_DOUBLE: Final = re.compile(r"-->|</script[\t\n\f\r />]", _FLAGS)
_DOCTYPE: Final = re.compile(r"\ufeff?(?:[\t\n\f\r ]++|<!--(?s:.*?)-->)*+<!doctype[^>]*+>", _FLAGS)
# A tag none of whose URLs can leave the site (when the base is the site's): nothing to look at.
_MAYBE_EXTERNAL: Final = re.compile(r"[:\\&]|/[\t\n\r]*+[/\\]")

_LINK_FETCH_RELS: Final = frozenset(
    {"stylesheet", "icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon",
     "preload", "prefetch", "modulepreload", "preconnect", "dns-prefetch", "prerender", "manifest",
     "search", "compression-dictionary", "import", "fluid-icon"}
)  # fmt: skip
_JS_TYPES: Final = frozenset(
    {"", "module", "text/javascript", "application/javascript", "application/ecmascript",
     "application/x-ecmascript", "application/x-javascript", "text/ecmascript", "text/javascript1.0",
     "text/javascript1.1", "text/javascript1.2", "text/javascript1.3", "text/javascript1.4",
     "text/javascript1.5", "text/jscript", "text/livescript", "text/x-ecmascript", "text/x-javascript"}
)  # fmt: skip
_EMBED_TAGS: Final = frozenset({"iframe", "frame", "object", "embed", "video", "audio"})
_PLACEHOLDER_KINDS: Final = frozenset({Placeholder.VIDEO, Placeholder.MAP, Placeholder.POST})
# Script-driven post widgets: the class names vendors' embed codes use, and where the widget loads from.
_WIDGETS: Final = {
    "twitter-tweet": "https://platform.twitter.com/widgets.js",
    "twitter-timeline": "https://platform.twitter.com/widgets.js",
    "twitter-video": "https://platform.twitter.com/widgets.js",
    "instagram-media": "https://www.instagram.com/embed.js",
    "tiktok-embed": "https://www.tiktok.com/embed.js",
    "fb-post": "https://connect.facebook.net/sdk.js",
    "fb-page": "https://connect.facebook.net/sdk.js",
    "fb-video": "https://connect.facebook.net/sdk.js",
}
_WIDGET_URL_ATTRS: Final = ("cite", "data-instgrm-permalink", "data-href", "href")
# Script-drawn share buttons: a share link to the network stands in for them (the page they share:
# their data-url or data-href, else the page itself). Pinterest's is marked by data-pin-do instead.
_SHARE_WIDGETS: Final = {
    "twitter-share-button": "https://platform.twitter.com/widgets.js",
    "fb-share-button": "https://connect.facebook.net/sdk.js",
    "line-it-button": "https://www.line-website.com/social-plugins/js/thirdparty/loader.min.js",
    "hatena-bookmark-button": "https://b.st-hatena.com/js/bookmark_button.js",
    "data-pin-do=button": "https://assets.pinterest.com/js/pinit.js",
}
_SHARE_URL_ATTRS: Final = ("data-url", "data-href")


# ---------------------------------------------------------------------------------------------
# Values: character references, URLs, srcset, CSS


_CHARREF: Final = re.compile(r"&(?:#[xX]([0-9a-fA-F]++);?|#([0-9]++);?|([a-zA-Z][a-zA-Z0-9]*+)(;?))")
_ENTITIES: Final = html.entities.html5
_C1: Final = {  # numeric references to C1 controls mean windows-1252 (the tokenizer's table)
    0x80: "\u20ac", 0x82: "\u201a", 0x83: "\u0192", 0x84: "\u201e", 0x85: "\u2026", 0x86: "\u2020",
    0x87: "\u2021", 0x88: "\u02c6", 0x89: "\u2030", 0x8A: "\u0160", 0x8B: "\u2039", 0x8C: "\u0152",
    0x8E: "\u017d", 0x91: "\u2018", 0x92: "\u2019", 0x93: "\u201c", 0x94: "\u201d", 0x95: "\u2022",
    0x96: "\u2013", 0x97: "\u2014", 0x98: "\u02dc", 0x99: "\u2122", 0x9A: "\u0161", 0x9B: "\u203a",
    0x9C: "\u0153", 0x9E: "\u017e", 0x9F: "\u0178",
}  # fmt: skip


def _charref(m: re.Match[str], in_attribute: bool) -> str:
    hexa, dec, name, semi = m.group(1, 2, 3, 4)
    if name is None:
        try:
            code = int(hexa, 16) if hexa is not None else int(dec)
        except ValueError:
            code = 0x110000
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return "\ufffd"
        return _C1.get(code) or chr(code)
    if semi and name + ";" in _ENTITIES:
        return _ENTITIES[name + ";"]
    if not semi and name in _ENTITIES:  # a legacy reference without ";"
        nxt = m.string[m.end() : m.end() + 1]
        if not (in_attribute and nxt == "="):
            return _ENTITIES[name]
    if not in_attribute:  # in text, the longest legacy prefix is decoded
        for i in range(min(len(name), 32), 1, -1):
            if name[:i] in _ENTITIES:
                return _ENTITIES[name[:i]] + name[i:] + semi
    return m.group(0)


def decode_attribute(value: str) -> str:
    """An attribute value as the tokenizer decodes it."""
    if "&" not in value:
        return value
    return _CHARREF.sub(lambda m: _charref(m, True), value)


def _decode_text(value: str) -> str:
    if "&" not in value:
        return value
    return _CHARREF.sub(lambda m: _charref(m, False), value)


_SCHEME: Final = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*+):")
_SPECIAL: Final = frozenset({"http", "https", "ws", "wss", "ftp"})
_STRIP: Final = "".join(map(chr, range(0x21)))
_TAB_NL: Final = str.maketrans("", "", "\t\n\r")


def _target(raw: str, base_scheme: str) -> tuple[str, str] | None:
    """(host, path) a URL loads from as the URL parser sees it; host "" for a URL relative to the base;
    None for one that makes no request (data:, javascript:, a fragment, an invalid host)."""
    url = raw.strip(_STRIP)
    if "\t" in url or "\n" in url or "\r" in url:
        url = url.translate(_TAB_NL)
    if not url:
        return None
    if url[0] == "#":
        return ("", url)  # the base URL itself: nothing to fetch unless the base is elsewhere
    m = _SCHEME.match(url)
    if m is not None:
        scheme = m.group(1).lower()
        rest = url[m.end() :]
        if scheme not in _SPECIAL:
            return None  # data:, blob:, javascript:, about:, mailto:, file: ... no third-party request
        if scheme == base_scheme and not (rest[:1] in ("/", "\\") and rest[1:2] in ("/", "\\")):
            return ("", rest)  # "https:x" on an https page is relative
        authority = rest.lstrip("/\\")
    elif url[:1] in ("/", "\\") and url[1:2] in ("/", "\\"):
        authority = url.lstrip("/\\")
    else:
        return ("", url)
    cut = len(authority)
    for ch in "/\\?#":
        i = authority.find(ch, 0, cut)
        if i >= 0:
            cut = i
    path = authority[cut:]
    for ch in "?#":
        i = path.find(ch)
        if i >= 0:
            path = path[:i]
    path = path.replace("\\", "/")
    if "." in path or "%2" in path:
        path = _remove_dots(path)
    host = authority[:cut]
    at = host.rfind("@")
    if at >= 0:
        host = host[at + 1 :]
    if host.startswith("["):
        host = host[: host.find("]") + 1] if "]" in host else host
    else:
        host = host.partition(":")[0]
    if "%" in host:
        host = unquote(host)
    if not host:
        return None
    return (host, path or "/")


def _remove_dots(path: str) -> str:
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        low = seg.lower()
        if low in (".", "%2e"):
            if i == len(segments) - 1:
                out.append("")
        elif low in ("..", ".%2e", "%2e.", "%2e%2e"):
            if len(out) > 1:
                out.pop()
            if i == len(segments) - 1:
                out.append("")
        else:
            out.append(seg)
    return "/".join(out) or "/"


def _absolute(raw: str, base: str) -> str:
    key = (raw, base)
    hit = _ABSOLUTE.get(key)
    if hit is None:
        hit = _join(raw, base)
        if len(raw) <= 2048:
            if len(_ABSOLUTE) >= 4096:
                _ABSOLUTE.clear()
            _ABSOLUTE[key] = hit
    return hit


_ABSOLUTE: dict[tuple[str, str], str] = {}


def _join(raw: str, base: str) -> str:
    url = raw.strip(_STRIP).translate(_TAB_NL)
    m = _SCHEME.match(url)
    if (m is None or m.group(1).lower() in _SPECIAL) and "\\" in url:
        url = url.replace("\\", "/")
    try:
        return urljoin(base, url)
    except ValueError:
        return url


def _srcset_urls(value: str) -> list[str]:
    urls: list[str] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i] in " \t\n\r\f,":
            i += 1
        if i >= n:
            break
        j = i
        while j < n and value[j] not in " \t\n\r\f":
            j += 1
        url = value[i:j]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            depth = 0
            while j < n:
                c = value[j]
                if c == "(":
                    depth += 1
                elif c == ")":
                    depth = max(0, depth - 1)
                elif c == "," and depth == 0:
                    break
                j += 1
        if url:
            urls.append(url)
        i = j + 1
    return urls


def _css_may_fetch(css: str) -> bool:
    low = css.lower()  # a few substring searches beat one regex with no literal prefix, tenfold
    return "url(" in low or "@import" in low or "image-set" in low or "src(" in low or "\\" in css


_CSS_ESCAPE: Final = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(\n)|(.))", re.S)
_CSS_TOKEN: Final = re.compile(
    r"""(/\*(?s:.*?)(?:\*/|\Z))"""
    r"""|("(?:[^"\\\n]|\\.)*+(?:"|(?=\n)|\Z)|'(?:[^'\\\n]|\\.)*+(?:'|(?=\n)|\Z))"""
    r"""|url\([\t\n\f\r ]*+(?:("(?:[^"\\]|\\.)*+"?|'(?:[^'\\]|\\.)*+'?)|([^)]*+))"""
    r"""|(@import)|((?:-webkit-)?image-set\(|src\()|(\))|(\()""",
    _FLAGS | re.S,
)


def _css_unescape(m: re.Match[str]) -> str:
    hexa, newline, char = m.group(1, 2, 3)
    if hexa is not None:
        code = int(hexa, 16)
        return "\ufffd" if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF else chr(code)
    return "" if newline is not None else char


def _css_string(token: str) -> str:
    body = token[1:]
    if body[-1:] == token[0]:
        body = body[:-1]
    return body


def css_urls(css: str) -> list[str]:
    """Every URL a style sheet (or a style attribute) would load: url(), @import, image-set()."""
    if not _css_may_fetch(css):
        return []
    if "\\" in css:
        css = _CSS_ESCAPE.sub(_css_unescape, css)
    urls: list[str] = []
    expect_string = False
    depth = 0
    sets: list[int] = []
    for m in _CSS_TOKEN.finditer(css):
        kind = m.lastindex
        if kind == 1:
            continue
        if kind == 2:
            if expect_string or sets:
                urls.append(_css_string(m.group(2)))
        elif kind == 3:
            urls.append(_css_string(m.group(3)))
        elif kind == 4:
            urls.append(m.group(4).strip(" \t\n\r\f"))
        elif kind == 5:
            expect_string = True
            continue
        elif kind == 6:
            depth += 1
            sets.append(depth)
        elif kind == 7:
            if sets and sets[-1] == depth:
                sets.pop()
            depth = max(0, depth - 1)
        elif kind == 8:
            depth += 1
        expect_string = False
    return urls


_REFRESH: Final = re.compile(
    r"[\t\n\f\r ]*+[0-9.]*+[\t\n\f\r ]*+[;,]?[\t\n\f\r ]*+(?:url[\t\n\f\r ]*+=[\t\n\f\r ]*+)?(.*)",
    _FLAGS | re.S,
)


_HTML_SPACE: Final = " \t\n\r\f"
# A <style> whose text may open with @import rules: what Chromium's preload scanner reads at all.
_PRELOAD_HINT: Final = re.compile(r"[\t\n\r\f ]*+[@/]")
_PRELOAD_STOP: Final = "<!---->"


def preload_imports(css: str) -> list[str]:
    """The URLs Chromium's preload scanner fetches from a <style>'s raw text (see _preload_imports)."""
    return _preload_imports(css, 0, len(css))


def _preload_imports(css: str, i: int, n: int) -> list[str]:
    """The URLs Chromium's preload scanner fetches from a <style>'s raw text before any parser looks
    at it, whatever the element's type or namespace: the @import rules that open the text (among
    spaces, comments and @charset), read its own way (blink's CSSPreloadScanner, state for state: a
    rule name runs to a space, a value to a space, ";" or ")"; no escapes). Anything else ends it."""
    urls: list[str] = []
    state, rule, value = "initial", "", ""
    while i < n:
        c = css[i]
        i += 1
        space = c in _HTML_SPACE
        if state == "initial":
            if c == "@":
                state = "rule-start"
            elif c == "/":
                if css.startswith("*", i, n):
                    close = css.find("*/", i + 1, n)
                    if close < 0:
                        break
                    i = close + 2
                else:
                    i += 1  # the character after a lone "/" is passed over
            elif not space:
                break
        elif state == "rule-start":
            if ("a" <= c <= "z") or ("A" <= c <= "Z"):
                state, rule, value = "rule", c, ""
            else:
                state = "initial"
        elif state == "rule":
            if space:
                state = "after-rule"
            elif c == ";":
                state = "initial"
            else:
                rule += c
        elif state == "after-rule":
            if c == ";":
                state = "initial"
            elif c == "{":
                break
            elif not space:
                state, value = "value", c
        elif state in ("value", "after-value"):
            if state == "value" and space:
                state = "after-value"
                continue
            if state == "value" and c != ";":
                value += c
                if c != ")":
                    continue
            elif state == "after-value" and c != ";":
                if space:
                    continue
                if c == "{":
                    break
                state = "initial"  # a media list: not preloaded
                continue
            if not _preload_rule(rule, value, urls):
                break
            state, rule, value = "initial", "", ""
    if state in ("value", "after-value"):  # the text ends in a rule: Chromium fetches it all the same
        _preload_rule(rule, value, urls)
    return urls


def _preload_rule(rule: str, value: str, urls: list[str]) -> bool:
    """One rule the preload scanner read: an @import's URL into `urls`; False when it stops there."""
    name = _lower(rule)
    if name == "import":
        url = value.strip(_HTML_SPACE)
        if len(url) >= 4 and _lower(url[:4]) == "url(":  # ")" or not: Chromium fetches both ways
            url = url[4 : -1 if url.endswith(")") else None].strip(_HTML_SPACE)
        if len(url) >= 2 and url[0] == url[-1] and url[0] in "'\"":
            url = url[1:-1]
        if url:
            urls.append(url)
        return True
    return name == "charset"


def _refresh_url(content: str) -> str:
    m = _REFRESH.match(content)
    url = m.group(1) if m else ""
    if url[:1] in ('"', "'"):
        end = url.find(url[0], 1)
        url = url[1:end] if end > 0 else url[1:]
    return url


_SIZE_STYLE: dict[str, re.Pattern[str]] = {
    k: re.compile(r"(?:^|[;\s])" + k + r"\s*:\s*([^;]+)", _FLAGS) for k in ("width", "height")
}


_TAG_CUT: Final = re.compile(r"<[a-zA-Z]")
# comments as HTML reads them ("<!-->" and "<!--->" end at once; "--!>" ends one too), and tags
# and CDATA sections, whose content is text whatever it looks like
# (a tag's attributes read as the tokenizer does: a quoted value may hold "<!--" or ">")
_TAGS_IN_TEXT: Final = re.compile(
    r"<!\[CDATA\[((?s:.*?))(?:\]\]>|\Z)|<!--(?:-?>|(?s:.*?)(?:--!?>|\Z))"
    r"|</?" + _TAG_NAME + _attrs() + r">|</?[a-zA-Z][^>]*+>?"
)


def _child_text(markup: str) -> str:
    """The text of an SVG <style> or <script> (markup there): CDATA kept, tags and comments out, so
    "url</x>(" reads "url(" as the style sheet will."""
    return _TAGS_IN_TEXT.sub(lambda m: m.group(1) or "", markup)


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _lower(s: str) -> str:
    # HTML lower-cases ASCII only; a non-ASCII letter that Python folds to ASCII (K, the Kelvin sign)
    # can only make a tag look like one it is not, which over-blocks and is harmless.
    return s.lower()


# ---------------------------------------------------------------------------------------------
# The registry's view, prepared once per registry


# Memo bounds, per registry: entries, and the text a key may hold (so at most ~4096 x 8 KB).
_MEMO_ENTRIES: Final = 4096
_MEMO_TEXT: Final = 8192


class _Prepared:
    """What the rewriter needs of a registry, computed once: signatures, path-sensitive hosts, and a
    memo of host classifications."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.strict = registry.strict
        sigs: dict[str, list[Service]] = {}
        for s in registry.services:
            for sig in s.inline_signatures:
                sigs.setdefault(sig, []).append(s)
        # a space in a signature stands for any whitespace, or none: minified snippets match too; and
        # whitespace may come between any two characters (a template literal keeps a newline that
        # the URL parser then drops)
        self.signatures = {_squeeze(k): tuple(v) for k, v in sigs.items()}
        # case-sensitive and factored on prefixes: no literal prefix, so every character is tried
        sig_re = _alternation(sigs, fold=False, space=r"\s*+", gap=r"\s*+")
        self.signature_re = re.compile(sig_re) if sigs else None
        self.path_hosts = tuple({p.host for s in registry.services for p in s.hosts if p.path})
        self.memo: dict[tuple[str, str, str], tuple[Service, ...] | None] = {}
        self.urls: dict[tuple[str, str, str], tuple[tuple[Service, ...] | None, str]] = {}
        self.tags: dict[tuple[object, ...], _Outcome] = {}

    def classify(self, site_host: str, host: str, path: str) -> tuple[Service, ...] | None:
        """None: first party; (): an undeclared third party; else the services the host belongs to."""
        try:
            name = normalize_host(host)
        except Exception:  # a host no encoder accepts is nobody's: treat it as a stranger
            name = host.lower()
        sensitive = any(name == h or name.endswith("." + h) for h in self.path_hosts)
        key = (site_host, name, path if sensitive else "")
        memo = self.memo
        hit = memo.get(key, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        result: tuple[Service, ...] | None
        if name and self.registry.is_first_party(name, site_host):
            result = None
        else:
            result = self.registry.services_for(name, path) if name else ()
        if len(memo) > 4096:
            memo.clear()
        memo[key] = result
        return result


_PREPARED: dict[int, tuple[Registry, _Prepared]] = {}


def _prepared(registry: Registry) -> _Prepared:
    hit = _PREPARED.get(id(registry))
    if hit is not None and hit[0] is registry:
        return hit[1]
    prep = _Prepared(registry)
    if len(_PREPARED) > 16:
        _PREPARED.clear()
    _PREPARED[id(registry)] = (registry, prep)
    return prep


@dataclass(slots=True)
class _Base:
    url: str
    scheme: str
    host: str
    first_party: bool


@dataclass(slots=True)
class _Need:
    services: list[Service] = field(default_factory=list)
    undeclared: bool = False
    url: str = ""
    kind: str = ""

    def add(self, services: tuple[Service, ...], url: str, kind: str) -> None:
        if not self.url:
            self.url, self.kind = url, kind
        if not services:
            self.undeclared = True
        else:
            s = services[0]  # any one of a URL's services allows it: name the first
            if not any(x is s for x in self.services):
                self.services.append(s)

    def merge(self, other: _Need) -> None:
        for s in other.services:
            self.add((s,), other.url, other.kind)
        self.undeclared = self.undeclared or other.undeclared

    def marker(self) -> str:
        ids = [s.id for s in self.services]
        if self.undeclared:
            ids.append("?")
        return " ".join(ids)


def _undeclared_only(need: _Need) -> bool:
    """An embed from a host no declared service covers: it gets a box naming the host (no buttons)."""
    return need.undeclared and not need.services and need.url.startswith(("https:", "http:"))


class _Attrs:
    """A start tag's attributes; the first of a name is the one browsers use."""

    __slots__ = ("end", "first", "start", "text")

    def __init__(self, text: str, start: int, end: int) -> None:
        first: dict[str, str] = {}  # lower-case name -> raw value
        for name, dq, sq, uq in _ATTR_RE.findall(text, start, end):
            first.setdefault(name.lower(), dq or sq or uq)
        self.first = first
        self.text, self.start, self.end = text, start, end

    def get(self, name: str) -> str | None:
        raw = self.first.get(name)
        return None if raw is None else decode_attribute(raw)

    def positions(self, name: str) -> list[int]:
        """Where every attribute of that name starts (duplicates too: they are all renamed)."""
        return [
            m.start(1)
            for m in _ATTR_RE.finditer(self.text, self.start, self.end)
            if m.group(1).lower() == name
        ]


# ---------------------------------------------------------------------------------------------
# One pass over a document


_MAX_SRCDOC_DEPTH: Final = 4


class TooMuchWork(Exception):
    """A crafted page whose readings would cost more than a few times its length: not rewritten
    (served as an unread page: the CSP protects it)."""


@dataclass(frozen=True, slots=True)
class _Inert:
    """How one tag is made inert, relative to its start: replayed wherever the same tag recurs."""

    blocked: Blocked
    services: tuple[Service, ...]
    undeclared: bool
    marker: str
    text_plain: bool
    hidden: bool  # the tag has `hidden` already
    name_end: int
    renames: tuple[int, ...]


_NOTHING, _INERT, _COUNT = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a tag means, given its text and the pass's grants and base: memoized per registry."""

    kind: int  # _NOTHING, _INERT, or _COUNT (an embed made inert by an earlier pass: keeps its number)
    inert: _Inert | None = None
    # tag, url, width, height, services, share
    embed: tuple[str, str, str | None, str | None, tuple[Service, ...], bool] | None = None
    reported: tuple[Blocked, ...] = ()


_NO_OUTCOME: Final = _Outcome(_NOTHING)
_COUNT_OUTCOME: Final = _Outcome(_COUNT)
_Frame = tuple[str, int, bool]  # an open SVG/MathML element: name, kind, in MathML
# Deeper than this, the stack of open foreign content is not followed: the reading stops there and
# every tag after it is taken for real (the paranoid reading), which keeps each tag's cost bounded.
_MAX_DEPTH: Final = 48


class _Node:
    """A stack of open foreign frames, interned: one object per distinct stack in a page, so the
    state of a reading is compared by identity and kept for every tag at no cost, however deep."""

    __slots__ = ("children", "frame", "parent")

    def __init__(self, frame: _Frame | None, parent: _Node | None) -> None:
        self.frame = frame
        self.parent = parent
        self.children: dict[_Frame, _Node] = {}

    def child(self, frame: _Frame) -> _Node:
        node = self.children.get(frame)
        if node is None:
            node = self.children[frame] = _Node(frame, self)
        return node

    def frames(self) -> list[_Frame]:
        out: list[_Frame] = []
        node: _Node | None = self
        while node is not None and node.frame is not None:
            out.append(node.frame)
            node = node.parent
        out.reverse()
        return out


_State = tuple[_Node, bool]  # what decides how the next token is read: open frames, in <select>


class _Stack:
    """The open foreign frames as a list (read by index), with the interned node of every prefix."""

    __slots__ = ("frames", "nodes")

    def __init__(self, node: _Node) -> None:
        self.frames: list[_Frame] = node.frames()
        nodes: list[_Node] = []
        n: _Node | None = node
        while n is not None:
            nodes.append(n)
            n = n.parent
        nodes.reverse()
        self.nodes = nodes  # nodes[i]: the stack of the first i frames; nodes[0] the empty one

    def __len__(self) -> int:
        return len(self.frames)

    def __bool__(self) -> bool:
        return bool(self.frames)

    def __getitem__(self, i: int) -> _Frame:
        return self.frames[i]

    def node(self, depth: int = -1) -> _Node:
        return self.nodes[depth]

    def append(self, frame: _Frame) -> None:
        self.frames.append(frame)
        self.nodes.append(self.nodes[-1].child(frame))

    def pop(self) -> _Frame:
        self.nodes.pop()
        return self.frames.pop()

    def cut(self, depth: int) -> None:
        """Keep the first `depth` frames."""
        del self.frames[depth:]
        del self.nodes[depth + 1 :]


class _Ahead:
    """Where a pattern next matches from a position, for the searches that look ahead of the walk:
    every match of a pattern found once per page (on first use), then each look-up is a bisection
    (a search per element to the end of the page made such pages quadratic)."""

    __slots__ = ("found", "html")

    def __init__(self, html: str) -> None:
        self.html = html
        self.found: dict[str, list[int]] = {}

    def next(self, key: str, pos: int) -> int:
        """The start of the first match at or after `pos`, or -1. `key`: a raw-text element's name
        (its end tag), or one of the literal strings in _LITERALS."""
        starts = self.found.get(key)
        if starts is None:
            if key in _RAW_END:
                starts = [m.start() for m in _RAW_END[key].finditer(self.html)]
            else:
                starts, at = [], self.html.find(key)
                while at >= 0:
                    starts.append(at)
                    at = self.html.find(key, at + 1)
            self.found[key] = starts
        i = bisect.bisect_left(starts, pos)
        return starts[i] if i < len(starts) else -1


class _Shared:
    """What every reading of one page shares: the interned stacks, the look-ahead index, and the
    work the secondary readings may still do."""

    __slots__ = ("ahead", "budget", "root")

    def __init__(self, html: str) -> None:
        self.root = _Node(None, None)
        self.ahead = _Ahead(html)
        # tokens the secondary readings may read together, and characters the re-readings of SVG
        # style sheets and scripts may take: a few times the page, then the paranoid reading
        self.budget = [len(html) // 4 + 4096, 8 * len(html) + (1 << 20)]


class _Pass:
    """One reading of a document. Where the tree builder's state cannot be known without building
    the whole tree (a raw-text tag inside <select>, an end tag inside SVG that may close an HTML
    element, <noscript> with scripting on or off), the pass goes on with one reading and notes the
    other in `alternatives`; `plan()` reads those in secondary passes until they meet this one."""

    def __init__(
        self,
        html: str,
        ctx: PageContext,
        prep: _Prepared,
        *,
        site_host: str,
        base: _Base,
        live: frozenset[str],
        shadow: bool = False,
        analyze_only: bool = False,
        depth: int = 0,
        state: _State | None = None,
        meet: _Pass | None = None,
        shared: _Shared | None = None,
    ) -> None:
        self.html = html
        self.ctx = ctx
        self.prep = prep
        self.site_host = site_host
        self.base = base
        self.page_base = base
        self.base_seen = False  # the first <base href> wins
        self.base_fixed = False  # the base is known from a first reading: <base> is only checked
        self.granted = ctx.granted | live
        self.live = live
        self.shadow = shadow  # a secondary reading: inserts only, no placeholders, no quotes
        self.analyze_only = analyze_only
        self.depth = depth
        self.meet = meet  # the main reading: a secondary one stops where it meets it
        self.edits: list[tuple[int, int, str]] = []
        self.blocked: list[Blocked] = []
        self.reported: list[Blocked] = []
        self.embeds: list[Embed] = []
        self.embed_count = 0
        self.needs = _Need()  # everything needed by the document (srcdoc analysis)
        self.shared = shared if shared is not None else _Shared(html)
        if state is None:
            state = (self.shared.root, False)
        self.fstack = _Stack(state[0])
        self.in_select = state[1]
        self.template_depth = 0
        self.head_end = -1
        self.html_end = -1
        self.body_end = -1
        self.lang: str | None = None
        self.lang_seen = False
        # the state at every tag this reading took, in document order (positions, states)
        self.state_at: list[int] = []
        self.state_of: list[_State] = []
        self.doubt_at = -1  # where this reading stopped following the tree builder (too deep)
        self.eof_at = len(html)  # where markup ends: the body snippet never goes past it
        # where the outermost SVG/MathML, <template> and <select> still open began: a snippet put
        # after them would land inside them, or end them and change how the rest is read
        self.foreign_at = self.template_at = self.select_at = -1
        self.raw_stretches: list[tuple[int, int, int]] = []  # (from, to, the foreign root's start)
        self.met = False  # a secondary reading that met the main one (else it read to the end)
        self.other_ends: list[int] = []  # where the markup ended in the readings that never met this
        self.open_to_end = len(html)  # where a tag or quoted value left open to the end begins
        self.alternatives: list[tuple[int, _State]] = []
        self.media_live_until = -1  # inside a <video>/<audio> left live ("load once")
        # tags that may be a vendor's post widget: the main walk checks each is a real tag
        self.widget_at: list[int] = []
        lt = -1  # the last "<" before the hint: looked for back to the previous hint only
        after = 0
        for hint in _WIDGET_HINT.finditer(html):
            found = html.rfind("<", after, hint.start())
            after = hint.start()
            lt = found if found >= 0 else lt
            if (
                lt >= 0
                and _WIDGET_TAG_AT.match(html, lt)
                and (not self.widget_at or self.widget_at[-1] != lt)
            ):
                self.widget_at.append(lt)
        self.widgets = bool(self.widget_at)

    def body_snippet_at(self) -> int:
        """Where the body snippet goes when there is no </body>: the end of the markup, or before the
        outermost element still open that would swallow it (in any reading)."""
        open_at = [self.eof_at, *self.other_ends]
        if self.body_end >= 0:  # unless another reading is still inside a tag there
            return self._out_of_raw_text(min([self.body_end, *(p for p in open_at if p >= 0)]))
        if self.fstack:
            open_at.append(self.foreign_at)
        if self.template_depth:
            open_at.append(self.template_at)
        if self.in_select:
            open_at.append(self.select_at)
        return self._out_of_raw_text(min(p for p in open_at if p >= 0))

    def _out_of_raw_text(self, pos: int) -> int:
        """Not inside what the preload scanner reads as raw text in SVG/MathML (the snippet's
        </script> would end it there): before the <svg> or <math> around it instead."""
        for start, stop, root in self.raw_stretches:
            if start < pos <= stop and root >= 0:
                pos = min(pos, root)
        return pos

    def state(self) -> _State:
        return (self.fstack.node(), self.in_select)

    def state_before(self, pos: int) -> tuple[int, _State] | None:
        """The last tag at or before `pos` and the state there, or None."""
        i = bisect.bisect_right(self.state_at, pos) - 1
        return (self.state_at[i], self.state_of[i]) if i >= 0 else None

    def state_at_tag(self, pos: int) -> _State | None:
        """The state at a tag this reading took exactly at `pos`."""
        i = bisect.bisect_left(self.state_at, pos)
        if i < len(self.state_at) and self.state_at[i] == pos:
            return self.state_of[i]
        return None

    def _other_reading(self, pos: int, depth: int = -1) -> None:
        self.alternatives.append((pos, (self.fstack.node(depth), self.in_select)))

    # -- the walk --------------------------------------------------------------------------------

    def run(self, pos: int = 0) -> None:
        html = self.html
        fstack = self.fstack
        widget_at = self.widget_at
        next_widget = 0
        state_at, state_of = self.state_at, self.state_of
        meet = self.meet
        budget = self.shared.budget if meet is not None else None
        state: _State = (fstack.node(), self.in_select)
        while True:
            if not fstack:
                html_re = _HTML_RE if self.base.first_party else _HTML_RE_BASE
                while next_widget < len(widget_at) and widget_at[next_widget] < pos:
                    next_widget += 1
                if next_widget < len(widget_at):
                    # walk up to the candidate: it is a real tag if the walk ends exactly there
                    t = widget_at[next_widget]
                    m = html_re.match(html, pos, t)
                    if m is not None and m.group(5) is not None:
                        next_widget += 1
                        m = _TOKEN_RE.match(html, t) if m.end() == t else html_re.match(html, pos)
                else:
                    m = html_re.match(html, pos)
            elif fstack[-1][1] == _FOREIGN:
                m = _FOREIGN_RE.match(html, pos)
            elif fstack[-1][1] == _HTML_ELEMENT:
                m = _NESTED_RE.match(html, pos)
            else:
                m = _POINT_RE.match(html, pos)
            if m is None or m.group(5) is not None:  # the rest is text, or inside a comment or tag
                if m is not None and m.end() < len(html):
                    self.eof_at = m.start(5)  # the page ends inside a tag, comment or doctype
                return
            start = m.start(1)
            node = fstack.node()
            if state[0] is not node or state[1] != self.in_select:
                state = (node, self.in_select)
            if meet is not None:
                if meet.state_at_tag(start) == state:
                    self.met = True
                    return  # this reading has met the main one
                assert budget is not None
                budget[0] -= 1
                if budget[0] < 0:  # the secondary readings have read enough: paranoid from here
                    self.doubt_at = start
                    return
            if len(fstack) > _MAX_DEPTH:
                self.doubt_at = self.eof_at = start
                return
            state_at.append(start)
            state_of.append(state)
            pos = end = m.end()
            name = _lower(m.group(3))
            if m.group(2) is not None:  # an end tag
                if name == "select":
                    self.in_select = False
                elif name == "template" and self.template_depth:
                    self.template_depth -= 1  # (inside SVG too: it closes the SVG with the template)
                if fstack:
                    self._foreign_end(name, end)
                elif name == "body" and not self.template_depth:
                    self.body_end = start
                elif name == "select":
                    self.in_select = False
                elif name in ("video", "audio") and start >= self.media_live_until:
                    self.media_live_until = -1
                continue
            if fstack:
                top = fstack[-1][1]
                if top == _FOREIGN or (top == _TEXT_POINT and name in ("mglyph", "malignmark")):
                    if name in _BREAKOUT or (name == "font" and self._font_breaks(m)):
                        while fstack and fstack[-1][1] == _FOREIGN:
                            fstack.pop()
                    else:
                        self._foreign_start(m, name, start, end)
                        continue
            pos = self._html_start(m, name, start, end)
            if pos < 0:
                self.eof_at = start  # the rest of the page is the text of this element
                return

    def paranoid(self, pos: int) -> None:
        """Take every "<name ...>" from `pos` on for a tag, in HTML and in SVG alike."""
        html = self.html
        for lt in _TAG_OPEN.finditer(html, pos):
            m = _TOKEN_RE.match(html, lt.start())
            if m is None or m.group(1) is None or m.group(2) is not None:
                continue
            name = _lower(m.group(3))
            start, end = m.start(1), m.end()
            if name in _SVG_FETCH:
                self._svg_element(m, name, self._attrs_of(m), start, end)
            if name == "script":
                if not self._spend(len(html) - end):
                    raise TooMuchWork("too many ways to read this page, each with its own scripts")
                script_end = self._raw_end("script", end)
                content_end = script_end if script_end >= 0 else len(html)
                self.shared.budget[1] += len(html) - content_end  # what the scan did not take
                self._script(m, start, end, content_end)
            elif name == "style":
                close = self.shared.ahead.next("style", end)
                content_end = close if close >= 0 else len(html)
                if not self._spend(content_end - end):
                    raise TooMuchWork("too many ways to read this page, each with its own style sheets")
                self._style(m, start, end, content_end)
            elif name in _FETCHERS or name not in _SVG_FETCH:
                self._element(m, name, start, end)

    def _attrs_of(self, m: re.Match[str]) -> _Attrs:
        return _Attrs(self.html, m.start(4), m.end(4))

    def _font_breaks(self, m: re.Match[str]) -> bool:
        return any(k in self._attrs_of(m).first for k in ("color", "face", "size"))

    def _self_closing(self, m: re.Match[str]) -> bool:
        html, end = self.html, m.end()
        if html[end - 2] != "/" or end - 2 < m.end(3):
            return False
        last = None
        for found in _ATTR_RE.finditer(html, m.start(4), end):
            last = found
        return last is None or last.end() < end - 1 or last.group(4) is None

    def _foreign_end(self, name: str, end: int) -> None:
        fstack = self.fstack
        if fstack[-1][1] == _HTML_ELEMENT:
            if self._in_body_end(name, end) is None:
                # Ignored while an HTML element is the current node. Implied end tags (a <p> that a
                # <div> closed) can make us think one is open when none is: read it as a foreign end too.
                for i in range(len(fstack) - 1, -1, -1):
                    if fstack[i][1] != _HTML_ELEMENT and fstack[i][0] == name:
                        self._other_reading(end, i)
                        break
            return
        for i in range(len(fstack) - 1, -1, -1):
            frame = fstack[i]
            if frame[1] == _HTML_ELEMENT:  # the walk reached an HTML element: the in-body rules
                self._in_body_end(name, end)
                return
            if frame[0] == name:
                fstack.cut(i)
                return
        if fstack[-1][1] != _FOREIGN:
            return
        # "</p>" and "</br>" leave foreign content in today's HTML standard, not in older parsers;
        # another end tag closes the SVG when an HTML element of that name is open around it: both
        # readings are followed.
        out = len(fstack)
        while out and fstack[out - 1][1] == _FOREIGN:
            out -= 1
        if name in ("p", "br") or name in _HTML_CLOSERS or name == "template":
            self._other_reading(end)
            fstack.cut(out)
        else:
            self._other_reading(end, out)

    def _in_body_end(self, name: str, end: int = -1) -> bool | None:
        """An end tag under the in-body rules, as far as our frames go: True when it closed an HTML
        element opened inside foreign content, None when an integration point stops it."""
        fstack = self.fstack
        for i in range(len(fstack) - 1, -1, -1):
            frame = fstack[i]
            if frame[1] == _HTML_ELEMENT:
                if frame[0] == name:
                    if i < len(fstack) - 1 and end >= 0:
                        # closing more than the current node: an end tag we did not model (implied
                        # ones) may have closed it already; read on without closing too
                        self._other_reading(end)
                    fstack.cut(i)
                    return True
            elif frame[1] != _FOREIGN:
                return None  # foreignObject, desc, title, mi...: special, the walk stops
        return None

    def _foreign_start(self, m: re.Match[str], name: str, start: int, end: int) -> None:
        attrs = self._attrs_of(m)
        self._svg_element(m, name, attrs, start, end)
        if self._self_closing(m):
            return
        kind = _FOREIGN
        # a start tag in foreign content takes its parent's namespace: <svg> inside MathML is a MathML
        # element (only under annotation-xml does it start SVG)
        parent = self.fstack[-1]
        math = parent[2] and not (name == "svg" and parent[0] == "annotation-xml")
        if not math and name in ("foreignobject", "desc", "title"):
            kind = _HTML_POINT
        elif math and name in ("mi", "mo", "mn", "ms", "mtext"):
            kind = _TEXT_POINT
        elif math and name == "annotation-xml":
            enc = _lower((attrs.get("encoding") or "").strip())
            if enc in ("text/html", "application/xhtml+xml"):
                kind = _HTML_POINT
        self.fstack.append((name, kind, math))
        if name == "noscript" or name in _RAW_TEXT:
            # Chromium's preload scanner reads these as raw text here too, as in HTML: what follows
            # their end tag is read that way as well (it fetches what it takes for tags there). With
            # no end tag it reads to the end, and the body snippet goes before (its </script> would
            # end it)
            found = self.shared.ahead.next(name, end)
            stop = found if found >= 0 else len(self.html)
            if found >= 0:
                self._other_reading(stop)
            self.raw_stretches.append((end, stop, self.foreign_at))

    def _html_start(self, m: re.Match[str], name: str, start: int, end: int) -> int:
        """Handle an HTML start tag; the position to go on from, or -1 when the rest is text."""
        html = self.html
        if self.in_select:
            if name in ("input", "keygen", "textarea", "select"):
                self.in_select = False  # these close the <select> (in parsers with a select mode)
                for i in range(len(self.fstack) - 1, -1, -1):
                    if self.fstack[i] == ("select", _HTML_ELEMENT, False):
                        self.fstack.cut(i)
                        break
                if name == "select":
                    return end
            elif name in _SELECT_IGNORES:
                # inside <select>, older parsers ignore these tags (their content is markup); today's
                # Chrome parses them as in the body
                self._other_reading(end)
        if name in _RAW_TEXT:
            close = self._raw_end(name, end)
            content_end = close if close >= 0 else len(html)
            if name == "script":
                self._script(m, start, end, content_end)
            elif name == "style":
                self._style(m, start, end, content_end)
            else:
                self._element(m, name, start, end)
            if close < 0:
                return -1
            rest = _END_TAG_REST.match(html, close + 2 + len(name))
            return -1 if rest is None else rest.end()
        if name in _FETCHERS or name in _WIDGET_TAGS:
            self._element(m, name, start, end)
            if self.fstack and name not in _VOID:
                if name in _CLOSES_P and self.fstack[-1] == ("p", _HTML_ELEMENT, False):
                    self.fstack.pop()
                self.fstack.append((name, _HTML_ELEMENT, False))
            return end
        if name in ("svg", "math"):
            self._element(m, name, start, end)
            if not self._self_closing(m):
                if not self.fstack:
                    self.foreign_at = start
                self.fstack.append((name, _FOREIGN, name == "math"))
            return end
        if name == "plaintext":
            return -1
        top_level = not self.template_depth and not self.fstack
        html_base = not self.template_depth  # a <base> in HTML content counts, even in an SVG <desc>
        if name == "noscript":
            # with scripting on, the element is raw text up to the first "</noscript"
            found = self.shared.ahead.next("noscript", end)
            if found >= 0:
                self._other_reading(found)
        elif name == "select":
            if not self.in_select:
                self.select_at = start
            self.in_select = True
        elif name == "template":
            if not self.template_depth:
                self.template_at = start
            self.template_depth += 1
        elif name == "base":
            # (one in a <template> is not the document's, but parsers disagree on where a template
            # ends, and script may clone it: a third party there is made inert too; and so is one
            # after the first, which another reading of the page may take for the first)
            attrs = self._attrs_of(m)
            href = attrs.get("href")
            if href is not None:
                need = _Need()
                if self._check(need, href, "base"):
                    # a third party not allowed: every relative URL (the snippets' too) would go
                    # there; made inert, the next <base href> is the one browsers use
                    renamed = ["href", *self._generic(attrs, "base", need)]  # its style too
                    self._apply(self._inert(m, "base", attrs, start, need, renamed), start, None)
                    return end
                if not self.base_seen and html_base:
                    self.base_seen = True
                    self._set_base(href)
        elif name == "head":
            if self.head_end < 0 and top_level:
                self.head_end = end
        elif name == "html" and not self.lang_seen and top_level:
            self.lang_seen = True
            self.html_end = end
            lang = self._attrs_of(m).get("lang")
            self.lang = lang.strip() if lang is not None else None
        self._element(m, name, start, end)
        if self.fstack and name not in _VOID:
            if name in _CLOSES_P and self.fstack[-1] == ("p", _HTML_ELEMENT, False):
                self.fstack.pop()  # a block start tag closes an open <p>
            self.fstack.append((name, _HTML_ELEMENT, False))
        return end

    def _raw_end(self, name: str, pos: int) -> int:
        """Where the raw text of an element opened before `pos` ends (its end tag), or -1."""
        html = self.html
        if name != "script":
            found = _RAW_END[name].search(html, pos)
            return found.start() if found is not None else -1
        # script data, with its escaped and double-escaped states ("<!--", "<script", "-->")
        while True:
            found = _SCRIPT_STATES.search(html, pos)
            if found is None:
                return -1
            if found.group(0)[1] == "/":
                return found.start()
            pos = found.start() + 2  # from the "--" of "<!--": "<!-->" ends the escape at once
            while True:
                found = _SCRIPT_ESCAPED.search(html, pos)
                if found is None:
                    return -1
                text = found.group(0)
                if text == "-->":
                    pos = found.end()
                    break
                if text[1] == "/":
                    return found.start()
                # double-escaped: "</script" only takes it back to escaped
                inner = _SCRIPT_DOUBLE.search(html, found.end() - 1)
                if inner is None:
                    return -1
                if inner.group(0) == "-->":
                    pos = inner.end()
                    break
                pos = inner.end()
            # back in script data

    def _set_base(self, href: str) -> None:
        target = _target(href, self.page_base.scheme)
        if target is None:
            return
        url = _absolute(href, self.page_base.url)
        scheme = url.split(":", 1)[0].lower() if ":" in url else self.page_base.scheme
        host, _ = target
        if not host:
            self.base = _Base(url, scheme, self.page_base.host, self.page_base.first_party)
            return
        fp = self.prep.classify(self.site_host, host, "/") is None
        self.base = _Base(url, scheme, host, fp)

    # -- classification --------------------------------------------------------------------------

    def _check(self, need: _Need, raw: str, kind: str, embed: bool = False) -> bool:
        """Add what loading `raw` would need (nothing for a first-party or granted URL). An embed's
        number must not depend on "load once", so embeds are judged on the grants alone."""
        base = self.base
        key = (self.site_host, base.url, raw)
        memo = self.prep.urls
        hit = memo.get(key)
        if hit is None:
            hit = self._classify_url(raw)
            if len(raw) <= 2048:
                if len(memo) >= _MEMO_ENTRIES:
                    memo.clear()
                memo[key] = hit
        services, absolute = hit
        if services is None:
            return False
        if services:
            granted = self.ctx.granted if embed else self.granted
            if any(s.id in granted for s in services):
                return False
        elif not self.prep.strict:
            self.reported.append(Blocked(kind, absolute, (), "undeclared third party (report mode)"))
            return False
        need.add(services, absolute, kind)
        return True

    def _classify_url(self, raw: str) -> tuple[tuple[Service, ...] | None, str]:
        """(None: first party or no request; (): undeclared third party; the services), absolute URL."""
        base = self.base
        target = _target(raw, base.scheme)
        if target is None:
            return None, ""
        host, path = target
        if not host:
            if base.first_party:
                return None, ""
            host = base.host
            path = urlsplit(_absolute(raw, base.url)).path or "/"
        services = self.prep.classify(self.site_host, host, path)
        return services, ("" if services is None else _absolute(raw, base.url))

    def _check_attr(self, need: _Need, attrs: _Attrs, name: str, kind: str) -> bool:
        """Check one URL attribute; True when it has to be renamed."""
        value = attrs.get(name)
        if value is None:
            return False
        embed = kind in _EMBED_TAGS
        if name in ("srcset", "imagesrcset"):
            urls = _srcset_urls(value)
        elif name == "style":
            urls = css_urls(value)
        elif name == "attributionsrc":
            urls = value.split()
        else:
            urls = [value]
        blocked = False
        for url in urls:
            blocked = self._check(need, url, kind, embed) or blocked
        return blocked

    # -- elements --------------------------------------------------------------------------------

    def _generic(self, attrs: _Attrs, name: str, need: _Need) -> list[str]:
        """The attributes that fetch on any element: style url(), background, attributionsrc."""
        renamed: list[str] = []
        first = attrs.first
        for attr in _GENERIC_ATTRS:
            if attr in first and self._check_attr(need, attrs, attr, name):
                renamed.append(attr)
        return renamed

    def _element(self, m: re.Match[str], name: str, start: int, end: int) -> None:
        html = self.html
        widget = (
            self.widgets and name in _WIDGET_TAGS and _WIDGET_RE_CLASS.search(html, start, end) is not None
        )
        if widget:
            key = ("widget", name, *self._tag_key(start, end))
            self._replay(self._memo(key, lambda: self._widget_outcome(m, name, start)), name, start, end)
            return
        if (
            self.base.first_party
            and _MAYBE_EXTERNAL.search(html, start, end) is None
            and not (name in ("iframe", "frame") and self.prep.signature_re is not None)
        ):
            return  # none of its URLs can leave the site (a srcdoc's inline scripts may still sign)
        if name not in _FETCHERS and not _css_may_fetch(html[start:end]):
            low = html[start:end].lower()
            if "background" not in low and "attributionsrc" not in low:
                return  # a style attribute with no url() in it
        key = (name, *self._tag_key(start, end), self.depth)
        self._replay(self._memo(key, lambda: self._element_outcome(m, name, start)), name, start, end)

    def _tag_key(self, start: int, end: int) -> tuple[object, ...]:
        """What a tag's outcome depends on besides its name: its text, the base, the grants."""
        return (self.html[start:end], self.base.url, self.site_host, self.granted, self.ctx.granted)

    def _element_outcome(self, m: re.Match[str], name: str, start: int) -> _Outcome:
        attrs = self._attrs_of(m)
        need = _Need()
        first = attrs.first
        renamed = self._generic(attrs, name, need)
        urls: tuple[str, ...] = ()
        if name in ("img", "image", "source"):
            urls = ("src", "srcset")
        elif name in ("iframe", "frame"):
            urls = ("src",)
            if "srcdoc" in first and self._srcdoc_needs(need, attrs.get("srcdoc") or ""):
                renamed.append("srcdoc")
        elif name in ("audio", "track", "embed", "input"):
            urls = ("src",)
        elif name == "video":
            urls = ("src", "poster")
        elif name == "object":
            urls = ("data",)
        elif name == "link":
            rels = set(_lower(attrs.get("rel") or "").split())
            if rels & _LINK_FETCH_RELS:
                urls = ("href", "imagesrcset")
        elif name == "meta":
            equiv = attrs.get("http-equiv")
            if equiv is not None and _lower(equiv.strip()) == "refresh":
                url = _refresh_url(attrs.get("content") or "")
                if url and self._check(need, url, "meta-refresh"):
                    renamed.append("http-equiv")
        for attr in urls:
            if attr in first and self._check_attr(need, attrs, attr, name):
                renamed.append(attr)
        if not renamed:
            if name in _EMBED_TAGS and "data-gk" in first and self._inert_embed(name, attrs):
                return _COUNT_OUTCOME
            return _NO_OUTCOME
        template = self._embed_template(name, attrs, need) if name in _EMBED_TAGS else None
        inert = self._inert(m, name, attrs, start, need, renamed)
        return _Outcome(_INERT, inert, template)

    def _replay(self, out: _Outcome, name: str, start: int, end: int) -> None:
        if out.reported:
            self.reported.extend(out.reported)
        if out.kind == _NOTHING:
            return
        if out.kind == _COUNT:
            self.embed_count += 1
            return
        inert = out.inert
        assert inert is not None
        if (
            start < self.media_live_until
            and name in ("source", "track")
            and all(s.id in self.ctx.granted or s.id in self.live for s in inert.services)
        ):
            return
        embed = None
        if out.embed is not None and not self.shadow:
            index = self.embed_count
            self.embed_count += 1
            if index in self.ctx.once:
                if name in ("video", "audio"):
                    found = self.shared.ahead.next(name, end)
                    self.media_live_until = found if found >= 0 else len(self.html)
                anchor = f'<span id="gk-ph-{index}"></span>'  # "Load once" comes back to #gk-ph-N
                if not self.analyze_only and not self.html.endswith(anchor, 0, start):
                    self.edits.append((start, 2, anchor))
                return
            embed = Embed(index, *out.embed)
        self._apply(inert, start, embed)

    def _srcdoc_needs(self, need: _Need, srcdoc: str) -> bool:
        if self.depth >= _MAX_SRCDOC_DEPTH:
            need.add((), "about:srcdoc", "iframe")
            return True
        inner = _Pass(
            srcdoc,
            self.ctx,
            self.prep,
            site_host=self.site_host,
            base=self.base,
            live=self.live,
            analyze_only=True,
            depth=self.depth + 1,
        )
        inner.run()
        if "<![CDATA[" in srcdoc:
            _cdata_readings(inner, srcdoc)
        if inner.alternatives or inner.doubt_at >= 0:
            _other_readings(inner, srcdoc, self.ctx, self.prep, self.site_host, self.live)
        if not inner.needs.services and not inner.needs.undeclared:
            return False
        need.add(tuple(inner.needs.services), "about:srcdoc", "iframe")
        if inner.needs.undeclared:
            need.undeclared = True
        return True

    def _inert_embed(self, name: str, attrs: _Attrs) -> bool:
        """An embed made inert by an earlier pass (it keeps its number)."""
        need = _Need()
        for attr in ("data-gk-src", "data-gk-data"):
            value = attrs.get(attr)
            if value is not None:
                self._check(need, value, name)
        return self._placeholder_service(name, need) is not None or _undeclared_only(need)

    def _placeholder_service(self, name: str, need: _Need) -> Service | None:
        for s in need.services:
            if s.placeholder in _PLACEHOLDER_KINDS or (
                s.placeholder is Placeholder.BUTTON and name in ("iframe", "frame")
            ):
                return s
        return None

    def _embed_template(
        self, name: str, attrs: _Attrs, need: _Need
    ) -> tuple[str, str, str | None, str | None, tuple[Service, ...], bool] | None:
        service = self._placeholder_service(name, need)
        if service is None:
            if not _undeclared_only(need):
                return None
            service = undeclared_service(need.url)
        width, height = attrs.get("width"), attrs.get("height")
        style = attrs.get("style")
        if style is not None:
            if width is None and (w := _SIZE_STYLE["width"].search(style)) is not None:
                width = w.group(1).strip()
            if height is None and (h := _SIZE_STYLE["height"].search(style)) is not None:
                height = h.group(1).strip()
        services = (service, *(s for s in need.services if s is not service))
        return (
            name,
            need.url,
            width.strip() if width is not None else None,
            height.strip() if height is not None else None,
            services,
            False,
        )

    def _widget_outcome(self, m: re.Match[str], name: str, start: int) -> _Outcome:
        """A blockquote/a/div a vendor's script turns into a post: a placeholder before it."""
        attrs = self._attrs_of(m)
        need = _Need()
        renamed = self._generic(attrs, name, need)
        classes = (attrs.get("class") or "").split()
        if (attrs.get("data-pin-do") or "").startswith("button"):
            classes.append("data-pin-do=button")
        widget = next((_WIDGETS[c] for c in classes if c in _WIDGETS), None)
        share = next((_SHARE_WIDGETS[c] for c in classes if c in _SHARE_WIDGETS), None)
        if (widget is not None or share is not None) and "data-gk" in attrs.first:
            return _COUNT_OUTCOME  # made inert by an earlier pass: keeps its number
        template: tuple[str, str, str | None, str | None, tuple[Service, ...], bool] | None = None
        if share is not None and widget is None:
            button = _Need()
            self._check(button, share, name, True)
            service = next(iter(button.services), None)
            if service is not None and service.share_url:
                target = next((v for a in _SHARE_URL_ATTRS if (v := attrs.get(a))), None)
                absolute = _absolute(target, self.base.url) if target else self.base.url
                need.add((service,), share, name)
                template = (name, absolute, None, None, (service,), True)
        if widget is not None:
            url = next((v for a in _WIDGET_URL_ATTRS if (v := attrs.get(a))), None) or widget
            post = _Need()
            self._check(post, widget, name, True)
            if url != widget:
                self._check(post, url, name, True)
            service = next((s for s in post.services if s.placeholder in _PLACEHOLDER_KINDS), None)
            if service is not None:
                absolute = _absolute(url, self.base.url)
                for s in post.services:
                    need.add((s,), absolute, name)
                template = (name, absolute, attrs.get("width"), attrs.get("height"), (service,), False)
        if template is None and not renamed:
            return _NO_OUTCOME
        return _Outcome(_INERT, self._inert(m, name, attrs, start, need, renamed), template)

    def _memo(self, key: tuple[object, ...], compute: Callable[[], _Outcome]) -> _Outcome:
        """A tag's outcome, computed once per registry for the same text, base and grants."""
        memo = self.prep.tags
        out = memo.get(key)
        if out is None:
            reported, self.reported = self.reported, []
            try:
                out = compute()
                if self.reported:
                    out = _Outcome(out.kind, out.inert, out.embed, tuple(self.reported))
            finally:
                self.reported = reported
            size = sum(len(k) for k in key if isinstance(k, str))
            if size <= _MEMO_TEXT:  # a big inline script or data: URL is not worth keeping
                if len(memo) >= _MEMO_ENTRIES:
                    memo.clear()
                memo[key] = out
        return out

    def _raw_key(self, name: str, start: int, end: int, content_end: int) -> tuple[object, ...]:
        html = self.html
        return (name, html[start:end], html[end:content_end], self.base.url, self.site_host, self.granted)

    def _script(self, m: re.Match[str], start: int, end: int, content_end: int) -> None:
        out = self._memo(
            self._raw_key("script", start, end, content_end),
            lambda: self._script_outcome(m, start, end, content_end),
        )
        self._replay(out, "script", start, end)

    def _script_outcome(self, m: re.Match[str], start: int, end: int, content_end: int) -> _Outcome:
        html = self.html
        external = not self.base.first_party or _MAYBE_EXTERNAL.search(html, start, end) is not None
        sig = self.prep.signature_re
        signed = sig is not None and sig.search(html, end, content_end) is not None
        if not external and not signed:
            return _NO_OUTCOME
        attrs = self._attrs_of(m)
        need = _Need()
        renamed = self._generic(attrs, "script", need) if external else []
        first = attrs.first
        if "src" in first:
            if external and self._check_attr(need, attrs, "src", "script"):
                renamed.append("src")
            if (
                "src" in renamed
                and "attributionsrc" in first
                and "attributionsrc" not in renamed
                and not (attrs.get("attributionsrc") or "").strip()
            ):
                renamed.append("attributionsrc")  # an empty one reports to the script's own URL
        elif signed and "data-gk-snippet" not in first and "data-gk" not in first:
            kind = _lower((attrs.get("type") or "").strip(" \t\n\r\f"))
            if kind in _JS_TYPES:
                self._signatures(need, html[end:content_end])
        if not renamed and not need.services and not need.undeclared:
            return _NO_OUTCOME
        return _Outcome(_INERT, self._inert(m, "script", attrs, start, need, renamed, text_plain=True))

    def _signatures(self, need: _Need, code: str) -> None:
        assert self.prep.signature_re is not None
        for found in self.prep.signature_re.finditer(code):
            services = self.prep.signatures.get(_squeeze(found.group(0)), ())
            if any(s.id in self.granted for s in services):
                continue
            need.add(services, found.group(0), "inline-script")

    def _style(self, m: re.Match[str], start: int, end: int, content_end: int) -> None:
        out = self._memo(
            self._raw_key("style", start, end, content_end),
            lambda: self._style_outcome(m, start, end, content_end),
        )
        self._replay(out, "style", start, end)
        self._preload_break(end)

    def _preload_break(self, end: int) -> None:
        """Chromium's preload scanner fetches the @import rules that open a <style> (any type, any
        namespace, even made inert) before the parser decides anything. Where one would reach a
        non-granted third party, an empty comment first stops it: CSS ignores "<!--" and "-->" at the
        top level, and in SVG or MathML it is a comment node, outside the element's text."""
        html = self.html
        if _PRELOAD_HINT.match(html, end) is None:
            return
        close = self.shared.ahead.next("style", end)
        need = _Need()
        hits = [
            self._check(need, url, "style")
            for url in _preload_imports(html, end, close if close >= 0 else len(html))
        ]
        if not any(hits):
            return
        if self.analyze_only:
            self.needs.merge(need)
        else:
            self.edits.append((end, 1, _PRELOAD_STOP))

    def _style_outcome(self, m: re.Match[str], start: int, end: int, content_end: int) -> _Outcome:
        html = self.html
        external = not self.base.first_party or _MAYBE_EXTERNAL.search(html, start, end) is not None
        hinted = _css_may_fetch(html[end:content_end])
        if not external and not hinted:
            return _NO_OUTCOME
        attrs = self._attrs_of(m)
        need = _Need()
        renamed = self._generic(attrs, "style", need) if external else []
        kind = attrs.get("type")
        if hinted and (kind is None or _lower(kind.strip(" \t\n\r\f")) in ("", "text/css")):
            for url in css_urls(html[end:content_end]):
                self._check(need, url, "style")
        if not renamed and not need.services and not need.undeclared:
            return _NO_OUTCOME
        return _Outcome(_INERT, self._inert(m, "style", attrs, start, need, renamed, text_plain=True))

    def _svg_element(self, m: re.Match[str], name: str, attrs: _Attrs, start: int, end: int) -> None:
        """An SVG or MathML element: href of image/use/feImage/script, style, url() in attributes,
        and the style sheet of an SVG <style>."""
        need = _Need()
        renamed = self._generic(attrs, name, need)
        for attr, raw in attrs.first.items():
            if attr in _GENERIC_ATTRS or attr.startswith("data-gk"):
                continue
            if attr in ("href", "xlink:href"):
                # (a <link> or <base> here is no element of SVG's, but Chromium's preload scanner takes
                # it for one: it fetches the link, and resolves what follows against the base)
                fetches = name in _SVG_FETCH or (name in ("link", "base") and attr == "href")
                if fetches and self._check_attr(need, attrs, attr, name):
                    renamed.append(attr)
            elif attr in ("srcset", "imagesrcset", "poster"):
                # meaningless in SVG and MathML, but Chromium's preload scanner reads them on any
                # <source>, <img>, <link> or <video> tag, whatever the namespace
                value = decode_attribute(raw)
                urls = _srcset_urls(value) if attr != "poster" else [value]
                if any([self._check(need, u, name) for u in urls]):
                    renamed.append(attr)
            elif attr == "src" or (attr in ("to", "from", "by", "values") and name in ("set", "animate")):
                value = decode_attribute(raw)
                hits = [
                    self._check(need, u, name) for u in (value.split(";") if attr == "values" else [value])
                ]
                if any(hits):
                    renamed.append(attr)
            elif ("url(" in raw.lower() or "&" in raw) and any(
                [self._check(need, u, name) for u in css_urls(decode_attribute(raw))]
            ):
                renamed.append(attr)
        text_plain = False
        kind = attrs.get("type")
        kind = None if kind is None else _lower(kind.strip(" \t\n\r\f"))
        if name == "style":
            self._preload_break(end)
        if name == "style" and kind in (None, "", "text/css"):
            close = self.shared.ahead.next("style", end)
            stop = close if close >= 0 else len(self.html)
            # the element may end at any tag in there (one that breaks out of SVG): each text it
            # could have is read
            cuts = [t.start() - end for t in itertools.islice(_TAG_CUT.finditer(self.html, end, stop), 32)]
            cuts.append(stop - end)
            if self._spend(sum(cuts) + stop - end):
                markup = self.html[end:stop]
                for url in dict.fromkeys(
                    u for cut in cuts for u in css_urls(_decode_text(_child_text(markup[:cut])))
                ):
                    self._check(need, url, "style")
            elif stop > end:  # past what re-reading may cost: a style sheet not read is not kept
                need.add((), "", "style")
            text_plain = True
        elif name == "script" and (kind is None or kind in _JS_TYPES) and self.prep.signature_re is not None:
            # an SVG script runs too: its text (markup here, CDATA often) against the signatures
            close = self.shared.ahead.next("script", end)
            stop = close if close >= 0 else len(self.html)
            before = len(need.services), need.undeclared
            if self._spend(stop - end):
                self._signatures(need, _decode_text(_child_text(self.html[end:stop])))
            elif stop > end:
                need.add((), "", "script")
            text_plain = (len(need.services), need.undeclared) != before or "href" in renamed
        if not renamed and not need.services and not need.undeclared:
            return
        self._make_inert(m, name, attrs, start, need, renamed, None, text_plain=text_plain)

    def _spend(self, chars: int) -> bool:
        """Take `chars` from what re-reading SVG style sheets and scripts may cost per page; False
        when that is spent (crafted pages only: each then is made inert unread)."""
        budget = self.shared.budget
        if budget[1] < chars:
            return False
        budget[1] -= chars
        return True

    # -- making an element inert ----------------------------------------------------------------

    def _inert(
        self,
        m: re.Match[str],
        name: str,
        attrs: _Attrs,
        start: int,
        need: _Need,
        renamed: list[str],
        *,
        text_plain: bool = False,
    ) -> _Inert:
        ids = tuple(s.id for s in need.services)
        reason = (
            "not granted: " + ", ".join(ids)
            if ids and not need.undeclared
            else "undeclared third party (strict mode)"
            if not ids
            else "not granted: " + ", ".join(ids) + "; and an undeclared third party"
        )
        if text_plain and "type" in attrs.first:
            renamed = [*renamed, "type"]
        renames = tuple(pos - start for attr in renamed for pos in attrs.positions(attr))
        return _Inert(
            Blocked(need.kind or name, need.url, ids, reason),
            tuple(need.services),
            need.undeclared,
            need.marker(),
            text_plain,
            "hidden" in attrs.first,
            m.end(3) - start,
            renames,
        )

    def _apply(self, inert: _Inert, start: int, embed: Embed | None) -> None:
        if self.shadow:
            embed = None  # a placeholder belongs to the main reading only
        self.blocked.append(inert.blocked)
        if self.analyze_only:  # what an iframe's srcdoc needs, all together
            needs = self.needs
            for s in inert.services:
                needs.add((s,), inert.blocked.url, inert.blocked.kind)
            if inert.undeclared:
                needs.undeclared = True
            return
        edits = self.edits
        marker = inert.marker
        at = start + inert.name_end
        if self.shadow:  # inside what another reading takes for an attribute value: no quotes
            added = (
                " data-gk=" + marker.replace(" ", "&#32;") + (" type=text/plain" if inert.text_plain else "")
            )
            if self.html[at : at + 1] == "/":
                added += " "  # or the "/" would join the unquoted value
        else:
            added = ' data-gk="' + marker + '"'
            if inert.text_plain:
                added += ' type="text/plain"'
        if embed is not None:
            added += " data-gk-hidden" if inert.hidden else " hidden"
        edits.append((at, 1, added))
        for pos in inert.renames:
            edits.append((start + pos, 1, "data-gk-"))
        if embed is not None:
            self.embeds.append(embed)
            placeholder = self.ctx.placeholder
            if placeholder is not None:
                edits.append((start, 2, placeholder(embed, self.lang)))

    def _make_inert(
        self,
        m: re.Match[str],
        name: str,
        attrs: _Attrs,
        start: int,
        need: _Need,
        renamed: list[str],
        embed: Embed | None,
        *,
        text_plain: bool = False,
    ) -> None:
        inert = self._inert(m, name, attrs, start, need, renamed, text_plain=text_plain)
        self._apply(inert, start, embed)


# ---------------------------------------------------------------------------------------------


def _site(page_url: str) -> tuple[str, _Base]:
    try:
        parts = urlsplit(page_url)
        host = parts.hostname or ""
        scheme = (parts.scheme or "https").lower()
    except ValueError:
        host, scheme = "", "https"
    return host, _Base(page_url, scheme, host, True)


@dataclass(frozen=True, slots=True)
class Plan:
    """What rewriting a page means: insertions (offset in the text, text), in order."""

    inserts: tuple[tuple[int, str], ...]
    blocked: tuple[Blocked, ...] = ()
    reported: tuple[Blocked, ...] = ()
    embeds: tuple[Embed, ...] = ()

    def apply(self, html: str) -> str:
        if not self.inserts:
            return html
        parts = []
        prev = 0
        for pos, text in self.inserts:
            parts.append(html[prev:pos])
            parts.append(text)
            prev = pos
        parts.append(html[prev:])
        return "".join(parts)


def rewrite(html: str, ctx: PageContext) -> Rewritten:
    """Make every element that would contact a non-granted third party inert, put a placeholder
    before each embed, and inject the snippets once. Never raises: on a bug, the input comes back
    with `error` set."""
    try:
        p = plan(html, ctx)
        return Rewritten(p.apply(html), p.blocked, p.reported, p.embeds)
    except Exception as e:  # the CSP still protects; the caller logs the reason
        return Rewritten(html, error=f"rewrite failed: {type(e).__name__}: {e}")


def plan(html: str, ctx: PageContext) -> Plan:
    """The insertions that rewrite `html` (body.py splices them into the original bytes)."""
    prep = _prepared(ctx.registry)
    site_host, page = _site(ctx.page_url)
    live: frozenset[str] = frozenset()
    if ctx.once:
        # "load once": what those embeds need besides themselves (a post's widget script) loads too
        probe = _Pass(
            html, PageContext(ctx.registry, ctx.granted, ctx.page_url), prep,
            site_host=site_host, base=page, live=live,
        )  # fmt: skip
        probe.run()
        live = frozenset(s.id for e in probe.embeds if e.index in ctx.once for s in e.services)
    main = _Pass(html, ctx, prep, site_host=site_host, base=page, live=live)
    main.run()
    if main.base_seen and not main.base.first_party:
        # A third-party <base>: relative URLs above it may resolve against it too (browsers resolve
        # some only once the parser has moved on). Read the page again with that base from the top.
        base = main.base
        main = _Pass(html, ctx, prep, site_host=site_host, base=base, live=live)
        main.base_seen = main.base_fixed = True
        main.run()
    edits = main.edits
    blocked = main.blocked
    if "<![CDATA[" in html:
        _cdata_readings(main, html)
    if main.alternatives or main.doubt_at >= 0:
        _other_readings(main, html, ctx, prep, site_host, live)
    dead = min(main.open_to_end, main.eof_at)
    if dead < len(html):
        # Some reading ends inside a tag or quoted value left open to the end: a quote or ">" that
        # we insert after it could close it and bring it to life. Markers lose their quotes there,
        # and placeholders (whose markup we do not control) are left out.
        edits[:] = [e if e[0] <= dead else _unquoted(e, html) for e in edits if e[0] <= dead or e[1] != 2]
    if ctx.snippets is not None and "data-gk-snippet" not in html:
        head, body = ctx.snippets(main.lang)
        at = main.head_end if main.head_end >= 0 else main.html_end
        if at < 0:
            doctype = _DOCTYPE.match(html)
            at = doctype.end() if doctype is not None else (1 if html.startswith("\ufeff") else 0)
        edits.append((at, 0, head))
        edits.append((max(main.body_snippet_at(), at), 0, body))
    edits.sort(key=lambda e: (e[0], e[1]))
    return Plan(
        tuple((pos, text) for pos, _, text in edits),
        tuple(blocked),
        tuple(main.reported),
        tuple(main.embeds),
    )


# -- pages served unchanged ---------------------------------------------------------------------
# A refresh to a third party is a navigation, which no CSP governs: a page the rewriter cannot read
# (too big, an encoding it cannot decode, a failure) still loses its third-party refreshes, by a scan
# for <meta> tags that needs no parse, over bytes in any ASCII-compatible charset.

_META_AT: Final = re.compile(rb"<[mM][eE][tT][aA](?=[\t\n\f\r /])")


def refresh_leaves(content: str, registry: Registry, granted: frozenset[str], page_url: str) -> bool:
    """Whether a refresh (a `<meta http-equiv=refresh>` content or a `Refresh:` header) takes the
    visitor to a third party not granted (or undeclared, in strict mode)."""
    raw = _refresh_url(content)
    site_host, base = _site(page_url)
    target = _target(raw, base.scheme) if raw else None
    if target is None or not target[0]:
        return False  # no URL, or one relative to the page: the site itself
    prep = _prepared(registry)
    services = prep.classify(site_host, target[0], target[1])
    if services is None:
        return False
    return not any(s.id in granted for s in services) if services else prep.strict


def inert_refreshes(data: bytes, registry: Registry, granted: frozenset[str], page_url: str) -> bytes:
    """`data` (a page, or a stretch of one) with "data-gk-" before the http-equiv of every <meta>
    refresh that `refresh_leaves`; every other byte as it was. Tags are found wherever they look like
    one (in a comment or a script too, which only ever stops more)."""
    if _META_AT.search(data) is None:
        return data
    text = data.decode("latin-1")  # one character per byte: offsets carry over
    renames: list[int] = []
    for m in _META_AT.finditer(data):
        tag = _TOKEN_RE.match(text, m.start())
        if tag is None or tag.group(1) is None:
            continue
        attrs = _Attrs(text, tag.start(4), tag.end(4))
        equiv = attrs.get("http-equiv")
        refresh = equiv is not None and _lower(equiv.strip(_HTML_SPACE)) == "refresh"
        if refresh and refresh_leaves(attrs.get("content") or "", registry, granted, page_url):
            renames.extend(attrs.positions("http-equiv"))
    if not renames:
        return data
    parts, prev = [], 0
    for pos in sorted(renames):
        parts += [data[prev:pos], b"data-gk-"]
        prev = pos
    parts.append(data[prev:])
    return b"".join(parts)


_MAX_READINGS: Final = 64


_MARKER: Final = re.compile(r' data-gk=(?:"([^"]*)"|(\S*))')


def _other_readings(
    main: _Pass, html: str, ctx: PageContext, prep: _Prepared, site_host: str, live: frozenset[str]
) -> None:
    """Read the stretches where the tree builder's state is in doubt the other way too, until that
    reading meets the main one (same token, same state); what it finds is made inert as well. A tag
    both readings make inert gets one marker naming what either reading found it needs."""
    done: set[tuple[int, _State]] = set()
    work = collections.deque(main.alternatives)
    doubt = [main.doubt_at] if main.doubt_at >= 0 else []
    inserted = {(pos, text) for pos, _, text in main.edits}
    markers = {pos: i for i, (pos, _, text) in enumerate(main.edits) if text.startswith(" data-gk")}
    while work and len(done) < _MAX_READINGS:
        pos, state = work.popleft()
        if (pos, state) in done or main.state_at_tag(pos) == state:
            continue
        done.add((pos, state))
        other = _Pass(
            html, ctx, prep, site_host=site_host, base=main.base, live=live, shadow=True,
            state=state, meet=main, analyze_only=main.analyze_only, depth=main.depth,
            shared=main.shared,
        )  # fmt: skip
        other.run(pos)
        main.needs.merge(other.needs)
        if other.doubt_at >= 0:
            doubt.append(other.doubt_at)
        if not other.met and other.body_snippet_at() < len(html):
            # this reading ends inside something the main one does not: the body snippet goes at the
            # last place both read alike, before the stretch in doubt
            before = main.state_before(pos)
            main.other_ends.append(before[0] if before is not None else 0)
            main.open_to_end = min(main.open_to_end, other.eof_at)
        for e in other.edits:
            if (e[0], e[2]) in inserted:
                continue
            inserted.add((e[0], e[2]))
            if e[2].startswith(" data-gk") and e[0] in markers:
                main.edits[markers[e[0]]] = _merge_markers(main.edits[markers[e[0]]], e)
            else:
                if e[2].startswith(" data-gk"):
                    markers[e[0]] = len(main.edits)
                main.edits.append(e)
        main.blocked.extend(other.blocked)
        work.extend(other.alternatives)
    left = [pos for pos, state in work if (pos, state) not in done and main.state_at_tag(pos) != state]
    if left or doubt:
        # Too many ways to read this page (only crafted markup gets here): from the first stretch
        # still in doubt, every tag that parses as one is taken for real, whatever surrounds it.
        other = _Pass(
            html, ctx, prep, site_host=site_host, base=main.base, live=live, shadow=True,
            analyze_only=main.analyze_only, depth=main.depth, shared=main.shared,
        )  # fmt: skip
        other.paranoid(min(left + doubt))
        main.needs.merge(other.needs)
        for e in other.edits:
            if (e[0], e[2]) not in inserted:
                inserted.add((e[0], e[2]))
                if e[2].startswith(" data-gk") and e[0] in markers:
                    main.edits[markers[e[0]]] = _merge_markers(main.edits[markers[e[0]]], e)
                else:
                    main.edits.append(e)
        main.blocked.extend(other.blocked)


_CDATA_OPEN: Final = re.compile(r"<!\[CDATA\[")


def _cdata_readings(main: _Pass, html: str) -> None:
    """Chromium's preload scanner does not know CDATA sections (in SVG and MathML): to it one is a
    bogus comment that ends at the first ">". What follows is read that way too, in the state the
    page was in there."""
    ahead = main.shared.ahead
    for c in _CDATA_OPEN.finditer(html):
        gt = ahead.next(">", c.end())
        close = ahead.next("]]>", c.end())
        if gt < 0 or 0 <= close < gt:
            continue
        before = main.state_before(c.start())
        state = before[1] if before is not None else (main.shared.root, False)
        main.alternatives.append((gt + 1, state))


def _unquoted(edit: tuple[int, int, str], html: str) -> tuple[int, int, str]:
    pos, prio, text = edit
    if text == _PRELOAD_STOP:
        return (pos, prio, "<!--")  # no ">": still a CSS no-op, and text inside an open tag
    if not text.startswith(' data-gk="'):
        return edit
    m = _MARKER.match(text)
    assert m is not None
    text = (
        " data-gk="
        + (m.group(1) or "").replace(" ", "&#32;")
        + text[m.end() :].replace('="text/plain"', "=text/plain")
    )
    if html[pos : pos + 1] == "/":
        text += " "
    return (pos, prio, text)


def _merge_markers(first: tuple[int, int, str], other: tuple[int, int, str]) -> tuple[int, int, str]:
    def ids(text: str) -> list[str]:
        m = _MARKER.match(text)
        if m is None:
            return []
        return (m.group(1) if m.group(1) is not None else m.group(2).replace("&#32;", " ")).split()

    pos, prio, text = first
    merged = list(dict.fromkeys([*ids(text), *ids(other[2])]))
    quoted = text.startswith(' data-gk="')
    value = '"' + " ".join(merged) + '"' if quoted else "&#32;".join(merged)
    m = _MARKER.match(text)
    assert m is not None
    text = " data-gk=" + value + text[m.end() :]
    trail = " " if text.endswith(" ") else ""  # before a "/" only: it stays last
    if "type=text/plain" in other[2] and "type=" not in text:
        text = text.rstrip(" ") + (' type="text/plain"' if quoted else " type=text/plain") + trail
    return (pos, prio, text)
