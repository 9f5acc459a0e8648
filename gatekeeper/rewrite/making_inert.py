"""Step 5h, making an element inert: the marker, the renamed attributes and the placeholder, as
insertions relative to the tag (replayed wherever the same tag recurs), applied to the reading's edits."""

from __future__ import annotations

import re

from .classify import _Need
from .context import Blocked, Embed
from .edits import _Inert
from .reading import _Pass
from .tokenizing import _Attrs


def how_inert(
    p: _Pass,
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


def apply_inert(p: _Pass, inert: _Inert, start: int, embed: Embed | None) -> None:
    if p.shadow:
        embed = None  # a placeholder belongs to the main reading only
    p.blocked.append(inert.blocked)
    if p.analyze_only:  # what an iframe's srcdoc needs, all together
        needs = p.needs
        for s in inert.services:
            needs.add((s,), inert.blocked.url, inert.blocked.kind)
        if inert.undeclared:
            needs.undeclared = True
        return
    edits = p.edits
    marker = inert.marker
    at = start + inert.name_end
    if p.shadow:  # inside what another reading takes for an attribute value: no quotes
        added = " data-gk=" + marker.replace(" ", "&#32;") + (" type=text/plain" if inert.text_plain else "")
        if p.html[at : at + 1] == "/":
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
        p.embeds.append(embed)
        placeholder = p.ctx.placeholder
        if placeholder is not None:
            edits.append((start, 2, placeholder(embed, p.lang)))
