"""`--write-services`: a services file proposed from what a scan saw. Catalog services and cookies the
Open Cookie Database knows are filled in; unknown hosts and cookies are listed, commented out, for the
operator to describe. The file loads as it is (`load_registry`), and says what is left to do."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

from gatekeeper.psl import normalize_host, registrable_domain
from gatekeeper.registry import MAX_COOKIE_DAYS, Category, CookieDeclaration, Registry, Service, Text
from gatekeeper.suggest import describe_block, service_id_for, service_lines
from gatekeeper.suggest import toml_string as _s

from .cookiedb import CookieDatabase, cookie_database
from .model import CookieRecord, Phase, ScanResult

__all__ = ["inert_urls", "propose_services"]


def _text(text: Text) -> str:
    """A text as the services file writes it: the English (the catalogues translate it), or a table
    with the operator's own wording per language."""
    if not text.own:
        return _s(text.en)
    return "{ " + ", ".join(f"{tag} = {_s(t)}" for tag, t in (("en", text.en), *text.own)) + " }"


def _declaration(d: CookieDeclaration) -> list[str]:
    lines = ["[[cookies]]", f"name = {_s(d.name)}", f"category = {_s(d.category.value)}"]
    lines.append(f"purpose = {_text(d.purpose)}")
    if d.max_age_days is not None:
        lines.append(f"max_age_days = {d.max_age_days:g}")
    if d.path != "/":
        lines.append(f"path = {_s(d.path)}")
    if d.domain:
        lines.append(f"domain = {_s(d.domain)}")
    return lines


def _seen_cookies(result: ScanResult, registry: Registry, site: str) -> dict[str, float | None]:
    """First-party cookie names and the longest lifetime seen (None: session only)."""
    out: dict[str, float | None] = {}
    for page in result.pages:
        for v in page.visits:
            jar = [
                CookieRecord(j.name, j.value, j.domain, j.path, "jar", "", Phase.AFTER, "",
                             lifetime_s=None if j.expires < 0 else j.expires - v.started)
                for j in v.jar
            ]  # fmt: skip
            for c in [*v.cookies, *jar]:
                if c.lifetime_s is not None and c.lifetime_s <= 0:
                    continue
                if not registry.is_first_party(c.domain.lstrip("."), site):
                    continue
                prev = out.get(c.name)
                if c.lifetime_s is not None and (prev is None or c.lifetime_s > prev):
                    out[c.name] = c.lifetime_s
                else:
                    out.setdefault(c.name, None)
    return out


_GROUP_TITLES = {
    Category.REQUIRED: "required: shared CDNs and runtimes",
    Category.MEDIA: "media: videos, maps and other embeds",
    Category.SOCIAL: "social: buttons, posts and timelines",
    Category.ANALYTICS: "analytics",
    Category.MARKETING: "marketing: advertising and conversion tags",
    Category.USABILITY: "usability",
}
_REQUIRED_NOTE = [
    "# These load WITHOUT consent (the site cannot work without them), are disclosed on the notice",
    "# page and receive visitors' IP addresses. Keep only those your pages need; host a library",
    "# yourself to drop its line.",
]


