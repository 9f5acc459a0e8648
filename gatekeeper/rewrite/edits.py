"""Step 4, edits: how a tag is marked inert (replayed wherever it recurs), the insertions a reading makes,
and the plan they become once every reading is merged.

Words, one meaning each: a tag is *inert* in a served page when it carries `data-gk` and its fetching
attributes are renamed `data-gk-*` (the loader turns it back on; docs/ARCHITECTURE.md). A `_Marking` is
how one tag is made inert; a `Verdict` says whether a tag gets one; an `Edit` is one insertion."""

from __future__ import annotations

import enum
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple, overload

from ..registry import Service
from .context import Blocked, Embed
from .css import _PRELOAD_STOP


@dataclass(frozen=True, slots=True)
class _Marking:
    """How one tag is made inert, relative to its start: replayed wherever the same tag recurs."""

    blocked: Blocked
    services: tuple[Service, ...]
    undeclared: bool
    marker: tuple[str, ...]  # what `data-gk` names: the services it waits for, "?" an undeclared host
    text_plain: bool
    hidden: bool  # the tag has `hidden` already
    name_end: int
    renames: tuple[int, ...]
    # a style sheet or style attribute kept live: (offset, mark) before each URL of it made inert
    url_marks: tuple[tuple[int, str], ...] = ()


class Verdict(enum.Enum):
    """What a tag means for the rewrite."""

    LEAVE = enum.auto()  # nothing to do
    MARK = enum.auto()  # made inert (an embed also gets a placeholder)
    COUNT = enum.auto()  # an embed an earlier pass made inert: it keeps its number, nothing is added


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a tag means, given its text and the pass's grants and base: memoized per registry."""

    verdict: Verdict
    marking: _Marking | None = None
    # tag, url, width, height, services, share
    embed: tuple[str, str, str | None, str | None, tuple[Service, ...], bool] | None = None
    reported: tuple[Blocked, ...] = ()


_NO_OUTCOME: Final = _Outcome(Verdict.LEAVE)
_COUNT_OUTCOME: Final = _Outcome(Verdict.COUNT)


class Insert(enum.IntEnum):
    """What an insertion is. Several at one offset go in this order (the snippet closes what comes
    before; a placeholder or anchor opens what follows)."""

    SNIPPET = enum.auto()  # the head or body snippet
    MARKER = enum.auto()  # ` data-gk="ids"` (+ `type="text/plain"`, `hidden`) right after a tag's name
    RENAME = enum.auto()  # "data-gk-" before a fetching attribute's name
    PRELOAD_STOP = enum.auto()  # an empty comment after <style>: the preload scanner's @import stops
    URL_MARK = enum.auto()  # `https://[gk]/ids/` before one URL of a style sheet (css_edits.py)
    ANCHOR = enum.auto()  # where "load once" comes back to, before the embed it loaded
    PLACEHOLDER = enum.auto()  # an embed's two-click placeholder, before its tag


class Edit(NamedTuple):
    """One insertion, rendered once when the plan is made. `bare`: some reading is inside a tag or
    an unquoted attribute value here, where a quote or ">" we wrote could end it: no quotes.
    (Immutable; a named tuple, not a frozen dataclass: a page makes one to three per marked tag, and
    a frozen dataclass takes five times as long to make.)"""

    at: int
    kind: Insert
    text: str = ""  # SNIPPET, ANCHOR, PLACEHOLDER: the markup
    services: tuple[str, ...] = ()  # MARKER: what `data-gk` names
    text_plain: bool = False  # MARKER: `type=text/plain` too
    url_marks: bool = False  # MARKER: `data-gk-css` too (URLs of its style sheet or style are marked)
    hide: str = ""  # MARKER on an embed: "hidden", or "data-gk-hidden" beside the tag's own `hidden`
    slash_after: bool = False  # MARKER: a "/" follows (an unquoted value would swallow it)
    bare: bool = False
    xml: bool = False  # MARKER in an XML document: every attribute gets a value (`hidden=""`)

    def render(self) -> str:
        kind = self.kind
        if kind is Insert.MARKER:
            key = self[3:]  # everything but the offset, the kind and the text
            text = _MARKERS.get(key)
            if text is None:
                if len(_MARKERS) >= 1024:
                    _MARKERS.clear()
                text = _MARKERS[key] = self._marker()
            return text
        if kind is Insert.RENAME:
            return "data-gk-"
        if kind is Insert.PRELOAD_STOP:
            return "<!--" if self.bare else _PRELOAD_STOP  # no ">": still a CSS no-op inside a tag
        return self.text

    def _marker(self) -> str:
        if self.bare:
            text = " data-gk=" + "&#32;".join(self.services)
            text += " type=text/plain" if self.text_plain else ""
        else:
            text = ' data-gk="' + " ".join(self.services) + '"'
            text += ' type="text/plain"' if self.text_plain else ""
        empty = '=""' if self.xml else ""
        if self.url_marks:
            text += " data-gk-css" + empty
        if self.hide:
            text += " " + self.hide + empty
        return text + " " if self.bare and self.slash_after else text

    def merged(self, other: Edit) -> Edit:
        """One marker for a tag that two readings make inert: what either found it waits for."""
        services = tuple(dict.fromkeys([*self.services, *other.services]))
        return self._replace(
            services=services,
            text_plain=self.text_plain or other.text_plain,
            url_marks=self.url_marks or other.url_marks,
        )


# each distinct marker rendered once (a page of many embeds waiting for one service: one string)
_MARKERS: dict[tuple[object, ...], str] = {}


class Inserts(Sequence[tuple[int, str]]):
    """A plan's insertions, in order: (offset in the text, text), rendered. Offsets are kept as machine
    integers and texts by reference (a page of many embeds: 16 bytes an insertion, not ~100)."""

    __slots__ = ("_at", "_texts")

    def __init__(self, items: Iterable[tuple[int, str]] = ()) -> None:
        self._at = array("q")
        self._texts: list[str] = []
        for at, text in items:
            self.append(at, text)

    def append(self, at: int, text: str) -> None:
        self._at.append(at)
        self._texts.append(text)

    def __len__(self) -> int:
        return len(self._texts)

    @overload
    def __getitem__(self, i: int) -> tuple[int, str]: ...

    @overload
    def __getitem__(self, i: slice) -> Inserts: ...

    def __getitem__(self, i: int | slice) -> tuple[int, str] | Inserts:
        if isinstance(i, slice):
            return Inserts(zip(self._at[i], self._texts[i], strict=True))
        return self._at[i], self._texts[i]

    def __iter__(self) -> Iterator[tuple[int, str]]:
        return zip(self._at, self._texts, strict=True)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Inserts):
            return self._at == other._at and self._texts == other._texts
        return isinstance(other, Sequence) and list(self) == list(other)

    def __hash__(self) -> int:
        return hash((self._at.tobytes(), tuple(self._texts)))

    def __repr__(self) -> str:
        return f"Inserts({list(self)!r})"


@dataclass(frozen=True, slots=True)
class Plan:
    """What rewriting a page means: insertions (offset in the text, text), in order."""

    inserts: Inserts
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
