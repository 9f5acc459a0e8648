"""Which URLs are pages of the scan: same origin, not gatekeeper's endpoints, not files, within the
operator's include/exclude globs; and which shard of a sharded scan visits each of them."""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from urllib.parse import urldefrag, urlsplit, urlunsplit

__all__ = [
    "ENDPOINT_PREFIX",
    "Scope",
    "in_shard",
    "normalize_url",
    "origin_of",
    "parse_shard",
    "sitemap_urls",
]

ENDPOINT_PREFIX = "/_gatekeeper/"

# Links to these are files, not pages.
_SKIP_SUFFIXES = frozenset(
    {
        ".pdf", ".zip", ".gz", ".tgz", ".rar", ".7z", ".jpg", ".jpeg", ".png", ".gif", ".webp",
        ".svg", ".ico", ".mp3", ".mp4", ".mov", ".webm", ".avi", ".doc", ".docx", ".xls", ".xlsx",
        ".ppt", ".pptx", ".csv", ".xml", ".json", ".txt", ".js", ".css", ".woff", ".woff2", ".ttf",
        ".dmg", ".exe",
    }
)  # fmt: skip


def origin_of(url: str) -> tuple[str, str]:
    p = urlsplit(url)
    return p.scheme, p.netloc.lower()


def normalize_url(url: str) -> str:
    """Without fragment and default port; an empty path is "/"."""
    url = urldefrag(url)[0]
    p = urlsplit(url)
    netloc = p.netloc.lower()
    if (p.scheme, p.port) in (("http", 80), ("https", 443)):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((p.scheme, netloc, p.path or "/", p.query, ""))


class Scope:
    """Which links are pages of this scan."""

    def __init__(self, start: str, include: Iterable[str], exclude: Iterable[str]) -> None:
        self.origin = origin_of(start)
        self.include = tuple(include)
        self.exclude = tuple(exclude)

    def admit(self, url: str) -> str | None:
        if not url.startswith(("http://", "https://")):
            return None
        url = normalize_url(url)
        if origin_of(url) != self.origin:
            return None
        p = urlsplit(url)
        if p.path.startswith(ENDPOINT_PREFIX):
            return None
        if PurePosixPath(p.path).suffix.lower() in _SKIP_SUFFIXES:
            return None
        target = p.path + (f"?{p.query}" if p.query else "")
        if self.include and not any(fnmatch.fnmatchcase(target, g) for g in self.include):
            return None
        if any(fnmatch.fnmatchcase(target, g) for g in self.exclude):
            return None
        return url


def in_shard(url: str, shard: tuple[int, int]) -> bool:
    """Whether shard (K, N) visits `url`: a hash of its path and query, so the split is the same on
    every machine and run, whatever the host and port the site is reached at."""
    k, n = shard
    if n == 1:
        return True
    p = urlsplit(url)
    digest = hashlib.sha256(f"{p.path}?{p.query}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % n == k - 1


def parse_shard(text: str) -> tuple[int, int]:
    """ "K/N" -> (K, N), 1 <= K <= N; ValueError with the right form otherwise."""
    k, sep, n = text.partition("/")
    try:
        shard = (int(k), int(n))
    except ValueError:
        shard = (0, 0)
    if not sep or not 1 <= shard[0] <= shard[1]:
        raise ValueError(f"{text!r}: write it as K/N with 1 <= K <= N, e.g. 2/3")
    return shard


def sitemap_urls(text: str) -> list[str]:
    """The <loc> URLs of a sitemap.xml."""
    return [m.strip() for m in re.findall(r"<loc>\s*([^<]+?)\s*</loc>", text)]