def propose_services(
    result: ScanResult,
    registry: Registry,
    catalog: Registry,
    cookie_db: CookieDatabase | None = None,
    inert_urls: Iterable[str] = (),
) -> str:
    """The proposed file. `inert_urls`: third-party URLs the pages hold made inert (a site already
    behind gatekeeper never lets the browser request an undeclared host), declared like the rest."""
    db = cookie_db if cookie_db is not None else cookie_database()
    site = normalize_host(urlsplit(result.target).hostname or "")
    lines = [
        f"# Services file proposed by `gatekeeper scan` for {result.target}",
        "# Review it: services found in the built-in catalog are enabled by id; hosts and cookies it",
        "# could not identify are listed below, commented out, for you to describe.",
        "",
        "[site]",
        f"mode = {_s('strict' if registry.strict else 'report')}",
    ]
    if registry.first_party_hosts:
        hosts = ", ".join(_s(str(h)) for h in registry.first_party_hosts)
        lines.append(f"first_party_hosts = [{hosts}]")
    else:
        lines.append("# first_party_hosts = []  # your own CDNs on other domains, if any")

    seen = _seen_cookies(result, registry, site)
    todo_cookies: list[list[str]] = []
    written: set[str] = set()
    for d in registry.cookies:
        lines += ["", *_declaration(d)]
        written.add(d.name)
    for name in sorted(seen):
        if registry.cookie_declaration(name) is not None or name in written:
            continue
        lifetime = seen[name]
        days = None if lifetime is None else min(MAX_COOKIE_DAYS, max(1, math.ceil(lifetime / 86400)))
        known = db.lookup(name)
        if known is not None and known.category is not None and known.set_by_site:
            lines += [
                "",
                "[[cookies]]",
                f"name = {_s(name)}",
                f"category = {_s(known.category.value)}",
                f"purpose = {_s(known.description or known.platform)}  # Open Cookie Database: check it",
            ]
            if days is not None:
                lines.append(f"max_age_days = {days}")
        else:
            block = [
                "# [[cookies]]",
                f"# name = {_s(name)}",
                '# category = "usability"  # necessary, usability, analytics, social, media, marketing',
                '# purpose = "what it is for"',
            ]
            if days is not None:
                block.append(f"# max_age_days = {days}")
            todo_cookies.append(block)

    offered = {s.id: s for s in registry.services}
    found: dict[str, Service] = dict(offered)
    unknown: dict[str, list[str]] = {}
    for url in [*_third_party_urls(result, registry, site), *inert_urls]:
        try:
            host = normalize_host(urlsplit(url).hostname or "")
        except ValueError:
            continue
        if not host or registry.is_first_party(host, site):
            continue
        services = catalog.services_for_url(url) or registry.services_for_url(url)
        if services:
            for s in services:
                found.setdefault(s.id, s)
        else:
            unknown.setdefault(registrable_domain(host), []).append(host)
    for category in Category:
        group = sorted(sid for sid, s in found.items() if s.category is category)
        if not group:
            continue
        lines += ["", f"# ---- {_GROUP_TITLES.get(category, category.value)} ----"]
        if category is Category.REQUIRED:
            lines += _REQUIRED_NOTE
        for sid in group:
            if sid in catalog.by_id:
                lines += ["", *service_lines(found[sid])]
            else:  # the operator's own service: keep its description
                lines += ["", "[[services]]", f"id = {_s(sid)}", *_service_fields(found[sid])]

    if todo_cookies or unknown:
        lines += ["", "# ---- to describe ----"]
    for block in todo_cookies:
        lines += ["", *block]
    taken = set(found)
    for domain in sorted(unknown):
        sid = service_id_for(domain, taken)
        taken.add(sid)
        lines += ["", *describe_block(unknown[domain], sid)]
    return "\n".join(lines) + "\n"


# What the rewriter renamed on a made-inert element (docs/ARCHITECTURE.md, the inert-markup contract)
_INERT_ATTR = re.compile(
    r"""\sdata-gk-(src|href|data|poster|srcset|imagesrcset)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I
)


# ... and the mark before a URL made inert in a style sheet or style attribute (rewrite/css_edits.py)
_INERT_CSS_URL = re.compile(r"""https://\[gk\]/[a-z0-9?-]*/([^\s"'()<>]+)""")
_CSS_ESCAPED = re.compile(r"\\([^0-9a-fA-F\n])")


def inert_urls(page_html: str, page_url: str) -> list[str]:
    """The absolute URLs a page served by gatekeeper holds made inert: what it would contact."""
    out = []
    values = [
        (m.group(1).lower(), html.unescape(m.group(2) or m.group(3) or m.group(4) or "").strip())
        for m in _INERT_ATTR.finditer(page_html)
    ]
    for m in _INERT_CSS_URL.finditer(page_html):
        value = html.unescape(m.group(1)).split('"')[0]  # (in an attribute, up to its &quot;)
        values.append(("css", _CSS_ESCAPED.sub(r"\1", value)))
    for attr, value in values:
        if attr.endswith("srcset"):
            value = value.split(",")[0].strip().split(" ")[0]
        if value:
            try:
                url = urljoin(page_url, value)
            except ValueError:
                continue
            if url.startswith(("http:", "https:")):
                out.append(url)
    return out


def _third_party_urls(result: ScanResult, registry: Registry, site: str) -> list[str]:
    urls = {
        r.url
        for page in result.pages
        for v in page.visits
        for r in v.requests
        if urlsplit(r.url).hostname
        and not registry.is_first_party(normalize_host(urlsplit(r.url).hostname or ""), site)
    }
    return sorted(urls)


def _service_fields(s: Service) -> Iterable[str]:
    yield f"name = {_text(s.name)}"
    yield f"vendor = {_text(s.vendor)}"
    yield f"category = {_s(s.category.value)}"
    yield f"purpose = {_text(s.purpose)}"
    yield f"data_sent = {_text(s.data_sent)}"
    yield f"policy_url = {_s(s.policy_url)}"
    yield "hosts = [" + ", ".join(_s(str(h)) for h in s.hosts) + "]"
    if s.sale_share:
        yield "sale_share = true"
