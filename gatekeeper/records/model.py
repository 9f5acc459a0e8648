"""Consent records, step 1: what one decision leaves behind, built from the choice and the two consent
states around it; pure, no storage here.

A record holds the time, the policy version, the choice, how it was given (which control, with or
without JavaScript), whether it withdrew something, GPC, the language, the page's path (no query) and
the resulting grants per category and service, plus the digest of the texts the visitor was shown. Its
key, the receipt, is derived from the signature of the cookie the visitor now holds: nothing else
links a record to a person, and nothing new is sent to the browser.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ..consent import ConsentState
from ..registry import Registry

__all__ = [
    "Control",
    "Record",
    "build_record",
    "control_of",
    "format_receipt",
    "normalize_receipt",
    "receipt_code",
    "utc_day",
]

_RECEIPT_SALT = b"gatekeeper.receipt\x00"
_RECEIPT_CHARS = 16  # base32: 80 bits, as XXXX-XXXX-XXXX-XXXX


class Control(enum.StrEnum):
    """Which control gave the choice (the form's or request's shape says it; nothing else is asked)."""

    BANNER = "banner"  # "Accept all" / "Reject all" on a page
    SETTINGS = "settings"  # "Save choices" in the settings layer
    PLACEHOLDER_ONCE = "placeholder-once"  # "Load once" on an embed
    PLACEHOLDER_ALWAYS = "placeholder-always"  # "Always allow" on an embed
    DISCLOSURE = "disclosure"  # the form on the notice page


@dataclass(frozen=True, slots=True)
class Record:
    receipt: str  # receipt_code() of the cookie (or "load once" ticket) the choice produced
    at: int  # Unix seconds, the time of the choice (the cookie's own)
    policy_version: str
    choice: str  # all | none | custom | allow | once
    control: Control
    javascript: bool  # sent by the loader (JSON) rather than a plain form
    withdrawal: bool  # took back something granted before
    gpc: bool  # the request carried Sec-GPC: 1
    lang: str  # the language the texts were shown in
    path: str  # the page the choice was made on, without its query
    categories: Mapping[str, bool]  # every offered category: granted after the choice
    services: Mapping[str, bool]  # every offered service: granted after the choice (GPC applied)
    texts: str  # digest of the texts shown (stored once per digest)

    def to_json(self) -> dict[str, Any]:
        return {
            "receipt": format_receipt(self.receipt),
            "at": self.at,
            "time": datetime.fromtimestamp(self.at, UTC).isoformat().replace("+00:00", "Z"),
            "policy_version": self.policy_version,
            "choice": self.choice,
            "control": self.control.value,
            "javascript": self.javascript,
            "withdrawal": self.withdrawal,
            "gpc": self.gpc,
            "lang": self.lang,
            "path": self.path,
            "categories": dict(self.categories),
            "services": dict(self.services),
            "texts": self.texts,
        }

    def row(self) -> tuple[Any, ...]:
        """The values in the order of the store's columns (`COLUMNS`)."""
        return (
            self.receipt,
            self.at,
            self.policy_version,
            self.choice,
            self.control.value,
            int(self.javascript),
            int(self.withdrawal),
            int(self.gpc),
            self.lang,
            self.path,
            json.dumps(dict(self.categories), sort_keys=True, separators=(",", ":")),
            json.dumps(dict(self.services), sort_keys=True, separators=(",", ":")),
            self.texts,
        )

    @classmethod
    def from_row(cls, row: tuple[Any, ...] | Any) -> Record:
        values = tuple(row)
        return cls(
            receipt=values[0],
            at=int(values[1]),
            policy_version=values[2],
            choice=values[3],
            control=Control(values[4]),
            javascript=bool(values[5]),
            withdrawal=bool(values[6]),
            gpc=bool(values[7]),
            lang=values[8],
            path=values[9],
            categories=json.loads(values[10]),
            services=json.loads(values[11]),
            texts=values[12],
        )


COLUMNS = (
    "receipt",
    "at",
    "policy_version",
    "choice",
    "control",
    "javascript",
    "withdrawal",
    "gpc",
    "lang",
    "path",
    "categories",
    "services",
    "texts",
)


def receipt_code(token: str) -> str:
    """The receipt of a signed cookie value: a hash of its signature (the part after the last '.').
    Only who holds the cookie can name it; it says nothing about them."""
    signature = token.rsplit(".", 1)[-1].encode("ascii", "replace")
    digest = hashlib.sha256(_RECEIPT_SALT + signature).digest()
    return base64.b32encode(digest).decode("ascii")[:_RECEIPT_CHARS]


def format_receipt(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalize_receipt(text: str) -> str:
    """What a visitor or operator typed (any case, dashes, spaces, 0/1 for O/I) as a stored code."""
    code = "".join(c for c in text.upper() if c.isalnum())
    return code.replace("0", "O").replace("1", "I").replace("8", "B")


def utc_day(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")


def control_of(choice: str, next_path: str, prefix: str) -> Control:
    """The control a choice came from: only placeholders post `once`/`allow`; the notice page's form
    returns to the notice page; `custom` is the settings layer's "Save"; the rest is the banner."""
    if choice == "once":
        return Control.PLACEHOLDER_ONCE
    if choice == "allow":
        return Control.PLACEHOLDER_ALWAYS
    if next_path.startswith(prefix + "disclosure"):
        return Control.DISCLOSURE
    if choice == "custom":
        return Control.SETTINGS
    return Control.BANNER


def build_record(
    *,
    choice: str,
    token: str,
    javascript: bool,
    previous: ConsentState,
    new: ConsentState,
    registry: Registry,
    lang: str,
    next_path: str,
    prefix: str,
    texts: str,
    now: int,
    once: str | None = None,
) -> Record:
    """The record of one decision. `once`: the service a "load once" showed (granted for that load)."""
    path = urlsplit(next_path).path or "/"
    granted = set(new.granted)
    if once is not None:
        granted.add(once)
    categories = {c.value: new.category_granted(c) for c in registry.categories}
    withdrawal = previous.decided and (
        bool(previous.granted - new.granted)
        or any(previous.category_granted(c) and not new.category_granted(c) for c in registry.categories)
    )
    return Record(
        receipt=receipt_code(token),
        at=new.decided_at if new.decided_at is not None and once is None else now,
        policy_version=registry.policy_version,
        choice=choice,
        control=control_of(choice, path, prefix),
        javascript=javascript,
        withdrawal=withdrawal,
        gpc=new.gpc,
        lang=lang,
        path=path[:512],
        categories=categories,
        services={s.id: s.id in granted for s in registry.services},
        texts=texts,
    )
