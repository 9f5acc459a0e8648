"""The scanner's newer rules on hand-made records (no browser): fingerprinting, keylogging, session
recording, storage by a third party's script, forms over HTTP, the banner's content; the order of the
checks; the report's records read back; the shard split."""

from __future__ import annotations

import base64
from dataclasses import replace
from urllib.parse import quote

import pytest
from test_scanner_rules import PAGE, SITE, ctx, found, page, req, visit

from scanner.model import (
    ApiUse,
    BannerContent,
    BannerRecord,
    ButtonLook,
    CookieRecord,
    FormRecord,
    Phase,
    RequestRecord,
    RuleId,
    SocketFrame,
    StorageWrite,
    Technique,
    VisitKind,
)
from scanner.report.records import page_from, page_to, visit_from, visit_to
from scanner.rules import PAGE_CHECKS, RULES, SITE_CHECKS, Check, evaluate, judge_site, verify_order
from scanner.scope import in_shard

FV, RJ = VisitKind.FIRST_VIEW, VisitKind.REJECT
TYPED = "gkprobe.typed.q7x3"
SCRIPT = "https://fp.tracker.example/fp.js"


def test_every_rule_id_has_a_rule_and_a_check():
    assert set(RULES) == set(RuleId)
    assert {r for c in (*PAGE_CHECKS, *SITE_CHECKS) for r in c.makes} == set(RuleId)


def test_a_check_before_the_one_it_reads_is_an_error_at_once():
    withdrawal = next(c for c in PAGE_CHECKS if c.name == "withdrawal")
    consent = next(c for c in PAGE_CHECKS if c.name == "consent")
    with pytest.raises(RuntimeError, match=r"reads .*cookie-before-consent"):
        verify_order((withdrawal, consent))
    with pytest.raises(RuntimeError, match="made by an earlier check"):
        verify_order((consent, Check("again", consent.run, consent.makes)))
    verify_order((consent, withdrawal))


@pytest.mark.parametrize("technique", list(Technique))
@pytest.mark.parametrize(
    ("visit_kind", "clicked", "phase", "reported"),
    [
        (FV, "", Phase.BEFORE, True),
        (RJ, "reject", Phase.AFTER, True),  # after "reject all"
        (RJ, "reject", Phase.BEFORE, False),  # the reject visit's load before its choice: the first view's
        (VisitKind.ACCEPT, "accept", Phase.AFTER, False),  # with consent
    ],
)
def test_fingerprinting_is_reported_with_its_script(technique, visit_kind, clicked, phase, reported):
    use = ApiUse(technique, SCRIPT, PAGE, "what it did", phase)
    v = visit(visit_kind, clicked, api_uses=(use,))
    key = {"first_view": FV, "reject": RJ, "accept": VisitKind.ACCEPT}
    name = next(k for k, kind in key.items() if kind is visit_kind)
    got = found(page(**{name: v}))
    expected = {("fingerprinting", f"{technique.value} {SCRIPT}", visit_kind.value)} if reported else set()
    assert got == expected


def test_fingerprinting_names_whose_script_did_it():
    own = ApiUse(Technique.CANVAS, PAGE, PAGE, "toDataURL", Phase.BEFORE)
    third = ApiUse(Technique.WEBGL, SCRIPT, PAGE, "getParameter", Phase.BEFORE)
    (judged,) = evaluate([page(first_view=visit(FV, api_uses=(own, third)))], ctx())
    messages = {f.subject.split()[0]: f.message for f in judged.findings}
    assert "a script of the site" in messages["canvas"] and "canvas fingerprinting" in messages["canvas"]
    assert "a third party (fp.tracker.example)" in messages["webgl"] and "WebGL" in messages["webgl"]
    assert all(f.severity.value == "error" for f in judged.findings)


def _typed_request(url: str, body: str = "", phase: Phase = Phase.BEFORE) -> RequestRecord:
    return RequestRecord(
        url, "POST" if body else "GET", "Fetch", PAGE, "script x", phase, 200, post_data=body
    )


@pytest.mark.parametrize(
    ("request_", "reported"),
    [
        (_typed_request("https://keys.example/k?v=" + TYPED), True),
        (_typed_request("https://keys.example/k?v=" + quote(TYPED, safe="")), True),
        (_typed_request("https://keys.example/k", '{"v":"' + TYPED + '"}'), True),
        (_typed_request("https://keys.example/k", "v=" + base64.b64encode(TYPED.encode()).decode()), True),
        (_typed_request("https://keys.example/k", '{"v":"' + TYPED[:12] + '"}'), True),  # sent key by key
        (_typed_request("https://keys.example/k", '{"v":"' + TYPED[:4] + '"}'), False),  # too short to tell
        (_typed_request(SITE + "/search?q=" + TYPED), False),  # the site's own search
        (_typed_request("https://keys.example/k", "something else"), False),
        (_typed_request("https://keys.example/k?v=" + TYPED, phase=Phase.AFTER), False),
        (replace(_typed_request("https://keys.example/k?v=" + TYPED), failure="x (blocked:csp)"), False),
    ],
    ids=["url", "url-encoded", "body", "base64", "prefix", "short-prefix", "first-party", "other", "after",
         "blocked-by-csp"],
)  # fmt: skip
def test_keylogging_matrix(request_, reported):
    v = visit(FV, typed=TYPED, requests=(request_,))
    got = {r for r, _, _ in found(page(first_view=v)) if r == "keylogging"}
    assert got == ({"keylogging"} if reported else set())


