"""Step 2, classification: a URL against the registry (first party, a declared service, an undeclared third
party), prepared once per registry and memoized; the page's base."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from ..psl import normalize_host
from ..registry import Registry, Service
from .edits import _Outcome
from .tokenizing import _alternation, _squeeze

# ---------------------------------------------------------------------------------------------
# The registry's view, prepared once per registry


# Memo bounds, per registry: entries, and the text a key may hold (so at most ~4096 x 8 KB).
_MEMO_ENTRIES: Final = 4096
_MEMO_TEXT: Final = 8192


class _Prepared:
    """What the rewriter needs of a registry, computed once: signatures, path-sensitive hosts, and a
    memo of host classifications."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.strict = registry.strict
        sigs: dict[str, list[Service]] = {}
        for s in registry.services:
            for sig in s.inline_signatures:
                sigs.setdefault(sig, []).append(s)
        # a space in a signature stands for any whitespace, or none: minified snippets match too; and
        # whitespace may come between any two characters (a template literal keeps a newline that
        # the URL parser then drops)
        self.signatures = {_squeeze(k): tuple(v) for k, v in sigs.items()}
        # case-sensitive and factored on prefixes: no literal prefix, so every character is tried
        sig_re = _alternation(sigs, fold=False, space=r"\s*+", gap=r"\s*+")
        self.signature_re = re.compile(sig_re) if sigs else None
        self.path_hosts = frozenset({p.host for s in registry.services for p in s.hosts if p.path})
        self.memo: dict[tuple[str, str, str], tuple[Service, ...] | None] = {}
        self.urls: dict[tuple[str, str, str], tuple[tuple[Service, ...] | None, str]] = {}
        self.tags: dict[tuple[object, ...], _Outcome] = {}

    def _path_sensitive(self, name: str) -> bool:
        """Whether the host is, or is under, one whose services depend on the path."""
        hosts = self.path_hosts
        dot = -1
        while True:
            if name[dot + 1 :] in hosts:
                return True
            dot = name.find(".", dot + 1)
            if dot < 0:
                return False

    def classify(self, site_host: str, host: str, path: str) -> tuple[Service, ...] | None:
        """None: first party; (): an undeclared third party; else the services the host belongs to."""
        try:
            name = normalize_host(host)
        except Exception:  # a host no encoder accepts is nobody's: treat it as a stranger
            name = host.lower()
        sensitive = self._path_sensitive(name)
        key = (site_host, name, path if sensitive else "")
        memo = self.memo
        hit = memo.get(key, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        result: tuple[Service, ...] | None
        if name and self.registry.is_first_party(name, site_host):
            result = None
        else:
            result = self.registry.services_for(name, path) if name else ()
        if len(memo) > 4096:
            memo.clear()
        memo[key] = result
        return result


_PREPARED: dict[int, tuple[Registry, _Prepared]] = {}


def _prepared(registry: Registry) -> _Prepared:
    hit = _PREPARED.get(id(registry))
    if hit is not None and hit[0] is registry:
        return hit[1]
    prep = _Prepared(registry)
    if len(_PREPARED) > 16:
        _PREPARED.clear()
    _PREPARED[id(registry)] = (registry, prep)
    return prep


@dataclass(slots=True)
class _Base:
    url: str
    scheme: str
    host: str
    first_party: bool


@dataclass(slots=True)
class _Need:
    services: list[Service] = field(default_factory=list)
    undeclared: bool = False
    url: str = ""
    kind: str = ""

    def add(self, services: tuple[Service, ...], url: str, kind: str) -> None:
        if not self.url:
            self.url, self.kind = url, kind
        if not services:
            self.undeclared = True
        else:
            s = services[0]  # any one of a URL's services allows it: name the first
            if not any(x is s for x in self.services):
                self.services.append(s)

    def merge(self, other: _Need) -> None:
        for s in other.services:
            self.add((s,), other.url, other.kind)
        self.undeclared = self.undeclared or other.undeclared

    def marker(self) -> tuple[str, ...]:
        """What `data-gk` names: the services, and "?" for an undeclared third party."""
        ids = tuple(s.id for s in self.services)
        return (*ids, "?") if self.undeclared else ids


def _undeclared_only(need: _Need) -> bool:
    """An embed from a host no declared service covers: it gets a box naming the host (no buttons)."""
    return need.undeclared and not need.services and need.url.startswith(("https:", "http:"))


def _site(page_url: str) -> tuple[str, _Base]:
    try:
        parts = urlsplit(page_url)
        host = parts.hostname or ""
        scheme = (parts.scheme or "https").lower()
    except ValueError:
        host, scheme = "", "https"
    return host, _Base(page_url, scheme, host, True)
