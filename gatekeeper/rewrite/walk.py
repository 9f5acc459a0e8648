"""Step 5a, the walk: one left-to-right pass over the tokens that can matter, handing each tag to its
step; and the paranoid pass that takes every "<name ...>" for a tag where the readings ran out of budget."""

from __future__ import annotations

import re
from typing import Final

from .context import TooMuchWork
from .elements import element
from .fetching import _FETCHERS, _SVG_FETCH
from .foreign import foreign_end, foreign_start, svg_element
from .html_tags import font_breaks, html_start
from .raw_text import raw_end, script, style
from .reading import _Pass
from .tokenizing import (
    _BREAKOUT,
    _FOREIGN,
    _FOREIGN_RE,
    _HTML_ELEMENT,
    _HTML_RE,
    _HTML_RE_BASE,
    _NESTED_RE,
    _POINT_RE,
    _TAG_OPEN,
    _TEXT_POINT,
    _TOKEN_RE,
)
from .tree import _MAX_DEPTH, _State


def walk(p: _Pass, pos: int = 0) -> None:
    """Read from `pos` to the end of the page, or until a secondary reading meets the main one."""
    html = p.html
    fstack = p.fstack
    frames = fstack.frames  # (read directly: the same list while frames come and go)
    widget_at = p.widget_at
    next_widget = 0
    state_at, state_of = p.state_at, p.state_of
    alternatives = p.alternatives
    meet = p.meet
    # a secondary reading reads no further than what is left of the characters they share
    budget = p.shared.budget if meet is not None else None
    state: _State = fstack.node().states[p.in_select]
    nodes = fstack.nodes  # (the same list too)
    clock = 0
    stop = len(html)
    read_to = pos
    while True:
        clock += 1
        if not clock & 255:
            p.shared.on_time()
        if budget is not None:
            budget[0] -= pos - read_to
            read_to = pos
            stop = min(len(html), pos + max(0, budget[0]))
        if not frames:
            html_re = _HTML_RE if p.base.first_party else _HTML_RE_BASE
            while next_widget < len(widget_at) and widget_at[next_widget] < pos:
                next_widget += 1
            if next_widget < len(widget_at) and widget_at[next_widget] <= stop:
                # walk up to the candidate: it is a real tag if the walk ends exactly there
                t = widget_at[next_widget]
                m = html_re.match(html, pos, t)
                if m is not None and m.group(5) is not None:
                    next_widget += 1
                    m = _TOKEN_RE.match(html, t) if m.end() == t else html_re.match(html, pos, stop)
            else:
                m = html_re.match(html, pos, stop)
        elif frames[-1][1] == _FOREIGN:
            m = _FOREIGN_RE.match(html, pos, stop)
        elif frames[-1][1] == _HTML_ELEMENT:
            m = _NESTED_RE.match(html, pos, stop)
        else:
            m = _POINT_RE.match(html, pos, stop)
        if m is None or m.group(5) is not None:  # the rest is text, or inside a comment or tag
            if budget is not None:
                budget[0] -= stop - read_to
            if stop < len(html):  # the secondary readings have read enough: paranoid from here
                p.doubt_at = pos
                return
            if m is not None and m.end() < len(html):
                p.eof_at = m.start(5)  # the page ends inside a tag, comment or doctype
            return
        start = m.start(1)
        node = nodes[-1]
        if state[0] is not node or state[1] != p.in_select:
            state = node.states[p.in_select]
        if meet is None and alternatives:
            # the other reading noted last may have met the main one already (an SVG <style> read
            # to its end tag either way): no need to keep it until the readings are merged
            alternatives.drop_met(start, state)
        if meet is not None and meet.state_at_tag(start) == state:
            p.met = True
            return  # this reading has met the main one
        if len(frames) > _MAX_DEPTH:
            p.doubt_at = p.eof_at = start
            return
        state_at.append(start)
        state_of.append(state)
        pos = end = m.end()
        name = m.group(3).lower()  # (`_lower`, inlined on the hottest line)
        if m.group(2) is not None:  # an end tag
            if name == "select":
                p.in_select = False
            elif name == "template" and p.template_depth:
                p.template_depth -= 1  # (inside SVG too: it closes the SVG with the template)
            if frames:
                foreign_end(p, name, end)
            elif name == "body" and not p.template_depth:
                p.body_end = start
            elif name == "select":
                p.in_select = False
            elif name in ("video", "audio") and start >= p.media_live_until:
                p.media_live_until = -1
            continue
        if frames:
            top = frames[-1][1]
            if top == _FOREIGN or (top == _TEXT_POINT and name in ("mglyph", "malignmark")):
                if name in _BREAKOUT or (name == "font" and font_breaks(p, m)):
                    while frames and frames[-1][1] == _FOREIGN:
                        fstack.pop()
                else:
                    foreign_start(p, m, name, start, end)
                    continue
        pos = html_start(p, m, name, start, end)
        if pos < 0:
            p.eof_at = start  # the rest of the page is the text of this element
            return


_MAYBE_CSS: Final = re.compile(r"[uU][rR][lL]\(|&")  # what SVG's url() attributes need to fetch


def paranoid(p: _Pass, pos: int) -> None:
    """Take every "<name ...>" from `pos` on for a tag, in HTML and in SVG alike."""
    html = p.html
    budget = p.shared.budget
    for clock, lt in enumerate(_TAG_OPEN.finditer(html, pos)):
        if not clock & 255:
            p.shared.on_time()
        # a tag left open reads to the end of the page, from each "<" in it: paid from the budget
        end = min(len(html), lt.start() + max(0, budget[1]))
        m = _TOKEN_RE.match(html, lt.start(), end)
        if m is None or m.group(1) is None:
            if end < len(html):
                raise TooMuchWork("too many ways to read this page, with tags left open")
            budget[1] -= end - lt.start()  # read to the end for nothing: paid all the same
            continue
        budget[1] -= m.end() - lt.start()
        if m.group(2) is not None:
            continue
        name = m.group(3).lower()
        if m.start(4) == m.end(4) and name != "script" and name != "style":
            continue  # no attributes: nothing to fetch from (a script or style may have its text)
        start, end = m.start(1), m.end()
        if name in _SVG_FETCH or name == "svg" or _MAYBE_CSS.search(html, start, end) is not None:
            # (read as SVG too: a fill="url()" or the like, in an SVG element or one taken for it)
            svg_element(p, m, name, p.attrs_of(m), start, end)
        if name == "script":
            if not p.spend(len(html) - end):
                raise TooMuchWork("too many ways to read this page, each with its own scripts")
            script_end = raw_end(p, "script", end)
            content_end = script_end if script_end >= 0 else len(html)
            p.shared.budget[1] += len(html) - content_end  # what the scan did not take
            script(p, m, start, end, content_end)
        elif name == "style":
            close = p.shared.ahead.next("style", end)
            content_end = close if close >= 0 else len(html)
            if not p.spend(content_end - end):
                raise TooMuchWork("too many ways to read this page, each with its own style sheets")
            style(p, m, start, end, content_end)
        elif name in _FETCHERS or name not in _SVG_FETCH:
            element(p, m, name, start, end)
