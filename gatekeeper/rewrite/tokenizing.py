"""Step 1, tokenizing: the regular expressions that follow the HTML tokenizer's states and skip what cannot
matter, and the attribute reader. Every pattern is possessive: the tokenizer never backtracks, nor do we."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from .fetching import _GENERIC_ATTRS, _HTML_ENDS, _HTML_STARTS, _RAW_TEXT, _SVG_FETCH
from .urls import decode_attribute


class _Attrs:
    """A start tag's attributes; the first of a name is the one browsers use."""

    __slots__ = ("end", "first", "start", "text")

    def __init__(self, text: str, start: int, end: int) -> None:
        first: dict[str, str] = {}  # lower-case name -> raw value
        if end - start > 4096:  # a crafted tag of thousands of attributes: one at a time
            for m in _ATTR_RE.finditer(text, start, end):
                first.setdefault(m.group(1).lower(), m.group(2) or m.group(3) or m.group(4) or "")
        elif start < end:
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

    def value_at(self, name: str) -> int:
        """Where the value of the first attribute of that name starts (inside its quotes), or -1."""
        for m in _ATTR_RE.finditer(self.text, self.start, self.end):
            if m.group(1).lower() == name:
                return next((m.start(g) for g in (2, 3, 4) if m.group(g) is not None), -1)
        return -1


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


def self_closing(html: str, m: re.Match[str]) -> bool:
    """Whether the start tag `m` (of `_TOKEN_RE` and its kin) ends with the self-closing flag: a "/"
    right before ">" that is not part of an unquoted attribute value."""
    end = m.end()
    if html[end - 2] != "/" or end - 2 < m.end(3):
        return False
    last = None
    for found in _ATTR_RE.finditer(html, m.start(4), end):
        last = found
    return last is None or last.end() < end - 1 or last.group(4) is None
