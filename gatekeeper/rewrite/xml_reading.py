"""Step 5 for XML documents: one left-to-right reading of a well-formed XHTML page as XML (namespaces,
CDATA sections, comments, processing instructions, the DOCTYPE's internal subset, names as written),
handing each XHTML element to the HTML steps and each SVG or MathML one to the foreign step, so what an
element fetches is read from the one table (`fetching`) and judged by the one classification (`classify`).

An XML document has no tree-builder guesswork: no raw text but CDATA, no <noscript> or <template>
magic, an element is what its namespace says. In XHTML, <title> and <noscript> hold real elements (a
<meta> refresh in a title navigates), and so does a <script> (an <iframe> in it loads): the reading
takes every element for what it is, wherever it stands. What it cannot read for sure (entities or
default attributes declared in the internal subset, an XLink namespace under another prefix, names that
differ only in case) raises `NotReadable`: the page is then served unread (the CSP protects it, and
its third-party refreshes are made inert)."""

from __future__ import annotations

import re
from html import unescape
from typing import Final

from .checking import check
from .classify import _Need
from .context import Blocked
from .edits import Edit, Insert
from .elements import element
from .foreign import svg_element
from .html_tags import base_start
from .raw_text import script, style
from .reading import _Pass
from .tokenizing import _TOKEN_RE
from .urls import _ENTITIES, decode_attribute

XHTML: Final = "http://www.w3.org/1999/xhtml"
SVG: Final = "http://www.w3.org/2000/svg"
MATHML: Final = "http://www.w3.org/1998/Math/MathML"
XLINK: Final = "http://www.w3.org/1999/xlink"
_XML_NS: Final = "http://www.w3.org/XML/1998/namespace"


# an open element: qualified name, namespace, local name, where its start tag begins and ends, and
# the namespace bindings to restore at its end
_Frame = tuple[str, str, str, int, int, list[tuple[str, str | None]]]


class NotReadable(Exception):
    """This XML document cannot be read for sure: it is served unread (the CSP protects it)."""


class NotXhtml(NotReadable):
    """An XML document whose root is not XHTML's <html> (RSS, a bare SVG...): no banner to show."""


_S: Final = r"[ \t\r\n]"
# Tokens of a well-formed document (the caller checked it with expat), matched at a "<": a start tag
# (its attributes, values quoted, possibly holding ">"), an end tag, a comment, a CDATA section, a PI.
_TAG: Final = re.compile(
    r"<(?:(?P<start>[^ \t\r\n/>!?<]++)(?P<attrs>(?:" + _S + r"++[^ \t\r\n=/>]++" + _S + r"*+=" + _S
    + r"""*+(?:"[^"]*+"|'[^']*+'))*+)""" + _S + r"*+(?P<slash>/)?>"
    r"|/(?P<end>[^ \t\r\n>]++)" + _S + r"*+>"
    r"|!--(?s:.*?)-->|!\[CDATA\[(?s:.*?)\]\]>|\?(?s:.*?)\?>)"
)  # fmt: skip
_ATTR: Final = re.compile(_S + r"++([^ \t\r\n=/>]++)" + _S + r"*+=" + _S + r"""*+(?:"([^"]*+)"|'([^']*+)')""")
# The DOCTYPE with its internal subset: markup declarations, comments and PIs, quoted strings read
# whole (a "]" or ">" in them ends nothing).
_DOCTYPE: Final = re.compile(
    r"""<!DOCTYPE(?:[^\[>"']|"[^"]*+"|'[^']*+')*+(?:\[(?P<subset>(?:[^\]"'<]|"[^"]*+"|'[^']*+'"""
    r"""|<!--(?s:.*?)-->|<\?(?s:.*?)\?>|<(?:[^>"']|"[^"]*+"|'[^']*+')*+>)*+)\])?""" + _S + r"*+>"
)
# Declarations that change what the document says without saying it where it is used: an entity may
# hold markup or a URL, an ATTLIST default gives elements attributes they do not write. Only the
# XHTML idiom `<!ENTITY nbsp "&#160;">` (a name HTML knows, standing for what HTML says) reads the same.
_SUBSET_RISK: Final = re.compile(r"<!(?:ENTITY|ATTLIST)|%")
_CHAR_REF: Final = r"&#[0-9]++;|&#x[0-9a-fA-F]++;"
_CHAR_ENTITY: Final = re.compile(
    r"<!ENTITY" + _S + r"++([A-Za-z][A-Za-z0-9]*+)" + _S + r"""++(?:"((?:[^"&<%]|""" + _CHAR_REF
    + r""")*+)"|'((?:[^'&<%]|""" + _CHAR_REF + r")*+)')" + _S + r"*+>"
)  # fmt: skip


