"""pytest plugin (entry point `gatekeeper_scan`): scan a site from a QA suite.

    def test_site_keeps_its_promises(gatekeeper_scan):
        gatekeeper_scan("http://127.0.0.1:8000/", max_pages=10).assert_clean()

Fixtures:
- `gatekeeper_scan(url, **options) -> ScanReport`: runs a scan (options are `ScanOptions` fields:
  `max_pages`, `services`, `workers`, ...). Chromium is started once per session and reused.
- `gatekeeper_scan_defaults` (session, override it): a dict of options for every scan, e.g.
  `{"services": "services.toml", "host_map": {"*": "127.0.0.1:8443"}, "ignore_https_errors": True}`.
  `host_map`, `block_unmapped` and `chromium` are launch options of the shared browser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .browser import BrowserNotFound, Chromium
from .crawl import scan
from .model import Finding, ScanOptions, ScanResult, Severity
from .report import summary, write_html, write_json

__all__ = ["ScanReport", "gatekeeper_scan", "gatekeeper_scan_defaults"]

_LAUNCH_OPTIONS = ("host_map", "block_unmapped", "chromium")


class ScanReport:
    """A finished scan, with assertions for tests."""

    def __init__(self, result: ScanResult) -> None:
        self.result = result

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.result.findings

    def at_or_above(self, severity: str | Severity = Severity.ERROR) -> tuple[Finding, ...]:
        return self.result.at_or_above(Severity(severity))

    def rules(self) -> set[str]:
        return {f.rule for f in self.result.findings}

    def summary(self, fail_on: str | Severity = Severity.ERROR) -> str:
        return summary(self.result, Severity(fail_on))

    def assert_clean(self, fail_on: str | Severity = Severity.ERROR) -> None:
        """Fail the test, listing the findings, when any is at or above `fail_on`."""
        __tracebackhide__ = True
        if self.at_or_above(fail_on):
            raise AssertionError("the site broke its promises:\n" + self.summary(fail_on))

    def write_html(self, path: str | Path) -> None:
        write_html(self.result, path)

    def write_json(self, path: str | Path) -> None:
        write_json(self.result, path)

    def __repr__(self) -> str:
        c = self.result.counts()
        return f"<ScanReport {self.result.target}: {len(self.result.pages)} pages, {c}>"


@pytest.fixture(scope="session")
def gatekeeper_scan_defaults() -> dict[str, Any]:
    """Options for every `gatekeeper_scan` of the session; override this fixture to change them."""
    return {}


@pytest.fixture(scope="session")
def _gatekeeper_chromium(gatekeeper_scan_defaults: dict[str, Any]) -> Iterator[Chromium | None]:
    try:
        process = Chromium(
            gatekeeper_scan_defaults.get("chromium"),
            host_map=gatekeeper_scan_defaults.get("host_map") or None,
            block_unmapped=gatekeeper_scan_defaults.get("block_unmapped"),
        )
    except BrowserNotFound:
        yield None  # the scan itself reports it, in the test that needs it
        return
    try:
        yield process  # started by the first scan
    finally:
        process.close()


@pytest.fixture
def gatekeeper_scan(
    gatekeeper_scan_defaults: dict[str, Any], _gatekeeper_chromium: Chromium | None
) -> Callable[..., ScanReport]:
    def run(url: str, **options: Any) -> ScanReport:
        merged = {**gatekeeper_scan_defaults, **options}
        if merged.get("services") is not None:
            merged["services"] = Path(merged["services"])
        for key in ("include", "exclude", "visits"):
            if key in merged:
                merged[key] = tuple(merged[key])
        own_browser = any(k in options for k in _LAUNCH_OPTIONS)
        result = scan(
            ScanOptions(url=url, **merged),
            chromium=None if own_browser else _gatekeeper_chromium,
        )
        return ScanReport(result)

    return run
