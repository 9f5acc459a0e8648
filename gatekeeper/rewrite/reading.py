"""Step 5, one reading of a document: the walk, the tree builder's rules it follows, and the handlers that
make each fetching element inert."""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable
from typing import Final
from urllib.parse import urlsplit

from ..registry import Placeholder, Service, undeclared_service
from .classify import _MEMO_ENTRIES, _MEMO_TEXT, _Base, _Need, _Prepared, _undeclared_only
from .context import Blocked, Embed, PageContext, TooMuchWork
from .css import (
    _PRELOAD_HINT,
    _PRELOAD_STOP,
    _SIZE_STYLE,
    _css_may_fetch,
    _preload_imports,
    _refresh_url,
    css_urls,
)
from .edits import _COUNT, _COUNT_OUTCOME, _INERT, _NO_OUTCOME, _NOTHING, _Inert, _Outcome
from .fetching import (
    _EMBED_TAGS,
    _FETCHERS,
    _GENERIC_ATTRS,
    _IN_SHARE,
    _IN_SHARE_JS,
    _JS_TYPES,
    _LINK_FETCH_RELS,
    _PLACEHOLDER_KINDS,
    _RAW_TEXT,
    _SELECT_IGNORES,
    _SHARE_URL_ATTRS,
    _SHARE_WIDGETS,
    _SPECULATION,
    _SVG_FETCH,
    _URL_ATTRS,
    _WIDGET_RE_CLASS,
    _WIDGET_TAGS,
    _WIDGET_URL_ATTRS,
    _WIDGETS,
    _speculation_urls,
)
from .tokenizing import (
    _ATTR_RE,
    _BREAKOUT,
    _CLOSES_P,
    _END_TAG_REST,
    _FOREIGN,
    _FOREIGN_RE,
    _HTML_CLOSERS,
    _HTML_ELEMENT,
    _HTML_POINT,
    _HTML_RE,
    _HTML_RE_BASE,
    _MAYBE_EXTERNAL,
    _NESTED_RE,
    _POINT_RE,
    _RAW_END,
    _SCRIPT_DOUBLE,
    _SCRIPT_ESCAPED,
    _SCRIPT_STATES,
    _TAG_CUT,
    _TAG_OPEN,
    _TEXT_POINT,
    _TOKEN_RE,
    _VOID,
    _Attrs,
    _child_text,
    _lower,
    _squeeze,
)
from .tree import _MAX_DEPTH, _Shared, _Stack, _State
from .urls import _absolute, _decode_text, _srcset_urls, _target, decode_attribute

# ---------------------------------------------------------------------------------------------
# One pass over a document


