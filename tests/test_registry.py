"""The registry: operator files, validation errors that say where and how, policy version, hosts."""

import datetime
import re
import textwrap

import pytest

from gatekeeper.psl import is_public_suffix, normalize_host, registrable_domain
from gatekeeper.registry import Category, ConfigError, HostPattern, load_registry


def write(tmp_path, text):
    path = tmp_path / "services.toml"
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


FULL = """
[site]
first_party_hosts = ["static.example-cdn.net"]
[[cookies]]
name = "lang"
category = "usability"
purpose = "Remembers the language you chose"
max_age_days = 365
[[cookies]]
name = "pref_*"
category = "usability"
purpose = { en = "Display preferences", ja = "表示設定" }
[[services]]
id = "youtube"
[[services]]
id = "town-map"
name = "Town map"
vendor = "Example Maps K.K."
category = "media"
purpose = { en = "Shows maps", ja = "地図を表示します" }
data_sent = { en = "IP address", ja = "IPアドレス" }
policy_url = "https://maps.example.net/privacy"
hosts = ["maps.example.net"]
placeholder = "map"
"""


def test_operator_file_lists_what_is_offered(tmp_path):
    reg = load_registry(write(tmp_path, FULL))
    assert [s.id for s in reg.services] == ["youtube", "town-map"]
    assert reg.by_id["youtube"].vendor  # filled from the catalog
    assert reg.cookie_declaration("lang").max_age_days == 365
    assert reg.cookie_declaration("pref_size").purpose.get("ja") == "表示設定"
    assert reg.cookie_declaration("lang").purpose.get("ja") is None  # the catalogues translate it, if any
    assert reg.cookie_declaration("other") is None
    assert reg.is_first_party("static.example-cdn.net", "www.example.jp")
    assert reg.categories == (Category.USABILITY, Category.MEDIA)
    assert reg.strict


def test_zero_config_offers_the_whole_catalog():
    reg = load_registry()
    assert len(reg.services) >= 2 and reg.cookies == ()


