"""Step 5c, SVG and MathML: foreign start and end tags, integration points, the ways out of foreign
content (each doubtful one noted as another reading), and what an SVG/MathML element fetches."""

from __future__ import annotations

import itertools
import re
from typing import Final

from .checking import check, check_attr, generic, sheet_marks
from .classify import _Need
from .css import _css_may_fetch, css_urls
from .fetching import _GENERIC_ATTRS, _JS_TYPES, _RAW_TEXT, _SVG_FETCH
from .marking import apply_marking, marking_for
from .raw_text import preload_break, signatures
from .reading import _Pass
from .tokenizing import (
    _FOREIGN,
    _HTML_CLOSERS,
    _HTML_ELEMENT,
    _HTML_POINT,
    _TAG_CUT,
    _TEXT_POINT,
    _Attrs,
    _child_text,
    _lower,
    self_closing,
)
from .urls import _decode_text, _srcset_urls, decode_attribute


def foreign_end(p: _Pass, name: str, end: int) -> None:
    fstack = p.fstack
    frames = fstack.frames  # (read directly: the same list while frames come and go)
    if frames[-1][1] == _HTML_ELEMENT:
        if _in_body_end(p, name, end) is None:
            # Ignored while an HTML element is the current node. Implied end tags (a <p> that a
            # <div> closed) can make us think one is open when none is: read it as a foreign end too.
            for i in range(len(frames) - 1, -1, -1):
                if frames[i][1] != _HTML_ELEMENT and frames[i][0] == name:
                    p.other_reading(end, i)
                    break
        return
    for i in range(len(frames) - 1, -1, -1):
        frame = frames[i]
        if frame[1] == _HTML_ELEMENT:  # the walk reached an HTML element: the in-body rules
            _in_body_end(p, name, end)
            return
        if frame[0] == name:
            fstack.cut(i)
            return
    if frames[-1][1] != _FOREIGN:
        return
    # "</p>" and "</br>" leave foreign content in today's HTML standard, not in older parsers;
    # another end tag closes the SVG when an HTML element of that name is open around it: both
    # readings are followed.
    out = len(frames)
    while out and frames[out - 1][1] == _FOREIGN:
        out -= 1
    if name in ("p", "br") or name in _HTML_CLOSERS or name == "template":
        p.other_reading(end)
        fstack.cut(out)
    else:
        p.other_reading(end, out)


def _in_body_end(p: _Pass, name: str, end: int = -1) -> bool | None:
    """An end tag under the in-body rules, as far as our frames go: True when it closed an HTML
    element opened inside foreign content, None when an integration point stops it."""
    fstack = p.fstack
    frames = fstack.frames  # (read directly: the same list while frames come and go)
    for i in range(len(frames) - 1, -1, -1):
        frame = frames[i]
        if frame[1] == _HTML_ELEMENT:
            if frame[0] == name:
                if i < len(frames) - 1 and end >= 0:
                    # closing more than the current node: an end tag we did not model (implied
                    # ones) may have closed it already; read on without closing too
                    p.other_reading(end)
                fstack.cut(i)
                return True
        elif frame[1] != _FOREIGN:
            return None  # foreignObject, desc, title, mi...: special, the walk stops
    return None


def foreign_start(p: _Pass, m: re.Match[str], name: str, start: int, end: int) -> None:
    attrs = p.attrs_of(m)
    svg_element(p, m, name, attrs, start, end)
    if self_closing(p.html, m):
        return
    kind = _FOREIGN
    # a start tag in foreign content takes its parent's namespace: <svg> inside MathML is a MathML
    # element (only under annotation-xml does it start SVG)
    parent = p.fstack.frames[-1]
    math = parent[2] and not (name == "svg" and parent[0] == "annotation-xml")
    if not math and name in ("foreignobject", "desc", "title"):
        kind = _HTML_POINT
    elif math and name in ("mi", "mo", "mn", "ms", "mtext"):
        kind = _TEXT_POINT
    elif math and name == "annotation-xml":
        enc = _lower((attrs.get("encoding") or "").strip())
        if enc in ("text/html", "application/xhtml+xml"):
            kind = _HTML_POINT
    p.fstack.append((name, kind, math))
    if name == "noscript" or name in _RAW_TEXT:
        # Chromium's preload scanner reads these as raw text here too, as in HTML: what follows
        # their end tag is read that way as well (it fetches what it takes for tags there). With
        # no end tag it reads to the end, and the body snippet goes before (its </script> would
        # end it)
        found = p.shared.ahead.next(name, end)
        stop = found if found >= 0 else len(p.html)
        if found >= 0:
            p.alternatives.add(stop, p.fstack.nodes[-1].states[p.in_select])
        stretches = p.raw_stretches
        stretches.append(end)
        stretches.append(stop)
        stretches.append(p.foreign_at)


