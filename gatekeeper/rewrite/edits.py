"""Step 4, edits: how a tag is made inert (replayed wherever it recurs), the plan of insertions, and the
marker merging of secondary readings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ..registry import Service
from .context import Blocked, Embed
from .css import _PRELOAD_STOP


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


_MARKER: Final = re.compile(r' data-gk=(?:"([^"]*)"|(\S*))')


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