def _subset_reads_alike(subset: str) -> bool:
    """Whether every entity the internal subset declares is one HTML knows, with HTML's value (and it
    declares no default attributes and no parameter entities)."""
    pos = 0
    for risk in _SUBSET_RISK.finditer(subset):
        if risk.start() < pos:
            continue  # (inside the declaration just read)
        m = _CHAR_ENTITY.match(subset, risk.start()) if risk.group(0) != "%" else None
        if m is None:
            return False
        value = _xml_value(m.group(2) if m.group(2) is not None else m.group(3))
        if _ENTITIES.get(m.group(1) + ";") != value:
            return False
        pos = m.end()
    return True


def xml_walk(p: _Pass) -> None:
    """Read `p.html` as a well-formed XHTML document: every fetching element made inert through the
    HTML or foreign steps; where the snippets go (`head_end`, `html_end`, `body_end`) and
    the page's language. Raises NotXhtml or NotReadable (nothing is then changed)."""
    text = p.html
    p.widgets = True  # a widget's tag may carry a prefix: each <a>/<div>/<blockquote> is looked at
    ns: dict[str, str] = {"xml": _XML_NS}  # prefix ("" the default) -> namespace, in scope
    stack: list[_Frame] = []
    root_seen = False
    pos = 0
    clock = 0
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            break
        clock += 1
        if not clock & 255:
            p.shared.on_time()
        if text.startswith("<!DOCTYPE", lt):
            d = _DOCTYPE.match(text, lt)
            if d is None or root_seen:
                raise NotReadable("a DOCTYPE that cannot be read")
            subset = d.group("subset")
            if subset and not _subset_reads_alike(subset):
                raise NotReadable("entities or default attributes declared in the internal subset")
            pos = d.end()
            continue
        m = _TAG.match(text, lt)
        if m is None:
            raise NotReadable(f"not well-formed at character {lt}")
        pos = m.end()
        qname = m.group("start")
        if qname is None:
            end_name = m.group("end")
            if end_name is None:
                if text.startswith("<?xml-stylesheet", lt):
                    _stylesheet_pi(p, lt, pos)
                continue  # a comment, CDATA section or processing instruction
            if not stack or stack[-1][0] != end_name:
                raise NotReadable(f"an end tag that closes nothing at character {lt}")
            _close(p, stack.pop(), ns, lt, len(stack))
            continue
        undo = _bind(m, ns)
        uri, local = _resolve(qname, ns)
        if not root_seen:
            root_seen = True
            if uri != XHTML or local != "html":
                raise NotXhtml(f"the root element is {{{uri}}}{local}")
        frame = (qname, uri, local, lt, pos, undo)
        _start(p, m, frame, ns, len(stack))
        if m.group("slash"):
            _close(p, frame, ns, pos, len(stack))
        else:
            stack.append(frame)
    if stack or not root_seen:
        raise NotReadable("the document ends inside an element")


_PI_HREF: Final = re.compile(_S + r"++(href)" + _S + r"*+=" + _S + r"""*+(?:"([^"]*+)"|'([^']*+)')""")


def _stylesheet_pi(p: _Pass, start: int, end: int) -> None:
    """`<?xml-stylesheet href=...?>`: an XML document loads that style sheet (CSS or XSLT) before it
    renders. One from a non-granted third party loses its href (`data-gk-href`: the PI then names
    none); a page served once the service is granted has it back."""
    for h in _PI_HREF.finditer(p.html, start, end):
        need = _Need()
        if check(p, need, _xml_value(h.group(2) if h.group(2) is not None else h.group(3)), "xml-stylesheet"):
            ids = tuple(s.id for s in need.services)
            why = "not granted: " + ", ".join(ids) if ids else "undeclared third party (strict mode)"
            p.blocked.append(Blocked("xml-stylesheet", need.url, ids, why))
            p.edits.append(Edit(h.start(1), Insert.RENAME))


def _bind(m: re.Match[str], ns: dict[str, str]) -> list[tuple[str, str | None]]:
    """Put the tag's namespace declarations in scope; what to restore at its end."""
    undo: list[tuple[str, str | None]] = []
    attrs = m.group("attrs")
    if "xmlns" not in attrs:
        return undo
    for a in _ATTR.finditer(attrs):
        name = a.group(1)
        if name == "xmlns" or name.startswith("xmlns:"):
            prefix = name[6:]
            undo.append((prefix, ns.get(prefix)))
            value = a.group(2) if a.group(2) is not None else a.group(3)
            ns[prefix] = _xml_value(value)
    return undo


def _xml_value(raw: str) -> str:
    """A namespace name as XML reads it (character references; the predefined entities)."""
    # (XML's predefined entities and numeric references read as HTML reads them)
    return decode_attribute(raw) if "&" in raw else raw


