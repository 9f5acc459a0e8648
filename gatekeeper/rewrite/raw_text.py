"""Step 5d, raw-text elements: where their text ends (script data's escaped states included), and what
<script> (src, vendor signatures, speculation rules, LinkedIn's share) and <style> (url(), @import, the
preload scanner's early @import) fetch."""

from __future__ import annotations

import re

from .checking import check, check_attr, generic, sheet_marks
from .classify import _Need
from .css import _PRELOAD_HINT, _css_may_fetch, _preload_imports, css_urls
from .edits import _COUNT_OUTCOME, _NO_OUTCOME, Edit, Insert, Verdict, _Outcome
from .elements import memoized, replay
from .fetching import _AMP_PLAYERS, _IN_SHARE, _IN_SHARE_JS, _JS_TYPES, _SPECULATION, _speculation_urls
from .marking import marking_for
from .reading import _Pass
from .tokenizing import (
    _MAYBE_EXTERNAL,
    _RAW_END,
    _SCRIPT_DOUBLE,
    _SCRIPT_ESCAPED,
    _SCRIPT_STATES,
    _lower,
    _squeeze,
)
from .urls import _absolute


def raw_end(p: _Pass, name: str, pos: int) -> int:
    """Where the raw text of an element opened before `pos` ends (its end tag), or -1."""
    html = p.html
    if p.shadow and p.shared.ahead.next(name, pos) < 0:
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


def _raw_key(
    p: _Pass, name: str, start: int, end: int, content_end: int, text: str | None
) -> tuple[object, ...]:
    html = p.html
    return (name, html[start:end], html[end:content_end], text, p.base.url, p.site_host, p.granted)


# `text`, where given, is what the browser reads as the element's text when it is not the page's
# characters between the tags (an XML document decodes character references in it): it is judged,
# and where it would fetch, the element waits whole.


def script(
    p: _Pass, m: re.Match[str], start: int, end: int, content_end: int, text: str | None = None
) -> None:
    out = memoized(
        p,
        _raw_key(p, "script", start, end, content_end, text),
        lambda: _script_outcome(p, m, start, end, content_end, text),
    )
    replay(p, out, "script", start, end)


def _script_outcome(
    p: _Pass, m: re.Match[str], start: int, end: int, content_end: int, text: str | None
) -> _Outcome:
    html = p.html
    code = html[end:content_end] if text is None else text
    if _IN_SHARE.search(html, start, end) is not None:
        return _in_share_outcome(p, m, start)
    if _SPECULATION.search(html, start, end) is not None:
        return _speculation_outcome(p, m, start, end, content_end)
    external = not p.base.first_party or _MAYBE_EXTERNAL.search(html, start, end) is not None
    sig = p.prep.signature_re
    signed = sig is not None and sig.search(code) is not None
    if not external and not signed:
        return _NO_OUTCOME
    attrs = p.attrs_of(m)
    need = _Need()
    renamed = generic(p, attrs, "script", need) if external else []
    first = attrs.first
    if "src" in first:
        if external and check_attr(p, need, attrs, "src", "script"):
            renamed.append("src")
        if (
            "src" in renamed
            and "attributionsrc" in first
            and "attributionsrc" not in renamed
            and not (attrs.get("attributionsrc") or "").strip()
        ):
            renamed.append("attributionsrc")  # an empty one reports to the script's own URL
        # an AMP player's component (its own script on AMP's CDN) waits for the player's service
        component = _AMP_PLAYERS.get(_lower((attrs.get("custom-element") or "").strip()))
        if component is not None and check(p, need, component[1], "script"):  # "load once" too
            renamed += [a for a in ("src", "custom-element") if a not in renamed]
    elif signed and "data-gk-snippet" not in first and "data-gk" not in first:
        kind = _lower((attrs.get("type") or "").strip(" \t\n\r\f"))
        if kind in _JS_TYPES:
            signatures(p, need, code)
    if not renamed and not need.services and not need.undeclared:
        return _NO_OUTCOME
    return _Outcome(Verdict.MARK, marking_for(m, "script", attrs, start, need, renamed, text_plain=True))


