"""The pytest plugin as a QA suite uses it: `gatekeeper_scan(url).assert_clean()`, in a pytest of its own
that finds the plugin through the package's `pytest11` entry point."""

from __future__ import annotations

from fixtures.leaky_site import SERVICES, app
from support import serve_app

INNER = """
import pytest

@pytest.fixture(scope="session")
def gatekeeper_scan_defaults():
    return {{"services": {services!r}, "host_map": {{"*": {stub!r}}}, "block_unmapped": True,
             "ignore_https_errors": True, "screenshots": False}}

def test_home_is_clean(gatekeeper_scan):
    gatekeeper_scan({base!r} + "/", max_pages=1).assert_clean()

def test_tracker_page(gatekeeper_scan):
    report = gatekeeper_scan({base!r} + "/tracker-before-consent", max_pages=1)
    assert report.rules() == {{"request-before-consent"}}
    report.assert_clean()
"""


def test_gatekeeper_scan_fixture(pytester, _stub_server):
    with serve_app(app) as base:
        pytester.makepyfile(INNER.format(services=str(SERVICES), stub=_stub_server.address, base=base))
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*AssertionError: the site broke its promises:*",
        "*error   request-before-consent*/tracker-before-consent*www.facebook.com (Meta Pixel)*",
        "*FAIL (1 at or above error)*",
    ])  # fmt: skip
