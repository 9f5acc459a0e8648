"""The leak checker: reads a page the way a browser does and lists every fetch it would make to a third
party that is not granted. Independent of the rewriter: html5lib builds the tree (the HTML standard's
tree construction, the algorithm browsers run), `fuzz.urls` resolves URLs as the WHATWG URL standard
does, and the fetch rules below are the HTML standard's, element by element.

Two readings of each page: with scripting on (scripts run, `<noscript>` is text) and with scripting off
(`<noscript>` is markup, scripts do not run), as a visitor with JavaScript disabled sees it. `<template>`
contents count too (a site's script may stamp them out at any time), and so does an `<iframe srcdoc>`
document, read recursively with the parent's base URL. An element parsed before the `<base>` counts
with both base URLs: an image resolves its URL when it loads, and Chromium may have met the base by then.

A URL is a leak when it resolves to a network URL whose host is not first party for the page
(`Registry.is_first_party`) and belongs to no granted service (`Registry.services_for`): an undeclared
third party is a leak too, unless the registry is in report mode (`Registry.strict` false). Inline
scripts (HTML or SVG) leak when they carry a non-granted service's inline signature, whatever the
whitespace (the vendors' loader snippets build their URLs at run time). Beyond the standard, as the
rewriter treats them: `background` and `attributionsrc` on any HTML element, `url()` in any SVG attribute
but a `data-*` one.

html5lib fails on a few documents real parsers read (asserts of its own): `Html5libCrash` says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import html5lib

from gatekeeper.registry import Registry

from .urls import host_of, resolve

__all__ = [
    "Fetch",
    "Html5libCrash",
    "Leak",
    "css_urls",
    "fetches",
    "find_leaks",
    "refresh_url",
    "srcset_urls",
]

HTML = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

JS_TYPES = frozenset(
    f"{p}/{s}"
    for p, subs in (
        ("application", ("ecmascript", "javascript", "x-ecmascript", "x-javascript")),
        ("text", ("ecmascript", "javascript", "javascript1.0", "javascript1.1", "javascript1.2",
                  "javascript1.3", "javascript1.4", "javascript1.5", "jscript", "livescript",
                  "x-ecmascript", "x-javascript")),
    )
    for s in subs
) | {"module", ""}  # fmt: skip
LINK_FETCHES = frozenset(
    {"stylesheet", "preconnect", "dns-prefetch", "preload", "prefetch", "modulepreload", "icon",
     "apple-touch-icon", "manifest", "prerender"}
)  # fmt: skip


class Html5libCrash(Exception):
    """html5lib itself failed on the document (it has a few asserts real parsers do not)."""


@dataclass(frozen=True, slots=True)
class Fetch:
    """One thing the page would load (or navigate to)."""

    element: str  # "img", "svg:image", "style", "inline-script", ...
    attribute: str  # "src", "srcset", "href", "css", "content", "text", ...
    raw: str  # as written (after the parser decoded entities)
    url: str | None  # absolute, None when it is no URL
    scripting: bool  # which reading found it (True: JavaScript on)


@dataclass(frozen=True, slots=True)
class Leak:
    fetch: Fetch
    host: str
    services: tuple[str, ...]  # () for an undeclared third party

    def __str__(self) -> str:
        f = self.fetch
        who = ",".join(self.services) or "undeclared"
        js = "js-on" if f.scripting else "js-off"
        return f"<{f.element} {f.attribute}={f.raw[:80]!r}> -> {self.host} ({who}, {js})"


def find_leaks(
    html: str,
    page_url: str,
    registry: Registry,
    granted: Iterable[str] = (),
) -> list[Leak]:
    """Every fetch the page makes to a third party that is neither first party nor granted."""
    granted = frozenset(granted)
    site_host = urlsplit(page_url).hostname or ""
    signatures = [
        (_squeeze(sig), s.id) for s in registry.services if s.id not in granted for sig in s.inline_signatures
    ]
    leaks: dict[tuple[str, str, str], Leak] = {}
    for fetch in fetches(html, page_url):
        if fetch.attribute == "text":  # an inline script: its vendor signature says who it calls
            code = _squeeze(fetch.raw)  # JavaScript reads "fbq ( 'init'" as "fbq('init'"
            hit = next((sid for sig, sid in signatures if sig in code), None)
            if hit is not None:
                leaks.setdefault((fetch.element, hit, fetch.raw[:60]), Leak(fetch, "(inline)", (hit,)))
            continue
        host = host_of(fetch.url)
        if host is None or registry.is_first_party(host, site_host):
            continue
        path = urlsplit(fetch.url).path or "/"
        services = registry.services_for(host, path)
        if any(s.id in granted for s in services) or not (services or registry.strict):
            continue
        key = (fetch.element, fetch.attribute, fetch.url or "")
        leaks.setdefault(key, Leak(fetch, host, tuple(s.id for s in services)))
    return list(leaks.values())


def fetches(html: str, page_url: str) -> list[Fetch]:
    """What the page loads, in both readings (JavaScript on and off)."""
    out: list[Fetch] = []
    for scripting in (True, False):
        out.extend(_document(html, page_url, page_url, scripting, depth=0))
    return out


# -- walking the tree -------------------------------------------------------------------------------


def _parse(html: str, scripting: bool) -> Any:
    try:
        return html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=True, scripting=scripting)
    except Exception as e:
        raise Html5libCrash(f"{type(e).__name__}: {e}") from e


def _iter(root: Any) -> Iterator[tuple[Any, bool]]:
    """(element, inside a <template>) in tree order (the order a parser inserts them)."""
    stack = [(root, False)]
    while stack:
        el, in_template = stack.pop()
        yield el, in_template
        inner = in_template or el.tag == HTML + "template"
        stack.extend((child, inner) for child in reversed(list(el)))


def _document(html: str, page_url: str, fallback_base: str, scripting: bool, depth: int) -> list[Fetch]:
    root = _parse(html, scripting)
    found = [(el, t) for el, t in _iter(root) if isinstance(el.tag, str)]
    elements = [el for el, _ in found]
    # The document's base URL is the first <base href> in tree order (one inside a <template> belongs
    # to another document); an element the parser inserted before it resolved its URL already.
    base_at = next(
        (i for i, (el, t) in enumerate(found) if el.tag == HTML + "base" and el.get("href") is not None
         and not t),
        None,
    )  # fmt: skip
    base = fallback_base
    if base_at is not None:
        base = resolve(fallback_base, elements[base_at].get("href")) or fallback_base
    out: list[Fetch] = []
    current = fallback_base

    def add(element: str, attribute: str, raw: str | None) -> None:
        # an empty (or all-whitespace) value fetches nothing: img, script, video... give up on it
        if raw is not None and raw.strip(_WS):
            for at in dict.fromkeys((current, base) if before_base else (current,)):
                out.append(Fetch(element, attribute, raw, resolve(at, raw), scripting))

    for i, el in enumerate(elements):
        before_base = base_at is not None and i < base_at
        if i == base_at:
            current = base
        tag: str = el.tag
        get = el.get
        style = get("style")
        if style:
            for url in css_urls(style):
                add(_name(tag), "style", url)
        if tag.startswith(SVG):
            _svg(tag[len(SVG) :], el, add, scripting)
            inline = tag == SVG + "script" and get("href") is None and get(XLINK_HREF) is None
            if inline and scripting and _is_js(el) and _text(el).strip(_WS):
                out.append(Fetch("svg:inline-script", "text", _text(el), None, scripting))
            continue
        if not tag.startswith(HTML):
            continue
        name = tag[len(HTML) :]
        if get("background"):  # on body and the table parts for browsers; on any element for the rewriter
            add(name, "background", get("background"))
        for url in (get("attributionsrc") or "").split():  # Chromium's Attribution Reporting API
            add(name, "attributionsrc", url)
        if name == "script":
            if scripting and _is_js(el):
                if get("src") is not None:
                    add("script", "src", get("src"))
                elif _text(el):
                    out.append(Fetch("inline-script", "text", _text(el), None, scripting))
        elif name in ("iframe", "frame"):
            srcdoc = get("srcdoc") if name == "iframe" else None
            if srcdoc is not None:
                # each level's document is shorter than its parent's: the recursion ends by itself
                out.extend(_document(srcdoc, "about:srcdoc", base, scripting, depth + 1))
            else:
                add(name, "src", get("src"))
        elif name == "img":
            add("img", "src", get("src"))
            for url in srcset_urls(get("srcset") or ""):
                add("img", "srcset", url)
        elif name == "source":
            add("source", "src", get("src"))
            for url in srcset_urls(get("srcset") or ""):
                add("source", "srcset", url)
        elif name in ("video", "audio", "track"):
            add(name, "src", get("src"))
            if name == "video":
                add(name, "poster", get("poster"))
        elif name == "input" and (get("type") or "").strip().lower() == "image":
            add("input", "src", get("src"))
        elif name == "link":
            rels = set((get("rel") or "").lower().split())
            if rels & LINK_FETCHES:
                add("link", "href", get("href"))
                if "preload" in rels:
                    for url in srcset_urls(get("imagesrcset") or ""):
                        add("link", "imagesrcset", url)
        elif name == "object":
            add("object", "data", get("data"))
        elif name == "embed":
            add("embed", "src", get("src"))
        elif name == "style" and (get("type") or "text/css").strip().lower() in ("", "text/css"):
            for url in css_urls(_text(el)):
                add("style", "css", url)
        elif name == "meta" and (get("http-equiv") or "").strip().lower() == "refresh":
            url = refresh_url(get("content") or "")
            if url:
                add("meta", "refresh", url)
    return out


def _svg(name: str, el: Any, add: Any, scripting: bool) -> None:
    href = el.get("href") if el.get("href") is not None else el.get(XLINK_HREF)
    if name.lower() in ("image", "feimage", "use") or (name == "script" and scripting and _is_js(el)):
        add("svg:" + name, "href", href)
    elif name == "style" and (el.get("type") or "text/css").strip().lower() in ("", "text/css"):
        for url in css_urls(_text(el)):
            add("svg:style", "css", url)
    for attribute, value in el.attrib.items():  # presentation attributes: fill="url(...)", filter=...
        # (not a URL attribute: href="url(x)" is the relative URL "url(x)", read as such above)
        if attribute != "style" and not attribute.startswith("data-") and "url(" in value.lower():
            if _name(attribute) in ("href", "src"):
                continue
            for url in css_urls(value):
                add("svg:" + name, _name(attribute), url)


def _name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(el: Any) -> str:
    """An element's child text content: its own text nodes, not its descendants' (what a style sheet is
    made of and a script runs, in SVG too, where tags may stand between them)."""
    return (el.text or "") + "".join(child.tail or "" for child in el)


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _is_js(el: Any) -> bool:
    kind = el.get("type")
    if kind is None:
        language = el.get("language")
        return not language or ("text/" + language.strip().lower()) in JS_TYPES
    return kind.strip().lower() in JS_TYPES


# -- what attribute values mean ---------------------------------------------------------------------

_WS = " \t\n\f\r"


def srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset, per the HTML standard's "parse a srcset attribute" (its splitting loop and
    descriptor tokenizer, state for state; written from the standard, sharing nothing with the
    rewriter). Candidates whose descriptors the standard would then reject are kept: a checker that
    over-counts fetches can only report more."""
    urls: list[str] = []
    position, end = 0, len(value)
    while True:  # splitting loop
        while position < end and (value[position] in _WS or value[position] == ","):
            position += 1
        if position >= end:
            return urls
        start = position
        while position < end and value[position] not in _WS:
            position += 1
        url = value[start:position]
        if url.endswith(","):
            url = url.rstrip(",")
        else:  # the descriptor tokenizer: only where it ends matters here
            while position < end and value[position] in _WS:
                position += 1
            state = "in descriptor"
            while position < end:
                c = value[position]
                if state == "in descriptor":
                    if c in _WS:
                        state = "after descriptor"
                    elif c == ",":
                        position += 1
                        break
                    elif c == "(":
                        state = "in parens"
                elif state == "in parens":
                    if c == ")":
                        state = "in descriptor"
                elif c not in _WS:  # after descriptor: reconsume in descriptor
                    state = "in descriptor"
                    continue
                position += 1
        if url:
            urls.append(url)


