"""The CSP builder: per consent state, first-party hosts, the site's other hosts, nothing loosened."""

import pytest

from gatekeeper.csp import FETCH_DIRECTIVES, KEYWORDS, build_csp
from gatekeeper.registry import load_registry


@pytest.fixture(scope="module")
def registry():
    return load_registry(
        {
            "site": {"first_party_hosts": ["static.example-cdn.net", "*.img.example-cdn.net"]},
            "services": [{"id": "youtube"}, {"id": "google-analytics"}],
        }
    )


def sources(policy):
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    return directives["default-src"].split()


@pytest.mark.parametrize(
    ("granted", "present", "absent"),
    [
        ((), [], ["youtube.com", "*.youtube.com", "www.googletagmanager.com"]),
        (("youtube",), ["youtube.com", "*.youtube.com", "*.ytimg.com"], ["www.googletagmanager.com"]),
        (("google-analytics",), ["www.googletagmanager.com", "*.google-analytics.com"], ["youtube.com"]),
        (("youtube", "google-analytics"), ["youtube.com", "www.googletagmanager.com"], []),
        (("unknown-id",), [], ["youtube.com"]),
    ],
)
def test_hosts_follow_the_consent(registry, granted, present, absent):
    src = sources(build_csp(registry, granted, "www.city.example.jp"))
    for host in present:
        assert host in src
    for host in absent:
        assert host not in src


def test_first_party_and_own_site(registry):
    src = sources(build_csp(registry, (), "www.city.example.jp"))
    assert src[0] == "'self'"
    assert "example.jp:*" in src and "*.example.jp:*" in src  # the site is the registrable domain
    assert "static.example-cdn.net" in src and "*.static.example-cdn.net" in src
    assert "*.img.example-cdn.net" in src and "img.example-cdn.net" not in src


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "foo.github.io", "[::1]", ""])
def test_own_site_never_widens_to_a_public_suffix(registry, host):
    src = sources(build_csp(registry, (), host))
    assert not {"*.github.io:*", "*.io:*", "*.0.0.1:*", "*.0.1:*", "*.1:*"} & set(src)


def test_inline_code_keeps_working_and_nothing_reaches_out_by_keyword(registry):
    src = sources(build_csp(registry, (), "example.jp"))
    for keyword in KEYWORDS:
        assert keyword in src
    assert "*" not in src and "https:" not in src and "http:" not in src


def test_one_directive_governs_every_fetch_kind(registry):
    policy = build_csp(registry, ("youtube",), "example.jp")
    names = [part.strip().split(" ", 1)[0] for part in policy.split(";")]
    assert names == ["default-src", "form-action"]  # script-src, img-src... all fall back to it
    assert not any(d in policy for d in FETCH_DIRECTIVES)


def test_report_uri(registry):
    assert build_csp(registry, (), "example.jp", report_uri="/_gatekeeper/csp-report").endswith(
        "; report-uri /_gatekeeper/csp-report"
    )


def test_no_duplicates_and_stable(registry):
    a = build_csp(registry, ("youtube", "google-analytics"), "example.jp")
    b = build_csp(registry, ("google-analytics", "youtube"), "example.jp")
    assert a == b
    src = sources(a)
    assert len(src) == len(set(src))


def test_path_scoped_service_host():
    reg = load_registry(
        {
            "services": [
                {
                    "id": "maps",
                    "name": "Maps",
                    "vendor": "Maps Inc.",
                    "category": "media",
                    "purpose": "Maps",
                    "data_sent": "IP",
                    "policy_url": "https://maps.example/p",
                    "hosts": ["www.maps.example/embed"],
                }
            ]
        }
    )
    assert "www.maps.example/embed/" in sources(build_csp(reg, ("maps",), "example.jp"))


def test_a_path_pattern_allows_that_path_and_below():
    reg = load_registry({"services": [{"id": "meta-pixel"}]})
    src = sources(build_csp(reg, ("meta-pixel",), "example.jp"))
    assert "www.facebook.com/tr" in src and "www.facebook.com/tr/" in src  # /tr?id=1 and /tr/x
    assert "www.facebook.com" not in src
