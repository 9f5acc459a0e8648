"""Texts, before rendering: which language a visitor reads and every text in it, from gettext catalogues.

Ours are shipped compiled (`locales/<lang>/LC_MESSAGES/gatekeeper.mo`, sources beside them as .po). An
operator's folder (`locale_dir`) in the same layout adds languages or rewords ours, message by message;
its files may be .po (read through Babel) or .mo. Message ids are the English texts: a text without a
translation reads in English. Languages are BCP 47 tags (`zh-Hant`); folders use gettext's `zh_Hant`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .registry import ConfigError, Text, did_you_mean

__all__ = [
    "DOMAIN",
    "N_",
    "SHIPPED",
    "Catalogues",
    "best_language",
    "folder_of",
    "missing",
    "shipped_dir",
    "tag_of",
]

DOMAIN = "gatekeeper"
SHIPPED = ("en", "ja", "zh-Hans", "zh-Hant", "ko")  # Japanese public sites' usual set
_TAG_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
# Chinese is written in two scripts; a page or browser often names a region instead (zh-TW, zh-CN).
_HANT_REGIONS = frozenset({"tw", "hk", "mo"})
# a country code where a language was meant: `languages=["jp"]`
_COUNTRY_NOT_LANGUAGE = {"jp": "ja", "kr": "ko", "cn": "zh-Hans", "tw": "zh-Hant", "hk": "zh-Hant"}


def N_(msgid: str) -> str:
    """Marks a message id in Python for extraction; the lookup happens where it is shown."""
    return msgid


def tag_of(folder: str) -> str:
    """`zh_Hant` -> `zh-Hant` (a folder name to the BCP 47 tag a page's lang uses)."""
    return folder.replace("_", "-")


def folder_of(tag: str) -> str:
    return tag.replace("-", "_")


def _candidates(tag: str) -> list[str]:
    """A requested tag, most specific first: `zh-TW` -> zh-hant-tw, zh-hant, zh; `ja-JP` -> ja-jp, ja."""
    parts = tag.strip().lower().replace("_", "-").split("-")
    if parts[0] == "zh" and not any(p in ("hans", "hant") for p in parts[1:]):
        script = "hant" if any(p in _HANT_REGIONS for p in parts[1:]) else "hans"
        parts.insert(1, script)
    return ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]


@lru_cache(maxsize=1024)
def best_language(tag: str, available: tuple[str, ...]) -> str | None:
    """The available language that serves a requested tag, or None (`*` takes the first)."""
    if tag.strip() == "*":
        return available[0] if available else None
    by_lower = {a.lower(): a for a in available}
    for candidate in _candidates(tag):
        if candidate in by_lower:
            return by_lower[candidate]
    primary = _candidates(tag)[-1]
    return next((a for a in available if a.lower().split("-")[0] == primary), None)


