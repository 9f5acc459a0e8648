"""gatekeeper's scanner: crawls a site in Chromium and proves, page by page, that it keeps its consent and
cookie promises (`gatekeeper scan`, `python -m scanner`, the `gatekeeper_scan` pytest fixture)."""

from .browser import BrowserNotFound, Chromium
from .crawl import Progress, ScanError, scan, scan_async
from .model import Finding, PageResult, ScanOptions, ScanResult, Severity, VisitKind, VisitRecord
from .rules import RULES

__all__ = [
    "RULES",
    "BrowserNotFound",
    "Chromium",
    "Finding",
    "PageResult",
    "Progress",
    "ScanError",
    "ScanOptions",
    "ScanResult",
    "Severity",
    "VisitKind",
    "VisitRecord",
    "scan",
    "scan_async",
]
