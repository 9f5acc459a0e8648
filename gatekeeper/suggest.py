"""Operator hints: the services-file lines that would declare a third-party host a page contacted.

One place says them, for every consumer: the log line of an undeclared embed, the CSP report endpoint's
suggestions and `gatekeeper init` / the scanner's `--write-services`. A host the built-in catalog knows
is one line (`[[services]] id = "..."`); any other gets a commented block to describe it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from functools import cache
from urllib.parse import urlsplit

from .psl import normalize_host
from .registry import Category, Registry, Service, load_catalog

__all__ = [
    "catalog_service",
    "csp_advice",
    "describe_block",
    "hint",
    "page_of",
    "service_id_for",
    "service_lines",
    "toml_string",
]


def toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a TOML basic string


@cache
def _catalog() -> Registry:
    return Registry(load_catalog(), sources=("catalog",))


def catalog_service(host: str, path: str = "/") -> Service | None:
    """The catalog service a host (and path) belongs to, if any."""
    found = _catalog().services_for(normalize_host(host), path or "/")
    return found[0] if found else None


def service_lines(service: Service) -> list[str]:
    """A catalog service enabled by id; the required CDNs say what that means."""
    lines = ["[[services]]", f"id = {toml_string(service.id)}"]
    if service.category is Category.REQUIRED:
        lines[-1] += "  # required: loads without consent, disclosed on the notice page"
    return lines


def describe_block(hosts: Iterable[str], sid: str) -> list[str]:
    """A `[[services]]` entry for hosts no catalog service covers: it loads (so the hosts are declared
    and wait for consent as marketing, the strictest), and says loudly what the operator must fill in."""
    names = sorted({normalize_host(h) for h in hosts})
    listed = ", ".join(toml_string(h) for h in names)
    return [
        f"# UNKNOWN HOST: no catalog service covers {', '.join(names)}. Describe the recipient before",
        "# going live (visitors read these texts), or move the hosts to [site] first_party_hosts if",
        "# they are the site's own.",
        "[[services]]",
        f"id = {toml_string(sid)}",
        f"name = {toml_string(names[0] if names else sid)}",
        'vendor = "TO DESCRIBE: the recipient\'s legal name"',
        'category = "marketing"  # usability, analytics, social, media, marketing, required',
        'purpose = "TO DESCRIBE: what this service is for."',
        'data_sent = "TO DESCRIBE: what it receives (at least your IP address and the page you are on)."',
        f"policy_url = {toml_string('https://' + (names[0] if names else 'example.com') + '/')}",
        f"hosts = [{listed}]",
    ]


def service_id_for(domain: str, taken: Iterable[str]) -> str:
    """A services-file id for an unknown registrable domain, unlike any catalog or `taken` id."""
    used = set(taken) | {s.id for s in load_catalog()}
    base = re.sub(r"[^a-z0-9-]+", "-", domain.split(".")[0].lower()).strip("-")[:34] or "service"
    sid, n = base, 2
    while sid in used:
        sid, n = f"{base}-{n}", n + 1
    return sid


_HOSTNAME = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)+$")


def page_of(url: str) -> str:
    """A page named in a log: scheme, host and path; its query may hold a visitor's data."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme and parts.netloc else ""


def csp_advice(blocked: str, services: Sequence[Service]) -> str:
    """What the operator can do about one reported request (`services`: the declared ones it belongs
    to, none of them allowed by this visitor)."""
    if services:
        return (
            f"it is declared ({services[0].id}) but this visitor had not allowed it: markup the "
            "rewriter did not make inert, or a script that added it"
        )
    try:
        parts = urlsplit(blocked)
        host = normalize_host(parts.hostname or "")
    except ValueError:
        host = ""
    if not _HOSTNAME.match(host):  # only a plain host name goes into a line meant to be copied
        return "an undeclared third party: declare its host in the services file"
    return hint(host, parts.path)


def hint(host: str, path: str = "/") -> str:
    """One log line: what to add to the services file for this host."""
    service = catalog_service(host, path)
    if service is not None:
        return (
            f'it is {service.name} ({service.vendor}) in the catalog: add [[services]] id = "{service.id}" '
            "to the services file"
        )
    host = normalize_host(host)
    return (
        f"no catalog service covers it: describe it in the services file ([[services]] with id, name, "
        f'vendor, category, purpose, data_sent, policy_url and hosts = ["{host}"]), or, if it is the '
        f'site\'s own, add it to [site] first_party_hosts = ["{host}"]'
    )
