"""What the rewriter is given (a page's context) and what it gives back (the rewritten page, what was made
inert, the embeds), and how it gives up."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from ..registry import Registry, Service


@dataclass(frozen=True, slots=True)
class Embed:
    """An element that gets a two-click placeholder."""

    index: int  # ordinal among placeholder-getting embeds on the page, document order, 0-based
    tag: str
    url: str
    width: str | None
    height: str | None
    services: tuple[Service, ...]
    share: bool = False  # a script-drawn share button: `url` is the page it shares


@dataclass(frozen=True, slots=True)
class Blocked:
    """One element made inert (or, in `Rewritten.reported`, let through in report mode)."""

    kind: str  # the element ("script", "img", ...), "inline-script", "style-attr", "meta-refresh"...
    url: str  # what it would have loaded (absolute when it could be resolved)
    services: tuple[str, ...]  # the service ids it waits for; () for an undeclared third party
    reason: str


@dataclass(frozen=True, slots=True)
class Rewritten:
    html: str
    blocked: tuple[Blocked, ...] = ()
    reported: tuple[Blocked, ...] = ()  # undeclared third parties let through (report mode)
    embeds: tuple[Embed, ...] = ()
    error: str | None = None  # set when rewriting failed and `html` is the input unchanged


@dataclass(frozen=True)
class PageContext:
    registry: Registry
    granted: frozenset[str]  # service ids granted for this response
    page_url: str  # absolute URL of the page
    once: frozenset[int] = frozenset()  # embed indexes to leave live on this load
    snippets: Callable[[str | None], tuple[str, str]] | None = None  # <html lang> -> (head, body)
    placeholder: Callable[[Embed, str | None], str] | None = None  # embed, <html lang> -> HTML
    cache_key: Hashable = None  # everything besides the HTML the output depends on; None: no cache
    deadline: float | None = None  # time.monotonic() past which the rewrite gives up (TooMuchWork)


class TooMuchWork(Exception):
    """A crafted page whose readings would cost more than a few times its length: not rewritten
    (served as an unread page: the CSP protects it)."""


class OutOfTime(TooMuchWork):
    """The rewrite ran past `PageContext.deadline`."""
