"""Registrable domains (eTLD+1) from the Public Suffix List snapshot shipped in the package.

Third party means "another registrable domain", so every consumer of the registry asks this module.
The list is read once, from `gatekeeper/data/public_suffix_list.dat` (MPL-2.0, publicsuffix.org);
nothing is fetched at run time.
"""

from __future__ import annotations

import ipaddress
from functools import cache, lru_cache
from importlib import resources

__all__ = ["is_public_suffix", "normalize_host", "registrable_domain", "same_site", "snapshot_version"]


@cache
def _rules() -> tuple[frozenset[str], frozenset[str], frozenset[str], str]:
    text = resources.files("gatekeeper").joinpath("data/public_suffix_list.dat").read_text("utf-8")
    plain: set[str] = set()
    wildcard: set[str] = set()  # "*.ck" stored as "ck"
    exception: set[str] = set()  # "!www.ck" stored as "www.ck"
    version = "unknown"
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("// VERSION:"):
            version = line.removeprefix("// VERSION:").strip()
        if not line or line.startswith("//"):
            continue
        rule = _to_ascii(line.split()[0])
        if rule.startswith("!"):
            exception.add(rule[1:])
        elif rule.startswith("*."):
            wildcard.add(rule[2:])
        else:
            plain.add(rule)
    return frozenset(plain), frozenset(wildcard), frozenset(exception), version


def _to_ascii(name: str) -> str:
    name = name.lower()
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def snapshot_version() -> str:
    return _rules()[3]


@lru_cache(maxsize=8192)
def normalize_host(host: str) -> str:
    """Lower-case, without a trailing dot or brackets, IDN in punycode: the form hosts are compared in."""
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return _to_ascii(host)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=8192)
def registrable_domain(host: str) -> str:
    """The eTLD+1 of `host`; an IP address, a single label or a bare public suffix is its own site."""
    host = normalize_host(host)
    if not host or _is_ip(host) or "." not in host:
        return host
    plain, wildcard, exception, _ = _rules()
    labels = host.split(".")
    suffix_len = 1  # the implicit "*" rule
    for i in range(len(labels)):
        candidate = ".".join(labels[i:])
        if candidate in exception:
            suffix_len = len(labels) - i - 1
            break
        if candidate in plain or (i + 1 < len(labels) and ".".join(labels[i + 1 :]) in wildcard):
            suffix_len = len(labels) - i
            break
    if suffix_len >= len(labels):
        return host
    return ".".join(labels[-(suffix_len + 1) :])


def same_site(a: str, b: str) -> bool:
    return registrable_domain(a) == registrable_domain(b)


def is_public_suffix(host: str) -> bool:
    """True for a name nobody can register under as one site: a public suffix, an IP, one label."""
    host = normalize_host(host)
    if _is_ip(host) or "." not in host:
        return True
    return registrable_domain(host) == host and registrable_domain("x." + host) == "x." + host