_MAX_SRCDOC_DEPTH: Final = 4


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
        self.shared = shared if shared is not None else _Shared(html, ctx.deadline)
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
        self.widget_at = self.shared.widget_at()
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
        # a secondary reading reads no further than what is left of the characters they share
        budget = self.shared.budget if meet is not None else None
        state: _State = (fstack.node(), self.in_select)
        nodes = fstack.nodes  # (the list object stays the same while frames come and go)
        clock = 0
        stop = len(html)
        read_to = pos
        while True:
            clock += 1
            if not clock & 255:
                self.shared.on_time()
            if budget is not None:
                budget[0] -= pos - read_to
                read_to = pos
                stop = min(len(html), pos + max(0, budget[0]))
            if not fstack:
                html_re = _HTML_RE if self.base.first_party else _HTML_RE_BASE
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
            elif fstack[-1][1] == _FOREIGN:
                m = _FOREIGN_RE.match(html, pos, stop)
            elif fstack[-1][1] == _HTML_ELEMENT:
                m = _NESTED_RE.match(html, pos, stop)
            else:
                m = _POINT_RE.match(html, pos, stop)
            if m is None or m.group(5) is not None:  # the rest is text, or inside a comment or tag
                if budget is not None:
                    budget[0] -= stop - read_to
                if stop < len(html):  # the secondary readings have read enough: paranoid from here
                    self.doubt_at = pos
                    return
                if m is not None and m.end() < len(html):
                    self.eof_at = m.start(5)  # the page ends inside a tag, comment or doctype
                return
            start = m.start(1)
            node = nodes[-1]
            if state[0] is not node or state[1] != self.in_select:
                state = (node, self.in_select)
            if meet is not None and meet.state_at_tag(start) == state:
                self.met = True
                return  # this reading has met the main one
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
        budget = self.shared.budget
        for clock, lt in enumerate(_TAG_OPEN.finditer(html, pos)):
            if not clock & 255:
                self.shared.on_time()
            # a tag left open reads to the end of the page, from each "<" in it: paid from the budget
            end = min(len(html), lt.start() + max(0, budget[1]))
            m = _TOKEN_RE.match(html, lt.start(), end)
            if m is None or m.group(1) is None:
                if end < len(html):
                    raise TooMuchWork("too many ways to read this page, with tags left open")
                continue
            budget[1] -= m.end() - lt.start()
            if m.group(2) is not None:
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
        if self.shadow and self.shared.ahead.next(name, pos) < 0:
            # no end tag anywhere after: no need to read to the end to know (the main reading reads
            # each stretch once; the others and the paranoid one would read the same ones again)
            return -1
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
        urls = _URL_ATTRS.get(name, ())
        if name in ("iframe", "frame"):
            if "srcdoc" in first and self._srcdoc_needs(need, attrs.get("srcdoc") or ""):
                renamed.append("srcdoc")
        elif name == "link":
            if not set(_lower(attrs.get("rel") or "").split()) & _LINK_FETCH_RELS:
                urls = ()
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
        from .readings import _cdata_readings, _other_readings  # they read with this class

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
        if _IN_SHARE.search(html, start, end) is not None:
            return self._in_share_outcome(m, start)
        if _SPECULATION.search(html, start, end) is not None:
            return self._speculation_outcome(m, start, end, content_end)
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

    def _speculation_outcome(self, m: re.Match[str], start: int, end: int, content_end: int) -> _Outcome:
        """<script type=speculationrules>: a list of URLs waits for their services; a document rule
        (it acts on the page's links, any of which may leave) or rules we cannot read never run."""
        attrs = self._attrs_of(m)
        kind = _lower((attrs.get("type") or "").strip(" \t\n\r\f"))
        if kind != "speculationrules" or "data-gk" in attrs.first:
            return _NO_OUTCOME
        need = _Need()
        for url in _speculation_urls(self.html[end:content_end]):
            if url is None:
                need.add((), "speculationrules", "speculationrules")
            else:
                self._check(need, url, "speculationrules")
        if not need.services and not need.undeclared:
            return _NO_OUTCOME
        return _Outcome(_INERT, self._inert(m, "script", attrs, start, need, [], text_plain=True))

    def _in_share_outcome(self, m: re.Match[str], start: int) -> _Outcome:
        """LinkedIn's share button: a share link before it, like the other script-drawn share buttons
        (the script itself fetches nothing; `type` keeps it inert until its service is granted)."""
        attrs = self._attrs_of(m)
        if "data-gk" in attrs.first:
            return _COUNT_OUTCOME  # made inert by an earlier pass: keeps its number
        if _lower((attrs.get("type") or "").strip(" \t\n\r\f")) != "in/share":
            return _NO_OUTCOME
        button = _Need()
        self._check(button, _IN_SHARE_JS, "script", True)
        service = next(iter(button.services), None)
        if service is None or not service.share_url:
            return _NO_OUTCOME
        target = attrs.get("data-url")
        need = _Need()
        need.add((service,), _IN_SHARE_JS, "script")
        inert = self._inert(m, "script", attrs, start, need, [], text_plain=True)
        page = _absolute(target, self.base.url) if target else self.base.url
        return _Outcome(_INERT, inert, ("script", page, None, None, (service,), True))

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