def refresh_url(content: str) -> str | None:
    """The URL of `<meta http-equiv=refresh content=...>`, per the standard's "shared declarative
    refresh steps"; None when it refreshes the page itself or is invalid."""
    s, i, n = content, 0, len(content)

    def skip_ws(i: int) -> int:
        while i < n and s[i] in _WS:
            i += 1
        return i

    i = skip_ws(i)
    start = i
    while i < n and s[i].isascii() and s[i].isdigit():
        i += 1
    if i == start and not (i < n and s[i] == "."):
        return None
    while i < n and (s[i] == "." or (s[i].isascii() and s[i].isdigit())):
        i += 1
    if i >= n:
        return None
    if s[i] not in ";," + _WS:
        return None
    i = skip_ws(i)
    if i < n and s[i] in ";,":
        i = skip_ws(i + 1)
    if i >= n:
        return None
    for letter in "url":  # an optional "url =" (a partial match leaves the position where it stopped)
        if i < n and s[i].lower() == letter:
            i += 1
        else:
            break
    else:
        j = skip_ws(i)
        if j < n and s[j] == "=":
            i = skip_ws(j + 1)
    quote = s[i] if i < n and s[i] in "'\"" else ""
    if quote:
        i += 1
    url = s[i:]
    if quote and quote in url:
        url = url[: url.index(quote)]
    return url or None


