"""Step 5f, embeds and widgets: which service an embed's placeholder names, its size, and the posts and
share buttons a vendor's script would draw from a blockquote, a or div."""

from __future__ import annotations

import re
import sys

from ..registry import Placeholder, Service, undeclared_service
from .checking import check, generic
from .classify import _Need, _undeclared_only
from .css import _SIZE_STYLE
from .edits import _COUNT_OUTCOME, _NO_OUTCOME, Verdict, _Outcome
from .fetching import (
    _AMP_PLAYERS,
    _PLACEHOLDER_KINDS,
    _SHARE_URL_ATTRS,
    _SHARE_WIDGETS,
    _WIDGET_URL_ATTRS,
    _WIDGETS,
)
from .marking import marking_for
from .reading import _Pass
from .tokenizing import _Attrs
from .urls import _absolute


def marked_earlier(p: _Pass, name: str, attrs: _Attrs) -> bool:
    """An embed made inert by an earlier pass (it keeps its number)."""
    need = _Need()
    for attr in ("data-gk-src", "data-gk-data"):
        value = attrs.get(attr)
        if value is not None:
            check(p, need, value, name)
    if name in _AMP_PLAYERS:
        amp_player_needs(p, name, attrs, need)
    return _placeholder_service(p, name, need) is not None or _undeclared_only(need)


def amp_player_needs(p: _Pass, name: str, attrs: _Attrs, need: _Need) -> bool:
    """An AMP video player (<amp-youtube data-videoid=...>): True when the player it would load is
    not granted (what it needs goes into `need`)."""
    attr, player = _AMP_PLAYERS[name]
    return check(p, need, player + (attrs.get(attr) or "").strip(), name, True)


def _placeholder_service(p: _Pass, name: str, need: _Need) -> Service | None:
    for s in need.services:
        if s.placeholder in _PLACEHOLDER_KINDS or (
            s.placeholder is Placeholder.BUTTON and name in ("iframe", "frame")
        ):
            return s
    return None


def embed_template(
    p: _Pass, name: str, attrs: _Attrs, need: _Need
) -> tuple[str, str, str | None, str | None, tuple[Service, ...], bool] | None:
    service = _placeholder_service(p, name, need)
    if service is None:
        if not _undeclared_only(need):
            return None
        service = undeclared_service(need.url)
    width, height = attrs.get("width"), attrs.get("height")
    style = attrs.get("style")
    if style is not None:
        if width is None and (w := _SIZE_STYLE["width"].search(style)) is not None:
            width = w.group(1).strip()
        if height is None and (h := _SIZE_STYLE["height"].search(style)) is not None:
            height = h.group(1).strip()
    services = (service, *(s for s in need.services if s is not service))
    return (
        sys.intern(name),
        need.url,
        width.strip() if width is not None else None,
        height.strip() if height is not None else None,
        services,
        False,
    )


def widget_outcome(p: _Pass, m: re.Match[str], name: str, start: int) -> _Outcome:
    """A blockquote/a/div a vendor's script turns into a post: a placeholder before it."""
    attrs = p.attrs_of(m)
    need = _Need()
    renamed = generic(p, attrs, name, need)
    classes = (attrs.get("class") or "").split()
    if (attrs.get("data-pin-do") or "").startswith("button"):
        classes.append("data-pin-do=button")
    if "data-flickr-embed" in attrs.first:
        classes.append("data-flickr-embed")
    widget = next((_WIDGETS[c] for c in classes if c in _WIDGETS), None)
    share = next((_SHARE_WIDGETS[c] for c in classes if c in _SHARE_WIDGETS), None)
    if (widget is not None or share is not None) and "data-gk" in attrs.first:
        return _COUNT_OUTCOME  # made inert by an earlier pass: keeps its number
    template: tuple[str, str, str | None, str | None, tuple[Service, ...], bool] | None = None
    if share is not None and widget is None:
        button = _Need()
        check(p, button, share, name, True)
        service = next(iter(button.services), None)
        if service is not None and service.share_url:
            target = next((v for a in _SHARE_URL_ATTRS if (v := attrs.get(a))), None)
            absolute = _absolute(target, p.base.url) if target else p.base.url
            need.add((service,), share, name)
            template = (name, absolute, None, None, (service,), True)
    if widget is not None:
        url = next((v for a in _WIDGET_URL_ATTRS if (v := attrs.get(a))), None) or widget
        post = _Need()
        check(p, post, widget, name, True)
        if url != widget:
            check(p, post, url, name, True)
        service = next((s for s in post.services if s.placeholder in _PLACEHOLDER_KINDS), None)
        if service is not None:
            absolute = _absolute(url, p.base.url)
            for s in post.services:
                need.add((s,), absolute, name)
            template = (name, absolute, attrs.get("width"), attrs.get("height"), (service,), False)
    if template is None and not renamed:
        return _NO_OUTCOME
    return _Outcome(Verdict.MARK, marking_for(m, name, attrs, start, need, renamed), template)