def test_keylogging_over_a_websocket_and_not_without_typing():
    frame = SocketFrame("wss://chat.example/live", '{"draft":"' + TYPED + '"}', Phase.BEFORE)
    assert ("keylogging", "chat.example", "first-view") in found(
        page(first_view=visit(FV, typed=TYPED, socket_frames=(frame,)))
    )
    assert not any(r == "keylogging" for r, _, _ in found(page(first_view=visit(FV, socket_frames=(frame,)))))


@pytest.mark.parametrize(
    ("url", "globals_", "expected"),
    [
        ("https://static.hotjar.com/c/hotjar-1.js", (), "hotjar"),
        ("https://www.clarity.ms/tag/abc", (), "clarity"),
        ("https://edge.fullstory.com/s/fs.js", (), "fullstory"),
        ("https://cdn.lr-ingest.io/LogRocket.min.js", (), "logrocket"),
        (SITE + "/vendor/recorder.js", ("_hjSettings",), "hotjar"),  # a copy on the site's own host
        (SITE + "/app.js", (), None),
        ("https://nothotjar.com.example/x.js", (), None),
    ],
)
def test_session_recording_by_signature(url, globals_, expected):
    v = visit(FV, requests=(req(url),), globals_found=globals_)
    got = {s for r, s, _ in found(page(first_view=v)) if r == "session-recording"}
    assert got == ({expected} if expected else set())


@pytest.mark.parametrize(
    ("initiator", "rule"),
    [
        ("https://cdn.tracker.example/idb.js", "third-party-storage-before-consent"),
        (SITE + "/app.js", "storage-before-consent"),
        ("", "storage-before-consent"),
    ],
)
@pytest.mark.parametrize("area", ["local", "session", "indexedDB"])
def test_storage_before_consent_names_the_writer(initiator, rule, area):
    write = StorageWrite(area, SITE, "visitor", "v-1", Phase.BEFORE, initiator)
    got = found(page(first_view=visit(FV, storage=(write,))))
    names = {"local": "localStorage", "session": "sessionStorage", "indexedDB": "IndexedDB"}
    assert got == {(rule, f"{names[area]} visitor ({SITE})", "first-view")}


@pytest.mark.parametrize(
    ("action", "method", "reported"),
    [
        ("http://forms.example/subscribe", "post", True),
        (SITE + "/subscribe", "post", True),  # the site itself over plain HTTP
        ("https://forms.example/subscribe", "post", False),
        ("http://forms.example/search", "get", False),
        ("http://127.0.0.1:8000/subscribe", "post", False),  # a local test site
        ("http://localhost/subscribe", "post", False),
    ],
)
def test_forms_over_http(action, method, reported):
    v = visit(FV, forms=(FormRecord(action, method, PAGE),))
    assert found(page(first_view=v)) == ({("form-over-http", action, "first-view")} if reported else set())


def test_cookie_set_by_a_script_keeps_the_script():
    c = CookieRecord("_fbp", "fb.1", "shop.example.jp", "/", "script", PAGE, Phase.BEFORE, "_fbp=fb.1",
                     initiator="https://cdn.tracker.example/cookie.js")  # fmt: skip
    (judged,) = evaluate([page(first_view=visit(FV, cookies=(c,)))], ctx())
    (finding,) = [f for f in judged.findings if f.rule is RuleId.COOKIE_BEFORE_CONSENT]
    assert ("script", "https://cdn.tracker.example/cookie.js") in finding.evidence


# -- the banner's content ------------------------------------------------------------------------

GOOD_TEXT = (
    "We use cookies for analytics and advertising with Google Analytics. They are kept for 13 months. "
    "You can withdraw your consent at any time."
)
BUTTON = ButtonLook("Accept all", 160, 44, 7.0, 7.0, 16)


def _banner(text: str = GOOD_TEXT, links=(("Privacy policy", SITE + "/privacy"),), **kw) -> BannerRecord:
    content = BannerContent(
        text,
        tuple(links),
        kw.pop("accept", BUTTON),
        kw.pop("reject", replace(BUTTON, label="Reject all")),
        **kw,
    )
    return BannerRecord(True, "text", True, True, content=content)


def _banner_found(b: BannerRecord, requests=()) -> set[str]:
    return {r for r, _, _ in found(page(first_view=visit(FV, banner=b, requests=requests)))}


def test_a_complete_banner_passes():
    assert _banner_found(_banner()) == set()


