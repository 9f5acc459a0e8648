"""Step 5b, HTML tags: a start tag under the tree builder's rules (select, raw text, template, <base>,
<head>, <html lang>, <noscript>, entering SVG/MathML) and the tokenizer's self-closing flag."""

from __future__ import annotations

import re
from typing import Final

from .checking import check, generic
from .classify import _Base, _Need
from .elements import element
from .fetching import _FETCHERS, _RAW_TEXT, _SELECT_IGNORES, _WIDGET_TAGS
from .foreign import svg_element
from .marking import apply_marking, marking_for
from .raw_text import raw_end, script, style
from .reading import _Pass
from .tokenizing import _CLOSES_P, _END_TAG_REST, _FOREIGN, _HTML_ELEMENT, _VOID, self_closing
from .urls import _absolute, _target


def html_start(p: _Pass, m: re.Match[str], name: str, start: int, end: int) -> int:
    """Handle an HTML start tag; the position to go on from, or -1 when the rest is text."""
    html = p.html
    if p.in_select:
        if name in ("input", "keygen", "textarea", "select"):
            p.in_select = False  # these close the <select> (in parsers with a select mode)
            for i in range(len(p.fstack.frames) - 1, -1, -1):
                if p.fstack.frames[i] == ("select", _HTML_ELEMENT, False):
                    p.fstack.cut(i)
                    break
            if name == "select":
                return end
        elif name in _SELECT_IGNORES:
            # inside <select>, older parsers ignore these tags (their content is markup); today's
            # Chrome parses them as in the body
            p.other_reading(end)
    if name in _RAW_TEXT:
        close = raw_end(p, name, end)
        content_end = close if close >= 0 else len(html)
        if name == "script":
            script(p, m, start, end, content_end)
        elif name == "style":
            style(p, m, start, end, content_end)
        else:
            element(p, m, name, start, end)
        if close < 0:
            return -1
        rest = _END_TAG_REST.match(html, close + 2 + len(name))
        return -1 if rest is None else rest.end()
    if name in _FETCHERS or name in _WIDGET_TAGS:
        element(p, m, name, start, end)
        if p.fstack.frames and name not in _VOID:
            _open_in_foreign(p, name, end)
        return end
    if name in ("svg", "math"):
        svg_element(p, m, name, p.attrs_of(m), start, end)  # (an SVG element: fill="url()" and all)
        if not self_closing(html, m):
            if not p.fstack.frames:
                p.foreign_at = start
            p.fstack.append((name, _FOREIGN, name == "math"))
        return end
    if name == "plaintext":
        return -1
    top_level = not p.template_depth and not p.fstack.frames
    html_base = not p.template_depth  # a <base> in HTML content counts, even in an SVG <desc>
    if name == "noscript":
        # with scripting on, the element is raw text up to the first "</noscript"
        found = p.shared.ahead.next("noscript", end)
        if found >= 0:
            p.other_reading(found)
    elif name == "select":
        if not p.in_select:
            p.select_at = start
        p.in_select = True
    elif name == "template":
        if not p.template_depth:
            p.template_at = start
        p.template_depth += 1
    elif name == "base":
        # (one in a <template> is not the document's, but parsers disagree on where a template
        # ends, and script may clone it: a third party there is made inert too; and so is one
        # after the first, which another reading of the page may take for the first)
        if base_start(p, m, start, counts=html_base):
            return end
    elif name == "head":
        if p.head_end < 0 and top_level:
            p.head_end = end
    elif name == "html" and not p.lang_seen and top_level:
        p.lang_seen = True
        p.html_end = end
        lang = p.attrs_of(m).get("lang")
        p.lang = lang.strip() if lang is not None else None
    element(p, m, name, start, end)
    if p.fstack.frames and name not in _VOID:
        _open_in_foreign(p, name, end)
    return end


_P: Final = ("p", _HTML_ELEMENT, False)


def _open_in_foreign(p: _Pass, name: str, end: int) -> None:
    """An HTML element opened in SVG/MathML content (where the walk keeps HTML elements): a block
    start tag closes an open <p> first, but <table> does not in quirks mode (a page without
    `<!DOCTYPE html>`): where the mode is not known, the other reading is noted too."""
    fstack = p.fstack
    frame = (name, _HTML_ELEMENT, False)
    if name in _CLOSES_P and fstack.frames[-1] == _P:
        quirks = p.shared.quirks() if name == "table" else False
        if quirks is None:
            p.alternatives.add(end, fstack.nodes[-1].child(frame).states[p.in_select])
        if not quirks:
            fstack.pop()
    fstack.append(frame)


def base_start(p: _Pass, m: re.Match[str], start: int, *, counts: bool = True) -> bool:
    """A <base href>: True when it was made inert (a third party not allowed: every relative URL, the
    snippets' too, would go there; made inert, the next <base href> is the one browsers use); else
    the first one that `counts` sets the base."""
    attrs = p.attrs_of(m)
    href = attrs.get("href")
    if href is None:
        return False
    need = _Need()
    if check(p, need, href, "base"):
        renamed = ["href", *generic(p, attrs, "base", need)]  # its style too
        apply_marking(p, marking_for(m, "base", attrs, start, need, renamed), start, None)
        return True
    if not p.base_seen and counts:
        p.base_seen = True
        _set_base(p, href)
    return False


def font_breaks(p: _Pass, m: re.Match[str]) -> bool:
    return any(k in p.attrs_of(m).first for k in ("color", "face", "size"))


def _set_base(p: _Pass, href: str) -> None:
    target = _target(href, p.page_base.scheme)
    if target is None:
        return
    url = _absolute(href, p.page_base.url)
    scheme = url.split(":", 1)[0].lower() if ":" in url else p.page_base.scheme
    host, _ = target
    if not host:
        p.base = _Base(url, scheme, p.page_base.host, p.page_base.first_party)
        return
    fp = p.prep.classify(p.site_host, host, "/") is None
    p.base = _Base(url, scheme, host, fp)
