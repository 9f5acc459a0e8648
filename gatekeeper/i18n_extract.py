"""Texts, for translators: every message id of the templates, of gatekeeper's Python (`N_`) and of the
built-in catalog, written to locales/gatekeeper.pot; each language's .po merged with it and compiled
to the .mo the package ships (Babel does the reading, merging and compiling).

    python -m gatekeeper.i18n_extract            update the .pot, every .po and .mo
    python -m gatekeeper.i18n_extract --check    exit 1 when any of them is out of date
    python -m gatekeeper.i18n_extract --absorb   move inline translations out of catalog.toml into the
                                                 .po files ({ en = "...", ja = "..." } -> "...")
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

from .i18n import DOMAIN, SHIPPED, folder_of, shipped_dir

__all__ = ["Message", "catalog_messages", "messages", "update"]

Message = tuple[str | None, str]  # (context, English)
_PACKAGE = Path(str(resources.files("gatekeeper")))
_TEXT_KEYS = ("name", "vendor", "purpose", "data_sent")
_KEYWORDS = {"_": None, "gettext": None, "N_": None, "pgettext": ((1, "c"), 2)}
_HEADER: dict[str, Any] = {
    "project": "gatekeeper",
    "copyright_holder": "the gatekeeper authors",
    "msgid_bugs_address": "https://github.com/",
}
_JINJA = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def _english(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("en"), str):
        return str(value["en"])
    return None


def catalog_messages(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(English, where) for every visitor-facing text of a parsed services file."""
    for service in data.get("services", []):
        sid = service.get("id", "?")
        for key in _TEXT_KEYS:
            text = _english(service.get(key))
            if text:
                yield text, f"service {sid}: {key}"
        for cookie in service.get("cookies", []):
            text = _english(cookie.get("purpose"))
            if text:
                yield text, f"service {sid}: cookie {cookie.get('name')}"
    for cookie in data.get("cookies", []):
        text = _english(cookie.get("purpose"))
        if text:
            yield text, f"cookie {cookie.get('name')}"


def messages() -> dict[Message, list[str]]:
    """Every message id, with where it is used (for the translators' comments)."""
    out: dict[Message, list[str]] = {}

    def add(context: str | None, msgid: str, where: str) -> None:
        out.setdefault((context, msgid), []).append(where)

    for path in sorted((_PACKAGE / "templates").glob("*.html")):
        with path.open("rb") as f:
            for line, msgid, _, context in _found(
                extract("jinja2.ext:babel_extract", f, _KEYWORDS, (), _JINJA)
            ):
                add(context, msgid, f"templates/{path.name}:{line}")
    for path in sorted(_PACKAGE.glob("*.py")):
        with path.open("rb") as f:
            for line, msgid, _, context in _found(
                extract("python", f, {"N_": None, "pgettext": ((2, "c"), 3)})
            ):
                add(context, msgid, f"{path.name}:{line}")
    data = tomllib.loads((_PACKAGE / "catalog.toml").read_text("utf-8"))
    for msgid, where in catalog_messages(data):
        add(None, msgid, f"catalog.toml: {where}")
    return out


def _found(items: Iterable[Any]) -> Iterator[tuple[int, str, list[str], str | None]]:
    for line, msgid, comments, context in items:
        if isinstance(msgid, str):
            yield line, msgid, comments, context


def _template() -> Catalog:
    pot = Catalog(domain=DOMAIN, fuzzy=False, **_HEADER)
    for (context, msgid), places in messages().items():
        pot.add(msgid, context=context, auto_comments=places[:3])
    return pot


def _po_path(lang: str) -> Path:
    return shipped_dir() / folder_of(lang) / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read_po(path: Path, lang: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=folder_of(lang), domain=DOMAIN, fuzzy=False, **_HEADER)
    with path.open("rb") as f:
        return read_po(f, locale=folder_of(lang), domain=DOMAIN)


def _write(path: Path, catalog: Catalog) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, omit_header=False, ignore_obsolete=True, include_previous=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    mo = io.BytesIO()
    write_mo(mo, catalog)
    path.with_suffix(".mo").write_bytes(mo.getvalue())


def update() -> None:
    pot = _template()
    buffer = io.BytesIO()
    write_po(buffer, pot, width=0, omit_header=False)
    (shipped_dir() / f"{DOMAIN}.pot").write_bytes(buffer.getvalue())
    for lang in SHIPPED:
        path = _po_path(lang)
        catalog = _read_po(path, lang)
        catalog.update(pot, no_fuzzy_matching=True, update_header_comment=False)
        _write(path, catalog)


def _translated(catalog: Catalog) -> dict[Message, str]:
    return {
        (m.context, m.id): m.string
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def check() -> list[str]:
    """What is out of date: .po files that lack a message id or keep a stale one, .mo files that do
    not say what their .po says."""
    wanted = set(messages())
    problems = []
    for lang in SHIPPED:
        path = _po_path(lang)
        catalog = _read_po(path, lang)
        ids = {(m.context, m.id) for m in catalog if m.id and isinstance(m.id, str)}
        for context, msgid in sorted(wanted - ids, key=str):
            problems.append(f"{path}: lacks {msgid!r}" + (f" (context {context!r})" if context else ""))
        for _context, msgid in sorted(ids - wanted, key=str):
            problems.append(f"{path}: {msgid!r} is no longer used")
        mo = path.with_suffix(".mo")
        with mo.open("rb") as f:
            compiled = _translated(read_mo(f))
        if compiled != _translated(catalog):
            problems.append(f"{mo}: not compiled from {path.name}")
    return problems


_INLINE = re.compile(r'\{ *en = ("(?:[^"\\]|\\.)*")(?:, *[A-Za-z_-]+ = "(?:[^"\\]|\\.)*")+ *\}')


def absorb() -> int:
    """Moves every inline translation of catalog.toml into the .po files; the TOML keeps English."""
    path = _PACKAGE / "catalog.toml"
    text = path.read_text("utf-8")
    data = tomllib.loads(text)
    found: dict[str, dict[str, str]] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("en"), str) and len(value) > 1:
                for lang, s in value.items():
                    if lang != "en" and isinstance(s, str):
                        found.setdefault(lang.replace("_", "-"), {})[value["en"]] = s
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(data)
    for lang, texts in found.items():
        po = _po_path(lang)
        catalog = _read_po(po, lang)
        for msgid, string in texts.items():
            existing = catalog.get(msgid)
            if existing is None:
                catalog.add(msgid, string)
            elif not existing.string:
                existing.string = string
        _write(po, catalog)
    path.write_text(_INLINE.sub(lambda m: m.group(1), text), "utf-8")
    return sum(len(t) for t in found.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gatekeeper.i18n_extract", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a .pot, .po or .mo is out of date")
    parser.add_argument("--absorb", action="store_true", help="move catalog.toml's inline translations out")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    if args.absorb:
        print(f"moved {absorb()} translations from catalog.toml into the .po files")
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
