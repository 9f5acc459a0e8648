"""Step 6, readings: the main reading, the secondary readings where the tree builder's state is in doubt (and
the paranoid one past the budgets), merged into one plan; `rewrite()` and `plan()`."""

from __future__ import annotations

import bisect
import collections
import operator
import re
from collections.abc import Iterator
from typing import Final

from .classify import _Prepared, _prepared, _site
from .context import PageContext, Rewritten
from .edits import Edit, Insert, Inserts, Plan
from .reading import _Pass
from .tokenizing import _DOCTYPE
from .tree import _MAX_READINGS, _State
from .walk import paranoid, walk
from .xml_markup import xml_edits
from .xml_reading import xml_walk


def _order(e: Edit) -> tuple[int, Insert]:
    return e.at, e.kind  # the order of a plan's insertions


_AT: Final = operator.attrgetter("at")


def rewrite(html: str, ctx: PageContext) -> Rewritten:
    """Make every element that would contact a non-granted third party inert, put a placeholder
    before each embed, and inject the snippets once. Never raises: on a bug, the input comes back
    with `error` set."""
    try:
        p = plan(html, ctx)
        return Rewritten(p.apply(html), p.blocked, p.reported, p.embeds)
    except Exception as e:  # the CSP still protects; the caller logs the reason
        return Rewritten(html, error=f"rewrite failed: {type(e).__name__}: {e}")


def plan(html: str, ctx: PageContext, *, xml: bool = False) -> Plan:
    """The insertions that rewrite `html` (body.py splices them into the original bytes). `xml`: the
    page is an XML document, read as XML (`xml_reading`; raises NotReadable when it cannot be read
    for sure) and changed by well-formed insertions only (`xml_markup`)."""
    read = xml_walk if xml else walk
    prep = _prepared(ctx.registry)
    site_host, page = _site(ctx.page_url)
    live: frozenset[str] = frozenset()
    if ctx.once:
        # "load once": what those embeds need besides themselves (a post's widget script) loads too
        probe = _Pass(
            html, PageContext(ctx.registry, ctx.granted, ctx.page_url), prep,
            site_host=site_host, base=page, live=live,
        )  # fmt: skip
        read(probe)
        live = frozenset(s.id for e in probe.embeds if e.index in ctx.once for s in e.services)
    main = _Pass(html, ctx, prep, site_host=site_host, base=page, live=live)
    read(main)
    if main.base_seen and not main.base.first_party:
        # A third-party <base>: relative URLs above it may resolve against it too (browsers resolve
        # some only once the parser has moved on). Read the page again with that base from the top.
        base = main.base
        main = _Pass(html, ctx, prep, site_host=site_host, base=base, live=live)
        main.base_seen = main.base_fixed = True
        read(main)
    edits = main.edits
    blocked = main.blocked
    if "<![CDATA[" in html and not xml:  # (an XML document has no preload scanner)
        _cdata_readings(main, html)
    if main.alternatives or main.doubt_at >= 0:
        _other_readings(main, html, ctx, prep, site_host, live)
    dead = min(main.open_to_end, main.eof_at)
    if dead < len(html):
        # Some reading ends inside a tag or quoted value left open to the end: a quote or ">" that
        # we insert after it could close it and bring it to life. Markers lose their quotes there,
        # and placeholders (whose markup we do not control) are left out.
        edits[:] = [
            e if e.at <= dead else e._replace(bare=True)
            for e in edits
            if e.at <= dead or e.kind not in (Insert.PLACEHOLDER, Insert.ANCHOR)
        ]
    if ctx.snippets is not None and "data-gk-snippet" not in html:
        head, body = ctx.snippets(main.lang)
        at = main.head_end if main.head_end >= 0 else main.html_end
        if at < 0:
            doctype = _DOCTYPE.match(html)
            at = doctype.end() if doctype is not None else (1 if html.startswith("\ufeff") else 0)
        edits.append(Edit(at, Insert.SNIPPET, head))
        edits.append(Edit(max(main.body_snippet_at(), at), Insert.SNIPPET, body))
    if xml:
        edits[:] = xml_edits(edits, html)
    edits.sort(key=_order)
    inserts = Inserts()
    edits.reverse()
    while edits:  # each edit let go of once rendered (a page of many embeds: not both at once)
        e = edits.pop()
        inserts.append(e.at, e.render())
    return Plan(
        inserts,
        tuple(blocked),
        tuple(main.reported),
        tuple(main.embeds),
    )


