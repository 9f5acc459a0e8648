"""Independent check of rewritten pages: parse with html5lib (the browser's algorithm) and list every
element that would still fetch from a third party that is not granted.

It shares nothing with gatekeeper/rewrite.py but the registry: its own URL resolution (urllib, with the
WHATWG clean-ups), its own srcset, CSS and refresh reading, html5lib's own tokenizer and tree builder.
Run it with scripting off (noscript content is markup) and on (it is text), as a browser may be either.

    leaks(html, registry, granted, page_url)  ->  [Leak(...), ...]   # [] means nothing leaks
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

import html5lib

from gatekeeper.psl import normalize_host
from gatekeeper.registry import Registry

__all__ = ["Html5libCrash", "Leak", "leaks"]


class Html5libCrash(Exception):
    """html5lib itself failed on the document (it has a few asserts real parsers do not)."""


HTML = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"

FETCH_RELS = {
    "stylesheet", "icon", "preload", "prefetch", "modulepreload", "preconnect", "dns-prefetch",
    "prerender", "manifest", "apple-touch-icon",
}  # fmt: skip
JS_TYPES = {"", "text/javascript", "application/javascript", "module", "text/ecmascript"}
C0_SPACE = "".join(chr(i) for i in range(0x21))


@dataclass(frozen=True)
class Leak:
    element: str
    attribute: str
    url: str
    host: str
    why: str


def _clean(url: str) -> str:
    url = url.strip(C0_SPACE)
    return re.sub(r"[\t\n\r]", "", url)


def _host_and_path(url: str, base: str) -> tuple[str, str] | None:
    url = _clean(url)
    if not url or url.startswith("#"):
        return None
    scheme = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    if scheme and scheme.group(1).lower() not in ("http", "https", "ws", "wss", "ftp"):
        return None
    base_scheme = base.split(":", 1)[0].lower()
    if scheme and scheme.group(1).lower() == base_scheme and not re.match(r"[a-zA-Z0-9+.-]+:[/\\]{2}", url):
        url = url[len(scheme.group(0)) :]  # "https:x" on an https page is relative
    url = url.replace("\\", "/")
    if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:/*", url):
        url = re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*:)/*", r"\1//", url)
    elif url.startswith("//"):
        url = "//" + url.lstrip("/")
    try:
        absolute = urljoin(base, url)
        parts = urlsplit(absolute)
        host = parts.hostname
    except ValueError:
        return ("invalid", "/")
    if not host:
        return None
    host = unquote(host)
    try:
        host = normalize_host(host)
    except Exception:
        host = host.lower()
    path = re.sub(r"/\./|/[^/]+/\.\./", "/", parts.path or "/")
    return host, path


@dataclass
class _Context:
    registry: Registry
    granted: frozenset[str]
    site: str
    base: str

    def verdict(self, url: str) -> tuple[str, str] | None:
        """(host, why) when loading `url` would leak; None when it would not."""
        found = _host_and_path(url, self.base)
        if found is None:
            return None
        host, path = found
        if host != "invalid" and self.registry.is_first_party(host, self.site):
            return None
        services = self.registry.services_for(host, path) if host != "invalid" else ()
        if services:
            if any(s.id in self.granted for s in services):
                return None
            return host, "not granted: " + " ".join(s.id for s in services)
        if not self.registry.strict:
            return None
        return host, "undeclared third party"


def _srcset(value: str) -> list[str]:
    urls = []
    for candidate in re.split(r",(?=\s)|,$|^,", value):
        parts = candidate.strip(" \t\n\r\f,").split()
        if parts:
            urls.append(parts[0])
    return urls


_CSS = re.compile(
    r"""/\*.*?(?:\*/|\Z)|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?"""
    r"""|(?i:url)\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*))|@(?i:import)\s*(?:"([^"]*)"|'([^']*)')"""
    r"""|(?i:image-set|src)\(([^)]*)\)""",
    re.S,
)


def _css_fetches(css: str) -> list[str]:
    """URLs a style sheet loads: url() (quoted or not), @import "x", image-set("x"); strings and
    comments elsewhere load nothing."""
    css = re.sub(r"\\([0-9a-fA-F]{1,6})\s?", lambda m: chr(int(m.group(1), 16) or 0xFFFD), css)
    css = re.sub(r"\\(.)", r"\1", css)
    urls = []
    for m in _CSS.finditer(css):
        for g in (1, 2, 3, 4, 5):
            if m.group(g) is not None:
                urls.append(m.group(g).strip())
        if m.group(6) is not None:
            urls += re.findall(r"\"([^\"]*)\"|'([^']*)'", m.group(6)) and [
                a or b for a, b in re.findall(r"\"([^\"]*)\"|'([^']*)'", m.group(6))
            ]
            urls += re.findall(r"(?i)url\(\s*['\"]?([^'\")]*)", m.group(6))
    return urls


def _refresh(content: str) -> str | None:
    m = re.match(r"(?is)\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?(['\"]?)(.*)", content)
    if not m or not m.group(2):
        return None
    url = m.group(2)
    if m.group(1) and m.group(1) in url:
        url = url[: url.index(m.group(1))]
    return url


def _text(el: object) -> str:
    """An element's child text content: its own text nodes, not its descendants' (that is what a
    style sheet is made of, and what a script runs; itertext() would add comments and descendants)."""
    parts = [getattr(el, "text", None) or ""]
    for child in el:  # type: ignore[attr-defined]
        parts.append(child.tail or "")
    return "".join(parts)