def test_override_a_catalog_field(tmp_path):
    reg = load_registry(write(tmp_path, '[[services]]\nid = "youtube"\ncategory = "marketing"\n'))
    assert reg.by_id["youtube"].category is Category.MARKETING
    assert reg.by_id["youtube"].hosts == load_registry().by_id["youtube"].hosts


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[cookies]]\nname = "a"\ncategory = "tasty"\npurpose = "x"\n',
            r"\[\[cookies\]\] #1 \('a'\): unknown category 'tasty'; use one of: necessary",
        ),
        (
            '[[cookies]]\nname = "a"\ncategory = "usability"\npurpose = "x"\ncolour = 1\n',
            "unknown key 'colour'",
        ),
        ('[[cookies]]\nname = "a b"\ncategory = "usability"\npurpose = "x"\n', "is not a cookie name"),
        ('[[cookies]]\nname = "a"\ncategory = "usability"\n', "missing 'purpose'"),
        (
            '[[cookies]]\nname = "a"\ncategory = "usability"\npurpose = "x"\nmax_age_days = 1000\n',
            "400 days at most",
        ),
        (
            '[[cookies]]\nname = "a"\ncategory = "usability"\npurpose = "x"\n'
            '[[cookies]]\nname = "a"\ncategory = "usability"\npurpose = "y"\n',
            "declared twice",
        ),
        ('[[services]]\nid = "youtube"\n[[services]]\nid = "youtube"\n', "duplicate id"),
        ('[[services]]\nid = "qqqq"\n', "not in the built-in catalog, so it needs all of"),
        ('[[services]]\nid = "youtube"\nhosts = ["https://www.youtube.com"]\n', "without a scheme"),
        ('[[services]]\nid = "youtube"\nhosts = ["exa mple.com"]\n', "not a host pattern"),
        ('[[services]]\nid = "youtube"\nhosts = ["ex*ample.com"]\n', "not a host pattern"),
        ('[[services]]\nid = "youtube"\nplaceholder = "hologram"\n', "unknown placeholder"),
        ('[[services]]\nid = "Bad_Id"\n', "'id' 'Bad_Id'"),
        ('[[services]]\nid = "youtube"\nhostz = []\n', "unknown key 'hostz'"),
        ('[[services]]\nid = "youtube"\ninline_signatures = ["ga("]\n', "at least 6 characters"),
        ('[[services]]\nid = "youtube"\npolicy_url = "policies"\n', "http\\(s\\) URL"),
        ('[site]\nmode = "lenient"\n', "mode 'lenient'"),
        ('[site]\nfirst_party_hosts = ["cdn.example.net:8080"]\n', "ports are not part"),
        ('[[services]]\nid = "x"\nshare_url = "http://x.example/s?u={url}"\n', "share_url"),
        ('[[services]]\nid = "x"\nshare_url = "https://x.example/s"\n', "one '\\{url\\}'"),
        ('[[services]]\nid = "x"\nshare_url = "https://x.example/{url}/{url}"\n', "one '\\{url\\}'"),
        ('[site]\npolicy_date = "2026-12-01"\n', "policy_date: a TOML date"),
        ("[site]\npolicy_date = 2026-12-01T10:00:00\n", "policy_date: a TOML date"),
        ("[sites]\n", "top level: unknown key 'sites'"),
        ("[[cookies]\n", "not valid TOML"),
    ],
)
def test_mistakes_raise_with_file_entry_and_fix(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_registry(path)
    assert str(path) in str(info.value)


MANY_MISTAKES = """
[site]
mode = "lenient"
[[cookies]]
name = "a b"
category = "tasty"
purpose = "x"
max_age_days = 1000
[[services]]
id = "youtbe"
[[services]]
id = "youtube"
categroy = "media"
placeholder = "hologram"
[[services]]
id = "vimeo"
hosts = ["https://vimeo.com"]
cookies = [{ name = "x", purpose = "y", first_party = "yes" }]
"""


def test_every_mistake_in_a_file_is_reported_at_once(tmp_path):
    path = write(tmp_path, MANY_MISTAKES)
    with pytest.raises(ConfigError) as info:
        load_registry(path)
    errors = info.value.errors
    expected = [
        "mode 'lenient'",
        "is not a cookie name",
        "unknown category 'tasty'",
        "400 days at most",
        "'youtbe' is not in the built-in catalog (did you mean 'youtube'?)",
        "unknown key 'categroy' (did you mean 'category'?)",
        "unknown placeholder 'hologram'",
        "without a scheme",
        "'first_party' must be true or false",
    ]
    assert len(errors) == len(expected), errors
    for fragment, error in zip(expected, errors, strict=True):
        assert fragment in error and str(path) in error
    assert str(info.value).startswith(f"{path}: 9 mistakes:")


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ('[[services]]\nid = "youtbe"\n', "did you mean 'youtube'?"),
        ('[[services]]\nid = "goggle-maps"\n', "did you mean 'google-maps'?"),
        ('[[cookies]]\nname = "a"\ncategory = "analytic"\npurpose = "x"\n', "did you mean 'analytics'?"),
        ('[[cookies]]\nname = "a"\ncategory = "usability"\npurpse = "x"\n', "did you mean 'purpose'?"),
        ('[[services]]\nid = "youtube"\nplaceholder = "vidoe"\n', "did you mean 'video'?"),
        ('[site]\nfirst_party_host = []\n', "did you mean 'first_party_hosts'?"),
    ],
)
def test_a_near_miss_is_named(tmp_path, text, hint):
    with pytest.raises(ConfigError, match=re.escape(hint)):
        load_registry(write(tmp_path, text))


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_registry(tmp_path / "nope.toml")


