"""Step 5h, marking a tag inert: its marker and renamed attributes relative to the tag (replayed wherever
the same tag recurs), and the insertions that apply them (with an embed's placeholder) to a reading."""

from __future__ import annotations

import re
import sys

from .classify import _Need
from .context import Blocked, Embed
from .edits import Edit, Insert, _Marking
from .reading import _Pass
from .tokenizing import _Attrs


def marking_for(
    m: re.Match[str],
    name: str,
    attrs: _Attrs,
    start: int,
    need: _Need,
    renamed: list[str],
    *,
    text_plain: bool = False,
    url_marks: list[tuple[int, str]] | None = None,
) -> _Marking:
    """How the tag matched by `m` at `start` is made inert: `renamed` attributes, and `type=text/plain`
    for a script or style whose text is what fetches; `url_marks` (offsets in the page) before the URLs
    made inert in a style sheet or style attribute that stays live."""
    ids, reason, marker = _words(tuple(s.id for s in need.services), need.undeclared)
    if text_plain and "type" in attrs.first:
        renamed = [*renamed, "type"]
    renames = tuple(pos - start for attr in renamed for pos in attrs.positions(attr))
    return _Marking(
        Blocked(sys.intern(need.kind or name), need.url, ids, reason),
        tuple(need.services),
        need.undeclared,
        marker,
        text_plain,
        "hidden" in attrs.first,
        m.end(3) - start,
        renames,
        tuple([(at - start, mark) for at, mark in url_marks or ()]),
    )


def _words(ids: tuple[str, ...], undeclared: bool) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
    """The ids, the reason and the marker of what a tag waits for: one copy of each per page and
    registry, however many tags wait for the same (a page of ten thousand embeds keeps ten thousand
    references, not copies)."""
    key = (ids, undeclared)
    words = _WORDS.get(key)
    if words is None:
        if len(_WORDS) >= 1024:
            _WORDS.clear()
        reason = (
            "not granted: " + ", ".join(ids)
            if ids and not undeclared
            else "undeclared third party (strict mode)"
            if not ids
            else "not granted: " + ", ".join(ids) + "; and an undeclared third party"
        )
        words = _WORDS[key] = (ids, reason, (*ids, "?") if undeclared else ids)
    return words


_WORDS: dict[tuple[tuple[str, ...], bool], tuple[tuple[str, ...], str, tuple[str, ...]]] = {}


def apply_marking(p: _Pass, marking: _Marking, start: int, embed: Embed | None) -> None:
    """Make the tag at `start` inert as `marking` says; an embed of the main reading also gets its
    placeholder."""
    if p.shadow:
        embed = None  # a placeholder belongs to the main reading only
    p.blocked.append(marking.blocked)
    if p.analyze_only:  # what an iframe's srcdoc needs, all together
        needs = p.needs
        for s in marking.services:
            needs.add((s,), marking.blocked.url, marking.blocked.kind)
        if marking.undeclared:
            needs.undeclared = True
        return
    edits = p.edits
    at = start + marking.name_end
    hide = "" if embed is None else "data-gk-hidden" if marking.hidden else "hidden"
    edits.append(
        Edit(
            at,
            Insert.MARKER,
            services=marking.marker,
            text_plain=marking.text_plain,
            url_marks=bool(marking.url_marks),
            hide=hide,
            slash_after=p.html.startswith("/", at),
            bare=p.shadow,  # inside what another reading takes for an attribute value: no quotes
        )
    )
    for pos in marking.renames:
        edits.append(Edit(start + pos, Insert.RENAME))
    for pos, mark in marking.url_marks:
        edits.append(Edit(start + pos, Insert.URL_MARK, mark))
    if embed is not None:
        p.embeds.append(embed)
        placeholder = p.ctx.placeholder
        if placeholder is not None:
            edits.append(Edit(start, Insert.PLACEHOLDER, placeholder(embed, p.lang)))