def _walk(root: object) -> Iterator[object]:
    stack = [root]
    while stack:
        el = stack.pop()
        yield el
        stack.extend(reversed(list(el)))  # type: ignore[call-overload]


def _find_base(doc: object, page_url: str) -> str:
    """The first <base href> in tree order, template contents aside."""
    stack = [doc]
    while stack:
        el = stack.pop()
        tag = getattr(el, "tag", None)
        if tag == HTML + "template":
            continue
        if tag == HTML + "base" and el.get("href") is not None:  # type: ignore[attr-defined]
            return urljoin(page_url, _clean(el.get("href")).replace("\\", "/"))  # type: ignore[attr-defined]
        stack.extend(reversed(list(el)))  # type: ignore[call-overload]
    return page_url


def leaks(
    html: str,
    registry: Registry,
    granted: frozenset[str],
    page_url: str,
    *,
    scripting: bool = False,
    signatures: bool = True,
    site: str | None = None,
) -> list[Leak]:
    parser = html5lib.HTMLParser(tree=html5lib.treebuilders.getTreeBuilder("etree"))
    try:
        doc = parser.parse(html, scripting=scripting)
    except Exception as e:
        raise Html5libCrash(f"{type(e).__name__}: {e}") from e
    if site is None:  # an iframe's srcdoc document is of its parent's site
        site = urlsplit(page_url).hostname or ""
    ctx = _Context(registry, granted, site, _find_base(doc, page_url))
    found: list[Leak] = []

    def check(el: object, attr: str, url: str | None, what: str = "") -> None:
        if url is None:
            return
        verdict = ctx.verdict(url)
        if verdict is not None:
            tag = getattr(el, "tag", "?")
            found.append(Leak(str(tag).split("}")[-1], attr, url, verdict[0], verdict[1] + what))

    sigs = {sig: s for s in registry.services for sig in s.inline_signatures} if signatures else {}
    for el in _walk(doc):
        tag = getattr(el, "tag", None)
        if not isinstance(tag, str):
            continue
        get = el.get  # type: ignore[attr-defined]
        style = get("style")
        if style is not None:
            for url in _css_fetches(style):
                check(el, "style", url)
        for attr in ("background", "attributionsrc"):
            if get(attr) is not None and tag.startswith(HTML):
                for url in get(attr).split() or [""]:
                    check(el, attr, url)
        if tag.startswith(SVG):
            name = tag[len(SVG) :]
            if name in ("image", "use", "feImage", "script"):
                check(el, "href", get("href"))
                check(el, "xlink:href", get(XLINK + "href"))
            if name == "script" and (get("type") or "").strip().lower() in JS_TYPES:
                text = "".join(_text(el).split())  # an SVG script runs as well
                for sig, service in sigs.items():
                    if "".join(sig.split()) in text and service.id not in granted:
                        found.append(Leak("svg:script", "#text", sig, "", "inline signature: " + service.id))
            if name == "style" and (get("type") or "").strip().lower() in ("", "text/css"):
                for url in _css_fetches(_text(el)):
                    check(el, "#text", url)
            for attr, value in el.attrib.items():  # type: ignore[attr-defined]
                if "url(" in value.lower():
                    for url in _css_fetches(value):
                        check(el, str(attr), url)
            continue
        if not tag.startswith(HTML):
            continue
        name = tag[len(HTML) :]
        if name in ("img", "source"):
            check(el, "src", get("src"))
            for url in _srcset(get("srcset") or ""):
                check(el, "srcset", url)
        elif name in ("iframe", "frame"):
            srcdoc = get("srcdoc")
            if srcdoc is not None and name == "iframe":
                for inner in leaks(srcdoc, registry, granted, ctx.base, scripting=scripting, site=site):
                    found.append(Leak(name, "srcdoc", inner.url, inner.host, inner.why))
            else:
                check(el, "src", get("src"))
        elif name in ("audio", "track", "embed") or (
            name == "input" and (get("type") or "").strip().lower() == "image"
        ):
            check(el, "src", get("src"))
        elif name == "video":
            check(el, "src", get("src"))
            check(el, "poster", get("poster"))
        elif name == "object":
            check(el, "data", get("data"))
        elif name == "link":
            if set((get("rel") or "").lower().split()) & FETCH_RELS:
                check(el, "href", get("href"))
                for url in _srcset(get("imagesrcset") or ""):
                    check(el, "imagesrcset", url)
        elif name == "script":
            kind = (get("type") or "").strip().lower()
            if kind not in JS_TYPES:
                continue
            if get("src") is not None:
                check(el, "src", get("src"))
            else:
                text = "".join(_text(el).split())  # signatures match whatever the whitespace
                for sig, service in sigs.items():
                    if "".join(sig.split()) in text and service.id not in granted:
                        found.append(Leak("script", "#text", sig, "", "inline signature: " + service.id))
        elif name == "style":
            if (get("type") or "").strip().lower() in ("", "text/css"):
                for url in _css_fetches(_text(el)):
                    check(el, "#text", url)
        elif name == "meta" and (get("http-equiv") or "").strip().lower() == "refresh":
            check(el, "content", _refresh(get("content") or ""))
    return found
