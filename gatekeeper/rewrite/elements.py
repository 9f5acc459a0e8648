"""Step 5e, one fetching element: its outcome (computed once per registry for the same tag text, base
and grants) replayed at each place it occurs; iframe srcdoc read as a document of its own."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from ..once import anchor_id
from .checking import check, check_attr, generic
from .classify import _MEMO_ENTRIES, _MEMO_TEXT, _Need
from .context import Embed
from .css import _css_may_fetch, _refresh_url
from .edits import _COUNT_OUTCOME, _NO_OUTCOME, Edit, Insert, Verdict, _Outcome
from .fetching import (
    _AMP_PLAYERS,
    _EMBED_TAGS,
    _FETCHERS,
    _LINK_FETCH_RELS,
    _URL_ATTRS,
    _WIDGET_RE_CLASS,
    _WIDGET_TAGS,
)
from .marking import apply_marking, marking_for
from .placeholders import amp_player_needs, embed_template, marked_earlier, widget_outcome
from .reading import _Pass
from .tokenizing import _MAYBE_EXTERNAL, _lower

_MAX_SRCDOC_DEPTH: Final = 4  # iframes in srcdoc in srcdoc...: past this, one that needs all


def element(p: _Pass, m: re.Match[str], name: str, start: int, end: int) -> None:
    if m.start(4) == m.end(4):
        return  # a tag with no attributes fetches nothing
    html = p.html
    widget = p.widgets and name in _WIDGET_TAGS and _WIDGET_RE_CLASS.search(html, start, end) is not None
    if widget:
        key = ("widget", name, *_tag_key(p, start, end))
        replay(p, memoized(p, key, lambda: widget_outcome(p, m, name, start)), name, start, end)
        return
    if (
        p.base.first_party
        and _MAYBE_EXTERNAL.search(html, start, end) is None
        and not (name in ("iframe", "frame") and p.prep.signature_re is not None)
        and name not in _AMP_PLAYERS
    ):
        return  # none of its URLs can leave the site (a srcdoc's inline scripts may still sign)
    if name not in _FETCHERS and not _css_may_fetch(html[start:end]):
        low = html[start:end].lower()
        if "background" not in low and "attributionsrc" not in low:
            return  # a style attribute with no url() in it
    key = (name, *_tag_key(p, start, end), p.depth)
    replay(p, memoized(p, key, lambda: _element_outcome(p, m, name, start)), name, start, end)


def _tag_key(p: _Pass, start: int, end: int) -> tuple[object, ...]:
    """What a tag's outcome depends on besides its name: its text, the base, the grants."""
    return (p.html[start:end], p.base.url, p.site_host, p.granted, p.ctx.granted)


def _element_outcome(p: _Pass, m: re.Match[str], name: str, start: int) -> _Outcome:
    attrs = p.attrs_of(m)
    need = _Need()
    first = attrs.first
    marks: list[tuple[int, str]] = []
    renamed = generic(p, attrs, name, need, marks)
    urls = _URL_ATTRS.get(name, ())
    if name in ("iframe", "frame"):
        if "srcdoc" in first and _srcdoc_needs(p, need, attrs.get("srcdoc") or ""):
            renamed.append("srcdoc")
    elif name == "link":
        if not set(_lower(attrs.get("rel") or "").split()) & _LINK_FETCH_RELS:
            urls = ()
    elif name == "meta":
        equiv = attrs.get("http-equiv")
        if equiv is not None and _lower(equiv.strip()) == "refresh":
            url = _refresh_url(attrs.get("content") or "")
            if url and check(p, need, url, "meta-refresh"):
                renamed.append("http-equiv")
    for attr in urls:
        if attr in first and check_attr(p, need, attrs, attr, name):
            renamed.append(attr)
    # an AMP player keeps its attributes: its component script waits (raw_text.py)
    player = name in _AMP_PLAYERS and "data-gk" not in first and amp_player_needs(p, name, attrs, need)
    if not renamed and not player:
        if name in _EMBED_TAGS and "data-gk" in first and marked_earlier(p, name, attrs):
            return _COUNT_OUTCOME
        if marks:  # only its style's URLs: no placeholder, the element stays as it is
            return _Outcome(Verdict.MARK, marking_for(m, name, attrs, start, need, [], url_marks=marks))
        return _NO_OUTCOME
    template = embed_template(p, name, attrs, need) if name in _EMBED_TAGS else None
    return _Outcome(
        Verdict.MARK, marking_for(m, name, attrs, start, need, renamed, url_marks=marks), template
    )


def replay(p: _Pass, out: _Outcome, name: str, start: int, end: int) -> None:
    if out.reported:
        p.reported.extend(out.reported)
    if out.verdict is Verdict.LEAVE:
        return
    if out.verdict is Verdict.COUNT:
        p.embed_count += 1
        return
    marking = out.marking
    assert marking is not None
    if (
        start < p.media_live_until
        and name in ("source", "track")
        and all(s.id in p.ctx.granted or s.id in p.live for s in marking.services)
    ):
        return
    embed = None
    if out.embed is not None and not p.shadow:
        index = p.embed_count
        p.embed_count += 1
        if index in p.ctx.once:
            if name in ("video", "audio"):
                found = p.shared.ahead.next(name, end)
                p.media_live_until = found if found >= 0 else len(p.html)
            anchor = f'<span id="{anchor_id(index)}"></span>'  # where "Load once" comes back to
            if not p.analyze_only and not p.html.endswith(anchor, 0, start):
                p.edits.append(Edit(start, Insert.ANCHOR, anchor))
            return
        embed = Embed(index, *out.embed)
    apply_marking(p, marking, start, embed)


def _srcdoc_needs(p: _Pass, need: _Need, srcdoc: str) -> bool:
    from .readings import _cdata_readings, _other_readings  # they read srcdoc with the same steps
    from .walk import walk

    if p.depth >= _MAX_SRCDOC_DEPTH:
        need.add((), "about:srcdoc", "iframe")
        return True
    inner = _Pass(
        srcdoc,
        p.ctx,
        p.prep,
        site_host=p.site_host,
        base=p.base,
        live=p.live,
        analyze_only=True,
        depth=p.depth + 1,
    )
    walk(inner)
    if "<![CDATA[" in srcdoc:
        _cdata_readings(inner, srcdoc)
    if inner.alternatives or inner.doubt_at >= 0:
        _other_readings(inner, srcdoc, p.ctx, p.prep, p.site_host, p.live)
    if not inner.needs.services and not inner.needs.undeclared:
        return False
    need.add(tuple(inner.needs.services), "about:srcdoc", "iframe")
    if inner.needs.undeclared:
        need.undeclared = True
    return True


def memoized(p: _Pass, key: tuple[object, ...], compute: Callable[[], _Outcome]) -> _Outcome:
    """A tag's outcome, computed once per registry for the same text, base and grants."""
    memo = p.prep.tags
    out = memo.get(key)
    if out is None:
        reported, p.reported = p.reported, []
        try:
            out = compute()
            if p.reported:
                out = _Outcome(out.verdict, out.marking, out.embed, tuple(p.reported))
        finally:
            p.reported = reported
        size = sum(len(k) for k in key if isinstance(k, str))
        if size <= _MEMO_TEXT:  # a big inline script or data: URL is not worth keeping
            if len(memo) >= _MEMO_ENTRIES:
                memo.clear()
            memo[key] = out
    return out
