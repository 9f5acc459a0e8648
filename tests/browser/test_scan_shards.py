"""Large sites: a scan of the demo split into 3 shards and merged is the unsharded scan (same pages, same
findings, same exit code); an interrupted scan resumes from its journal without visiting again what it
had finished."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import serve_app

from gatekeeper.demo.app import SERVICES_FILE, site
from scanner.cli import main
from scanner.crawl import scan
from scanner.model import ScanOptions, ScanResult, Severity, VisitKind
from scanner.report import read_json, write_json
from scanner.scope import in_shard

EXCLUDE = ("/lang/*", "/textsize/*")  # they only set a cookie and redirect back


class _Counting:
    """The demo without gatekeeper (it has findings to compare), counting document loads per path."""

    def __init__(self) -> None:
        self.app = site()
        self.hits: dict[str, int] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            self.hits[scope["path"]] = self.hits.get(scope["path"], 0) + 1
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[str, _Counting]]:
    counting = _Counting()
    with serve_app(counting) as base:
        yield base, counting


def _options(base: str, **kw: Any) -> ScanOptions:
    return ScanOptions(
        url=base + "/",
        services=SERVICES_FILE,
        ignore_https_errors=True,
        exclude=EXCLUDE,
        screenshots=False,
        visits=(VisitKind.FIRST_VIEW, VisitKind.REJECT),
        dwell_ms=300,
        **kw,
    )


def _findings(result: ScanResult) -> set[tuple[str, str, str, str, str]]:
    return {
        (f.rule.value, f.severity.value, f.page, f.visit.value if f.visit else "", f.subject)
        for f in result.findings
    }


@pytest.fixture(scope="module")
def whole(demo, chromium) -> ScanResult:
    return scan(_options(demo[0]), chromium=chromium)


def test_three_shards_merged_are_the_whole_scan(demo, whole, chromium, tmp_path_factory, capsys):
    base, _ = demo
    out = tmp_path_factory.mktemp("shards")
    paths = []
    shards = []
    for k in (1, 2, 3):
        result = scan(_options(base, shard=(k, 3)), chromium=chromium)
        shards.append(result)
        paths.append(out / f"shard-{k}.json")
        write_json(result, paths[-1])
    # a stable split: each page is judged by exactly one shard, the one its path hashes to
    judged = [{p.url for p in s.pages} for s in shards]
    assert sum(len(j) for j in judged) == len(whole.pages) and set().union(*judged) == {
        p.url for p in whole.pages
    }
    for k, urls in enumerate(judged, 1):
        assert all(in_shard(u, (k, 3)) for u in urls)
    code = main(
        ["merge", *map(str, paths), "--json", str(out / "merged.json"), "--html", str(out / "m.html")]
    )
    merged = read_json(out / "merged.json")
    assert [p.url for p in merged.pages] == [p.url for p in whole.pages]
    assert _findings(merged) == _findings(whole) != set()
    assert merged.third_parties == whole.third_parties
    assert whole.at_or_above(Severity.ERROR) and code == 1  # the unsharded scan's exit code
    summary = capsys.readouterr().out
    assert "merged from the reports of 3 shards" in summary


def test_merge_refuses_what_is_not_one_sharded_scan(demo, whole, tmp_path, capsys):
    one = tmp_path / "whole.json"
    write_json(whole, one)
    data = json.loads(one.read_text())
    data["options"]["shard"] = "1/2"
    half = tmp_path / "half.json"
    half.write_text(json.dumps(data))
    assert main(["merge", str(half)]) == 2
    assert "shards 2/2 missing" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "nothing.json")]) == 2
    (tmp_path / "junk.json").write_text('{"format": "something else"}')
    assert main(["merge", str(tmp_path / "junk.json")]) == 2


def test_an_interrupted_scan_resumes_from_its_journal(demo, whole, chromium, tmp_path):
    base, counting = demo
    journal = tmp_path / "scan.journal"
    scan(_options(base, journal=journal), chromium=chromium)
    lines = journal.read_text().splitlines()
    assert len(lines) == len(whole.pages)
    # the interruption: two pages finished, the third cut short mid-line
    kept = [json.loads(line)["url"] for line in lines[:2]]
    journal.write_text("\n".join(lines[:2]) + "\n" + lines[2][: len(lines[2]) // 2])
    counting.hits.clear()
    resumed = scan(_options(base, journal=journal, resume=True), chromium=chromium)
    assert _findings(resumed) == _findings(whole)
    assert [p.url for p in resumed.pages] == [p.url for p in whole.pages]
    for url in kept:  # the start page is fetched once more to check the site answers, not visited
        assert counting.hits.get(url[len(base) :], 0) == (1 if url == base + "/" else 0), (
            f"{url} visited again"
        )
    assert any("resumed: 2 pages" in n for n in resumed.notes)
    assert len(Path(journal).read_text().splitlines()) >= len(whole.pages)
