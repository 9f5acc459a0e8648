"""One report from the JSON reports of a sharded scan (`gatekeeper scan merge REPORTS...`): the pages of
every shard, their findings as each shard judged them, the cross-page rules judged again over all of
them, and one exit code."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from .model import PageResult, ScanResult, ThirdParty
from .rules import judge_site

__all__ = ["MergeError", "merge_results"]


class MergeError(ValueError):
    """The reports are not the shards of one scan: exit code 2."""


def _check(results: Sequence[ScanResult]) -> None:
    if not results:
        raise MergeError("give the JSON reports of the shards")
    targets = {r.target for r in results}
    if len(targets) > 1:
        raise MergeError(f"the reports scanned different sites: {', '.join(sorted(targets))}")
    counts = {r.options.shard[1] for r in results}
    if len(counts) > 1:
        raise MergeError(f"the reports come from splits into different numbers of shards: {sorted(counts)}")
    (n,) = counts
    have = sorted(r.options.shard[0] for r in results)
    missing = sorted(set(range(1, n + 1)) - set(have))
    if missing or len(have) != len(set(have)):
        what = (
            f"shards {', '.join(f'{k}/{n}' for k in missing)} missing" if missing else "a shard given twice"
        )
        raise MergeError(f"{what}: give each shard's report once")


def merge_results(results: Sequence[ScanResult]) -> ScanResult:
    _check(results)
    pages: dict[str, PageResult] = {}
    for result in results:
        for page in result.pages:
            pages.setdefault(page.url, page)
    judged = judge_site(sorted(pages.values(), key=lambda p: (p.depth, p.url)))
    hosts: dict[str, ThirdParty] = {}
    for result in results:
        for t in result.third_parties:
            seen = hosts.get(t.host)
            hosts[t.host] = t if seen is None else dataclasses.replace(seen, pages=seen.pages + t.pages)
    shard_note = "shard "
    notes = [n for r in results for n in r.notes if not n.startswith(shard_note)]
    notes.append(f"merged from the reports of {len(results)} shards")
    first = results[0]
    return ScanResult(
        target=first.target,
        started=min(r.started for r in results),
        duration_s=max(r.duration_s for r in results),
        pages=judged,
        findings=tuple(f for p in judged for f in p.findings),
        registry_sources=first.registry_sources,
        gatekeeper=any(r.gatekeeper for r in results),
        options=dataclasses.replace(first.options, shard=(1, 1)),
        notes=tuple(dict.fromkeys(notes)),
        third_parties=tuple(hosts[h] for h in sorted(hosts)),
    )
