"""Step 5, one reading of a document, its state: where the walk is in the tree builder's state, what it
has found, and what other readings it noted. The steps of a reading are functions of this state, one
module each: `walk` (the loop, and the paranoid pass), `html_tags` (HTML start tags and the tree
builder's decisions), `foreign` (SVG and MathML), `raw_text` (script, style, speculation rules),
`elements` (one fetching tag's outcome, memoized and replayed), `placeholders` (embeds and widgets),
`checking` (a tag's URLs against the grants), `marking` (making a tag inert)."""

from __future__ import annotations

import bisect
import re
from array import array

from .classify import _Base, _Need, _Prepared
from .context import Blocked, Embed, PageContext
from .edits import Edit
from .tokenizing import _Attrs
from .tree import _Readings, _Shared, _Stack, _State


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
        self.edits: list[Edit] = []
        self.blocked: list[Blocked] = []
        self.reported: list[Blocked] = []
        self.embeds: list[Embed] = []
        self.embed_count = 0
        self.needs = _Need()  # everything needed by the document (srcdoc analysis)
        self.shared = shared if shared is not None else _Shared(html, ctx.deadline, srcdoc=depth > 0)
        if state is None:
            state = self.shared.root.states[False]
        self.fstack = _Stack(state[0])
        self.in_select = state[1]
        self.template_depth = 0
        self.head_end = -1
        self.html_end = -1
        self.body_end = -1
        self.lang: str | None = None
        self.lang_seen = False
        # the state at every tag this reading took, in document order (positions, states)
        self.state_at = array("q")  # (positions as machine integers: 8 bytes a tag)
        self.state_of: list[_State] = []
        self.doubt_at = -1  # where this reading stopped following the tree builder (too deep)
        self.eof_at = len(html)  # where markup ends: the body snippet never goes past it
        # where the outermost SVG/MathML, <template> and <select> still open began: a snippet put
        # after them would land inside them, or end them and change how the rest is read
        self.foreign_at = self.template_at = self.select_at = -1
        self.raw_stretches = array("q")  # from, to, the foreign root's start; from, to, root; ...
        self.met = False  # a secondary reading that met the main one (else it read to the end)
        self.other_ends: list[int] = []  # where the markup ended in the readings that never met this
        self.open_to_end = len(html)  # where a tag or quoted value left open to the end begins
        self.alternatives = _Readings()
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
        stretches = self.raw_stretches
        for i in range(0, len(stretches), 3):
            start, stop, root = stretches[i], stretches[i + 1], stretches[i + 2]
            if start < pos <= stop and root >= 0:
                pos = min(pos, root)
        return pos

    def state(self) -> _State:
        return self.fstack.node().states[self.in_select]

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

    def other_reading(self, pos: int, depth: int = -1) -> None:
        self.alternatives.add(pos, self.fstack.nodes[depth].states[self.in_select])

    def attrs_of(self, m: re.Match[str]) -> _Attrs:
        return _Attrs(self.html, m.start(4), m.end(4))

    def spend(self, chars: int) -> bool:
        """Take `chars` from what re-reading SVG style sheets and scripts may cost per page; False
        when that is spent (crafted pages only: each then is made inert unread)."""
        budget = self.shared.budget
        if budget[1] < chars:
            return False
        budget[1] -= chars
        return True
