"""Step 3, tree state: the stack of open SVG/MathML frames (interned, so a reading's state is one object),
the look-ahead index, and the work every reading of one page shares (budgets, deadline)."""

from __future__ import annotations

import bisect
import time
from array import array
from typing import Final

from .context import OutOfTime
from .fetching import _WIDGET_HINT
from .tokenizing import _RAW_END, _WIDGET_TAG_AT

_MAX_READINGS: Final = 64

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

    __slots__ = ("_widget_at", "ahead", "budget", "deadline", "html", "root")

    def __init__(self, html: str, deadline: float | None) -> None:
        self.html = html
        self.deadline = deadline
        self._widget_at: list[int] | None = None
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

    def on_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise OutOfTime("rewriting took longer than its time budget")
