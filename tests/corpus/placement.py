"""Where a rewrite may insert: a check shared by the corpus and fuzz tests."""

from __future__ import annotations

import re

from gatekeeper.rewrite import Plan

__all__ = ["assert_well_placed"]


# a <style> start tag ending right where an insertion goes
_STYLE_TAG_BEFORE = re.compile(r"""<style(?:[\t\n\f\r /](?:"[^"]*"|'[^']*'|[^"'<>])*)?>\Z""", re.I)


def assert_well_placed(html: str, p: Plan) -> None:
    """Each insertion: a prefix before an attribute name, new attributes right after a tag name,
    a placeholder before a tag, or a snippet."""
    for pos, text in p.inserts:
        if text == "data-gk-":
            assert html[pos - 1] in " \t\n\f\r/\"'", html[pos - 20 : pos + 20]
            assert re.match(r"[^\t\n\f\r />=]+", html[pos:]), html[pos : pos + 20]
        elif text.startswith(" data-gk"):
            assert re.search(r"<[a-zA-Z][^\t\n\f\r />]*$", html[max(0, pos - 64) : pos]), html[pos - 20 : pos]
        elif text.startswith('<div class="gk-ph"') or re.fullmatch(r'<span id="gk-ph-\d+"></span>', text):
            assert html[pos] == "<"  # a placeholder, or where a "Load once" comes back to
        elif text in ("<!---->", "<!--"):  # stops the preload scanner reading a style's @import
            assert _STYLE_TAG_BEFORE.search(html, max(0, pos - 1024), pos), html[pos - 40 : pos]
        else:
            assert "data-gk-snippet" in text