def _other_readings(
    main: _Pass, html: str, ctx: PageContext, prep: _Prepared, site_host: str, live: frozenset[str]
) -> None:
    """Read the stretches where the tree builder's state is in doubt the other way too, until that
    reading meets the main one (same token, same state); what it finds is made inert as well. A tag
    both readings make inert gets one marker naming what either reading found it needs."""
    done: set[tuple[int, _State]] = set()
    # the readings noted, in the order noted: those of the main reading, then of each other one
    work: collections.deque[Iterator[tuple[int, _State]]] = collections.deque([iter(main.alternatives)])
    doubt = [main.doubt_at] if main.doubt_at >= 0 else []
    taken = _Taken(main)
    while work and len(done) < _MAX_READINGS:
        noted = next(work[0], None)
        if noted is None:
            work.popleft()
            continue
        pos, state = noted
        if (pos, state) in done or main.state_at_tag(pos) == state:
            continue
        done.add((pos, state))
        other = _Pass(
            html, ctx, prep, site_host=site_host, base=main.base, live=live, shadow=True,
            state=state, meet=main, analyze_only=main.analyze_only, depth=main.depth,
            shared=main.shared,
        )  # fmt: skip
        walk(other, pos)
        main.needs.merge(other.needs)
        if other.doubt_at >= 0:
            doubt.append(other.doubt_at)
        if not other.met and other.body_snippet_at() < len(html):
            # this reading ends inside something the main one does not: the body snippet goes at the
            # last place both read alike, before the stretch in doubt
            before = main.state_before(pos)
            main.other_ends.append(before[0] if before is not None else 0)
            main.open_to_end = min(main.open_to_end, other.eof_at)
        taken.take(other)
        work.append(iter(other.alternatives))
    # where the first reading noted but not read starts, if any
    left = min(
        (
            pos
            for noted in work
            for pos, state in noted
            if (pos, state) not in done and main.state_at_tag(pos) != state
        ),
        default=None,
    )
    starts = doubt if left is None else [left, *doubt]
    if starts:
        # Too many ways to read this page (only crafted markup gets here): from the first stretch
        # still in doubt, every tag that parses as one is taken for real, whatever surrounds it.
        other = _Pass(
            html, ctx, prep, site_host=site_host, base=main.base, live=live, shadow=True,
            analyze_only=main.analyze_only, depth=main.depth, shared=main.shared,
        )  # fmt: skip
        paranoid(other, min(starts))
        main.needs.merge(other.needs)
        taken.take(other)


class _Taken:
    """The main reading's edits, with those of the other readings taken in: an insertion once, and one
    marker per tag, naming what any reading found the tag waits for. The main reading's edits are put
    in order and looked up by bisection (no index of them all: a page of many marked tags)."""

    def __init__(self, main: _Pass) -> None:
        self.edits = main.edits
        self.edits.sort(key=_order)
        self.main_end = len(self.edits)  # edits[:main_end] are the main reading's, in order
        self.blocked = main.blocked
        self.seen: set[Edit] = set()  # the other readings' edits taken
        self.markers: dict[int, int] = {}  # where their markers are in `edits`

    def _at(self, at: int) -> range:
        """Where the main reading's edits at offset `at` are."""
        edits, end = self.edits, self.main_end
        i = bisect.bisect_left(edits, at, 0, end, key=_AT)
        j = i
        while j < end and edits[j].at == at:
            j += 1
        return range(i, j)

    def take(self, other: _Pass) -> None:
        edits, markers = self.edits, self.markers
        for e in other.edits:
            here = self._at(e.at)
            if e in self.seen or any(edits[i] == e for i in here):
                continue
            self.seen.add(e)
            if e.kind is not Insert.MARKER:
                edits.append(e)
                continue
            mine = next((i for i in here if edits[i].kind is Insert.MARKER), markers.get(e.at))
            if mine is not None:
                edits[mine] = edits[mine].merged(e)
            else:
                markers[e.at] = len(edits)
                edits.append(e)
        self.blocked.extend(other.blocked)


_CDATA_OPEN: Final = re.compile(r"<!\[CDATA\[")


def _cdata_readings(main: _Pass, html: str) -> None:
    """Chromium's preload scanner does not know CDATA sections (in SVG and MathML): to it one is a
    bogus comment that ends at the first ">". What follows is read that way too, in the state the
    page was in there."""
    ahead = main.shared.ahead
    for c in _CDATA_OPEN.finditer(html):
        gt = ahead.next(">", c.end())
        close = ahead.next("]]>", c.end())
        if gt < 0 or 0 <= close < gt:
            continue
        before = main.state_before(c.start())
        state = before[1] if before is not None else main.shared.root.states[False]
        main.alternatives.add(gt + 1, state)
