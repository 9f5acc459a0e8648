"""Pages served unread: a refresh to a third party is a navigation no CSP governs, so a page the rewriter
cannot read still loses its third-party refreshes, by a scan that needs no parse."""

from __future__ import annotations

import re
from typing import Final

from ..registry import Registry
from .classify import _prepared, _site
from .css import _HTML_SPACE, _refresh_url
from .tokenizing import _TOKEN_RE, _Attrs, _lower
from .urls import _target

# -- pages served unchanged ---------------------------------------------------------------------
# A refresh to a third party is a navigation, which no CSP governs: a page the rewriter cannot read
# (too big, an encoding it cannot decode, a failure) still loses its third-party refreshes, by a scan
# for <meta> tags that needs no parse, over bytes in any ASCII-compatible charset.

# (with a prefix too: `<h:meta>` is XHTML's <meta> in an XML document; in HTML an unknown element)
_META_AT: Final = re.compile(rb"<(?:[A-Za-z_][\w.\-]*+:)?[mM][eE][tT][aA](?=[\t\n\f\r /])")


def refresh_leaves(content: str, registry: Registry, granted: frozenset[str], page_url: str) -> bool:
    """Whether a refresh (a `<meta http-equiv=refresh>` content or a `Refresh:` header) takes the
    visitor to a third party not granted (or undeclared, in strict mode)."""
    raw = _refresh_url(content)
    site_host, base = _site(page_url)
    target = _target(raw, base.scheme) if raw else None
    if target is None or not target[0]:
        return False  # no URL, or one relative to the page: the site itself
    prep = _prepared(registry)
    services = prep.classify(site_host, target[0], target[1])
    if services is None:
        return False
    return not any(s.id in granted for s in services) if services else prep.strict


def inert_refreshes(data: bytes, registry: Registry, granted: frozenset[str], page_url: str) -> bytes:
    """`data` (a page, or a stretch of one) with "data-gk-" before the http-equiv of every <meta>
    refresh that `refresh_leaves`; every other byte as it was. Tags are found wherever they look like
    one (in a comment or a script too, which only ever stops more)."""
    if _META_AT.search(data) is None:
        return data
    text = data.decode("latin-1")  # one character per byte: offsets carry over
    renames: list[int] = []
    for m in _META_AT.finditer(data):
        tag = _TOKEN_RE.match(text, m.start())
        if tag is None or tag.group(1) is None:
            continue
        attrs = _Attrs(text, tag.start(4), tag.end(4))
        equiv = attrs.get("http-equiv")
        refresh = equiv is not None and _lower(equiv.strip(_HTML_SPACE)) == "refresh"
        if refresh and refresh_leaves(attrs.get("content") or "", registry, granted, page_url):
            renames.extend(attrs.positions("http-equiv"))
    if not renames:
        return data
    parts, prev = [], 0
    for pos in sorted(renames):
        parts += [data[prev:pos], b"data-gk-"]
        prev = pos
    parts.append(data[prev:])
    return b"".join(parts)
