"""The built-in catalog: it loads, says what it must in both languages, and classifies the vendors'
real embed codes (gatekeeper/demo/embeds/<id>.html) as the services they are."""

from __future__ import annotations

import csv
import fnmatch
import html
import ipaddress
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import gatekeeper
from gatekeeper.i18n import Catalogues
from gatekeeper.psl import registrable_domain
from gatekeeper.registry import Category, Placeholder, Registry, load_registry

PACKAGE = Path(gatekeeper.__file__).parent
EMBEDS = PACKAGE / "demo" / "embeds"
ROOT = PACKAGE.parent
OCD_CSV = ROOT / "scanner" / "data" / "open-cookie-database.csv"

CATALOGUES = Catalogues.load()

REQUIRED_IDS = {
    "youtube", "vimeo", "x", "facebook", "meta-pixel", "instagram", "line", "hatena", "pinterest",
    "linkedin", "linkedin-insight", "tiktok", "tiktok-pixel", "google-maps", "google-fonts",
    "google-analytics",
    # issue 14: what real pages embed
    "dailymotion", "spotify", "soundcloud", "flickr", "slideshare", "speakerdeck", "google-docs",
    "google-calendar", "microsoft-forms", "niconico", "note", "ameba", "yahoo-japan-ads",
    "yahoo-japan-tag-manager", "google-ads", "google-adsense", "recaptcha", "turnstile", "hotjar",
    "microsoft-clarity", "adobe-analytics", "taboola", "outbrain", "amp", "brid-tv",
}  # fmt: skip
# The shared CDNs a site's own scripts and styles come from: category "required" (issue 14).
REQUIRED_CDN_IDS = {
    "jquery-cdn", "cdnjs", "jsdelivr", "unpkg", "google-hosted-libraries", "bootstrap-cdn",
    "font-awesome", "adobe-fonts", "polyfill-fastly", "gravatar", "amp",
}  # fmt: skip

# URLs of a fragment that belong to another service on purpose: (file id, URL) -> service id.
ALLOWED_OTHER = {
    # Google Ads' gtag.js is served from www.googletagmanager.com like Analytics' own; a host
    # pattern cannot see the ?id=AW- query that tells them apart.
    ("google-ads", "https://www.googletagmanager.com/gtag/js?id=AW-123456789"): "google-analytics",
}
# Strings in inline scripts that look like URLs but are only an origin the snippet concatenates
# with a path ('/n/line_tag/...'); the full URL is classified, these halves cannot be.
NOT_A_REQUEST = {
    ("line-tag", "https://d.line-scdn.net"),
    ("line-tag", "http://d.line-cdn.net"),
}
# Inline scripts that match another service's signatures too, on purpose: file id -> service ids.
ALLOWED_SIGNATURE_OVERLAP: dict[str, set[str]] = {}
# Host patterns listed by two services on purpose: pattern -> service ids. None so far.
SHARED_PATTERNS: dict[str, set[str]] = {}

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
JS_TYPES = {"", "text/javascript", "application/javascript", "module", "text/ecmascript"}
# An absolute or protocol-relative URL inside script text; the host must end at a delimiter, so
# template strings such as `https://maps.${c}apis.com` are not mistaken for URLs.
SCRIPT_URL = re.compile(r"""(?:https?:)?//[a-z0-9-]+(?:\.[a-z0-9-]+)+(?=[/?#'"`\s:)]|$)[^\s'"`<>)]*""", re.I)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")
URL_ATTRS = {"src", "href", "data", "poster", "action", "formaction", "background"}
RESERVED_DOMAINS = {"example.com", "example.net", "example.org", "localhost", "test", "invalid"}

# Inline scripts a site writes itself: no service signature may match them.
FIRST_PARTY_SCRIPTS = [
    "document.addEventListener('DOMContentLoaded', function () {\n"
    "  document.querySelector('.menu-toggle').addEventListener('click', function () {\n"
    "    document.body.classList.toggle('menu-open');\n  });\n});",
    "window.dataLayer = window.dataLayer || [];\ndataLayer.push({event: 'page_type', page: 'top'});",
    "var player = document.getElementById('player');\nplayer.addEventListener('click', play);",
    "fetch('/api/news.json').then(function (r) { return r.json(); }).then(renderNews);",
    "var config = { init: true, track: false, page: 'top', load: function () {} };",
    "function share(url) { window.open('https://example.com/share?u=' + encodeURIComponent(url)); }",
]


