"""Step 3, tree state: the stack of open SVG/MathML frames (interned, so a reading's state is one object),
the look-ahead index, and the work every reading of one page shares (budgets, deadline)."""

from __future__ import annotations

import bisect
import re
import time
from array import array
from collections.abc import Iterator
from typing import Final

from .context import OutOfTime
from .fetching import _WIDGET_HINT
from .tokenizing import _DOCTYPE, _RAW_END, _WIDGET_TAG_AT

_MAX_READINGS: Final = 64
_HTML5_DOCTYPE: Final = re.compile(r"<!doctype[\t\n\f\r ]++html[\t\n\f\r ]*+>", re.I)

_Frame = tuple[str, int, bool]  # an open SVG/MathML element: name, kind, in MathML
# Deeper than this, the stack of open foreign content is not followed: the reading stops there and
# every tag after it is taken for real (the paranoid reading), which keeps each tag's cost bounded.
_MAX_DEPTH: Final = 48


class _Node:
    """A stack of open foreign frames, interned: one object per distinct stack in a page, so the
    state of a reading is compared by identity and kept for every tag at no cost, however deep."""

    __slots__ = ("children", "frame", "parent", "states")

    def __init__(self, frame: _Frame | None, parent: _Node | None) -> None:
        self.frame = frame
        self.parent = parent
        self.children: dict[_Frame, _Node] = {}
        # the two states of a reading with these frames open (outside, inside <select>): one object
        # each, however many tags and other readings refer to them
        self.states: tuple[_State, _State] = ((self, False), (self, True))

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


class _Readings:
    """The other readings a reading noted: where each starts and in which state, in the order noted
    (positions as machine integers, states interned: 16 bytes each)."""

    __slots__ = ("at", "states")

    def __init__(self) -> None:
        self.at = array("q")
        self.states: list[_State] = []

    def __len__(self) -> int:
        return len(self.states)

    def __iter__(self) -> Iterator[tuple[int, _State]]:
        return zip(self.at, self.states, strict=True)

    def add(self, pos: int, state: _State) -> None:
        self.at.append(pos)
        self.states.append(state)

    def drop_met(self, pos: int, state: _State) -> None:
        """Forget the last one noted if it starts at `pos` in `state`: the reading that noted it
        has read on from there the same way."""
        if self.states and self.states[-1] is state and self.at[-1] == pos:
            self.at.pop()
            self.states.pop()


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
    """Where a pattern next matches from a position, for the searches that look ahead of the walk.
    The first few look-ups of a pattern are plain searches (an ordinary page makes a handful); from
    then on every match of it is found once and each look-up is a bisection (a search per element to
    the end of the page made crafted pages quadratic)."""

    __slots__ = ("found", "html", "last", "searches")

    SEARCHES: Final = 8

    def __init__(self, html: str) -> None:
        self.html = html
        self.found: dict[str, array[int]] = {}
        self.searches: dict[str, int] = {}
        self.last = ("", -1, -1)  # the last look-up and its answer (an element's steps ask alike)

    def next(self, key: str, pos: int) -> int:
        """The start of the first match at or after `pos`, or -1. `key`: a raw-text element's name
        (its end tag), or a literal string (">", "]]>")."""
        last = self.last
        if last[1] == pos and last[0] == key:
            return last[2]
        found = self._next(key, pos)
        self.last = (key, pos, found)
        return found

    def _next(self, key: str, pos: int) -> int:
        starts = self.found.get(key)
        if starts is None:
            pattern = _RAW_END.get(key)
            done = self.searches.get(key, 0)
            if done < self.SEARCHES:
                self.searches[key] = done + 1
                if pattern is not None:
                    m = pattern.search(self.html, pos)
                    return m.start() if m is not None else -1
                return self.html.find(key, pos)
            if pattern is not None:
                starts = array("q", (m.start() for m in pattern.finditer(self.html)))
            else:
                starts, at = array("q"), self.html.find(key)
                while at >= 0:
                    starts.append(at)
                    at = self.html.find(key, at + 1)
            self.found[key] = starts
        i = bisect.bisect_left(starts, pos)
        return starts[i] if i < len(starts) else -1


class _Shared:
    """What every reading of one page shares: the interned stacks, the look-ahead index, and the
    work the secondary readings may still do."""

    __slots__ = ("_doctype_read", "_quirks", "_widget_at", "ahead", "budget", "deadline", "html", "root")

    def __init__(self, html: str, deadline: float | None, *, srcdoc: bool = False) -> None:
        self.html = html
        self.deadline = deadline
        self._widget_at: list[int] | None = None
        self._doctype_read = srcdoc  # an iframe srcdoc document is never in quirks mode
        self._quirks: bool | None = False if srcdoc else None
        self.root = _Node(None, None)
        self.ahead = _Ahead(html)
        # characters the secondary readings may read together, and those the re-readings of SVG
        # style sheets and scripts and the paranoid reading may take: a few times the page
        # (a page of up to 64 KB may be read whole by every one of the _MAX_READINGS readings)
        self.budget = [4 * len(html) + _MAX_READINGS * min(len(html), 1 << 16), 8 * len(html) + (1 << 20)]

    def widget_at(self) -> list[int]:
        """Where the tags that may be a vendor's post widget start (a class name's hint, then the
        "<" before it: looked for back to the previous hint only)."""
        if self._widget_at is None:
            html = self.html
            found: list[int] = []
            lt = -1
            after = 0
            for hint in _WIDGET_HINT.finditer(html):
                at = html.rfind("<", after, hint.start())
                after = hint.start()
                lt = at if at >= 0 else lt
                if lt >= 0 and _WIDGET_TAG_AT.match(html, lt) and (not found or found[-1] != lt):
                    found.append(lt)
            self._widget_at = found
        return self._widget_at

    def quirks(self) -> bool | None:
        """Whether the page is read in quirks mode: True without a doctype, False with the HTML
        standard's `<!DOCTYPE html>`, None for another doctype (legacy ones may be either)."""
        if not self._doctype_read:
            self._doctype_read = True
            m = _DOCTYPE.match(self.html)
            if m is None:
                self._quirks = True
            else:
                doctype = self.html[: m.end()]
                doctype = doctype[doctype.lower().rindex("<!doctype") :]
                self._quirks = False if _HTML5_DOCTYPE.fullmatch(doctype) else None
        return self._quirks

    def on_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise OutOfTime("rewriting took longer than its time budget")
