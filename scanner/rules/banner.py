"""The banner: is there one where it is needed, is "reject" as easy as "accept", and does it say what a
visitor must be told (purposes, who receives data, for how long, how to withdraw, the privacy policy)?
Words are looked for in English, Japanese, German and French, the settings layer included."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..model import BannerContent, ButtonLook, PageResult, RuleId, VisitKind
from .context import Findings, RuleContext, host_of, judgeable

__all__ = ["SITE_RULES", "banner_rules", "no_banner"]

R = RuleId
SITE_RULES = frozenset({R.NO_BANNER})  # judged across pages: recomputed when shard reports merge

_PURPOSES = re.compile(
    r"analytic|statistic|measur|advertis|marketing|personali[sz]|social (media|network)|embedded|"
    r"videos?\b|maps?\b|web fonts?|functional|preferences|"
    r"分析|解析|統計|計測|広告|マーケティング|パーソナライ|ソーシャル|動画|地図|機能|"
    r"statistik|werbung|analyse|publicit|statistique|mesure d'audience",
    re.I,
)
_RETENTION = re.compile(
    r"\b\d+\s*(days?|weeks?|months?|years?)\b|retention|retain|kept for|stored for|expire|lifetime|"
    r"保存期間|有効期間|\d+\s*(日|週間|か月|ヶ月|カ月|年)|speicherdauer|\d+\s*(tage|monate|jahre)\b|"
    r"durée de conservation|\d+\s*(jours|mois|ans)\b",
    re.I,
)
_WITHDRAWAL = re.compile(
    r"withdraw|revoke|change (your|the|this) (mind|choice|decision|settings|preferences)|at any time|"
    r"anytime|撤回|いつでも|変更でき|取り消|widerruf|jederzeit|retirer|à tout moment",
    re.I,
)
_POLICY = re.compile(
    r"privacy (policy|notice|statement)|data protection (policy|notice|declaration)|"
    r"プライバシー\s*ポリシー|個人情報保護方針|個人情報の(取り?扱い|保護)|datenschutzerklärung|"
    r"datenschutzhinweis|politique de confidentialité|/privacy",
    re.I,
)


_LEGAL = re.compile(r",?\s*\b(inc|llc|ltd|co|corp|corporation|gmbh|ag|s\.a|limited)\b\.?|株式会社", re.I)


def _fainter(accept: ButtonLook, reject: ButtonLook) -> str:
    """Why "reject" is less easy than "accept" to see or hit; "" when it is not."""
    reasons = []
    ratio = (reject.width * reject.height) / max(1.0, accept.width * accept.height)
    if ratio < 0.5:
        reasons.append(f"the reject button has {ratio:.0%} of the accept button's area")
    if accept.font_px and reject.font_px < 0.8 * accept.font_px:
        reasons.append(f"its text is {reject.font_px:g} px against {accept.font_px:g} px")
    if accept.fill_contrast >= 1.5 and reject.fill_contrast < 1.2:
        reasons.append("accept is a filled or outlined button, reject has no visible box")
    if accept.text_contrast >= 4.5 and reject.text_contrast < 3:
        reasons.append(
            f"its text contrast is {reject.text_contrast:.1f}:1 against {accept.text_contrast:.1f}:1"
        )
    return "; ".join(reasons)


def _wordings(text: object) -> list[str]:
    """A registry text in every language it has (a plain string is its own only wording)."""
    own = getattr(text, "own", ())
    return [str(text), *(t for _, t in own)]


def _mentions(text: str, name: str) -> bool:
    """`name` in `text`: a short one ("X") as a word, a longer one anywhere (Japanese has no spaces)."""
    if len(name) < 4:
        return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.I) is not None
    return name.lower() in text.lower()


def _names(page: PageResult, ctx: RuleContext) -> set[str]:
    """The third parties this page reaches in any visit, by the names a banner would use."""
    names: set[str] = set()
    for v in page.visits:
        for r in v.requests:
            host = host_of(r.url)
            if not ctx.third_party(host):
                continue
            service = ctx.known_service(r.url)
            if service is not None:
                for name in _wordings(service.name):
                    names |= {p.strip() for p in re.split(r"[/(),（）、]", name) if p.strip()}
                for vendor in (_LEGAL.sub("", v).strip(" ,.") for v in _wordings(service.vendor)):
                    names |= {vendor, vendor.split()[0]} if vendor else set()
            names.add(host.split(".")[-2] if host.count(".") >= 1 else host)
    return {n for n in names if n}


def _content_rules(page: PageResult, ctx: RuleContext, out: Findings, c: BannerContent) -> None:
    fv = VisitKind.FIRST_VIEW
    if c.accept is not None and c.reject is not None:
        why = _fainter(c.accept, c.reject)
        if why:
            out.add(
                R.REJECT_NOT_AS_EASY,
                fv,
                "banner",
                f'"{c.reject.label}" is not as easy as "{c.accept.label}": {why}',
                [("accept", repr(c.accept)), ("reject", repr(c.reject))],
            )
    if c.prechecked:
        out.add(
            R.PRETICKED_BOXES,
            fv,
            "banner",
            "boxes ticked before any choice: " + ", ".join(c.prechecked),
            [("ticked", ", ".join(c.prechecked))],
        )
    checks = (
        (R.BANNER_NO_PURPOSES, _PURPOSES, "names no purpose (analytics, advertising, videos...)"),
        (R.BANNER_NO_RETENTION, _RETENTION, "does not say how long anything is kept"),
        (R.BANNER_NO_WITHDRAWAL, _WITHDRAWAL, "does not say how to change or withdraw the choice"),
    )
    for rule, pattern, says in checks:
        if not pattern.search(c.text):
            out.add(rule, fv, "banner", f"the banner {says}", [("text", c.text[:300])])
    if not any(_POLICY.search(f"{text} {href}") for text, href in c.links):
        links = "; ".join(f"{t} <{h}>" for t, h in c.links[:5])
        out.add(
            R.BANNER_NO_PRIVACY_POLICY,
            fv,
            "banner",
            "the banner has no privacy-policy link",
            [("links", links)],
        )
    names = _names(page, ctx)
    if names and not any(_mentions(c.text, n) for n in names):
        out.add(
            R.BANNER_NO_THIRD_PARTIES,
            fv,
            "banner",
            "the banner names none of the third parties the page uses: " + ", ".join(sorted(names)[:6]),
            [("third parties", ", ".join(sorted(names)))],
        )


def banner_rules(page: PageResult, ctx: RuleContext, out: Findings) -> None:
    fv = page.visit(VisitKind.FIRST_VIEW)
    if fv is None or not judgeable(fv) or not fv.banner.found:
        return
    banner = fv.banner
    if banner.has_accept and not banner.has_reject:
        out.add(
            R.NO_REJECT_ON_FIRST_LAYER,
            fv.kind,
            f"banner ({banner.kind})",
            f"the {banner.kind} banner has an accept button but no reject button on its first layer",
            [("banner", banner.kind), ("note", banner.note)],
        )
    if banner.content is not None:
        _content_rules(page, ctx, out, banner.content)


def no_banner(pages: Sequence[PageResult], findings: Sequence[Findings]) -> None:
    """Across pages: a page without a banner where the site has one elsewhere or the page needs one."""
    site_has_banner = any(
        (fv := p.visit(VisitKind.FIRST_VIEW)) is not None and fv.banner.found for p in pages
    )
    for page, out in zip(pages, findings, strict=True):
        fv = page.visit(VisitKind.FIRST_VIEW)
        if fv is None or not judgeable(fv) or fv.banner.found:
            continue
        needs = out.has(R.REQUEST_BEFORE_CONSENT) or out.has(R.COOKIE_BEFORE_CONSENT)
        if site_has_banner or needs:
            why = "other pages of the site have one" if site_has_banner else "this page needs consent"
            out.add(R.NO_BANNER, fv.kind, "banner", f"no consent banner found ({why})")