# ---------------------------------------------------------------------------------------------
# Helpers


class _Fragment(HTMLParser):
    """The fetching URLs, the script/iframe sources and the inline scripts of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.script_srcs: list[str] = []
        self.iframe_srcs: list[str] = []
        self.inline_scripts: list[str] = []
        self._script: list[str] | None = None
        self._style: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        for name, value in values.items():
            if name in URL_ATTRS:
                self.urls.append(value.strip())
            elif name in ("srcset", "imagesrcset"):
                self.urls.extend(part.split()[0] for part in value.split(",") if part.strip())
            elif name == "style":
                self.urls.extend(_css_urls(value))
        if tag == "script":
            if "src" in values:
                self.script_srcs.append(values["src"].strip())
            elif values.get("type", "").strip().lower() in JS_TYPES:
                self._script = []
        elif tag == "iframe" and "src" in values:
            self.iframe_srcs.append(values["src"].strip())
        elif tag == "style":
            self._style = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            text = "".join(self._script)
            if text.strip():
                self.inline_scripts.append(text)
                self.urls.extend(m.group(0) for m in SCRIPT_URL.finditer(text))
            self._script = None
        elif tag == "style" and self._style is not None:
            self.urls.extend(_css_urls("".join(self._style)))
            self._style = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)
        elif self._style is not None:
            self._style.append(data)


def _css_urls(text: str) -> list[str]:
    return [a or b for a, b in CSS_URL.findall(text)]


def _parse(text: str) -> _Fragment:
    parser = _Fragment()
    parser.feed(text)
    parser.close()
    return parser


def _absolute(url: str) -> str | None:
    url = html.unescape(url)
    if url.startswith("//"):
        return "https:" + url
    if re.match(r"^https?://", url, re.I):
        return url
    return None  # relative, fragment, data:, javascript: ... : not a third-party request


def _signature_matches(registry: Registry, script: str) -> set[str]:
    return {s.id for s in registry.services if any(sig in script for sig in s.inline_signatures)}


def embed_problems(registry: Registry, sid: str, text: str) -> list[str]:
    """Why a fragment of `sid`'s vendor code is not classified as `sid` (empty: all is well)."""
    problems = []
    service = registry.by_id[sid]
    fragment = _parse(text)
    for raw in fragment.urls:
        url = _absolute(raw)
        if url is None or (sid, url) in NOT_A_REQUEST:
            continue
        got = sorted(s.id for s in registry.services_for_url(url))
        want = [ALLOWED_OTHER.get((sid, url), sid)]
        if got != want:
            problems.append(f"{url} is classified as {got or 'nothing'}, expected {want}")
    for srcs, globs, kind in (
        (fragment.script_srcs, service.script_urls, "script_urls"),
        (fragment.iframe_srcs, service.iframe_urls, "iframe_urls"),
    ):
        for raw in srcs:
            url = _absolute(raw)
            if url is not None and not any(fnmatch.fnmatchcase(url, g) for g in globs):
                problems.append(f"{url} matches none of {sid}'s {kind}")
    for script in fragment.inline_scripts:
        matched = _signature_matches(registry, script)
        head = " ".join(script.split())[:60]
        if sid not in matched:
            problems.append(f"inline script {head!r} matches none of {sid}'s inline_signatures")
        extra = matched - {sid} - ALLOWED_SIGNATURE_OVERLAP.get(sid, set())
        if extra:
            problems.append(f"inline script {head!r} also matches {sorted(extra)}")
    return problems


def _catalog_with(**overrides: dict[str, object]) -> Registry:
    """The whole catalog, with some services' fields replaced (the operator-file route)."""
    entries = []
    for s in load_registry().services:
        entry: dict[str, object] = {"id": s.id}
        entry.update(overrides.get(s.id.replace("-", "_"), {}))
        entries.append(entry)
    return load_registry({"services": entries})


