"""Operator hints: the services-file lines that would declare a third-party host a page contacted.

One place says them, for every consumer: the log line of an undeclared embed, the CSP report endpoint's
suggestions and `gatekeeper init` / the scanner's `--write-services`. A host the built-in catalog knows
is one line (`[[services]] id = "..."`); any other gets a commented block to describe it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache

from .psl import normalize_host, registrable_domain
from .registry import Category, Registry, Service, load_catalog

__all__ = ["catalog_service", "describe_block", "hint", "service_lines", "toml_string"]


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


def describe_block(hosts: Iterable[str]) -> list[str]:
    """A commented `[[services]]` block for hosts no catalog service covers, to fill in."""
    names = sorted({normalize_host(h) for h in hosts})
    domain = registrable_domain(names[0]) if names else "example.com"
    listed = ", ".join(toml_string(h) for h in names)
    return [
        "# [[services]]",
        f"# id = {toml_string(domain.split('.')[0][:40] or 'service')}",
        '# name = "..."',
        '# vendor = "the recipient\'s legal name"',
        '# category = "marketing"  # usability, analytics, social, media, marketing, required',
        '# purpose = "..."',
        '# data_sent = "..."',
        '# policy_url = "https://..."',
        f"# hosts = [{listed}]  # or list them in [site] first_party_hosts if they are yours",
    ]


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
