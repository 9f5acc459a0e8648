"""The JUnit XML report: one test case per page and visit, one <failure> per finding at or above the
failing severity (page-level findings go to the page's first view). CI systems show it as tests."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from ..model import Finding, ScanResult, Severity, VisitKind

__all__ = ["to_xml", "write_junit"]


def _evidence(f: Finding) -> str:
    lines = [f.message, f"page: {f.page}", f"subject: {f.subject}"]
    lines += [f"{k}: {v}" for k, v in f.evidence]
    return "\n".join(lines)


def _classname(url: str) -> str:
    p = urlsplit(url)
    path = p.path + (f"?{p.query}" if p.query else "")
    return f"gatekeeper.scan.{p.netloc}{path}"


def to_xml(result: ScanResult, fail_on: Severity = Severity.ERROR) -> ET.Element:
    root = ET.Element("testsuites", name="gatekeeper scan")
    total = failures = 0
    for page in result.pages:
        suite = ET.SubElement(root, "testsuite", name=page.url)
        suite_failures = 0
        for visit in page.visits:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_classname(page.url),
                name=visit.kind.value,
                time=f"{visit.duration_ms / 1000:.3f}",
            )
            mine = [
                f
                for f in page.findings
                if f.visit is visit.kind or (f.visit is None and visit.kind is VisitKind.FIRST_VIEW)
            ]
            others: list[str] = []
            for f in mine:
                if f.severity.rank >= fail_on.rank:
                    failure = ET.SubElement(case, "failure", message=f"{f.rule}: {f.message}", type=f.rule)
                    failure.text = _evidence(f)
                    suite_failures += 1
                else:
                    others.append(f"{f.severity.value} {f.rule}: {f.message} [{f.subject}]")
            if others:
                ET.SubElement(case, "system-out").text = "\n".join(others)
            total += 1
        suite.set("tests", str(len(page.visits)))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        suite.set("time", f"{sum(v.duration_ms for v in page.visits) / 1000:.3f}")
        failures += suite_failures
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("time", f"{result.duration_s:.3f}")
    return root


def write_junit(result: ScanResult, path: str | Path, fail_on: Severity = Severity.ERROR) -> None:
    tree = ET.ElementTree(to_xml(result, fail_on))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
