"""The differential check of one document: rewrite it, then read the result as a browser would.

Properties (issue 5 §1):
- `rewrite()` never raises and never gives up (`Rewritten.error` stays None);
- no leak: `fuzz.leaks.find_leaks` finds no fetch to a non-granted third party in the output (when
  html5lib cannot read the input either, there is no verdict: `Outcome.unread`; when it fails on the
  output only, that is a finding: `Outcome.unreadable`);
- byte identity: the output is the input with insertions only (the plan's spans, `rewrite.plan()`), and
  each insertion is one of the contract's (docs/ARCHITECTURE.md "Inert markup"): the `data-gk-`
  prefix in front of a fetching attribute's name, the marking attributes right after a tag name
  (` data-gk="…"`, then ` type="text/plain"`, then ` hidden` or ` data-gk-hidden`), a placeholder
  before a `<`, or one of the two snippets. Everything else is the app's bytes, in order;
- idempotence: rewriting the output again changes nothing.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from gatekeeper.registry import Registry, load_registry
from gatekeeper.rewrite import Embed, PageContext, plan, rewrite

from .htmlgen import SITE_URL, Document
from .leaks import Html5libCrash, Leak, find_leaks

__all__ = ["BODY", "HEAD", "Outcome", "bad_insertion", "catalog", "check", "context"]

HEAD = "<script data-gk-snippet>/*head*/</script>"
BODY = (
    '<div data-gk-snippet id="gk-banner"></div>'
    '<script defer src="/_gatekeeper/static/loader.js" data-gk-snippet></script>'
)
RENAMABLE = frozenset(
    {"src", "srcset", "href", "xlink:href", "data", "poster", "srcdoc", "style", "http-equiv",
     "imagesrcset", "type", "background", "content", "language", "attributionsrc",
     # SVG presentation attributes that take a url()
     "clip-path", "cursor", "fill", "filter", "marker-end", "marker-mid", "marker-start", "mask", "stroke"}
)  # fmt: skip
_MARK = re.compile(
    r' data-gk=(?:"[^"]*"|[^\t\n\f\r >]*)(?: type="text/plain"| type=text/plain)?(?: data-gk-css)?'
    r"(?: data-gk-hidden| hidden)?"
    r"(?: (?=$))?"  # a space of its own before a "/" (else "/src=" would join an unquoted value)
)
_TAG_OPEN = re.compile(r"<[a-zA-Z][^\t\n\f\r />]*$")
# before a URL of a style sheet or style attribute: after "url(", spaces, a quote, a reference to one
_URL_MARK = re.compile(r"https://\[gk\]/[a-z0-9?-]+/")
_URL_MARK_AFTER = re.compile(r"""(?:[(\t\n\f\r "';]|&#[0-9]+|&#[xX][0-9a-fA-F]+)\Z""")
_ATTR_AT = re.compile(r"[^\t\n\f\r />=\"'<]+")


# a <style> start tag ending right where an insertion goes
_STYLE_TAG_BEFORE = re.compile(r"""<style(?:[\t\n\f\r /](?:"[^"]*"|'[^']*'|[^"'<>])*)?>\Z""", re.I)


def placeholder(embed: Embed, lang: str | None) -> str:
    return f'<div class="gk-ph" data-gk-ph="{embed.index}"></div>'


@lru_cache(maxsize=1)
def catalog() -> Registry:
    """Every catalog service offered, strict mode: what a zero-config site runs."""
    return load_registry(None)


def context(registry: Registry, granted: frozenset[str], page_url: str = SITE_URL) -> PageContext:
    return PageContext(
        registry=registry,
        granted=granted,
        page_url=page_url,
        snippets=lambda lang: (HEAD, BODY),
        placeholder=placeholder,
    )


@dataclass
class Outcome:
    seed: int
    granted: frozenset[str]
    misses: list[Leak] = field(default_factory=list)
    exception: str | None = None
    identity: list[str] = field(default_factory=list)  # what is wrong with the insertions
    idempotent: bool = True
    inert: int = 0  # elements the rewriter made inert
    by_injection: bool = False  # the misses go away when nothing is injected (snippets, placeholders)
    unread: bool = False  # html5lib fails on the input and on the output: no leak verdict
    unreadable: str | None = None  # html5lib fails on the output only

    @property
    def ok(self) -> bool:
        return (
            not self.misses
            and self.exception is None
            and self.unreadable is None
            and not self.identity
            and self.idempotent
        )


def granted_for(seed: int, registry: Registry) -> frozenset[str]:
    """Mostly nothing granted (the case that matters most); sometimes a random part of the catalog."""
    rng = random.Random(seed ^ 0x5EED)
    if rng.random() < 0.7:
        return frozenset()
    ids = [s.id for s in registry.services]
    return frozenset(rng.sample(ids, rng.randrange(1, len(ids))))


def check(doc: Document, registry: Registry | None = None, granted: frozenset[str] | None = None) -> Outcome:
    registry = registry or catalog()
    granted = granted_for(doc.seed, registry) if granted is None else granted
    outcome = Outcome(doc.seed, granted)
    ctx = context(registry, granted)
    html = doc.html
    try:
        result = rewrite(html, ctx)
        spans = plan(html, ctx)
    except Exception as e:  # rewrite() promises never to raise: any exception is a finding
        outcome.exception = f"{type(e).__name__}: {e}"
        return outcome
    if result.error is not None:
        outcome.exception = result.error
        return outcome
    out = result.html
    outcome.inert = len(result.blocked)
    try:
        outcome.misses = find_leaks(out, SITE_URL, registry, granted)
    except Html5libCrash as e:
        try:
            find_leaks(html, SITE_URL, registry, granted)
        except Html5libCrash:
            outcome.unread = True
        else:
            outcome.unreadable = str(e)
    if outcome.misses:
        bare = rewrite(html, PageContext(registry=registry, granted=granted, page_url=SITE_URL))
        outcome.by_injection = not find_leaks(bare.html, SITE_URL, registry, granted)
    outcome.identity = identity_problems(html, out, spans.inserts)
    again = rewrite(out, ctx)
    outcome.idempotent = again.error is None and again.html == out
    return outcome


def identity_problems(html: str, out: str, inserts: tuple[tuple[int, str], ...]) -> list[str]:
    """What breaks "the output is the input plus the contract's insertions" (empty: nothing)."""
    problems = []
    rebuilt, prev = [], 0
    for pos, text in inserts:
        if pos < prev or pos > len(html):
            problems.append(f"insertion out of order at {pos}")
            break
        rebuilt.append(html[prev:pos])
        rebuilt.append(text)
        prev = pos
        why = bad_insertion(html, pos, text)
        if why:
            problems.append(f"at {pos}: {why}: {text[:60]!r} before {html[pos : pos + 30]!r}")
    rebuilt.append(html[prev:])
    if "".join(rebuilt) != out:
        problems.append("the output is not the input plus the planned insertions")
    return problems


def bad_insertion(html: str, pos: int, text: str) -> str | None:
    """Why an insertion is not one the contract names at that place (None: it is)."""
    if text in (HEAD, BODY):
        return None
    if text.startswith('<div class="gk-ph"') or re.fullmatch(r'<span id="gk-ph-\d+"></span>', text):
        return None if html.startswith("<", pos) else "a placeholder not before a tag"
    if text == "data-gk-":
        m = _ATTR_AT.match(html, pos)
        if m is None:
            return "a data-gk- prefix not in front of an attribute name"
        if m.group().lower() not in RENAMABLE:
            return f"renames {m.group()!r}, which fetches nothing"
        before = html[pos - 1] if pos else ""
        return None if before in "\t\n\f\r /\"'" else "a data-gk- prefix inside a name"
    if _MARK.fullmatch(text):
        start = html.rfind("<", 0, pos)
        if start == -1 or not _TAG_OPEN.search(html[start:pos]):
            return "marking attributes not right after a tag name"
        if text.endswith(" ") and not html.startswith("/", pos):
            return "a trailing space the contract only puts before a '/'"
        return None
    if _URL_MARK.fullmatch(text):
        if _URL_MARK_AFTER.search(html, max(0, pos - 16), pos):
            return None
        return "a URL mark not at the start of a URL"
    if text in ("<!---->", "<!--"):  # stops the preload scanner reading a style's @import
        if _STYLE_TAG_BEFORE.search(html, max(0, pos - 1024), pos):
            return None
        return "a preload stop not right after a <style> start tag"
    return "an insertion the contract does not name"


def minimize(html: str, still_fails: Callable[[str], bool], budget: int = 4000) -> str:
    """The smallest input found (by removing stretches, halves down to single characters) for which
    `still_fails` holds: a miss's reproduction for a regression test."""
    size = max(1, len(html) // 2)
    tries = 0
    while size >= 1 and tries < budget:
        i, changed = 0, False
        while i < len(html) and tries < budget:
            candidate = html[:i] + html[i + size :]
            tries += 1
            if candidate != html and still_fails(candidate):
                html, changed = candidate, True
            else:
                i += size
        if not changed:
            size //= 2
    return html
