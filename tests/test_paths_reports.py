"""The CSP report endpoint, posted to by anyone: what it logs is one escaped line per new report, and
the work one client can cause is bounded (reports per body, reports per second, log lines per
minute)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import time
from typing import Any

import httpx
import pytest

from gatekeeper import Gatekeeper
from gatekeeper.csp_reports import MAX_REPORTS, ReportBudget, printable, violations
from gatekeeper.logs import _seen


def _run(coro: Any) -> Any:
    """asyncio.run in a thread of its own: another test may leave this thread's loop marked running."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()

KEY = "paths-reports-secret-0123456789"
URL = "http://site.example/_gatekeeper/csp-report"

FORGERIES = [
    "https://evil.example/\nWARNING:gatekeeper:cookie 'sid' dropped",
    "https://evil.example/\r\nINFO forged",
    "https://evil.example/\x1b[2J\x1b[31mred",
    "https://evil.example/\u2028forged",
    "https://evil.example/\u2029forged",
    "https://evil.example/\x85forged",
    "https://evil.example/\x00nul",
    "https://evil.example/" + "a" * 5000,
    'https://evil.example/"quoted"\\back',
]


def _app() -> Gatekeeper:
    async def site(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise AssertionError("the endpoint answers before the app")

    return Gatekeeper(site, secret_keys=KEY, services={"services": [{"id": "youtube"}]})


async def _post_all(gk: Gatekeeper, bodies: list[bytes]) -> list[int]:
    transport = httpx.ASGITransport(app=gk)
    async with httpx.AsyncClient(transport=transport) as client:
        out = []
        for body in bodies:
            response = await client.post(
                URL, content=body, headers={"content-type": "application/csp-report"}
            )
            out.append(response.status_code)
        return out


def _report(blocked: str, document: str = "https://site.example/") -> bytes:
    body = {"blocked-uri": blocked, "violated-directive": "img-src", "document-uri": document}
    return json.dumps({"csp-report": body}).encode()


@pytest.mark.parametrize("text", FORGERIES)
def test_a_reported_text_cannot_forge_a_log_line(text, caplog):
    _seen.clear()
    gk = _app()
    with caplog.at_level(logging.WARNING, logger="gatekeeper.endpoints"):
        assert _run(_post_all(gk, [_report(text), _report("https://t.example/", text)])) == [204, 204]
    lines = [r.getMessage() for r in caplog.records if r.name == "gatekeeper.endpoints"]
    assert len(lines) == 2
    for line in lines:
        assert line.isprintable() and len(line) < 1000, line
        assert "\x1b" not in line and "\n" not in line and "\u2028" not in line


@pytest.mark.parametrize("text", [*FORGERIES, "plain", "日本語のURL", ""])
def test_printable_is_one_printable_line(text):
    out = printable(text)
    assert out.isprintable() and "\n" not in out and len(out) <= 6 * 200


def test_a_body_holds_a_bounded_number_of_reports():
    many = [{"csp-report": {"blocked-uri": f"https://h{i}.example/"}} for i in range(10_000)]
    assert len(list(violations(many))) == MAX_REPORTS


def test_one_client_cannot_make_unbounded_work(caplog):
    _seen.clear()
    gk = _app()
    bodies = [_report(f"https://h{i}.example/x") for i in range(400)]
    budget = gk.endpoints.report_budget
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="gatekeeper.endpoints"):
        statuses = _run(_post_all(gk, bodies))
    elapsed = time.monotonic() - start
    served = statuses.count(204)
    assert statuses.count(429) > 0 and served + statuses.count(429) == 400
    assert served <= budget.burst + budget.rate * elapsed + 1  # the burst and what time refilled
    logged = [r for r in caplog.records if r.name == "gatekeeper.endpoints"]
    assert len(logged) <= budget.lines * (1 + elapsed / 60) + 1  # a minute's lines, whatever was posted


def test_the_budget_refills_with_time():
    now = [0.0]
    budget = ReportBudget(per_second=2, burst=3, lines_per_minute=2, clock=lambda: now[0])
    assert [budget.take_request() for _ in range(5)] == [True, True, True, False, False]
    now[0] = 1.0
    assert [budget.take_request() for _ in range(3)] == [True, True, False]
    assert [budget.take_line() for _ in range(3)] == [True, True, False]
    now[0] = 31.0
    assert budget.take_line() and not budget.take_line()
    assert budget.refused == 3
