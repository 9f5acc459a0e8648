"""Findings: the visit records of a page, judged against the registry (pure functions, no browser).

The checks run in the order of `PAGE_CHECKS`, then `SITE_CHECKS` across pages. A check that reads
another's findings says so (`reads`), and the order is verified when this module is imported: moving a
check before one it depends on is an error at once, not a finding that silently goes missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from ..model import Finding, PageResult, RuleId, ThirdParty
from .banner import SITE_RULES, banner_rules, no_banner
from .catalog import RULES, Rule
from .consent import consent_rules
from .context import Findings, RuleContext, host_of
from .declarations import declaration_rules, personal_data, withdrawal
from .techniques import form_rules, technique_rules, visit_state

__all__ = [
    "PAGE_CHECKS",
    "RULES",
    "SITE_CHECKS",
    "Check",
    "Rule",
    "RuleContext",
    "evaluate",
    "judge_site",
    "third_parties",
    "verify_order",
]

R = RuleId


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[PageResult, RuleContext, Findings], None]
    makes: frozenset[RuleId]
    reads: frozenset[RuleId] = frozenset()


@dataclass(frozen=True)
class SiteCheck:
    name: str
    run: Callable[[Sequence[PageResult], Sequence[Findings]], None]
    makes: frozenset[RuleId]
    reads: frozenset[RuleId] = frozenset()


def _f(*ids: RuleId) -> frozenset[RuleId]:
    return frozenset(ids)


PAGE_CHECKS: tuple[Check, ...] = (
    Check("visit state", visit_state, _f(R.PAGE_NOT_JUDGED, R.PAGE_ERROR, R.PAGE_TIMEOUT)),
    Check("consent", consent_rules, _f(R.REQUEST_BEFORE_CONSENT, R.COOKIE_BEFORE_CONSENT,
          R.STORAGE_BEFORE_CONSENT, R.THIRD_PARTY_STORAGE, R.REQUEST_AFTER_REJECT,
          R.COOKIE_AFTER_REJECT, R.GPC_IGNORED)),
    Check("techniques", technique_rules, _f(R.FINGERPRINTING, R.KEYLOGGING, R.SESSION_RECORDING)),
    Check("forms", form_rules, _f(R.FORM_OVER_HTTP)),
    Check("declarations", declaration_rules, _f(R.UNDECLARED_THIRD_PARTY, R.UNDECLARED_COOKIE,
          R.COOKIE_INSECURE, R.COOKIE_LIFETIME)),
    Check("personal data", personal_data, _f(R.PERSONAL_DATA_IN_COOKIE)),
    # a cookie set without consent anyway is reported as that, not as "not withdrawn"
    Check("withdrawal", withdrawal, _f(R.CONSENT_NOT_WITHDRAWN),
          reads=_f(R.COOKIE_BEFORE_CONSENT, R.COOKIE_AFTER_REJECT)),
    Check("banner", banner_rules, _f(R.NO_REJECT_ON_FIRST_LAYER, R.REJECT_NOT_AS_EASY,
          R.PRETICKED_BOXES, R.BANNER_NO_PURPOSES, R.BANNER_NO_THIRD_PARTIES, R.BANNER_NO_RETENTION,
          R.BANNER_NO_WITHDRAWAL, R.BANNER_NO_PRIVACY_POLICY)),
)  # fmt: skip

# a page needs a banner when it needs consent: known only once the consent checks ran on it
SITE_CHECKS: tuple[SiteCheck, ...] = (
    SiteCheck(
        "no banner", no_banner, _f(R.NO_BANNER), reads=_f(R.REQUEST_BEFORE_CONSENT, R.COOKIE_BEFORE_CONSENT)
    ),
)


def verify_order(checks: Iterable[Check | SiteCheck]) -> None:
    """Raise when a check reads findings no earlier check makes, or two checks make the same rule."""
    made: set[RuleId] = set()
    for check in checks:
        missing = check.reads - made
        if missing:
            raise RuntimeError(f"check {check.name!r} reads {sorted(missing)} before any check makes them")
        twice = check.makes & made
        if twice:
            raise RuntimeError(f"check {check.name!r} makes {sorted(twice)}, made by an earlier check")
        made |= check.makes


_ALL: tuple[Check | SiteCheck, ...] = (*PAGE_CHECKS, *SITE_CHECKS)
verify_order(_ALL)
assert {r for c in _ALL for r in c.makes} == set(RuleId), "every rule has a check"
assert {r for c in SITE_CHECKS for r in c.makes} == SITE_RULES


def _collector(page: PageResult, keep: Iterable[Finding] = ()) -> Findings:
    out = Findings(page.url)
    for f in keep:
        out.items[(f.rule, f.visit, f.subject)] = f
    return out


def _done(page: PageResult, out: Findings) -> PageResult:
    return replace(page, findings=tuple(sorted(out.items.values(), key=Finding.sort_key)))


def judge_site(pages: Sequence[PageResult]) -> tuple[PageResult, ...]:
    """The cross-page checks again, over pages already judged one by one (a merge of shards)."""
    collectors = [_collector(p, (f for f in p.findings if f.rule not in SITE_RULES)) for p in pages]
    for check in SITE_CHECKS:
        check.run(pages, collectors)
    return tuple(_done(p, out) for p, out in zip(pages, collectors, strict=True))


def evaluate(pages: Sequence[PageResult], ctx: RuleContext) -> tuple[PageResult, ...]:
    """The pages with their findings (deterministic order)."""
    collectors = []
    for page in pages:
        out = _collector(page)
        for check in PAGE_CHECKS:
            check.run(page, ctx, out)
        collectors.append(out)
    for site_check in SITE_CHECKS:
        site_check.run(pages, collectors)
    return tuple(_done(p, out) for p, out in zip(pages, collectors, strict=True))


def third_parties(pages: Sequence[PageResult], ctx: RuleContext) -> tuple[ThirdParty, ...]:
    """Every third-party host contacted in any visit, with its service, sorted by host."""
    where: dict[str, set[str]] = {}
    sample: dict[str, str] = {}
    for page in pages:
        for v in page.visits:
            for r in v.requests:
                host = host_of(r.url)
                if ctx.third_party(host):
                    where.setdefault(host, set()).add(page.url)
                    sample.setdefault(host, r.url)
    out = []
    for host in sorted(where):
        declared = ctx.services(sample[host])
        known = declared[0] if declared else ctx.known_service(sample[host])
        out.append(
            ThirdParty(
                host=host,
                service=declared[0].id if declared else None,
                name=known.name.en if known else "",
                category=known.category.value if known else "",
                pages=len(where[host]),
            )
        )
    return tuple(out)