def _ocd_names() -> tuple[set[str], list[str]]:
    exact: set[str] = set()
    prefixes: list[str] = []
    with OCD_CSV.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            name = row["Cookie / Data Key name"].strip()
            if row["Wildcard match"].strip() == "1":
                prefixes.append(name)
            else:
                exact.add(name)
    return exact, prefixes


REGISTRY = load_registry()
SERVICES = {s.id: s for s in REGISTRY.services}
EMBED_FILES = sorted(EMBEDS.glob("*.html"))


# ---------------------------------------------------------------------------------------------
# The catalog itself


def test_catalog_loads_through_the_registry() -> None:
    assert REGISTRY.sources == ("catalog",)
    assert len(REGISTRY.services) >= len(REQUIRED_IDS)


def test_every_required_service_is_there() -> None:
    assert set(SERVICES) >= REQUIRED_IDS, sorted(REQUIRED_IDS - set(SERVICES))


@pytest.mark.parametrize("sid", sorted(SERVICES))
def test_texts_are_given_in_english_and_natural_japanese(sid: str) -> None:
    """English in catalog.toml, Japanese in locales/ja (gettext: the English is the message id)."""
    s = SERVICES[sid]
    for text in (s.purpose, s.data_sent, *(c.purpose for c in s.cookies)):
        assert not text.own, f"{sid}: {text.en!r}: translations belong in the .po files"
        ja = CATALOGUES.text("ja", text)
        assert text.en.strip() and ja.strip()
        assert ja != text.en, f"{sid}: {text.en!r} has no Japanese in locales/ja"
        assert JAPANESE.search(ja), f"{sid}: {ja!r} is not Japanese"
        assert not JAPANESE.search(text.en), f"{sid}: {text.en!r} has Japanese in the en text"
        assert ja.endswith("。") and text.en.endswith("."), f"{sid}: end texts with 。 and ."


@pytest.mark.parametrize("sid", sorted(SERVICES))
def test_vendor_and_policy_url(sid: str) -> None:
    s = SERVICES[sid]
    assert s.vendor.en.strip() and s.vendor.en == s.vendor.en.strip()
    assert s.name.en.strip()
    assert re.match(r"^https://[a-z0-9.-]+\.[a-z]{2,}/", s.policy_url), s.policy_url


@pytest.mark.parametrize("sid", sorted(SERVICES))
def test_hosts_are_third_party_hosts_that_classify_as_the_service(sid: str) -> None:
    s = SERVICES[sid]
    assert s.hosts
    for pattern in s.hosts:
        host = pattern.host
        with pytest.raises(ValueError):
            ipaddress.ip_address(host)
        site = registrable_domain(host)
        # a registrable domain or a name under one, never a bare public suffix such as co.jp
        assert registrable_domain("probe." + site) == site, f"{pattern}: {site} is a public suffix"
        assert site not in RESERVED_DOMAINS and host.split(".")[-1] not in RESERVED_DOMAINS
        assert not REGISTRY.is_first_party(host, "www.city.sample.lg.jp")
        probe = ("probe." if pattern.subdomains_only else "") + host
        owners = [x.id for x in REGISTRY.services_for(probe, pattern.path or "/")]
        assert owners == [sid], f"{pattern} of {sid} is classified as {owners}"


def test_no_two_services_list_the_same_host_pattern() -> None:
    seen: dict[str, set[str]] = {}
    for s in REGISTRY.services:
        for pattern in s.hosts:
            seen.setdefault(str(pattern), set()).add(s.id)
    shared = {p: ids for p, ids in seen.items() if len(ids) > 1}
    assert shared == SHARED_PATTERNS


@pytest.mark.parametrize("sid", sorted(SERVICES))
def test_marketing_is_exactly_the_sale_or_share_and_has_no_placeholder(sid: str) -> None:
    s = SERVICES[sid]
    assert s.sale_share == (s.category is Category.MARKETING)
    if s.category in (Category.MARKETING, Category.ANALYTICS):
        assert s.placeholder is Placeholder.NONE
    assert s.category is not Category.NECESSARY, "a third party waits for consent"