@lru_cache(maxsize=512)
def _ranked(header: str) -> tuple[str, ...]:
    """Accept-Language's tags, best first (q=0 dropped, ties in header order)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, eq, value = param.strip().partition("=")
            if eq and key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0
        if q > 0 and tag.strip():
            ranked.append((-q, i, tag.strip()))
    return tuple(tag for _, _, tag in sorted(ranked))


Messages = Mapping[tuple[str | None, str], str]  # (context, English) -> the text in one language


def _read(path: Path) -> Messages:
    """One catalogue file, .po or .mo, read through Babel: its translated messages."""
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import PoFileError, read_po

    try:
        with path.open("rb") as f:
            catalog = read_mo(f) if path.suffix == ".mo" else read_po(f, abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, OSError, ValueError) as e:
        raise ConfigError(f"{path}: not a readable gettext catalogue: {e}") from None
    out: dict[tuple[str | None, str], str] = {}
    for m in catalog:
        if not m.id or m.fuzzy or not isinstance(m.id, str) or not isinstance(m.string, str):
            continue  # the header, unfinished work, plural forms (we have none)
        if m.string:
            out[(m.context, m.id)] = m.string
    return out


def _files(root: Path, suffixes: tuple[str, ...] = (".mo", ".po")) -> dict[str, Path]:
    """`<root>/<lang>/LC_MESSAGES/gatekeeper.{po,mo}` by language tag (the last suffix found wins: an
    operator's .po over its .mo, as it is the one edited)."""
    out: dict[str, Path] = {}
    if not root.is_dir():
        return out
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for suffix in suffixes:
            path = folder / "LC_MESSAGES" / f"{DOMAIN}{suffix}"
            if path.is_file():
                out[tag_of(folder.name)] = path
    return out


def shipped_dir() -> Path:
    return Path(str(resources.files("gatekeeper").joinpath("locales")))


@lru_cache(maxsize=1)
def _shipped() -> Mapping[str, Messages]:
    return {tag: _read(path) for tag, path in _files(shipped_dir(), (".mo",)).items()}


@lru_cache(maxsize=64)
def _cldr_name(tag: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(folder_of(tag))
    except (ValueError, UnknownLocaleError):
        return tag
    return locale.get_display_name(locale) or tag


@dataclass(frozen=True)
class Catalogues:
    """The languages a site speaks and every text in each (the operator's messages first, then ours)."""

    languages: tuple[str, ...]
    default: str
    messages: Mapping[str, Messages] = field(repr=False)

    @classmethod
    def load(
        cls,
        languages: Sequence[str] | None = None,
        default: str | None = None,
        locale_dir: str | os.PathLike[str] | None = None,
    ) -> Catalogues:
        """`languages`: the tags offered, in order (default: ours, then every one in `locale_dir`);
        `default`: the language of a visitor nobody can place (default: the first)."""
        shipped = _shipped()
        operator: dict[str, Messages] = {}
        if locale_dir is not None:
            root = Path(locale_dir)
            if not root.is_dir():
                raise ConfigError(
                    f"locale_dir={os.fspath(locale_dir)!r}: not a directory; give the folder that holds "
                    "<lang>/LC_MESSAGES/gatekeeper.po"
                )
            operator = {tag: _read(path) for tag, path in _files(root).items()}
        found = tuple(dict.fromkeys((*SHIPPED, *operator)))
        wanted = tuple(dict.fromkeys(languages)) if languages is not None else found
        if not wanted:
            raise ConfigError("languages: give at least one language")
        for tag in wanted:
            if not isinstance(tag, str) or not _TAG_RE.match(tag):
                raise ConfigError(f"languages: {tag!r} is not a language tag such as 'ja' or 'zh-Hant'")
            if tag not in found:
                near = best_language(tag, found) or _COUNTRY_NOT_LANGUAGE.get(tag.lower())
                hint = f" (did you mean {near!r}?)" if near else did_you_mean(tag, found)
                raise ConfigError(
                    f"languages: no catalogue for {tag!r}{hint}; ours are "
                    f"{', '.join(SHIPPED)}; add one as "
                    f"<locale_dir>/{folder_of(tag)}/LC_MESSAGES/gatekeeper.po"
                )
        default = default or wanted[0]
        if default not in wanted:
            raise ConfigError(f"default_language={default!r}: not one of languages ({', '.join(wanted)})")
        merged = {tag: {**shipped.get(tag, {}), **operator.get(tag, {})} for tag in wanted}
        return cls(wanted, default, merged)

    def _of(self, lang: str) -> Messages:
        return self.messages[lang if lang in self.messages else self.default]

    def gettext(self, lang: str, msgid: str) -> str:
        return self._of(lang).get((None, msgid), msgid)

    def pgettext(self, lang: str, context: str, msgid: str) -> str:
        return self._of(lang).get((context, msgid), msgid)

    def text(self, lang: str, text: Text) -> str:
        """A registry text in a language: the operator's own wording for it, else the catalogue's."""
        own = text.get(lang) if lang != "en" else None
        return own if own is not None else self.gettext(lang, text.en)

    def has(self, lang: str, msgid: str, context: str | None = None) -> bool:
        """Whether a language's catalogues translate a message (English needs none)."""
        return lang == "en" or (context, msgid) in self.messages.get(lang, {})

    def speaks(self, lang: str, text: Text) -> bool:
        return text.get(lang) is not None or self.has(lang, text.en)

    def endonym(self, lang: str) -> str:
        """The language's own name, for a switcher ("日本語" in every language): its catalogue's word,
        else Babel's (CLDR), else its tag."""
        name = self.pgettext(lang, "the name of this language, written in it", "English")
        return name if lang == "en" or name != "English" else _cldr_name(lang)

    def choose(self, html_lang: str | None, accept_language: str | None) -> str:
        """The page's own `<html lang>` when the site speaks it, else the visitor's best
        Accept-Language, else the default."""
        if html_lang:
            found = best_language(html_lang, self.languages)
            if found:
                return found
        if accept_language:
            for tag in _ranked(accept_language):
                found = best_language(tag, self.languages)
                if found:
                    return found
        return self.default

    def parse_lang(self, value: str | None) -> str | None:
        """A `?lang=` value the site speaks (any spelling of it), else None."""
        return best_language(value, self.languages) if value and _TAG_RE.match(value) else None


def missing(catalogues: Catalogues, msgids: Iterable[str]) -> dict[str, list[str]]:
    """Per language, the messages it lacks (a test and `gatekeeper check` read this)."""
    ids = list(msgids)
    return {lang: [m for m in ids if not catalogues.has(lang, m)] for lang in catalogues.languages}
