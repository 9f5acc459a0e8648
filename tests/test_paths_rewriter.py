"""Rewriter paths of issue 10: <script type=speculationrules> waits for what its rules would reach."""

from __future__ import annotations

import pytest

from gatekeeper.registry import load_registry
from gatekeeper.rewrite import PageContext, rewrite

REGISTRY = load_registry({"services": [{"id": "youtube"}]})


def _rewrite(rules: str, granted: frozenset[str] = frozenset(), kind: str = "speculationrules") -> str:
    html = f'<html><head><script type="{kind}">{rules}</script></head><body></body></html>'
    ctx = PageContext(registry=REGISTRY, granted=granted, page_url="https://www.site.example/")
    return rewrite(html, ctx).html


@pytest.mark.parametrize(
    ("rules", "marker"),
    [
        ('{"prefetch":[{"source":"list","urls":["https://tracker.example/a"]}]}', 'data-gk="?"'),
        ('{"prerender":[{"urls":["//tracker.example/a","/b"]}]}', 'data-gk="?"'),
        ('{"prefetch":[{"source":"document","eagerness":"immediate"}]}', 'data-gk="?"'),
        ('{"prefetch":[{"where":{"href_matches":"/*"}}]}', 'data-gk="?"'),
        ('{"prefetch":[{"urls":["https://www.youtube.com/watch?v=1"]}]}', 'data-gk="youtube"'),
        ('{"prefetch_with_subresources":[{"urls":["https://tracker.example/"]}]}', 'data-gk="?"'),
        ('{"prefetch":[{"urls":"https://tracker.example/"}]}', 'data-gk="?"'),
        ("not json", 'data-gk="?"'),
        ("[1]", 'data-gk="?"'),
    ],
)
def test_speculation_rules_that_may_leave_are_inert(rules, marker):
    out = _rewrite(rules)
    assert marker in out and 'type="text/plain" data-gk-type="speculationrules"' in out


@pytest.mark.parametrize(
    "rules",
    [
        '{"prefetch":[{"source":"list","urls":["/a","https://www.site.example/b","https://cdn.site.example/c"]}]}',
        "{}",
        "",
    ],
)
def test_first_party_speculation_rules_stay(rules):
    html = _rewrite(rules)
    assert 'type="speculationrules"' in html and "data-gk=" not in html


def test_granted_and_other_script_types_stay():
    rules = '{"prefetch":[{"urls":["https://www.youtube.com/x"]}]}'
    assert "data-gk=" not in _rewrite(rules, frozenset({"youtube"}))
    assert "data-gk=" not in _rewrite('{"x":"speculationrules"}', kind="application/json")


def test_rewriting_twice_changes_nothing():
    once = _rewrite('{"prefetch":[{"source":"document"}]}')
    ctx = PageContext(registry=REGISTRY, granted=frozenset(), page_url="https://www.site.example/")
    assert rewrite(once, ctx).html == once