_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.S)
_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\f\r]?|(.))", re.S)
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_\-\u0080-\U0010ffff]")
_URL_START = re.compile(r"(?i)url\(")
_IMPORT = re.compile(r"(?i)@import[ \t\n\f\r]*")
_IMAGE_SET = re.compile(r"(?i)(?:(?:-webkit-)?image-set|src)\(")


def _unescape(m: re.Match[str]) -> str:
    if m.group(1):
        cp = int(m.group(1), 16)
        return chr(cp) if 0 < cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF else "\ufffd"
    return m.group(2) if m.group(2) != "\n" else ""


def _string(text: str, i: int) -> tuple[str | None, int]:
    """A CSS string token at text[i] (a quote): its value, or None for a bad string (raw newline)."""
    quote, j = text[i], i + 1
    while j < len(text):
        c = text[j]
        if c == quote:
            return text[i + 1 : j], j + 1
        if c == "\n":
            return None, j
        j += 1
    return text[i + 1 :], j  # EOF ends a string without error


def css_urls(css: str) -> list[str]:
    """URLs a stylesheet or a style attribute loads, per the CSS tokenizer: url() (a bad-url token
    loads nothing), @import "...", image-set("...") and src("...") (CSS Values 4). Escapes are decoded
    first (`u\\72l(` is url()."""
    text = _ESCAPE.sub(_unescape, _COMMENT.sub(" ", css))
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            _, i = _string(text, i)
            continue
        m = _URL_START.match(text, i)
        if m and (i == 0 or not _IDENT_CHAR.match(text[i - 1])):
            j = m.end()
            while j < n and text[j] in _WS:
                j += 1
            if j < n and text[j] in "\"'":
                value, j = _string(text, j)
                if value is not None:
                    out.append(value)
                i = j
                continue
            k = j
            while k < n and text[k] != ")" and text[k] not in _WS and text[k] not in "\"'(":
                k += 1
            end = k
            while k < n and text[k] in _WS:
                k += 1
            if k >= n or text[k] == ")":
                out.append(text[j:end])
                i = k + 1
            else:  # a bad url: nothing loads; the tokenizer skips to the next ")"
                close = text.find(")", k)
                i = n if close == -1 else close + 1
            continue
        m = _IMPORT.match(text, i)
        if m and m.end() < n and text[m.end()] in "\"'":
            value, i = _string(text, m.end())
            if value is not None:
                out.append(value)
            continue
        m = _IMAGE_SET.match(text, i)
        if m and (i == 0 or not _IDENT_CHAR.match(text[i - 1])):
            depth, j = 1, m.end()
            while j < n and depth:
                if text[j] in "\"'":
                    value, j = _string(text, j)
                    if value is not None:
                        out.append(value)
                    continue
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            i = m.end()  # url() inside is found by the main loop
            continue
        i += 1
    return [u.strip(_WS) for u in out if u and u.strip(_WS)]