def test_policy_version_is_stable_and_changes_only_with_what_is_asked(tmp_path):
    a = load_registry(write(tmp_path, FULL))
    b = load_registry(write(tmp_path, FULL))
    assert a.policy_version == b.policy_version
    reordered = FULL.replace('[[services]]\nid = "youtube"\n', "") + '[[services]]\nid = "youtube"\n'
    assert load_registry(write(tmp_path, reordered)).policy_version == a.policy_version
    technical = FULL.replace('placeholder = "map"', 'placeholder = "video"')
    assert load_registry(write(tmp_path, technical)).policy_version == a.policy_version
    purpose = FULL.replace("Shows maps", "Shows maps and traffic")
    assert load_registry(write(tmp_path, purpose)).policy_version != a.policy_version
    vendor = FULL.replace("Example Maps K.K.", "Other Maps K.K.")
    assert load_registry(write(tmp_path, vendor)).policy_version != a.policy_version
    cookie = FULL.replace("max_age_days = 365", "max_age_days = 30")
    assert load_registry(write(tmp_path, cookie)).policy_version != a.policy_version


@pytest.mark.parametrize(
    ("pattern", "host", "path", "matches"),
    [
        ("example.com", "example.com", "/", True),
        ("example.com", "www.example.com", "/", True),
        ("example.com", "badexample.com", "/", False),
        ("*.example.com", "example.com", "/", False),
        ("*.example.com", "a.b.example.com", "/", True),
        ("www.google.com/maps", "www.google.com", "/maps/embed", True),
        ("www.google.com/maps", "www.google.com", "/maps", True),
        ("www.google.com/maps", "www.google.com", "/mapsearch", False),
        ("www.google.com/maps", "www.google.com", "/search", False),
        ("例え.jp", "xn--r8jz45g.jp", "/", True),
        ("EXAMPLE.com", "example.com", "/", True),
    ],
)
def test_host_patterns(pattern, host, path, matches):
    assert HostPattern.parse(pattern).matches(normalize_host(host), path) is matches


def test_most_specific_service_wins():
    reg = load_registry(
        {
            "services": [
                {
                    "id": "wide",
                    "name": "W",
                    "vendor": "V",
                    "category": "media",
                    "purpose": "p",
                    "data_sent": "d",
                    "policy_url": "https://v.example/p",
                    "hosts": ["google.com"],
                },
                {
                    "id": "narrow",
                    "name": "N",
                    "vendor": "V",
                    "category": "media",
                    "purpose": "p",
                    "data_sent": "d",
                    "policy_url": "https://v.example/p",
                    "hosts": ["www.google.com/maps"],
                },
            ]
        }
    )
    assert [s.id for s in reg.services_for_url("https://www.google.com/maps/embed?pb=1")] == ["narrow"]
    assert [s.id for s in reg.services_for_url("https://www.google.com/search")] == ["wide"]
    assert reg.services_for_url("https://bing.com/") == ()


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("www.example.com", "example.com"),
        ("a.b.example.co.uk", "example.co.uk"),
        ("www.city.shinjuku.lg.jp", "shinjuku.lg.jp"),
        ("foo.github.io", "foo.github.io"),
        ("WWW.Example.COM.", "example.com"),
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("localhost", "localhost"),
        ("www.例え.jp", "xn--r8jz45g.jp"),
        ("www.ck", "www.ck"),  # the "!www.ck" exception rule
        ("a.b.kawasaki.jp", "a.b.kawasaki.jp"),  # "*.kawasaki.jp"
        ("www.city.kawasaki.jp", "city.kawasaki.jp"),  # "!city.kawasaki.jp"
    ],
)
def test_registrable_domain(host, site):
    assert registrable_domain(host) == site


def test_public_suffixes():
    assert is_public_suffix("co.uk") and is_public_suffix("github.io") and is_public_suffix("127.0.0.1")
    assert not is_public_suffix("example.co.uk")


def test_share_urls_and_the_policy_date(tmp_path):
    registry = load_registry(write(tmp_path, '[site]\npolicy_date = 2026-12-01\n[[services]]\nid = "line"\n'))
    assert registry.policy_date == datetime.date(2026, 12, 1)
    assert registry.by_id["line"].share_url == "https://social-plugins.line.me/lineit/share?url={url}"
    assert load_registry().policy_date is None  # the catalog alone: no date anyone could vouch for
    shares = {s.id for s in load_registry().services if s.share_url}
    assert shares == {"x", "facebook", "line", "hatena", "pinterest", "linkedin"}