def test_required_is_exactly_the_shared_cdns_and_says_what_they_receive() -> None:
    required = {s.id for s in REGISTRY.services if s.category is Category.REQUIRED}
    assert required == REQUIRED_CDN_IDS
    for sid in required:
        s = SERVICES[sid]
        assert s.placeholder is Placeholder.NONE and not s.sale_share and not s.cookies, sid
        ja = CATALOGUES.text("ja", s.data_sent)
        assert "IP address" in s.data_sent.en and "IPアドレス" in ja, sid
        assert "No cookies." in s.data_sent.en and "Cookieは使用しません。" in ja, sid


def test_required_is_never_asked_maps_to_no_consent_mode_type_and_is_always_granted() -> None:
    from gatekeeper.consent import ConsentState
    from gatekeeper.registry import CONSENT_MODE_TYPES

    assert CONSENT_MODE_TYPES[Category.REQUIRED] == ()
    assert Category.REQUIRED not in REGISTRY.categories
    for state in (ConsentState(), ConsentState(decided=True), ConsentState(decided=True, gpc=True)):
        assert state.granted_services(REGISTRY) == REQUIRED_CDN_IDS  # nothing else without a choice


def test_zero_config_start_names_the_required_cdns_in_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    from gatekeeper.registry import required_notice

    notice = required_notice(REGISTRY)
    assert notice is not None
    for sid in REQUIRED_CDN_IDS:
        assert f"{sid} (" in notice
    assert "WITHOUT consent" in notice and '[[services]] id = "jquery-cdn"' in notice
    declared = load_registry({"services": [{"id": "youtube"}]})
    assert required_notice(declared) is None


def test_all_catalog_hosts_granted_fit_a_proxys_8_kb_header() -> None:
    from gatekeeper.csp import build_csp

    everything = build_csp(REGISTRY, [s.id for s in REGISTRY.services], "www.city.sample.lg.jp",
                           report_uri="/_gatekeeper/csp-report")  # fmt: skip
    assert len(everything) < 8192


def test_signatures_do_not_match_a_sites_own_scripts() -> None:
    for script in FIRST_PARTY_SCRIPTS:
        assert _signature_matches(REGISTRY, script) == set(), script


@pytest.mark.parametrize("sid", sorted(SERVICES))
def test_cookie_names_are_known_to_the_open_cookie_database(sid: str) -> None:
    exact, prefixes = _ocd_names()
    for cookie in SERVICES[sid].cookies:
        name = cookie.name.rstrip("*")
        known = name in exact or any(name.startswith(p) for p in prefixes)
        assert known, f"{sid}: cookie {cookie.name!r} is in no Open Cookie Database entry"


def test_policy_version_is_stable_and_follows_the_texts() -> None:
    assert load_registry().policy_version == REGISTRY.policy_version
    baseline = _catalog_with()
    assert baseline.policy_version == REGISTRY.policy_version
    yt = SERVICES["youtube"]
    changed_en = _catalog_with(youtube={"purpose": yt.purpose.en + " Also ads."})
    changed_ja = _catalog_with(youtube={"purpose": {"en": yt.purpose.en, "ja": "広告にも使います。"}})
    versions = {baseline.policy_version, changed_en.policy_version, changed_ja.policy_version}
    assert len(versions) == 3


# ---------------------------------------------------------------------------------------------
# The vendors' embed codes


def test_every_service_has_its_vendor_code_and_every_file_a_service() -> None:
    assert {p.stem for p in EMBED_FILES} == set(SERVICES)


@pytest.mark.parametrize("path", EMBED_FILES, ids=lambda p: p.stem)
def test_embed_code_is_classified_as_its_service(path: Path) -> None:
    text = path.read_text("utf-8")
    assert text.lstrip().startswith("<!--"), "say where the code comes from in a comment on top"
    fragment = _parse(text)
    assert fragment.urls, "a vendor's code contacts the vendor"
    assert embed_problems(REGISTRY, path.stem, text) == []


def test_the_checks_catch_a_missing_host() -> None:
    text = (EMBEDS / "youtube.html").read_text("utf-8")
    broken = _catalog_with(youtube={"hosts": ["youtube.com", "ytimg.com"]})
    problems = embed_problems(broken, "youtube", text)
    assert any("youtube-nocookie.com" in p and "nothing" in p for p in problems), problems


