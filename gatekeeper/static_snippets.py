"""The loader and styles as served: compacted, the Consent Mode map filled in, under content-hashed
names (cached for a year), and their size as a server sends them; the Consent Mode defaults a page's
head snippet says before any choice."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterable, Mapping

from .consent import ConsentState
from .registry import CONSENT_MODE_TYPES, Category, Registry

__all__ = ["build_static", "compact_js", "consent_mode_defaults", "snippet_budget"]

_ALL_TYPES = tuple(t for c in Category for t in CONSENT_MODE_TYPES[c])
_SHARING_TYPES = ("ad_user_data", "ad_personalization")  # what Global Privacy Control opts out of


def consent_mode_defaults(state: ConsentState, granted: Iterable[str], registry: Registry) -> dict[str, str]:
    """Google Consent Mode v2 values for a state: a type is granted when its category is; under
    Global Privacy Control the ad data-sharing types also need a sale/share service opted in to."""
    out = {t: "denied" for t in _ALL_TYPES}
    for category in Category:
        if state.category_granted(category):
            for t in CONSENT_MODE_TYPES[category]:
                out[t] = "granted"
    ids = set(granted)
    if state.gpc and not any(s.sale_share and s.id in ids for s in registry.services):
        for t in _SHARING_TYPES:
            out[t] = "denied"
    return out


def compact_js(text: str) -> str:
    """Whole-line comments and indentation go (newlines stay, so semicolon insertion is unchanged)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


def compact_css(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([{};,>])\s*", r"\1", text).replace(";}", "}").strip() + "\n"


def build_static(loader_js: str, css: str) -> dict[str, tuple[bytes, str]]:
    """The served snippets under content-hashed names (so they can be cached for a year)."""
    cm = {c.value: list(t) for c, t in CONSENT_MODE_TYPES.items() if t}
    js = compact_js(loader_js.replace("/*CM*/{}", json.dumps(cm, separators=(",", ":"))))
    out: dict[str, tuple[bytes, str]] = {}
    for stem, ext, body, media in (
        ("loader", "js", js, "text/javascript; charset=utf-8"),
        ("gatekeeper", "css", compact_css(css), "text/css; charset=utf-8"),
    ):
        data = body.encode("utf-8")
        out[f"{stem}.{hashlib.sha256(data).hexdigest()[:12]}.{ext}"] = (data, media)
    return out


def snippet_budget(static: Mapping[str, tuple[bytes, str]]) -> int:
    """Bytes of loader + styles, each gzipped as a server would send them."""
    return sum(len(gzip.compress(data, 9)) for data, _ in static.values())
