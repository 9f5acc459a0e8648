"""Response start: the headers that make a browser contact a host by themselves.

`Link` preconnects, preloads and prefetches, `Speculation-Rules`, and the reporting headers
(`Reporting-Endpoints`, `Report-To`, which `NEL` and the app's CSP `report-to` send through, and the
CSP's own `report-uri`) each reach a host without any markup the rewriter sees; a preconnect or a
report is not a fetch a CSP governs. Entries that reach a third party the visitor has not granted
are dropped; the rest of each header is kept as the app wrote it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urljoin, urlsplit

from .registry import Registry
from .sniff import split_list

__all__ = ["HeaderVerdict", "Leaves", "gate_header", "leaves_for"]

Leaves = Callable[[str], bool]

# rel values with which Chromium contacts the target of a Link header by itself
_FETCHING_RELS: Final = frozenset(
    {"preconnect", "dns-prefetch", "preload", "modulepreload", "prefetch", "prerender", "stylesheet",
     "compression-dictionary", "icon"}
)  # fmt: skip
_LINK: Final = re.compile(r"\s*<([^>]*)>(.*)", re.S)
_REL: Final = re.compile(r"""(?:^|;)\s*rel\s*=\s*("[^"]*"|[^;]*)""", re.I)
_ENDPOINT: Final = re.compile(r"""\s*([a-z*][a-z0-9_\-.*]*)\s*=\s*"([^"]*)"\s*(;.*)?""", re.I | re.S)


def leaves_for(registry: Registry, granted: frozenset[str], page_url: str, site_host: str) -> Leaves:
    """Whether a URL (absolute, or relative to the page) reaches a third party not granted (or an
    undeclared one, in strict mode): the URL classification of docs/ARCHITECTURE.md."""

    def leaves(url: str) -> bool:
        try:
            parts = urlsplit(urljoin(page_url, url.strip()))
            host = parts.hostname or ""
        except ValueError:
            return True  # no URL a browser would follow anywhere we can name: drop it
        if parts.scheme not in ("http", "https", "ws", "wss") or not host:
            return False
        if site_host and registry.is_first_party(host, site_host):
            return False
        services = registry.services_for(host, parts.path or "/")
        if services:
            return not any(s.id in granted for s in services)
        return registry.strict or not site_host

    return leaves


@dataclass(frozen=True, slots=True)
class HeaderVerdict:
    value: str | None  # what stays (None: the whole header goes)
    dropped: tuple[str, ...]  # what went, for the log


def gate_header(name: str, value: str, leaves: Leaves) -> HeaderVerdict:
    """One response header (name in lower case) with what reaches a non-granted third party taken out."""
    if name == "speculation-rules":
        # the rules are fetched and read by the browser alone: any URL may be in them
        return HeaderVerdict(None, (value,))
    if name == "link":
        return _filter(split_list(value, "<>"), lambda e: _link_leaves(e, leaves), ", ")
    if name == "reporting-endpoints":
        return _filter(split_list(value), lambda e: _endpoint_leaves(e, leaves), ", ")
    if name == "report-to":
        return _filter(split_list(value, "{}[]"), lambda e: _report_to_leaves(e, leaves), ", ")
    return HeaderVerdict(value, ())


def _filter(entries: list[str], leaves: Callable[[str], bool], sep: str) -> HeaderVerdict:
    kept = [e for e in entries if not leaves(e)]
    dropped = tuple(e for e in entries if leaves(e))
    return HeaderVerdict(sep.join(kept) if kept else None, dropped)


def _link_leaves(entry: str, leaves: Leaves) -> bool:
    m = _LINK.match(entry)
    if m is None:
        return True  # not a link Chromium reads the way we do: drop it rather than guess
    rels = {r.lower() for rel in _REL.findall(m[2]) for r in rel.strip('"').split()}
    return bool(rels & _FETCHING_RELS) and leaves(m[1])


def _endpoint_leaves(entry: str, leaves: Leaves) -> bool:
    m = _ENDPOINT.fullmatch(entry)
    return m is None or leaves(m[2])


def _report_to_leaves(entry: str, leaves: Leaves) -> bool:
    try:
        group = json.loads(entry)
        urls = [e["url"] for e in group["endpoints"]]
    except (ValueError, TypeError, KeyError, RecursionError):
        return True  # unreadable to us: the browser may still read a URL in it
    return not all(isinstance(u, str) for u in urls) or any(leaves(u) for u in urls)
