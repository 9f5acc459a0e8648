"""Step 5g, checking a tag's URLs: each against the reading's base and grants (memoized per registry),
what it needs added to a `_Need`; the attributes that fetch on any element."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from ..registry import Service
from .classify import _MEMO_ENTRIES, _Need
from .context import Blocked
from .css import css_urls
from .css_edits import attribute_inserts, inert_inserts, inert_mark
from .fetching import _EMBED_TAGS, _GENERIC_ATTRS
from .reading import _Pass
from .tokenizing import _Attrs
from .urls import _absolute, _srcset_urls, _target


def check(p: _Pass, need: _Need, raw: str, kind: str, embed: bool = False) -> bool:
    """Add what loading `raw` would need (nothing for a first-party or granted URL). An embed's
    number must not depend on "load once", so embeds are judged on the grants alone."""
    base = p.base
    key = (p.site_host, base.url, raw)
    memo = p.prep.urls
    hit = memo.get(key)
    if hit is None:
        hit = _classify_url(p, raw)
        if len(raw) <= 2048:
            if len(memo) >= _MEMO_ENTRIES:
                memo.clear()
            memo[key] = hit
    services, absolute = hit
    if services is None:
        return False
    if services:
        granted = p.ctx.granted if embed else p.granted
        if any(s.id in granted for s in services):
            return False
    elif not p.prep.strict:
        p.reported.append(Blocked(kind, absolute, (), "undeclared third party (report mode)"))
        return False
    need.add(services, absolute, kind)
    return True


def _classify_url(p: _Pass, raw: str) -> tuple[tuple[Service, ...] | None, str]:
    """(None: first party or no request; (): undeclared third party; the services), absolute URL."""
    base = p.base
    target = _target(raw, base.scheme)
    if target is None:
        return None, ""
    host, path = target
    if not host:
        if base.first_party:
            return None, ""
        host = base.host
        path = urlsplit(_absolute(raw, base.url)).path or "/"
    services = p.prep.classify(p.site_host, host, path)
    return services, ("" if services is None else _absolute(raw, base.url))


def check_attr(p: _Pass, need: _Need, attrs: _Attrs, name: str, kind: str) -> bool:
    """Check one URL attribute; True when it has to be renamed."""
    value = attrs.get(name)
    if value is None:
        return False
    embed = kind in _EMBED_TAGS
    if name in ("srcset", "imagesrcset"):
        urls = _srcset_urls(value)
    elif name == "style":
        urls = css_urls(value)
    elif name == "attributionsrc":
        urls = value.split()
    else:
        urls = [value]
    blocked = False
    for url in urls:
        blocked = check(p, need, url, kind, embed) or blocked
    return blocked


def generic(
    p: _Pass, attrs: _Attrs, name: str, need: _Need, url_marks: list[tuple[int, str]] | None = None
) -> list[str]:
    """The attributes that fetch on any element: style url(), background, attributionsrc. Given
    `url_marks`, a style attribute keeps its other declarations: its non-granted URLs are marked."""
    renamed: list[str] = []
    first = attrs.first
    for attr in _GENERIC_ATTRS:
        if attr not in first:
            continue
        if attr == "style" and url_marks is not None:
            found = attribute_inserts(first[attr], _marker(p, need, name))
            if found is None:
                renamed.append(attr)
            else:
                at = attrs.value_at(attr)
                url_marks.extend((at + pos, mark) for pos, mark in found)
        elif check_attr(p, need, attrs, attr, name):
            renamed.append(attr)
    return renamed


def sheet_marks(p: _Pass, need: _Need, css: str, at: int, kind: str) -> list[tuple[int, str]] | None:
    """Check the URLs of the style sheet `css` (at `at` in the page) into `need`; the marks that make
    the non-granted ones inert, or None when the whole element has to be."""
    marks = inert_inserts(css, _marker(p, need, kind))
    return None if marks is None else [(at + pos, mark) for pos, mark in marks]


def _marker(p: _Pass, need: _Need, kind: str) -> Callable[[str], str | None]:
    """A URL's mark if it is not granted (what it needs goes into `need`), once per URL; a sheet that
    cannot be marked URL by URL has had every URL a reader finds in it checked, for the whole."""
    embed = kind in _EMBED_TAGS
    seen: dict[str, str | None] = {}

    def mark_for(url: str) -> str | None:
        if url not in seen:
            one = _Need()
            seen[url] = None
            if check(p, one, url, kind, embed):
                need.add(tuple(one.services), one.url, one.kind)
                seen[url] = inert_mark(one.marker()[0])  # one service (any one allows it) or "?"
        return seen[url]

    return mark_for
