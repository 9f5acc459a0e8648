"""Consent records, step 5: the visitor's own receipt, read from the consent cookie they hold (no store
lookup on the request path): the code, the date of the choice, what it granted, the digest of the
texts shown; as a line in the settings panel and the notice page, and as a JSON download.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..consent import ConsentCodec, ConsentState, cookie_values
from ..registry import Registry
from .model import format_receipt, receipt_code

__all__ = ["RECEIPT_SLOT", "Receipt", "read_receipt", "receipt_json"]

# Where the receipt goes in banner.html and disclosure.html (filled per visitor, after the cache).
RECEIPT_SLOT = '<div class="gk-receipt-slot" data-gk-receipt-slot></div>'


@dataclass(frozen=True, slots=True)
class Receipt:
    code: str  # as stored (16 characters)
    at: int
    state: ConsentState

    @property
    def shown(self) -> str:
        return format_receipt(self.code)

    @property
    def date(self) -> str:
        return datetime.fromtimestamp(self.at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def read_receipt(codec: ConsentCodec, cookie_header: str, *, https: bool, gpc: bool) -> Receipt | None:
    """The receipt of the consent cookie the request carries (the newest valid one, as `codec.read`)."""
    best: Receipt | None = None
    for value in cookie_values(cookie_header, codec.name(https)):
        state = codec.loads(value, gpc=gpc)
        if state.decided and state.decided_at is not None and (best is None or state.decided_at > best.at):
            best = Receipt(receipt_code(value), state.decided_at, state)
    return best


def receipt_json(receipt: Receipt, registry: Registry, texts: str, lang: str) -> dict[str, Any]:
    state = receipt.state
    return {
        "receipt": receipt.shown,
        "time": datetime.fromtimestamp(receipt.at, UTC).isoformat().replace("+00:00", "Z"),
        "at": receipt.at,
        "policy_version": registry.policy_version,
        "categories": {c.value: state.category_granted(c) for c in registry.categories},
        "services": {s.id: s.id in state.granted for s in registry.services},
        "gpc": state.gpc,
        "lang": lang,
        "texts": texts,
        "about": "The site keeps a record of this choice under this receipt code, with the texts you "
        "were shown; it holds no IP address, browser details or other identifier. Only the consent "
        "cookie in your browser links the code to you.",
    }
