"""Before start-up, for operators: `gatekeeper check` reads a services file and says, in one run, every
mistake in it (errors: the middleware would refuse to start), every text a configured language has
no translation for (warnings: those visitors would read English), and what visitors will be asked."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .i18n import Catalogues, folder_of
from .registry import ConfigError, Registry, Text, load_catalog, load_registry

__all__ = ["CheckReport", "check_services", "untranslated"]


@dataclass(frozen=True, slots=True)
class CheckReport:
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    registry: Registry | None  # None when the file has errors
    languages: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        return 2 if self.errors else 0

    def lines(self, source: str) -> Iterator[str]:
        for e in self.errors:
            yield f"error: {e}"
        for w in self.warnings:
            yield f"warning: {w}"
        registry = self.registry
        if registry is None:
            n = len(self.errors)
            yield f"{source}: {n} mistake{'s' if n != 1 else ''}; the middleware would not start"
            return
        yield f"{source}: valid; policy version {registry.policy_version}"
        yield f"mode: {'strict' if registry.strict else 'report'}"
        yield f"languages: {', '.join(self.languages)}"
        yield f"categories asked: {', '.join(c.value for c in registry.categories) or '(none)'}"
        for s in registry.services:
            hosts = ", ".join(str(h) for h in s.hosts)
            yield f"  service {s.id}: {s.name} ({s.vendor}), {s.category.value}; hosts {hosts}"
        for c in registry.cookies:
            days = "session" if c.max_age_days is None else f"{c.max_age_days:g} days"
            yield f"  cookie {c.name}: {c.category.value}, {days}: {c.purpose.en}"
        for h in registry.first_party_hosts:
            yield f"  first-party host {h}"


def _texts(registry: Registry) -> Iterator[tuple[str, Text]]:
    """(where, text) for every text of the registry a visitor reads."""
    for s in registry.services:
        for key in ("name", "vendor", "purpose", "data_sent"):
            yield f"service {s.id!r} {key}", getattr(s, key)
        for c in s.cookies:
            yield f"service {s.id!r} cookie {c.name!r} purpose", c.purpose
    for d in registry.cookies:
        yield f"cookie {d.name!r} purpose", d.purpose


def untranslated(registry: Registry, catalogues: Catalogues) -> list[str]:
    """One warning per text that a configured language can show only in English; the built-in
    catalog's texts a language lacks are counted in one line (an operator's new language)."""
    ours = {t.en for s in load_catalog() for _, t in _texts(Registry((s,)))}
    warnings: list[str] = []
    lacking_ours: dict[str, int] = {}
    for where, text in _texts(registry):
        if not text.en.strip():
            continue
        missing = [lang for lang in catalogues.languages if not catalogues.speaks(lang, text)]
        if not missing:
            continue
        if text.en in ours and not text.own:
            for lang in missing:
                lacking_ours[lang] = lacking_ours.get(lang, 0) + 1
            continue
        tables = ", ".join(f"{lang} = '...'" for lang in missing)
        warnings.append(
            f"{where}: no {', '.join(missing)} text ({text.en!r}); visitors reading "
            f"{'it' if len(missing) == 1 else 'them'} see the English. Write it as a table "
            f"{{ en = '...', {tables} }} or translate it in <locale_dir>/<lang>/LC_MESSAGES/gatekeeper.po"
        )
    for lang, n in lacking_ours.items():
        warnings.append(
            f"{n} text{'s' if n != 1 else ''} of the built-in catalog ha{'ve' if n != 1 else 's'} no {lang} "
            f"translation: add them to <locale_dir>/{folder_of(lang)}/LC_MESSAGES/gatekeeper.po "
            "(every message id is in gatekeeper/locales/gatekeeper.pot)"
        )
    return warnings


def check_services(
    services: str | os.PathLike[str],
    languages: Sequence[str] | None = None,
    locale_dir: str | os.PathLike[str] | None = None,
) -> CheckReport:
    """Every mistake of a services file (and of the language settings) at once, then the warnings."""
    errors: list[str] = []
    catalogues: Catalogues | None = None
    try:
        catalogues = Catalogues.load(languages, None, locale_dir)
    except ConfigError as e:
        errors.extend(e.errors)
    registry: Registry | None = None
    try:
        registry = load_registry(services)
    except ConfigError as e:
        errors.extend(e.errors)
    if errors or registry is None or catalogues is None:
        return CheckReport(tuple(errors), (), None, tuple(languages or ()))
    return CheckReport((), tuple(untranslated(registry, catalogues)), registry, catalogues.languages)
