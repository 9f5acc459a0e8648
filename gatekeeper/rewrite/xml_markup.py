"""Step 6 for XML documents: the insertions made well-formed XML. Our snippets and placeholders are HTML
(templates an operator may replace); in an XHTML page each becomes XHTML (every element in the XHTML
namespace, attribute values quoted, void elements self-closed, script and style text in CDATA, only
numeric character references); markers give every attribute a value (`hidden=""`); a renamed
prefixed attribute keeps its prefix (`xlink:data-gk-href`: "data-gk-xlink" would be an undeclared
prefix)."""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser
from typing import Final

from .edits import Edit, Insert

XHTML_NS: Final = "http://www.w3.org/1999/xhtml"
_VOID: Final = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
_RAW: Final = frozenset({"script", "style"})
# names XML takes as they are, in no namespace (an operator's template may hold "@click" or ":class")
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*+")
_NOT_XML_CHAR: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES: Final = str.maketrans({"&": "&#38;", "<": "&#60;", ">": "&#62;", '"': "&#34;"})


class _ToXhtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], empty: bool) -> None:
        if _NAME.fullmatch(tag) is None:
            return
        parts = ["<", tag]
        seen = set()
        for name, value in attrs:
            if name in seen or _NAME.fullmatch(name) is None or name == "xmlns":
                continue
            seen.add(name)
            parts.append(f' {name}="{_text(value or "")}"')
        if not self.open:
            parts.append(f' xmlns="{XHTML_NS}"')  # the page's default namespace may be another
        if empty or tag in _VOID:
            parts.append("/>")
        else:
            parts.append(">")
            self.open.append(tag)
        self.out.append("".join(parts))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, True)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.open:
            return  # an end tag that closes nothing (an HTML parser ignores it too)
        while self.open:
            name = self.open.pop()
            self.out.append(f"</{name}>")
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        data = _NOT_XML_CHAR.sub("", data)
        if self.open and self.open[-1] in _RAW:
            if data:  # script and style text as it is: in a CDATA section, whose end it cannot hold
                self.out.append("<![CDATA[" + data.replace("]]>", "]]]]><![CDATA[>") + "]]>")
        else:
            self.out.append(_text(data))

    def close(self) -> None:
        super().close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")


def _text(value: str) -> str:
    return _NOT_XML_CHAR.sub("", value).translate(_ESCAPES)


@lru_cache(maxsize=256)
def to_xhtml(fragment: str) -> str:
    """An HTML fragment (ours) as well-formed XHTML, each of its elements in the XHTML namespace."""
    parser = _ToXhtml()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.out)


_ATTR_NAME: Final = re.compile(r"[^ \t\r\n=/>]++")


def xml_edits(edits: list[Edit], text: str) -> list[Edit]:
    """The insertions of an XML reading, made well-formed XML (the HTML preload scanner's stop, a
    comment opened after <style>, is for a scanner XML documents do not have: left out)."""
    out = []
    for e in edits:
        if e.kind is Insert.PRELOAD_STOP:
            continue
        if e.kind in (Insert.SNIPPET, Insert.PLACEHOLDER, Insert.ANCHOR):
            e = e._replace(text=to_xhtml(e.text))
        elif e.kind is Insert.MARKER:
            e = e._replace(xml=True)
        elif e.kind is Insert.RENAME:
            name = _ATTR_NAME.match(text, e.at)
            colon = name.group(0).find(":") if name is not None else -1
            if colon > 0:
                e = e._replace(at=e.at + colon + 1)
        out.append(e)
    return out