def svg_element(p: _Pass, m: re.Match[str], name: str, attrs: _Attrs, start: int, end: int) -> None:
    """An SVG or MathML element: href of image/use/feImage/script, style, url() in attributes,
    and the style sheet of an SVG <style>."""
    first = attrs.first
    if name == "style":
        preload_break(p, end)
    if not first and (name not in ("style", "script") or _quiet_text(p, name, end)):
        return  # (most SVG elements on a page: nothing to fetch from)
    need = _Need()
    marks: list[tuple[int, str]] | None = []
    renamed = generic(p, attrs, name, need, marks) if first else []
    for attr, raw in first.items():
        if attr in _GENERIC_ATTRS or attr.startswith("data-gk"):
            continue
        if attr in ("href", "xlink:href"):
            # (a <link> or <base> here is no element of SVG's, but Chromium's preload scanner takes
            # it for one: it fetches the link, and resolves what follows against the base)
            fetches = name in _SVG_FETCH or (name in ("link", "base") and attr == "href")
            if fetches and check_attr(p, need, attrs, attr, name):
                renamed.append(attr)
        elif attr in ("srcset", "imagesrcset", "poster"):
            # meaningless in SVG and MathML, but Chromium's preload scanner reads them on any
            # <source>, <img>, <link> or <video> tag, whatever the namespace
            value = decode_attribute(raw)
            urls = _srcset_urls(value) if attr != "poster" else [value]
            if any([check(p, need, u, name) for u in urls]):
                renamed.append(attr)
        elif attr == "src" or (attr in ("to", "from", "by", "values") and name in ("set", "animate")):
            value = decode_attribute(raw)
            hits = [check(p, need, u, name) for u in (value.split(";") if attr == "values" else [value])]
            if any(hits):
                renamed.append(attr)
        elif ("url(" in raw.lower() or "&" in raw) and any(
            [check(p, need, u, name) for u in css_urls(decode_attribute(raw))]
        ):
            renamed.append(attr)
    text_plain = False
    kind = first.get("type")
    kind = None if kind is None else _lower(decode_attribute(kind).strip(" \t\n\r\f"))
    if name == "style" and kind in (None, "", "text/css"):
        close = p.shared.ahead.next("style", end)
        stop = close if close >= 0 else len(p.html)
        html = p.html
        sheet: tuple[int, int] | None
        if _plain_text(html, end, stop):  # (the common case) the text is the style sheet
            cuts, sheet = [stop - end], (end, stop)
        else:
            # the element may end at any tag in there (one that breaks out of SVG): each text it
            # could have is read
            cuts = [t.start() - end for t in itertools.islice(_TAG_CUT.finditer(html, end, stop), 32)]
            cuts.append(stop - end)
            sheet = _plain_sheet(html, end, stop) if len(cuts) == 1 else None
        found = None if sheet is None else sheet_marks(p, need, html[sheet[0] : sheet[1]], sheet[0], "style")
        if found is not None and marks is not None:
            marks += found  # only the URLs that are not granted are made inert
        elif p.spend(sum(cuts) + stop - end):
            markup = html[end:stop]
            for url in dict.fromkeys(
                u for cut in cuts for u in css_urls(_decode_text(_child_text(markup[:cut])))
            ):
                check(p, need, url, "style")
            text_plain, marks = True, None
        elif stop > end:  # past what re-reading may cost: a style sheet not read is not kept
            need.add((), "", "style")
            text_plain, marks = True, None
    elif name == "script" and (kind is None or kind in _JS_TYPES) and p.prep.signature_re is not None:
        # an SVG script runs too: its text (markup here, CDATA often) against the signatures
        close = p.shared.ahead.next("script", end)
        stop = close if close >= 0 else len(p.html)
        before = len(need.services), need.undeclared
        if _plain_text(p.html, end, stop):
            signatures(p, need, p.html[end:stop])
        elif p.spend(stop - end):
            signatures(p, need, _decode_text(_child_text(p.html[end:stop])))
        elif stop > end:
            need.add((), "", "script")
        text_plain = (len(need.services), need.undeclared) != before or "href" in renamed
    if not renamed and not need.services and not need.undeclared:
        return
    marking = marking_for(m, name, attrs, start, need, renamed, text_plain=text_plain, url_marks=marks)
    apply_marking(p, marking, start, None)


def _quiet_text(p: _Pass, name: str, end: int) -> bool:
    """The text of an SVG <style> or <script> (with no attributes) is plain and cannot fetch: no
    url() and the like, no vendor's signature. (The common case, read without more ado.)"""
    html = p.html
    close = p.shared.ahead.next(name, end)
    stop = close if close >= 0 else len(html)
    if not _plain_text(html, end, stop):
        return False
    if name == "style":
        return not _css_may_fetch(html[end:stop])
    sig = p.prep.signature_re
    return sig is None or sig.search(html, end, stop) is None


def _plain_text(html: str, start: int, stop: int) -> bool:
    """No tag, comment, CDATA or character reference between `start` and `stop`: the element's text
    is the markup itself. (Searched for "<" first: a stretch with none ends at the next tag, so the
    stretches searched for "&" are each a run of text, read once.)"""
    return html.find("<", start, stop) < 0 and html.find("&", start, stop) < 0


_CDATA_SHEET: Final = re.compile(r"[\t\n\f\r ]*+<!\[CDATA\[((?:[^\]]++|\](?!\]>))*+)\]\]>[\t\n\f\r ]*+")


def _plain_sheet(html: str, end: int, stop: int) -> tuple[int, int] | None:
    """Where an SVG <style>'s text is its markup as written (no reference, tag or comment in it, or
    one CDATA section), so marks can go in: (start, end) of that text, or None."""
    if _plain_text(html, end, stop):
        return end, stop
    m = _CDATA_SHEET.match(html, end, stop)
    return (m.start(1), m.end(1)) if m is not None and m.end() == stop else None