def test_the_checks_catch_a_signature_that_is_too_broad() -> None:
    text = (EMBEDS / "meta-pixel.html").read_text("utf-8")
    broken = _catalog_with(facebook={"inline_signatures": ["connect.facebook.net/"]})
    problems = embed_problems(broken, "meta-pixel", text)
    assert any("also matches ['facebook']" in p for p in problems), problems


def test_the_checks_catch_a_wrong_embed_glob_and_a_pixel_left_to_the_sdk() -> None:
    text = (EMBEDS / "meta-pixel.html").read_text("utf-8")
    broken = _catalog_with(meta_pixel={"hosts": ["connect.facebook.net/signals"]})
    problems = embed_problems(broken, "meta-pixel", text)
    assert any("facebook.com/tr" in p and "['facebook']" in p for p in problems), problems
    glob_broken = _catalog_with(vimeo={"iframe_urls": ["https://vimeo.com/*"]})
    problems = embed_problems(glob_broken, "vimeo", (EMBEDS / "vimeo.html").read_text("utf-8"))
    assert any("iframe_urls" in p for p in problems), problems


def test_fragment_parser_finds_urls_in_all_the_places_that_fetch() -> None:
    fragment = _parse(
        '<img srcset="https://a.example/1.png 1x, //b.example/2.png 2x">'
        "<div style=\"background:url('https://c.example/bg.png')\"></div>"
        "<style>@import 'https://d.example/x.css';</style>"
        "<script>var u = 'https://e.example/p.js'; var t = `https://f.${x}.example/`;</script>"
        '<script type="IN/Share" data-url="https://g.example"></script>'
        '<noscript><img src="https://h.example/px.gif"></noscript>'
    )
    assert fragment.urls == [
        "https://a.example/1.png", "//b.example/2.png", "https://c.example/bg.png",
        "https://d.example/x.css", "https://e.example/p.js", "https://h.example/px.gif",
    ]  # fmt: skip
    assert fragment.inline_scripts == ["var u = 'https://e.example/p.js'; var t = `https://f.${x}.example/`;"]


# ---------------------------------------------------------------------------------------------
# Shipped data


def test_open_cookie_database_is_shipped_complete_with_its_licence_and_notice() -> None:
    with OCD_CSV.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    assert header == [
        "ID", "Platform", "Category", "Cookie / Data Key name", "Domain", "Description",
        "Retention period", "Data Controller", "User Privacy & GDPR Rights Portals", "Wildcard match",
    ]  # fmt: skip
    assert len(rows) >= 2000
    assert all(len(r) == len(header) for r in rows)
    assert len({r[0] for r in rows}) == len(rows)
    assert {r[9] for r in rows} <= {"0", "1"}
    licence = (OCD_CSV.parent / "open-cookie-database.LICENSE").read_text("utf-8")
    assert "Apache License" in licence and "Version 2.0" in licence
    notice = (ROOT / "NOTICE").read_text("utf-8")
    assert "Open Cookie Database" in notice and "Public Suffix List" in notice


@pytest.mark.parametrize(
    ("declared", "url", "needs"),
    [
        (["jquery-cdn"], "https://code.jquery.com/jquery-3.7.1.min.js", False),  # declared required
        ([], "https://code.jquery.com/jquery-3.7.1.min.js", True),  # the catalog knows it; undeclared
        (["jquery-cdn"], "https://cdn.jsdelivr.net/npm/x", True),  # another CDN, not declared
        (["jquery-cdn", "youtube"], "https://www.youtube.com/embed/x", True),  # media waits for consent
    ],
)
def test_the_scanner_lets_only_a_declared_required_service_load_without_consent(
    declared: list[str], url: str, needs: bool
) -> None:
    from scanner.model import Phase, RequestRecord
    from scanner.rules.context import RuleContext

    ctx = RuleContext(load_registry({"services": [{"id": i} for i in declared]}), "www.city.sample.lg.jp",
                      https=True, declared=True, catalog=REGISTRY)  # fmt: skip
    record = RequestRecord(url, "GET", "Script", "https://www.city.sample.lg.jp/", "parser", Phase.BEFORE,
                           status=200)  # fmt: skip
    assert ctx.request_needs_consent(record) is needs