def _speculation_outcome(p: _Pass, m: re.Match[str], start: int, end: int, content_end: int) -> _Outcome:
    """<script type=speculationrules>: a list of URLs waits for their services; a document rule
    (it acts on the page's links, any of which may leave) or rules we cannot read never run."""
    attrs = p.attrs_of(m)
    kind = _lower((attrs.get("type") or "").strip(" \t\n\r\f"))
    if kind != "speculationrules" or "data-gk" in attrs.first:
        return _NO_OUTCOME
    need = _Need()
    for url in _speculation_urls(p.html[end:content_end]):
        if url is None:
            need.add((), "speculationrules", "speculationrules")
        else:
            check(p, need, url, "speculationrules")
    if not need.services and not need.undeclared:
        return _NO_OUTCOME
    return _Outcome(Verdict.MARK, marking_for(m, "script", attrs, start, need, [], text_plain=True))


def _in_share_outcome(p: _Pass, m: re.Match[str], start: int) -> _Outcome:
    """LinkedIn's share button: a share link before it, like the other script-drawn share buttons
    (the script itself fetches nothing; `type` keeps it inert until its service is granted)."""
    attrs = p.attrs_of(m)
    if "data-gk" in attrs.first:
        return _COUNT_OUTCOME  # made inert by an earlier pass: keeps its number
    if _lower((attrs.get("type") or "").strip(" \t\n\r\f")) != "in/share":
        return _NO_OUTCOME
    button = _Need()
    check(p, button, _IN_SHARE_JS, "script", True)
    service = next(iter(button.services), None)
    if service is None or not service.share_url:
        return _NO_OUTCOME
    target = attrs.get("data-url")
    need = _Need()
    need.add((service,), _IN_SHARE_JS, "script")
    marking = marking_for(m, "script", attrs, start, need, [], text_plain=True)
    page = _absolute(target, p.base.url) if target else p.base.url
    return _Outcome(Verdict.MARK, marking, ("script", page, None, None, (service,), True))


def signatures(p: _Pass, need: _Need, code: str) -> None:
    assert p.prep.signature_re is not None
    for found in p.prep.signature_re.finditer(code):
        services = p.prep.signatures.get(_squeeze(found.group(0)), ())
        if any(s.id in p.granted for s in services):
            continue
        need.add(services, found.group(0), "inline-script")


def style(
    p: _Pass, m: re.Match[str], start: int, end: int, content_end: int, text: str | None = None
) -> None:
    out = memoized(
        p,
        _raw_key(p, "style", start, end, content_end, text),
        lambda: _style_outcome(p, m, start, end, content_end, text),
    )
    replay(p, out, "style", start, end)
    preload_break(p, end)


def preload_break(p: _Pass, end: int) -> None:
    """Chromium's preload scanner fetches the @import rules that open a <style> (any type, any
    namespace, even made inert) before the parser decides anything. Where one would reach a
    non-granted third party, an empty comment first stops it: CSS ignores "<!--" and "-->" at the
    top level, and in SVG or MathML it is a comment node, outside the element's text."""
    html = p.html
    if _PRELOAD_HINT.match(html, end) is None:
        return
    close = p.shared.ahead.next("style", end)
    need = _Need()
    hits = [
        check(p, need, url, "style")
        for url in _preload_imports(html, end, close if close >= 0 else len(html))
    ]
    if not any(hits):
        return
    if p.analyze_only:
        p.needs.merge(need)
    else:
        p.edits.append(Edit(end, Insert.PRELOAD_STOP))


def _style_outcome(
    p: _Pass, m: re.Match[str], start: int, end: int, content_end: int, text: str | None
) -> _Outcome:
    html = p.html
    sheet = html[end:content_end] if text is None else text
    external = not p.base.first_party or _MAYBE_EXTERNAL.search(html, start, end) is not None
    hinted = _css_may_fetch(sheet)
    if not external and not hinted:
        return _NO_OUTCOME
    attrs = p.attrs_of(m)
    need = _Need()
    marks: list[tuple[int, str]] | None = []
    renamed = generic(p, attrs, "style", need, marks) if external else []
    kind = attrs.get("type")
    if hinted and (kind is None or _lower(kind.strip(" \t\n\r\f")) in ("", "text/css")):
        if text is None:
            # only the URLs that are not granted are made inert; the rest of the sheet stays live
            found = sheet_marks(p, need, sheet, end, "style")
            marks = None if found is None or marks is None else marks + found
        else:  # a mark in the page's characters is not one in the text read: the sheet waits whole
            for url in css_urls(sheet):
                check(p, need, url, "style")
            marks = None
    if not renamed and not need.services and not need.undeclared:
        return _NO_OUTCOME
    marking = marking_for(m, "style", attrs, start, need, renamed, text_plain=marks is None, url_marks=marks)
    return _Outcome(Verdict.MARK, marking)