def _resolve(qname: str, ns: dict[str, str]) -> tuple[str, str]:
    """An element's (namespace, local name)."""
    prefix, colon, local = qname.rpartition(":")
    if not colon:
        return ns.get("", ""), qname
    uri = ns.get(prefix)
    if uri is None:
        raise NotReadable(f"prefix {prefix!r} is not declared")
    return uri, local


def _start(p: _Pass, m: re.Match[str], frame: _Frame, ns: dict[str, str], depth: int) -> None:
    _, uri, local, start, end, _ = frame
    if uri not in (XHTML, SVG, MATHML):
        return  # an element of no vocabulary the browser renders: it fetches nothing
    _check_attributes(m, ns)
    html_m = _TOKEN_RE.match(p.html, start)
    if html_m is None or html_m.group(1) is None or html_m.end() != end:
        raise NotReadable(f"a start tag the HTML steps read otherwise at character {start}")
    if uri != XHTML:
        svg_element(p, html_m, local.lower(), p.attrs_of(html_m), start, end)
        return
    if depth == 0:
        p.html_end = end
        lang = _attr(m, "xml:lang") or _attr(m, "lang")
        p.lang = lang.strip() if lang is not None else None
        p.lang_seen = True
    elif depth == 1 and local == "head" and p.head_end < 0:
        p.head_end = end
    if local in ("script", "style"):
        return  # read at its end tag, with its text
    if local == "base" and base_start(p, html_m, start):
        return
    element(p, html_m, local, start, end)


def _close(p: _Pass, frame: _Frame,
           ns: dict[str, str], at: int, depth: int) -> None:  # fmt: skip
    """An element ends at `at` (its end tag, or the end of its empty-element tag)."""
    _, uri, local, tag_start, end, undo = frame
    if uri == XHTML:
        if local in ("script", "style"):
            html_m = _TOKEN_RE.match(p.html, tag_start)
            assert html_m is not None
            content_end = max(at, end)
            text = _text_read(p.html[end:content_end])
            (script if local == "script" else style)(p, html_m, tag_start, end, content_end, text)
        elif depth == 1 and local == "body" and p.body_end < 0:
            p.body_end = at
        elif depth == 0 and p.body_end < 0:
            p.body_end = at  # no <body>: the body snippet goes before the root's end
    for prefix, old in reversed(undo):
        if old is None:
            del ns[prefix]
        else:
            ns[prefix] = old


_MARKUP: Final = re.compile(r"<!\[CDATA\[(?s:(.*?))\]\]>|<!--(?s:.*?)-->|<\?(?s:.*?)\?>|<[^>]*+>|([^<]++)")


def _text_read(content: str) -> str | None:
    """What the browser reads as a script's or style sheet's text when it is not the characters
    between the tags (None when it is): character references decoded, CDATA sections unwrapped,
    comments and processing instructions left out. The text inside child elements is kept, which
    can only find more, never less."""
    if "&" not in content and "<" not in content:
        return None
    parts = []
    for m in _MARKUP.finditer(content):
        if m.group(1) is not None:
            parts.append(m.group(1))
        elif m.group(2) is not None:
            parts.append(unescape(m.group(2)))
    text = "".join(parts)
    return None if text == content else text


def _attr(m: re.Match[str], name: str) -> str | None:
    for a in _ATTR.finditer(m.group("attrs")):
        if a.group(1) == name:
            return _xml_value(a.group(2) if a.group(2) is not None else a.group(3))
    return None


def _check_attributes(m: re.Match[str], ns: dict[str, str]) -> None:
    """What the HTML steps would read otherwise than an XML browser: two names alike but for case
    (they take the first), an XLink attribute under a prefix other than `xlink`."""
    attrs = m.group("attrs")
    if not attrs:
        return
    seen: set[str] = set()
    for a in _ATTR.finditer(attrs):
        name = a.group(1)
        low = name.lower()
        if low in seen:
            raise NotReadable(f"attributes {name!r} and another differing only in case")
        seen.add(low)
        prefix, colon, _ = name.partition(":")
        if colon and prefix not in ("xmlns", "xml", "xlink") and ns.get(prefix) == XLINK:
            raise NotReadable(f"an XLink attribute under the prefix {prefix!r}")


def well_formed(text: str) -> str | None:
    """Why `text` is not a namespace-well-formed XML document (expat, as a browser's XML parser
    reads it), or None when it is. Nothing is fetched: no external entity or DTD is read."""
    import pyexpat

    parser = pyexpat.ParserCreate("utf-8", " ")  # the text is decoded already: its bytes are UTF-8
    try:
        parser.Parse(text.encode("utf-8", "surrogatepass"), True)
    except pyexpat.ExpatError as e:
        return f"not well-formed XML ({e})"
    return None
