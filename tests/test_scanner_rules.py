"""scanner.rules: each rule on hand-made visit records (no browser), and what must not be a finding."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gatekeeper.registry import load_registry
from scanner.model import (
    BannerRecord,
    CookieRecord,
    JarCookie,
    PageResult,
    Phase,
    RequestRecord,
    Severity,
    StorageWrite,
    VisitKind,
    VisitRecord,
)
from scanner.rules import RULES, RuleContext, evaluate, third_parties

SITE = "http://shop.example.jp"
PAGE = SITE + "/"
SERVICES = {
    "site": {"first_party_hosts": ["cdn.shop-static.net"]},
    "cookies": [
        {"name": "session", "category": "necessary", "purpose": "sign-in"},
        {"name": "lang", "category": "usability", "purpose": "language", "max_age_days": 30},
        {"name": "_ga", "category": "analytics", "purpose": "analytics", "max_age_days": 390},
        {"name": "pref_*", "category": "usability", "purpose": "preferences"},
    ],
    "services": [{"id": "youtube"}, {"id": "meta-pixel"}, {"id": "google-analytics"}],
}
BANNER = BannerRecord(True, "gatekeeper", True, True)


def ctx(**kw) -> RuleContext:
    base = {
        "registry": load_registry(SERVICES),
        "site_host": "shop.example.jp",
        "https": False,
        "declared": True,
        "client_ip": "203.0.113.7",
        "catalog": load_registry(None),
    }
    base.update(kw)
    return RuleContext(**base)


def req(url: str, phase: Phase = Phase.BEFORE, failure: str | None = None) -> RequestRecord:
    return RequestRecord(url, "GET", "Script", PAGE, "parser " + PAGE, phase, 200, failure)


def cookie(raw: str, url: str = PAGE, phase: Phase = Phase.BEFORE, **kw) -> CookieRecord:
    name, _, rest = raw.partition("=")
    value = rest.split(";")[0]
    domain = kw.pop("domain", url.split("/")[2])
    fields = {"lifetime_s": None, "secure": False, "same_site": ""}
    fields.update(kw)
    return CookieRecord(name, value, domain, "/", "header", url, phase, raw, **fields)


def visit(kind: VisitKind, clicked: str = "", banner: BannerRecord = BANNER, **kw) -> VisitRecord:
    return VisitRecord(kind, PAGE, PAGE, 200, None, replace(banner, clicked=clicked), **kw)


def page(**visits: VisitRecord) -> PageResult:
    defaults = {
        "first_view": visit(VisitKind.FIRST_VIEW),
        "reject": visit(VisitKind.REJECT, "reject"),
        "accept": visit(VisitKind.ACCEPT, "accept"),
        "gpc": visit(VisitKind.GPC, "accept"),
    }
    defaults.update(visits)
    return PageResult(PAGE, 0, tuple(defaults.values()))


def found(p: PageResult, c: RuleContext | None = None) -> set[tuple[str, str, str | None]]:
    (judged,) = evaluate([p], c or ctx())
    return {(f.rule, f.subject, f.visit.value if f.visit else None) for f in judged.findings}


def test_a_clean_page_has_no_findings():
    accepted = visit(
        VisitKind.ACCEPT,
        "accept",
        requests=(req("https://www.youtube.com/embed/x", Phase.AFTER),),
        cookies=(cookie("lang=en; Max-Age=86400", phase=Phase.AFTER, lifetime_s=86400.0),),
        jar=(JarCookie("lang", "en", "shop.example.jp", "/", 2e9, False, False, "Lax"),),
        jar_after_withdrawal=(),
    )
    first = visit(
        VisitKind.FIRST_VIEW,
        requests=(req(PAGE), req("https://cdn.shop-static.net/app.js"), req(SITE + "/x.png")),
        cookies=(cookie("session=abc; HttpOnly"),),
    )
    assert found(page(first_view=first, accept=accepted)) == set()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.youtube.com/embed/x", {"request-before-consent"}),
        ("https://tracker.unknown.example/p.gif", {"request-before-consent", "undeclared-third-party"}),
        ("https://img.shop.example.jp/a.png", set()),  # same registrable domain
        ("https://cdn.shop-static.net/a.js", set()),  # a declared first-party host
        ("data:image/gif;base64,R0lGOD", set()),
    ],
)
def test_third_parties_before_consent(url, expected):
    p = page(first_view=visit(VisitKind.FIRST_VIEW, requests=(req(url),)))
    assert {rule for rule, _, _ in found(p)} == expected


def test_a_request_blocked_by_csp_never_left_the_browser():
    blocked = req("https://www.youtube.com/embed/x", failure="failed (blocked:csp)")
    dns = req("https://www.youtube.com/embed/y", failure="net::ERR_NAME_NOT_RESOLVED")
    p = page(first_view=visit(VisitKind.FIRST_VIEW, requests=(blocked, dns)))
    assert found(p) == {("request-before-consent", "https://www.youtube.com/embed/y", "first-view")}


def test_cookies_before_consent_follow_their_category():
    first = visit(
        VisitKind.FIRST_VIEW,
        cookies=(
            cookie("session=1"),  # necessary
            cookie("lang=en"),  # usability: needs consent
            cookie("gk_consent=x"),  # the consent record
            cookie("_fbp=fb.1", domain="shop.example.jp"),  # undeclared, OCD: marketing
            cookie("VISITOR_INFO1_LIVE=a", "https://www.youtube.com/embed/x", domain="youtube.com"),
            cookie("lang=; Max-Age=0", lifetime_s=-1.0),  # a deletion is not a cookie set
        ),
    )
    assert found(page(first_view=first)) == {
        ("cookie-before-consent", "lang@shop.example.jp", "first-view"),
        ("cookie-before-consent", "_fbp@shop.example.jp", "first-view"),
        ("undeclared-cookie", "_fbp@shop.example.jp", "first-view"),
        ("cookie-before-consent", "VISITOR_INFO1_LIVE@youtube.com", "first-view"),
    }


def test_after_reject_only_what_the_choice_changed_is_reported():
    tracker = "https://www.googletagmanager.com/gtag/js"
    first = visit(VisitKind.FIRST_VIEW, requests=(req("https://www.youtube.com/embed/x"),))
    rejected = visit(
        VisitKind.REJECT,
        "reject",
        requests=(
            req("https://www.youtube.com/embed/x", Phase.AFTER),  # already reported before consent
            req(tracker + "?id=1", Phase.AFTER),
            req(tracker + "?id=2", Phase.BEFORE),
        ),
        cookies=(cookie("_ga=GA1", phase=Phase.AFTER), cookie("session=1", phase=Phase.AFTER)),
    )
    assert found(page(first_view=first, reject=rejected)) == {
        ("request-before-consent", "https://www.youtube.com/embed/x", "first-view"),
        ("request-after-reject", tracker, "reject"),
        ("cookie-after-reject", "_ga@shop.example.jp", "reject"),
    }


def test_nothing_after_reject_is_judged_when_reject_was_not_clicked():
    rejected = visit(VisitKind.REJECT, "", requests=(req("https://www.youtube.com/embed/x", Phase.AFTER),))
    assert found(page(reject=rejected)) == set()


def test_gpc_ignored_names_the_sale_share_service_once():
    gpc = visit(
        VisitKind.GPC,
        "accept",
        requests=(
            req("https://connect.facebook.net/en_US/fbevents.js", Phase.AFTER),
            req("https://www.facebook.com/tr?id=1", Phase.AFTER),
            req("https://www.youtube.com/embed/x", Phase.AFTER),  # not a sale/share service
        ),
        cookies=(cookie("fr=1", "https://www.facebook.com/tr", Phase.AFTER, domain="facebook.com"),),
    )
    (judged,) = evaluate([page(gpc=gpc)], ctx())
    (f,) = judged.findings
    assert (f.rule, f.subject, f.service, f.severity) == (
        "gpc-ignored",
        "meta-pixel",
        "meta-pixel",
        Severity.ERROR,
    )
    assert ("cookie", "fr@facebook.com") in f.evidence


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("user%40example.com", "e-mail"),
        ("dXNlckBleGFtcGxlLmNvbQ==", "e-mail"),  # base64
        ("ip=203.0.113.7", "ip-address"),
        ("tel:090-1234-5678", "phone"),
        ("GA1.1.1234567.1700000000", None),
    ],
)
def test_personal_data_in_cookies(value, kind):
    p = page(first_view=visit(VisitKind.FIRST_VIEW, cookies=(cookie(f"session={value}"),)))
    expected = {("personal-data-in-cookie", "session@shop.example.jp", "first-view")} if kind else set()
    assert found(p) == expected


def test_insecure_and_long_lived_cookies():
    first = visit(
        VisitKind.FIRST_VIEW,
        cookies=(
            cookie("session=1; SameSite=None", same_site="None"),
            cookie("pref_x=1", lifetime_s=20 * 86400.0),  # pattern declaration, no limit
        ),
    )
    rejected = visit(
        VisitKind.REJECT,
        "reject",
        cookies=(cookie("session=1", phase=Phase.AFTER, lifetime_s=800 * 86400.0),),
    )
    accepted = visit(
        VisitKind.ACCEPT, "accept", cookies=(cookie("lang=en", phase=Phase.AFTER, lifetime_s=60 * 86400.0),)
    )
    got = found(page(first_view=first, reject=rejected, accept=accepted), ctx())
    assert got == {
        ("cookie-insecure", "session@shop.example.jp", "first-view"),
        ("cookie-lifetime", "session@shop.example.jp", "reject"),  # over 13 months
        ("cookie-lifetime", "lang@shop.example.jp", "accept"),  # over its 30 days
        ("cookie-before-consent", "pref_x@shop.example.jp", "first-view"),
    }
    https = found(
        page(first_view=visit(VisitKind.FIRST_VIEW, cookies=(cookie("session=1"),))), ctx(https=True)
    )
    assert https == {("cookie-insecure", "session@shop.example.jp", "first-view")}


def test_storage_before_consent_unless_declared_necessary():
    first = visit(
        VisitKind.FIRST_VIEW,
        storage=(
            StorageWrite("local", SITE, "profile", "x", Phase.BEFORE),
            StorageWrite("session", SITE, "session", "x", Phase.BEFORE),  # declared necessary
        ),
    )
    assert found(page(first_view=first)) == {
        ("storage-before-consent", f"localStorage profile ({SITE})", "first-view")
    }


def test_banners():
    none = BannerRecord(False)
    accept_only = BannerRecord(True, "text", True, False)
    first = visit(VisitKind.FIRST_VIEW, banner=accept_only)
    assert found(page(first_view=first)) == {("no-reject-on-first-layer", "banner (text)", "first-view")}
    bare = page(first_view=visit(VisitKind.FIRST_VIEW, banner=none))
    assert found(bare) == set()  # a page that needs no consent needs no banner
    with_banner_elsewhere = replace(bare, url=SITE + "/other")
    (_, judged) = evaluate([page(), with_banner_elsewhere], ctx())
    assert {f.rule for f in judged.findings} == {"no-banner"}
    tracking = page(
        first_view=visit(VisitKind.FIRST_VIEW, banner=none, requests=(req("https://www.facebook.com/tr"),))
    )
    assert {r for r, _, _ in found(tracking)} == {"request-before-consent", "no-banner"}


def test_consent_not_withdrawn():
    jar = (
        JarCookie("gk_consent", "x", "shop.example.jp", "/", 2e9, True, True, "Lax"),
        JarCookie("lang", "en", "shop.example.jp", "/", 2e9, False, False, "Lax"),
        JarCookie("ab", "1", "shop.example.jp", "/", 2e9, False, False, "Lax"),  # unknown, after accept
        JarCookie("wid", "1", "widget.example", "/", 2e9, True, False, "None"),  # third party
    )
    accepted = visit(VisitKind.ACCEPT, "accept", jar=jar, jar_after_withdrawal=jar)
    rejected = visit(VisitKind.REJECT, "reject", jar=jar[:1])
    assert found(page(accept=accepted, reject=rejected)) == {
        ("consent-not-withdrawn", "lang@shop.example.jp", "accept"),
        ("consent-not-withdrawn", "ab@shop.example.jp", "accept"),
    }
    not_withdrawn = replace(accepted, jar_after_withdrawal=None)  # withdrawal was not possible
    assert found(page(accept=not_withdrawn, reject=rejected)) == set()


def test_page_errors():
    """A first view that loaded nothing leaves the page unjudged: an error unless the operator says
    otherwise; a failed later visit or an HTTP error is a warning; a timeout is noted."""
    broken = replace(visit(VisitKind.FIRST_VIEW), error="net::ERR_CONNECTION_REFUSED", status=None)
    missing = replace(visit(VisitKind.REJECT, "reject"), status=404)
    failed = replace(visit(VisitKind.GPC, "accept"), error="net::ERR_CONNECTION_RESET")
    slow = replace(visit(VisitKind.ACCEPT, "accept"), timed_out=True)
    p = page(first_view=broken, reject=missing, gpc=failed, accept=slow)
    assert found(p) == {
        ("page-not-judged", PAGE, "first-view"),
        ("page-error", PAGE, "reject"),
        ("page-error", PAGE, "gpc"),
        ("page-timeout", PAGE, "accept"),
    }
    severity = {f.rule: f.severity for f in evaluate([p], ctx())[0].findings}
    assert severity["page-not-judged"] is Severity.ERROR
    lenient = {f.rule: f.severity for f in evaluate([p], ctx(unjudged_ok=True))[0].findings}
    assert lenient["page-not-judged"] is Severity.WARNING


def test_a_timed_out_visit_is_still_judged():
    slow = replace(
        visit(VisitKind.FIRST_VIEW, requests=(req("https://www.googletagmanager.com/gtm.js"),)),
        timed_out=True,
    )
    assert found(page(first_view=slow)) == {
        ("page-timeout", PAGE, "first-view"),
        ("request-before-consent", "https://www.googletagmanager.com/gtm.js", "first-view"),
    }


def test_without_a_services_file_cookies_are_not_called_undeclared():
    first = visit(VisitKind.FIRST_VIEW, cookies=(cookie("cart=1"),))
    assert found(page(first_view=first), ctx(registry=load_registry(None), declared=False)) == set()


def test_findings_are_ordered_and_every_rule_is_documented():
    first = visit(
        VisitKind.FIRST_VIEW,
        requests=(req("https://b.example/x"), req("https://a.example/x")),
        cookies=(cookie("lang=en"),),
    )
    (judged,) = evaluate([page(first_view=first)], ctx())
    keys = [f.sort_key() for f in judged.findings]
    assert keys == sorted(keys)
    assert all(r.help and r.title for r in RULES.values())


def test_third_parties_summary():
    first = visit(
        VisitKind.FIRST_VIEW,
        requests=(req("https://www.youtube.com/embed/x"), req("https://x.unknown.example/a")),
    )
    accepted = visit(VisitKind.ACCEPT, "accept", requests=(req("https://platform.twitter.com/w.js"),))
    got = {
        (t.host, t.service, t.name) for t in third_parties([page(first_view=first, accept=accepted)], ctx())
    }
    assert got == {
        ("www.youtube.com", "youtube", "YouTube"),
        ("x.unknown.example", None, ""),
        ("platform.twitter.com", None, "X (Twitter)"),
    }
