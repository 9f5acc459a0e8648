"""Where a rewrite may insert: a check shared by the corpus and fuzz tests."""

from __future__ import annotations

from fuzz.differential import bad_insertion

from gatekeeper.rewrite import Plan

__all__ = ["assert_well_placed"]


def assert_well_placed(html: str, p: Plan) -> None:
    """Each insertion is one the contract names at its place (`fuzz.differential.bad_insertion`), or
    a snippet (these tests inject their own)."""
    for pos, text in p.inserts:
        if "data-gk-snippet" not in text:
            why = bad_insertion(html, pos, text)
            assert why is None, f"at {pos}: {why}: {text[:60]!r} before {html[pos : pos + 30]!r}"
