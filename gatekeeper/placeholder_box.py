"""A placeholder's box, from the embed it stands for: its size (never clipping, never narrower than the
page), whether it is button-sized, and what a share link shares and calls the network. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

from .registry import Service

__all__ = ["Embed", "css_length", "is_small", "network_name", "placeholder_size", "shared_page"]


class Embed(Protocol):
    """What a placeholder needs of an embed (gatekeeper.rewrite.Embed has this shape)."""

    @property
    def index(self) -> int: ...
    @property
    def tag(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def share(self) -> bool: ...
    @property
    def width(self) -> str | int | None: ...
    @property
    def height(self) -> str | int | None: ...
    @property
    def services(self) -> Sequence[str] | Sequence[Service]: ...


# ---------------------------------------------------------------------------------------------
# Category texts (message ids: the catalogues under locales/ translate them)


def css_length(value: str | int | None) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().lower()
    m = re.fullmatch(r"(\d{1,5}(?:\.\d+)?)(px|%)?", text)
    if not m or float(m.group(1)) == 0:
        return None
    return m.group(1) + (m.group(2) or "px")


def placeholder_size(embed: Embed, kind: str, small: bool) -> str:
    """Inline size of a placeholder: at least the embed's own (or a width-filling box of its kind's
    shape), never narrower than the page (max-width in the style sheet) and never shorter than what it
    says: its height is a minimum, so a narrow screen or a large font makes it grow instead of clip."""
    width, height = css_length(embed.width), css_length(embed.height)
    if small:  # one line of its own length, at least the button's width where there is room
        return f"min-width:min({width},100%)" if width else ""
    ratio = "4/3" if kind == "map" else "16/9"
    if kind in ("post", "button") and not height:
        return f"width:{width or '100%'};min-height:8rem"
    if width and height:
        return f"width:{width};min-height:{height}"
    if width:
        return f"width:{width};aspect-ratio:{ratio}"
    if height:
        return f"width:100%;min-height:{height}"
    return f"width:100%;aspect-ratio:{ratio}"


def network_name(name: str) -> str:
    """What a share link calls the network: the service's name (in the visitor's language) without
    its parenthesis or its word for 'button'."""
    short = re.sub(r"\s*[（(].*[）)]|\s*(button|ボタン|按钮|按鈕|버튼)$", "", name).strip()
    return short or name


def shared_page(embed: Embed, page_url: str) -> str:
    """The page a share link shares: a share widget's own target, a plugin frame's `href`/`url`
    parameter (Facebook's and LINE's), else the page it is on."""
    if embed.share:
        return embed.url
    if embed.tag.lower() in ("iframe", "frame"):
        for key, value in parse_qsl(urlsplit(embed.url).query):
            if key in ("href", "url") and value.startswith(("https://", "http://")):
                return value
    return page_url


def is_small(embed: Embed) -> bool:
    """Button-sized (a like or share button in a frame): no room for more than a line."""
    width, height = css_length(embed.width), css_length(embed.height)
    return bool(
        (height and height.endswith("px") and float(height[:-2]) < 150)
        or (width and width.endswith("px") and float(width[:-2]) < 260)
    )