@pytest.mark.parametrize(
    ("reject", "why"),
    [
        (replace(BUTTON, label="Reject", width=60, height=20), "area"),
        (replace(BUTTON, label="Reject", font_px=10), "px"),
        (replace(BUTTON, label="Reject", fill_contrast=1.0), "no visible box"),
        (replace(BUTTON, label="Reject", text_contrast=1.8), "contrast"),
    ],
    ids=["smaller", "smaller-text", "no-box", "faint"],
)
def test_reject_not_as_easy(reject, why):
    (judged,) = evaluate([page(first_view=visit(FV, banner=_banner(reject=reject)))], ctx())
    (finding,) = [f for f in judged.findings if f.rule is RuleId.REJECT_NOT_AS_EASY]
    assert why in finding.message


def test_preticked_boxes():
    assert _banner_found(_banner(prechecked=("Statistics",))) == {"preticked-boxes"}


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("Cookies are used. They are kept 30 days. Withdraw any time.", {"banner-no-purposes"}),
        ("We use cookies for analytics. You can change your mind at any time.", {"banner-no-retention"}),
        ("We use cookies for analytics for 30 days.", {"banner-no-withdrawal"}),
        ("アクセス解析のためにCookieを使用します（保存期間：13か月）。いつでも変更できます。", set()),
        ("Wir nutzen Cookies für Statistik, Speicherdauer 2 Jahre; Widerruf jederzeit.", set()),
        (
            "Nous utilisons des traceurs pour la mesure d'audience, conservés 13 mois ; retirer à tout "
            "moment.",
            set(),
        ),
    ],
    ids=["no-purposes", "no-retention", "no-withdrawal", "ja", "de", "fr"],
)
def test_banner_says_what_it_must(text, missing):
    assert _banner_found(_banner(text=text)) == missing


@pytest.mark.parametrize(
    ("links", "ok"),
    [
        ((("Privacy policy", SITE + "/p"),), True),
        ((("Details", SITE + "/privacy"),), True),
        ((("プライバシーポリシー", SITE + "/p"),), True),
        ((("Datenschutzerklärung", SITE + "/d"),), True),
        ((("Details", SITE + "/_gatekeeper/disclosure"),), False),
        ((), False),
    ],
)
def test_privacy_policy_link(links, ok):
    assert _banner_found(_banner(links=links)) == (set() if ok else {"banner-no-privacy-policy"})


def test_banner_names_a_third_party_the_page_uses():
    youtube = (req("https://www.youtube.com/embed/x"),)
    assert "banner-no-third-parties" in _banner_found(
        _banner(text=GOOD_TEXT.replace("Google Analytics", "partners")), youtube
    )
    assert "banner-no-third-parties" not in _banner_found(
        _banner(text=GOOD_TEXT + " Videos by YouTube."), youtube
    )
    assert "banner-no-third-parties" not in _banner_found(
        _banner(text=GOOD_TEXT + " Google."), youtube
    )  # the vendor


# -- reports read back, shards ---------------------------------------------------------------------


def test_a_page_survives_its_json_form():
    rich = visit(
        FV,
        banner=_banner(prechecked=("A",)),
        requests=(replace(req("https://x.example/a"), source="shared_worker", post_data="p=1"),),
        storage=(StorageWrite("indexedDB", SITE, "db/s/k", "v", Phase.BEFORE, "https://x.example/i.js"),),
        socket_frames=(SocketFrame("wss://x.example/s", "hi", Phase.BEFORE, 12),),
        api_uses=(ApiUse(Technique.AUDIO, SCRIPT, PAGE, "d", Phase.BEFORE),),
        forms=(FormRecord("http://f.example/", "post", PAGE),),
        typed=TYPED,
        globals_found=("_hjSettings",),
        interaction="scrolled through",
        links=(SITE + "/a",),
        timed_out=True,
    )
    assert visit_from(visit_to(rich)) == rich
    (judged,) = evaluate([page(first_view=rich)], ctx())
    assert page_from(page_to(judged)) == judged


def test_site_checks_run_again_over_merged_pages():
    with_banner = page(first_view=visit(FV))
    without = replace(page(first_view=visit(FV, banner=BannerRecord(False))), url=SITE + "/other")
    alone = evaluate([without], ctx())  # a shard that saw no banner anywhere: not a finding
    assert alone[0].findings == ()
    merged = judge_site([*evaluate([with_banner], ctx()), *alone])
    assert [f.rule for f in merged[1].findings] == [RuleId.NO_BANNER]


def test_the_shard_split_is_stable_complete_and_even():
    urls = [f"{SITE}/news/{i}" for i in range(3000)]
    shares = [[u for u in urls if in_shard(u, (k, 3))] for k in (1, 2, 3)]
    assert sorted(u for share in shares for u in share) == sorted(urls)  # each page in exactly one shard
    assert all(900 < len(s) < 1100 for s in shares)
    assert in_shard("http://127.0.0.1:1/news/7", (2, 3)) == in_shard("https://other.example/news/7", (2, 3))
    assert all(in_shard(u, (1, 1)) for u in urls[:10])
