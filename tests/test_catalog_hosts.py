"""Host patterns for vendors with a domain per country: `google.*` stands for each of Google's
published country domains (each a registrable domain by the Public Suffix List), nothing else."""

from __future__ import annotations

import pytest

from gatekeeper.psl import registrable_domain
from gatekeeper.registry import ConfigError, HostPattern, country_domains, load_registry

REGISTRY = load_registry()

# (URL, the service it belongs to, or None for no catalog service)
CASES = [
    ("https://maps.google.co.uk/maps?q=London&output=embed", "google-maps"),
    ("https://www.google.co.uk/maps/embed?pb=!1m18", "google-maps"),
    ("https://www.google.de/maps/embed?pb=!1m18", "google-maps"),
    ("https://google.de/maps?q=Berlin", "google-maps"),
    ("https://www.google.co.jp/maps?q=%E6%9D%B1%E4%BA%AC&output=embed", "google-maps"),
    ("https://maps.google.co.jp/maps?f=q&output=embed", "google-maps"),
    ("https://www.google.com.br/maps/embed?pb=1", "google-maps"),
    ("https://maps.google.com.au/maps?q=Sydney&output=embed", "google-maps"),
    ("https://www.google.com/maps/embed?pb=1", "google-maps"),
    ("https://maps.google.cat/maps?output=embed", "google-maps"),
    ("https://www.google.fr/pagead/1p-user-list/1", "google-ads"),
    ("https://www.google.co.jp/ads/ga-audiences?t=sr", "google-analytics"),
    ("https://www.google.com/recaptcha/api.js", "recaptcha"),
    # not maps: other paths of the same hosts, look-alikes, and names on private suffixes
    ("https://www.google.de/search?q=maps", None),
    ("https://www.google.co.uk/mapsearch", None),
    ("https://google.github.io/maps/", None),  # github.io is a (private) public suffix
    ("https://maps.google.example.com/maps?output=embed", None),
    ("https://maps.notgoogle.co.uk/maps", None),
    ("https://maps.google.co.uk.evil.test/maps", None),
    ("https://google.co.uk.example/maps", None),
]


@pytest.mark.parametrize(("url", "sid"), CASES)
def test_country_domains_classify(url: str, sid: str | None) -> None:
    got = [s.id for s in REGISTRY.services_for_url(url)]
    assert got == ([sid] if sid else [])


def test_every_listed_country_domain_is_a_registrable_domain() -> None:
    domains = country_domains("google")
    assert len(domains) >= 180 and len(set(domains)) == len(domains)
    assert {"google.com", "google.co.uk", "google.co.jp", "google.de", "google.com.br"} <= set(domains)
    for d in domains:
        assert registrable_domain(d) == d and registrable_domain("maps." + d) == d


def test_expand_gives_plain_patterns_with_the_path_and_one_csp_source_each() -> None:
    patterns = HostPattern.expand("google.*/maps")
    assert len(patterns) == len(country_domains("google"))
    uk = next(p for p in patterns if p.host == "google.co.uk")
    assert (uk.path, uk.subdomains_only, uk.family) == ("/maps", False, "google.*/maps")
    assert uk.csp_sources() == ("*.google.co.uk",)
    assert str(uk) == "google.co.uk/maps"
    sub = HostPattern.expand("maps.google.*")
    assert {p.host for p in sub} >= {"maps.google.co.uk", "maps.google.de"}
    assert HostPattern.expand("cdn.example.com") == (HostPattern.parse("cdn.example.com"),)


@pytest.mark.parametrize("text", ["example.*", "*.*", "foo.google.*x", "google.*.com", "*"])
def test_unknown_or_malformed_wildcards_are_refused_with_a_fix(text: str) -> None:
    with pytest.raises((ValueError, ConfigError)):
        HostPattern.expand(text)


def test_an_operator_can_write_a_country_wildcard_in_a_services_file() -> None:
    registry = load_registry(
        {
            "services": [
                {
                    "id": "own-maps",
                    "name": "Maps",
                    "vendor": "Google LLC",
                    "category": "media",
                    "purpose": "Maps.",
                    "data_sent": "IP address.",
                    "policy_url": "https://policies.google.com/privacy",
                    "hosts": ["maps.google.*"],
                }
            ]
        }
    )
    assert [s.id for s in registry.services_for_url("https://maps.google.it/maps")] == ["own-maps"]
    with pytest.raises(ConfigError, match="known only for vendors"):
        load_registry({"services": [{"id": "youtube", "hosts": ["youtube.*"]}]})
