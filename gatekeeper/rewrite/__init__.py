"""Response body, step 2: make third-party markup inert, put placeholders before embeds, inject the snippets.

The page is never re-serialized. Regular expressions written to follow the HTML tokenizer's states
(tags, quoted attribute values, comments, bogus comments, CDATA in SVG/MathML) walk the page and stop
only at the tags that can matter; raw-text elements (script, style, textarea, title, ...) are skipped the
way the tokenizer skips them. Every change is an insertion (a `data-gk-` prefix before an attribute name,
new attributes right after the tag name, a placeholder before an embed, the snippets), so the output
outside the rewritten elements is the input, byte for byte, and a second pass finds nothing left to do.

The modules, in the order the data flows (each says its step in its first line):
`context` (what comes in and goes out), `fetching` (the one table of what fetches), `tokenizing`,
`urls` and `css` (values as the browser reads them), `classify` (a URL against the registry), `tree`
(the state of a reading), `edits` (how a tag is made inert, the plan), `reading` (one reading of a
page, whose steps are `walk`, `html_tags`, `foreign`, `raw_text`, `elements`, `placeholders`,
`checking`, `marking`), `readings` (all of them, merged: `plan()`, `rewrite()`), `unread`
(pages served unread).
"""

from .context import Blocked, Embed, OutOfTime, PageContext, Rewritten, TooMuchWork
from .css import css_urls, preload_imports
from .edits import Inserts, Plan
from .readings import plan, rewrite
from .unread import inert_refreshes, refresh_leaves
from .urls import decode_attribute

__all__ = [
    "Blocked",
    "Embed",
    "Inserts",
    "OutOfTime",
    "PageContext",
    "Plan",
    "Rewritten",
    "TooMuchWork",
    "css_urls",
    "decode_attribute",
    "inert_refreshes",
    "plan",
    "preload_imports",
    "refresh_leaves",
    "rewrite",
]
