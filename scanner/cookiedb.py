"""Known cookies from the Open Cookie Database (Apache-2.0, shipped in scanner/data with its licence):
what a cookie the registry does not declare is for, and who sets it. Missing file: no explanations."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from gatekeeper.registry import Category

__all__ = ["CookieDatabase", "KnownCookie", "cookie_database"]

# OCD's categories in the registry's terms. OCD "Functional" means needed for the site to work.
_CATEGORIES = {
    "necessary": Category.NECESSARY,
    "functional": Category.NECESSARY,
    "security": Category.NECESSARY,
    "personalization": Category.USABILITY,
    "preferences": Category.USABILITY,
    "analytics": Category.ANALYTICS,
    "marketing": Category.MARKETING,
}


@dataclass(frozen=True)
class KnownCookie:
    name: str
    platform: str  # "Google Analytics"
    category: Category | None
    description: str
    retention: str
    controller: str
    privacy_url: str
    wildcard: bool  # the name is a prefix
    domain: str = ""  # where the platform sets it; "" means on the site's own domain

    @property
    def set_by_site(self) -> bool:
        """The database knows this cookie as one a site sets on its own domain."""
        return not self.domain

    def explain(self) -> str:
        parts = [f"{self.platform}: {self.description}".strip(": ")]
        if self.retention:
            parts.append(f"kept {self.retention}")
        return "; ".join(p for p in parts if p) + " (Open Cookie Database)"


class CookieDatabase:
    def __init__(self, entries: list[KnownCookie]) -> None:
        self._exact: dict[str, KnownCookie] = {}
        self._prefixes: list[KnownCookie] = []
        for e in entries:
            if e.wildcard:
                self._prefixes.append(e)
            else:
                self._exact.setdefault(e.name, e)
        self._prefixes.sort(key=lambda e: len(e.name), reverse=True)  # the longest prefix wins

    def __len__(self) -> int:
        return len(self._exact) + len(self._prefixes)

    def lookup(self, name: str) -> KnownCookie | None:
        found = self._exact.get(name)
        if found is not None:
            return found
        for e in self._prefixes:
            if name.startswith(e.name):
                return e
        return None

    @classmethod
    def parse(cls, text: str) -> CookieDatabase:
        entries = []
        for row in csv.DictReader(io.StringIO(text)):
            name = (row.get("Cookie / Data Key name") or "").strip()
            if not name:
                continue
            category = _CATEGORIES.get((row.get("Category") or "").strip().lower())
            entries.append(
                KnownCookie(
                    name=name,
                    platform=(row.get("Platform") or "").strip(),
                    category=category,
                    description=(row.get("Description") or "").strip(),
                    retention=(row.get("Retention period") or "").strip(),
                    controller=(row.get("Data Controller") or "").strip(),
                    privacy_url=(row.get("User Privacy & GDPR Rights Portals") or "").strip(),
                    wildcard=(row.get("Wildcard match") or "0").strip() == "1",
                    domain=(row.get("Domain") or "").strip(),
                )
            )
        return cls(entries)


@cache
def cookie_database() -> CookieDatabase:
    """The shipped database, read once; empty when the file is not there."""
    try:
        text = resources.files("scanner").joinpath("data/open-cookie-database.csv").read_text("utf-8")
    except (FileNotFoundError, OSError):
        return CookieDatabase([])
    return CookieDatabase.parse(text)
