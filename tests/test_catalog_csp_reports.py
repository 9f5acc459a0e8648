"""CSP reports become operator suggestions: every report shape browsers send (report-uri's
`csp-report`, the Reporting API's list), the host and the page named once each, the services-file lines
for a host the catalog knows and for one it does not; junk skipped."""

from __future__ import annotations

import json
import logging

import pytest
from asgi import call

from gatekeeper import Gatekeeper
from gatekeeper.csp_reports import Violation, suggestion, violations
from gatekeeper.registry import load_registry

REGISTRY = load_registry({"services": [{"id": "youtube"}]})
PAGE = "https://www.city.sample.lg.jp/news/1.html"


def legacy(blocked: str, page: str = PAGE + "?q=secret", directive: str = "script-src-elem") -> dict:
    return {"csp-report": {"blocked-uri": blocked, "document-uri": page, "effective-directive": directive,
                           "violated-directive": "default-src", "disposition": "report"}}  # fmt: skip


def reporting_api(blocked: str, page: str = PAGE, disposition: str = "enforce") -> dict:
    return {"type": "csp-violation", "age": 1, "url": page,
            "body": {"blockedURL": blocked, "documentURL": page, "effectiveDirective": "img-src",
                     "disposition": disposition}}  # fmt: skip


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (legacy("https://cdn.tracker.example/t.js"),
         [Violation("cdn.tracker.example", "/t.js", PAGE, "script-src-elem", False)]),
        ([reporting_api("https://px.tracker.example/p.gif?u=1")],
         [Violation("px.tracker.example", "/p.gif", PAGE, "img-src", True)]),
        ([reporting_api("https://a.example/1"), reporting_api("https://b.example/2", disposition="report")],
         [Violation("a.example", "/1", PAGE, "img-src", True), Violation("b.example", "/2", PAGE, "img-src", False)]),
        (legacy("inline"), []),
        (legacy("eval"), []),
        (legacy("data"), []),
        (legacy("http://[bad"), []),
        (legacy(""), []),
        ({"csp-report": "not a table"}, []),
        ([1, "x", None, {"body": []}], []),
        ("a string", []),
        (None, []),
    ],
)  # fmt: skip
def test_report_shapes(data: object, expected: list[Violation]) -> None:
    assert list(violations(data)) == expected


def test_a_flood_is_read_only_up_to_a_bound_and_long_urls_are_cut() -> None:
    many = [reporting_api(f"https://h{i}.example/" + "x" * 5000) for i in range(1000)]
    found = list(violations(many))
    assert len(found) == 100 and all(len(v.path) < 200 for v in found)


@pytest.mark.parametrize(
    ("blocked", "wanted"),
    [
        ("https://www.dailymotion.com/embed/video/x1", '[[services]] id = "dailymotion"'),
        ("https://maps.google.de/maps?q=x", '[[services]] id = "google-maps"'),
        ("https://code.jquery.com/jquery.js", '[[services]] id = "jquery-cdn"'),
        ("https://cdn.tracker.example/t.js", 'hosts = ["cdn.tracker.example"]'),
        ("https://www.youtube.com/embed/x", "declared (youtube) but this visitor had not allowed it"),
    ],
)
def test_the_suggestion_names_page_host_and_the_lines_to_add(blocked: str, wanted: str) -> None:
    (v,) = violations(legacy(blocked))
    line = suggestion(v, REGISTRY)
    assert line is not None and wanted in line
    assert PAGE in line and "secret" not in line  # the page without its query
    assert "report-only" in line


def test_the_sites_own_hosts_are_no_suggestion() -> None:
    (v,) = violations(legacy("https://static.sample.lg.jp/app.js"))
    assert suggestion(v, REGISTRY) is None


def test_the_endpoint_logs_each_host_and_page_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="gatekeeper")
    gk = Gatekeeper(lambda *a: None, secret_keys="k" * 32, services={"services": [{"id": "youtube"}]})
    bodies = [legacy("https://cdn.tracker.example/t.js"), legacy("https://cdn.tracker.example/u.js"),
              [reporting_api("https://cdn.tracker.example/t.js", page=PAGE.replace("1.html", "2.html"))]]  # fmt: skip
    for body in bodies * 3:
        answer = call(gk, "POST", "/_gatekeeper/csp-report", body=json.dumps(body).encode(),
                      headers=[("content-type", "application/csp-report")])  # fmt: skip
        assert answer.status == 204
    lines = [r.getMessage() for r in caplog.records if "cdn.tracker.example" in r.getMessage()]
    assert len(lines) == 2  # two pages; the second script on the first page is the same host
    assert all('hosts = ["cdn.tracker.example"]' in line for line in lines)
