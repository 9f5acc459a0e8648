"""An embed as the rewriter hands it to the placeholder templates, with service ids for services
(gatekeeper.pages.Embed is the protocol both satisfy)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Embed:
    index: int
    tag: str
    url: str
    width: str | int | None
    height: str | int | None
    services: tuple[str, ...]
    share: bool = False
