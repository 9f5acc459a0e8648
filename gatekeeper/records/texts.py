"""Consent records, step 2: the exact texts a visitor was shown (banner with its settings layer, each
placeholder, the notice page) in one language, as read on screen, and their digest. A record keeps the
digest; the store keeps each set of texts once.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from ..consent import ConsentState
from ..pages import _SampleEmbed  # the embed every placeholder is checked with at start-up

__all__ = ["TextSet", "TextsShown", "visible_text"]

_BLOCKS = frozenset(
    {"p", "div", "section", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "summary", "details",
     "fieldset", "legend", "dt", "dd", "dl", "tr", "table", "form", "button", "br", "label", "main", "title"}
)  # fmt: skip
_HIDDEN = frozenset({"script", "style", "template", "head"})


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(re.sub(r"\s+", " ", data))  # a line break in HTML text is a space


def visible_text(html: str) -> str:
    """What a reader sees of `html`: the text outside scripts and styles, one line per block."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    lines = (re.sub(" +", " ", line).strip() for line in "".join(reader.out).split("\n"))
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True, slots=True)
class TextSet:
    lang: str
    policy_version: str
    texts: tuple[tuple[str, str], ...]  # (what: "banner", "disclosure", "placeholder/ID"; its text)
    digest: str = field(init=False, compare=False)  # of all the above: worked out once, here

    def __post_init__(self) -> None:
        body = json.dumps([self.lang, self.policy_version, self.texts], ensure_ascii=False)
        object.__setattr__(self, "digest", hashlib.sha256(body.encode("utf-8")).hexdigest()[:32])

    def body(self) -> str:
        return json.dumps(dict(self.texts), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_body(cls, lang: str, policy_version: str, body: str) -> TextSet:
        data: Mapping[str, str] = json.loads(body)
        return cls(lang, policy_version, tuple(sorted(data.items())))


class TextsShown:
    """The texts per (language, GPC), rendered once from the site's own templates and kept."""

    def __init__(self, pages: Any) -> None:
        self.pages = pages  # gatekeeper.pages.Pages
        self._sets: dict[tuple[str, bool], TextSet] = {}
        self._lock = threading.Lock()

    def get(self, lang: str, gpc: bool) -> TextSet:
        key = (lang, gpc)
        found = self._sets.get(key)
        if found is None:
            found = self._render(lang, gpc)
            with self._lock:
                self._sets[key] = found
        return found

    def _render(self, lang: str, gpc: bool) -> TextSet:
        pages = self.pages
        state = ConsentState(gpc=gpc).derive(pages.registry)
        _, banner = pages.snippets(state, lang, "/", frozenset())
        disclosure = pages.disclosure(state, lang)
        texts = [("banner", visible_text(banner)), ("disclosure", visible_text(disclosure))]
        for service in pages.registry.services:
            html = pages.placeholder(_SampleEmbed((service.id,)), lang, "/")
            texts.append((f"placeholder/{service.id}", visible_text(html)))
        return TextSet(lang, pages.registry.policy_version, tuple(sorted(texts)))
