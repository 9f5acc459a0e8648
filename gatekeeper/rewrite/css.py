"""Values in style sheets: the URLs a style sheet or style attribute loads, and what Chromium's preload
scanner fetches from a <style> before any parser looks at it; meta refresh URLs."""

from __future__ import annotations

import re
from typing import Final

from .tokenizing import _FLAGS, _lower


def _css_may_fetch(css: str) -> bool:
    low = css.lower()  # a few substring searches beat one regex with no literal prefix, tenfold
    return "url(" in low or "@import" in low or "image-set" in low or "src(" in low or "\\" in css


_CSS_ESCAPE: Final = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(\n)|(.))", re.S)
_CSS_TOKEN: Final = re.compile(
    r"""(/\*(?s:.*?)(?:\*/|\Z))"""
    r"""|("(?:[^"\\\n]|\\.)*+(?:"|(?=\n)|\Z)|'(?:[^'\\\n]|\\.)*+(?:'|(?=\n)|\Z))"""
    r"""|url\([\t\n\f\r ]*+(?:("(?:[^"\\]|\\.)*+"?|'(?:[^'\\]|\\.)*+'?)|([^)]*+))"""
    r"""|(@import)|((?:-webkit-)?image-set\(|src\()|(\))|(\()""",
    _FLAGS | re.S,
)


def _css_unescape(m: re.Match[str]) -> str:
    hexa, newline, char = m.group(1, 2, 3)
    if hexa is not None:
        code = int(hexa, 16)
        return "\ufffd" if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF else chr(code)
    return "" if newline is not None else char


def _css_string(token: str) -> str:
    body = token[1:]
    if body[-1:] == token[0]:
        body = body[:-1]
    return body


def css_urls(css: str) -> list[str]:
    """Every URL a style sheet (or a style attribute) would load: url(), @import, image-set()."""
    if not _css_may_fetch(css):
        return []
    if "\\" in css:
        css = _CSS_ESCAPE.sub(_css_unescape, css)
    urls: list[str] = []
    expect_string = False
    depth = 0
    sets: list[int] = []
    for m in _CSS_TOKEN.finditer(css):
        kind = m.lastindex
        if kind == 1:
            continue
        if kind == 2:
            if expect_string or sets:
                urls.append(_css_string(m.group(2)))
        elif kind == 3:
            urls.append(_css_string(m.group(3)))
        elif kind == 4:
            urls.append(m.group(4).strip(" \t\n\r\f"))
        elif kind == 5:
            expect_string = True
            continue
        elif kind == 6:
            depth += 1
            sets.append(depth)
        elif kind == 7:
            if sets and sets[-1] == depth:
                sets.pop()
            depth = max(0, depth - 1)
        elif kind == 8:
            depth += 1
        expect_string = False
    return urls


_REFRESH: Final = re.compile(
    r"[\t\n\f\r ]*+[0-9.]*+[\t\n\f\r ]*+[;,]?[\t\n\f\r ]*+(?:url[\t\n\f\r ]*+=[\t\n\f\r ]*+)?(.*)",
    _FLAGS | re.S,
)


_HTML_SPACE: Final = " \t\n\r\f"
# A <style> whose text may open with @import rules: what Chromium's preload scanner reads at all.
_PRELOAD_HINT: Final = re.compile(r"[\t\n\r\f ]*+[@/]")
_PRELOAD_STOP: Final = "<!---->"


def preload_imports(css: str) -> list[str]:
    """The URLs Chromium's preload scanner fetches from a <style>'s raw text (see _preload_imports)."""
    return _preload_imports(css, 0, len(css))


def _preload_imports(css: str, i: int, n: int) -> list[str]:
    """The URLs Chromium's preload scanner fetches from a <style>'s raw text before any parser looks
    at it, whatever the element's type or namespace: the @import rules that open the text (among
    spaces, comments and @charset), read its own way (blink's CSSPreloadScanner, state for state: a
    rule name runs to a space, a value to a space, ";" or ")"; no escapes). Anything else ends it."""
    urls: list[str] = []
    state, rule, value = "initial", "", ""
    while i < n:
        c = css[i]
        i += 1
        space = c in _HTML_SPACE
        if state == "initial":
            if c == "@":
                state = "rule-start"
            elif c == "/":
                if css.startswith("*", i, n):
                    close = css.find("*/", i + 1, n)
                    if close < 0:
                        break
                    i = close + 2
                else:
                    i += 1  # the character after a lone "/" is passed over
            elif not space:
                break
        elif state == "rule-start":
            if ("a" <= c <= "z") or ("A" <= c <= "Z"):
                state, rule, value = "rule", c, ""
            else:
                state = "initial"
        elif state == "rule":
            if space:
                state = "after-rule"
            elif c == ";":
                state = "initial"
            else:
                rule += c
        elif state == "after-rule":
            if c == ";":
                state = "initial"
            elif c == "{":
                break
            elif not space:
                state, value = "value", c
        elif state in ("value", "after-value"):
            if state == "value" and space:
                state = "after-value"
                continue
            if state == "value" and c != ";":
                value += c
                if c != ")":
                    continue
            elif state == "after-value" and c != ";":
                if space:
                    continue
                if c == "{":
                    break
                state = "initial"  # a media list: not preloaded
                continue
            if not _preload_rule(rule, value, urls):
                break
            state, rule, value = "initial", "", ""
    if state in ("value", "after-value"):  # the text ends in a rule: Chromium fetches it all the same
        _preload_rule(rule, value, urls)
    return urls


def _preload_rule(rule: str, value: str, urls: list[str]) -> bool:
    """One rule the preload scanner read: an @import's URL into `urls`; False when it stops there."""
    name = _lower(rule)
    if name == "import":
        url = value.strip(_HTML_SPACE)
        if len(url) >= 4 and _lower(url[:4]) == "url(":  # ")" or not: Chromium fetches both ways
            url = url[4 : -1 if url.endswith(")") else None].strip(_HTML_SPACE)
        if len(url) >= 2 and url[0] == url[-1] and url[0] in "'\"":
            url = url[1:-1]
        if url:
            urls.append(url)
        return True
    return name == "charset"


def _refresh_url(content: str) -> str:
    m = _REFRESH.match(content)
    url = m.group(1) if m else ""
    if url[:1] in ('"', "'"):
        end = url.find(url[0], 1)
        url = url[1:end] if end > 0 else url[1:]
    return url


_SIZE_STYLE: dict[str, re.Pattern[str]] = {
    k: re.compile(r"(?:^|[;\s])" + k + r"\s*:\s*([^;]+)", _FLAGS) for k in ("width", "height")
}
