"""Operator suggestions (gatekeeper/suggest.py): the services-file lines for a host, said once for the
log of an undeclared embed, the CSP report endpoint and `gatekeeper init`; the CSP reports name the host
and the page once each, whatever shape the browser sends."""

from __future__ import annotations

import json
import logging
import tomllib

import pytest
from asgi import call

from gatekeeper import Gatekeeper
from gatekeeper.registry import load_registry
from gatekeeper.suggest import csp_advice, describe_block, hint, page_of, service_id_for

REGISTRY = load_registry({"services": [{"id": "youtube"}]})
PAGE = "https://www.city.sample.lg.jp/news/1.html"


def legacy(blocked: str, page: str = PAGE + "?q=secret") -> dict[str, object]:
    return {"csp-report": {"blocked-uri": blocked, "document-uri": page, "violated-directive": "default-src"}}


def reporting_api(blocked: str, page: str = PAGE) -> list[dict[str, object]]:
    body = {"blockedURL": blocked, "documentURL": page, "effectiveDirective": "img-src"}
    return [{"type": "csp-violation", "url": page, "body": body}]


@pytest.mark.parametrize(
    ("url", "wanted"),
    [
        ("https://www.dailymotion.com/embed/video/x1", '[[services]] id = "dailymotion"'),
        ("https://maps.google.de/maps?q=x", '[[services]] id = "google-maps"'),
        ("https://code.jquery.com/jquery.js", '[[services]] id = "jquery-cdn"'),
        ("https://cdn.tracker.example/t.js", 'hosts = ["cdn.tracker.example"]'),
        ("https://CDN.Tracker.example./t.js", 'hosts = ["cdn.tracker.example"]'),
        ("https://xn--bcher-kva.example/x", 'hosts = ["xn--bcher-kva.example"]'),
    ],
)
def test_advice_names_the_lines_to_add(url: str, wanted: str) -> None:
    assert wanted in csp_advice(url, ())


@pytest.mark.parametrize(
    "url", ['https://a"b.example/', "https://[::1]/x", "http://[bad", "inline", "", "https://a b.example/"]
)
def test_a_host_that_is_not_a_plain_name_is_never_put_into_lines_to_copy(url: str) -> None:
    assert csp_advice(url, ()) == "an undeclared third party: declare its host in the services file"


def test_a_declared_service_is_named_not_redeclared() -> None:
    line = csp_advice(
        "https://www.youtube.com/embed/x", REGISTRY.services_for_url("https://www.youtube.com/e")
    )
    assert "declared (youtube)" in line and "[[services]]" not in line


@pytest.mark.parametrize(
    ("url", "page"),
    [(PAGE + "?q=secret#x", PAGE), ("https://site.example", "https://site.example"), ("about:blank", ""),
     ("http://[bad/", ""), ("", ""), ("/relative", "")],
)  # fmt: skip
def test_the_page_is_named_without_its_query(url: str, page: str) -> None:
    assert page_of(url) == page


def test_the_block_for_unknown_hosts_loads_and_its_id_is_unlike_any_catalog_id() -> None:
    sid = service_id_for("youtube.example", taken={"x"})
    assert sid == "youtube-2"  # "youtube" is a catalog id: the entry would be read as an override
    assert service_id_for("_weird_.example", taken=()) == "weird"
    text = "\n".join(describe_block(["b.tracker.example", "a.tracker.example"], "tracker"))
    entry = tomllib.loads(text)["services"][0]
    registry = load_registry({"services": [entry]})
    assert [s.id for s in registry.services_for("a.tracker.example")] == ["tracker"]
    assert "TO DESCRIBE" in registry.by_id["tracker"].purpose.en and "UNKNOWN HOST" in text


def test_the_log_hint_for_a_catalog_host_and_an_unknown_one() -> None:
    assert hint("player.vimeo.com", "/video/1").startswith("it is Vimeo (Vimeo.com, Inc.) in the catalog")
    assert 'first_party_hosts = ["x.unknown.example"]' in hint("x.unknown.example")


def test_the_endpoint_names_each_host_and_page_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="gatekeeper")
    gk = Gatekeeper(lambda *a: None, secret_keys="k" * 32, services={"services": [{"id": "youtube"}]},
                    csp="report-only")  # fmt: skip
    second = PAGE.replace("1.html", "2.html")
    bodies = [legacy("https://cdn.tracker.example/t.js"), legacy("https://cdn.tracker.example/u.js"),
              reporting_api("https://cdn.tracker.example/t.js", page=second)]  # fmt: skip
    for body in bodies * 3:
        answer = call(gk, "POST", "/_gatekeeper/csp-report", body=json.dumps(body).encode(),
                      headers=[("content-type", "application/csp-report")])  # fmt: skip
        assert answer.status == 204
    lines = [r.getMessage() for r in caplog.records if "cdn.tracker.example" in r.getMessage()]
    assert len(lines) == 2  # two pages; the second script on the first page is the same host
    assert all('hosts = ["cdn.tracker.example"]' in line and "report-only" in line for line in lines)
    assert PAGE in lines[0] and "secret" not in lines[0]
