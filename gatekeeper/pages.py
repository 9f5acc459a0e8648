"""Response body, what the visitor sees: the banner and loader snippets, the two-click placeholders and the
notice page, rendered from the registry (Jinja2) in the visitor's language and cached; no ASGI here.

Every text comes from the gettext catalogues (gatekeeper.i18n): templates write `_("English")`, catalog
texts are translated into the views below. Operator templates in `template_dir` override ours by file
name (banner.html, placeholder.html, disclosure.html, _settings.html); the context each one gets is
written at its top.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import threading
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import quote, urlencode

import jinja2
from babel import UnknownLocaleError
from babel.dates import format_date
from markupsafe import escape

from .consent import ConsentState
from .cookies import in_page_gate
from .i18n import N_, Catalogues, folder_of
from .once import anchor_id
from .placeholder_box import Embed, css_length, is_small, network_name, placeholder_size, shared_page
from .registry import UNDECLARED, Category, ConfigError, Registry, Service
from .static_snippets import build_static, compact_js, consent_mode_defaults, snippet_budget

__all__ = [
    "Pages",
    "build_static",
    "consent_mode_defaults",
    "snippet_budget",
]

_NEXT = "gk-next-9c4e1a"  # stands for the page's path in cached renders; survives autoescape as is
_NEXT_Q = "gk-nextq-9c4e1a"  # the same, percent-encoded for a URL's query
_INDEX = "gk-index-9c4e1a"  # stands for the embed's number: one render serves every embed alike
# A body snippet is 5-15 KB (the settings list every service): 256 pages' worth is a few MB. A path
# not in the cache costs one str.replace on its consent state's render (microseconds), not a render.
_PAGES_CACHED = 256
_STATES_CACHED = 256
_PLACEHOLDERS_CACHED = 1024
_INLINE_TAGS = frozenset({"iframe", "video", "audio", "img", "object", "embed", "picture"})


_CATEGORY_TEXTS: Mapping[Category, tuple[str, str, str]] = {
    # (label, what it is, the one sentence that asks for it; %(services)s lists the services)
    Category.USABILITY: (
        N_("Usability"),
        N_("Remembers settings such as language and text size on this device."),
        N_("Usability: remember your settings, such as language and text size."),
    ),
    Category.ANALYTICS: (
        N_("Analytics"),
        N_("Measures how pages are used, so that the site can be improved."),
        N_("Analytics (%(services)s): measure how pages are used, to improve the site."),
    ),
    Category.SOCIAL: (
        N_("Social media"),
        N_("Share buttons and posts from social networks."),
        N_("Social media (%(services)s): show share buttons and posts; the network learns which page "
           "you are viewing."),
    ),
    Category.MEDIA: (  # web fonts too (Google Fonts): the label says so
        N_("Embedded content (videos, maps, fonts)"),
        N_("Videos, maps, web fonts and other content loaded from other sites."),
        N_("Embedded content (%(services)s): show videos, maps and fonts from other sites; their "
           "providers receive your IP address and the page you are viewing."),
    ),
    Category.MARKETING: (
        N_("Advertising"),
        N_("Measures advertising and shows advertising suited to you."),
        N_("Advertising (%(services)s): measure advertising and show advertising suited to you."),
    ),
    Category.NECESSARY: (N_("Strictly necessary"), N_("Keeps the site working."), N_("Strictly necessary.")),
    Category.REQUIRED: (
        N_("Required for the site to work"),
        N_("Loaded without consent because the site cannot work without it; receives your IP address "
           "and the page you are viewing."),
        N_("Required for the site to work (loaded without consent)."),
    ),
}  # fmt: skip
_CONSENT_COOKIE = N_("Remembers the choices you make about cookies and the services listed here.")


# ---------------------------------------------------------------------------------------------
# What templates see


@dataclass(frozen=True, slots=True)
class ServiceView:
    id: str
    name: str
    vendor: str
    category: str  # its category's label
    purpose: str
    data_sent: str
    policy_url: str
    cookies: tuple[tuple[str, str, str, bool], ...]  # (name, purpose, lifetime, on the site's domain)
    checked: bool  # granted now (shown ticked when the settings are reopened)
    status: str  # "allowed" | "not_allowed" | "not_allowed_gpc"


@dataclass(frozen=True, slots=True)
class CategoryView:
    id: str
    label: str
    about: str
    ask: str  # the one sentence of the banner's first layer
    checked: bool
    services: tuple[ServiceView, ...]


@dataclass(frozen=True, slots=True)
class CookieView:
    name: str
    category: str
    purpose: str
    lifetime: str


# ---------------------------------------------------------------------------------------------
# Pure helpers


def _hostname(host: str) -> str:
    """A Host header without its port: what a visitor reads as the site's name by default."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0]


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _LRU(Generic[K, V]):
    """A small thread-safe LRU (pages may be rewritten off the event loop)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: dict[K, V] = {}
        self.lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self.lock:
            value = self.data.pop(key, None)
            if value is not None:
                self.data[key] = value
            return value

    def put(self, key: K, value: V) -> None:
        with self.lock:
            self.data[key] = value
            if len(self.data) > self.size:
                del self.data[next(iter(self.data))]


# ---------------------------------------------------------------------------------------------


class Pages:
    def __init__(
        self,
        registry: Registry,
        *,
        prefix: str = "/_gatekeeper/",
        template_dir: str | os.PathLike[str] | None = None,
        csp_enforced: bool = True,
        consent_cookie: tuple[str, float] | None = None,
        catalogues: Catalogues | None = None,
        site_name: str | None = None,
        operator_name: str | None = None,
        privacy_policy_url: str | None = None,
    ) -> None:
        """`consent_cookie`: (name, lifetime in days) of the cookie that keeps the visitor's choice, so
        the notice lists it too. `site_name` (default: the request's host) and `operator_name` name the
        site and who runs it on the notice page; `privacy_policy_url` (a path or an http(s) URL) is
        linked from the banner and the notice; `catalogues`: the languages offered and their texts
        (default: ours)."""
        if privacy_policy_url is not None and not re.match(
            r"^(https?://[^\s/]+|/(?!/))\S*$", privacy_policy_url
        ):
            raise ConfigError(
                f"privacy_policy_url={privacy_policy_url!r}: a path on the site ('/privacy') or an "
                "http(s) URL"
            )
        for key, value in (("site_name", site_name), ("operator_name", operator_name)):
            if value is not None and not value.strip():
                raise ConfigError(f"{key}: a non-empty name, or leave it out")
        self.site_name = site_name
        self.operator_name = operator_name
        self.privacy_policy_url = privacy_policy_url
        self.registry = registry
        self.catalogues = catalogues or Catalogues.load()
        self.prefix = prefix
        self.csp_enforced = csp_enforced
        self.consent_cookie = consent_cookie
        loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("gatekeeper", "templates")]
        if template_dir is not None:
            if not Path(template_dir).is_dir():
                raise ConfigError(
                    f"templates={os.fspath(template_dir)!r}: not a directory; give the folder that "
                    "holds your banner.html, placeholder.html or disclosure.html"
                )
            loaders.insert(0, jinja2.FileSystemLoader(template_dir))
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.i18n"],
        )
        self._install_gettext()
        files = resources.files("gatekeeper.snippets")
        self.static: Mapping[str, tuple[bytes, str]] = build_static(
            files.joinpath("loader.js").read_text("utf-8"),
            files.joinpath("gatekeeper.css").read_text("utf-8"),
        )
        self._cookie_gate = compact_js(files.joinpath("cookie_gate.js").read_text("utf-8"))
        names = {name.rsplit(".", 1)[1]: name for name in self.static}
        self.loader_url = f"{prefix}static/{names['js']}"
        self.stylesheet_url = f"{prefix}static/{names['css']}"
        self._sale_share = " ".join(s.id for s in registry.services if s.sale_share)
        self._snippets: _LRU[Hashable, tuple[str, str]] = _LRU(_PAGES_CACHED)
        self._snippet_bases: _LRU[Hashable, tuple[str, str]] = _LRU(_STATES_CACHED)
        self._placeholders: _LRU[Hashable, str] = _LRU(_PLACEHOLDERS_CACHED)
        self._check_templates()

    def _install_gettext(self) -> None:
        """`_()` and `{% trans %}` in templates look up the language of the render (its `lang`)."""
        cat = self.catalogues

        @jinja2.pass_context
        def gettext(ctx: jinja2.runtime.Context, msgid: str) -> str:
            return cat.gettext(ctx["lang"], msgid)

        @jinja2.pass_context
        def ngettext(ctx: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
            return cat.gettext(ctx["lang"], singular if n == 1 else plural)

        @jinja2.pass_context
        def pgettext(ctx: jinja2.runtime.Context, context: str, msgid: str) -> str:
            return cat.pgettext(ctx["lang"], context, msgid)

        self.env.install_gettext_callables(  # type: ignore[attr-defined]
            gettext, ngettext, newstyle=True, pgettext=pgettext
        )

    def _check_templates(self) -> None:
        """An operator's template with a mistake fails at start-up, not on a visitor's page."""
        try:
            for lang in self.catalogues.languages:
                for state in (ConsentState(), ConsentState(decided=True, gpc=True)):
                    self._render_snippets(state, lang, frozenset())
                    self.disclosure(state, lang)
                for service in self.registry.services:
                    self._render_placeholder(_SampleEmbed((service.id,)), lang)
        except Exception as e:  # a template may fail in any way: say so now, with where
            where = f" ({e.filename}:{e.lineno})" if isinstance(e, jinja2.TemplateSyntaxError) else ""
            raise ConfigError(f"a gatekeeper template cannot be rendered{where}: {e!r}") from e

    # -- language ----------------------------------------------------------------------------------

    def language(self, accept_language: str | None, html_lang: str | None = None) -> str:
        """The page's own `<html lang>` when we speak it, else the visitor's best Accept-Language,
        else the configured default."""
        return self.catalogues.choose(html_lang, accept_language)

    def _lang(self, lang: str) -> str:
        return lang if lang in self.catalogues.languages else self.catalogues.default

    # -- views -------------------------------------------------------------------------------------

    def _lifetime(self, days: float | None, lang: str) -> str:
        _ = self.catalogues.gettext
        if days is None:
            return _(lang, N_("Until you close the browser"))
        if days < 1:
            hours = max(1, round(days * 24))
            return _(lang, N_("1 hour")) if hours == 1 else _(lang, N_("%(n)s hours")) % {"n": hours}
        return _(lang, N_("1 day")) if days == 1 else _(lang, N_("%(n)s days")) % {"n": f"{days:g}"}

    def _date(self, day: datetime.date, lang: str) -> str:
        """A date as the language writes it (CLDR's long form through Babel: 2026年12月3日, December 3,
        2026); ISO for a language CLDR does not know."""
        try:
            return format_date(day, "long", locale=folder_of(lang))
        except (ValueError, UnknownLocaleError):
            return day.isoformat()

    def _label(self, category: Category, lang: str) -> str:
        return self.catalogues.gettext(lang, _CATEGORY_TEXTS[category][0])

    def _service_view(self, s: Service, state: ConsentState, granted: frozenset[str], lang: str
                      ) -> ServiceView:  # fmt: skip
        text = self.catalogues.text
        status = "allowed" if s.id in granted else "not_allowed"
        if (
            status == "not_allowed"
            and state.gpc
            and s.sale_share
            and (s.id in state.services or state.category_granted(s.category))
        ):
            status = "not_allowed_gpc"
        return ServiceView(
            id=s.id,
            name=text(lang, s.name),
            vendor=text(lang, s.vendor),
            category=self._label(s.category, lang),
            purpose=text(lang, s.purpose),
            data_sent=text(lang, s.data_sent),
            policy_url=s.policy_url,
            cookies=tuple(
                (c.name, text(lang, c.purpose), self._lifetime(c.max_age_days, lang), c.first_party)
                for c in s.cookies
            ),
            checked=s.id in granted,
            status=status,
        )

    def _category_views(self, state: ConsentState, lang: str) -> tuple[CategoryView, ...]:
        _ = self.catalogues.gettext
        granted = state.granted_services(self.registry)
        sep = self.catalogues.pgettext(lang, "between the names in a list", ", ")
        views = []
        for category in self.registry.categories:
            label, about, ask = (_(lang, m) for m in _CATEGORY_TEXTS[category])
            services = tuple(
                self._service_view(s, state, granted, lang)
                for s in self.registry.services
                if s.category is category
            )
            if services:
                ask = ask.replace("%(services)s", sep.join(dict.fromkeys(s.name for s in services)))
            else:
                ask = re.sub(r"\s*[（(]%\(services\)s[）)]", "", ask)
            views.append(
                CategoryView(category.value, label, about, ask, state.category_granted(category), services)
            )
        return tuple(views)

    def _context(self, state: ConsentState, lang: str) -> dict[str, object]:
        return {
            "lang": lang,
            "prefix": self.prefix,
            # the language the visitor read the choice in: what the consent record says they saw
            "action": f"{self.prefix}consent?lang={lang}",
            "disclosure_url": f"{self.prefix}disclosure?lang={lang}",
            "privacy_policy_url": self.privacy_policy_url,
            "stylesheet_url": self.stylesheet_url,
            "decided": state.decided,
            "gpc": state.gpc,
            "categories": self._category_views(state, lang),
        }

    # -- snippets ----------------------------------------------------------------------------------

    def snippets(
        self, state: ConsentState, lang: str, next_path: str, granted: frozenset[str]
    ) -> tuple[str, str]:
        """(head_html, body_html) for one page: the Consent Mode default and the stylesheet; the
        banner (or its reopen control) and the loader."""
        key = (state.key, lang, granted, next_path)
        hit = self._snippets.get(key)
        if hit is not None:
            return hit
        base = self._snippet_bases.get(key[:3])
        if base is None:
            base = self._render_snippets(state, lang, granted)
            self._snippet_bases.put(key[:3], base)
        head, body = base
        out = (head, body.replace(_NEXT, str(escape(next_path))))
        self._snippets.put(key, out)
        return out

    def _render_snippets(self, state: ConsentState, lang: str, granted: frozenset[str]) -> tuple[str, str]:
        lang = self._lang(lang)
        mode = consent_mode_defaults(state, state.granted_services(self.registry), self.registry)
        args = json.dumps(["consent", "default", mode], separators=(",", ":"))[1:-1]
        head = (
            # the in-page cookie gate first: it must stand before any script of the page runs
            f"<script data-gk-snippet>{in_page_gate(self.registry, state)}{self._cookie_gate}"
            "window.dataLayer=window.dataLayer||[];"
            f"(function(){{dataLayer.push(arguments)}})({args})</script>"
            f'<link rel="stylesheet" href="{escape(self.stylesheet_url)}" data-gk-snippet>'
        )
        banner = self.env.get_template("banner.html").render(self._context(state, lang), next=_NEXT)
        loader = (
            f'<script defer src="{escape(self.loader_url)}" data-gk-snippet'
            f' data-gk-prefix="{escape(self.prefix)}" data-gk-granted="{escape(" ".join(sorted(granted)))}"'
            f' data-gk-csp="{int(self.csp_enforced)}" data-gk-ss="{escape(self._sale_share)}"></script>'
        )
        # the form of every placeholder's buttons (a placeholder may be inside a <p>, where a form
        # of its own would end the paragraph); outside the banner, so an operator's banner.html
        # cannot drop it
        form = f'<form id="gk-phf" method="post" action="{escape(self.prefix)}consent" hidden></form>'
        return head, banner.strip() + form + loader

    # -- placeholders ------------------------------------------------------------------------------

    def placeholder(self, embed: Embed, lang: str, next_path: str, page_url: str = "") -> str:
        """The two-click placeholder that stands in for one embed until its service is allowed; for a
        share button, a plain link to the network's share page (it learns nothing until clicked)."""
        ids = tuple(s if isinstance(s, str) else s.id for s in embed.services)
        if ids[:1] == (UNDECLARED,):  # the stand-in's name is the host it names
            ids = tuple(s if isinstance(s, str) else s.name.en for s in embed.services)
        shared = shared_page(embed, page_url)
        key = (ids, embed.tag, embed.width, embed.height, embed.share, lang, shared)
        html = self._placeholders.get(key)
        if html is None:
            html = self._render_placeholder(embed, lang, shared)
            self._placeholders.put(key, html)
        return (
            html.replace(_INDEX, str(embed.index))
            .replace(_NEXT_Q, str(escape(quote(next_path, safe="/"))))
            .replace(_NEXT, str(escape(next_path)))
        )

    def _render_placeholder(self, embed: Embed, lang: str, shared: str = "") -> str:
        lang = self._lang(lang)
        by_id = self.registry.by_id
        services = [
            by_id[i] for i in (s if isinstance(s, str) else s.id for s in embed.services) if i in by_id
        ]
        if not services:
            return self._render_undeclared(embed, lang)
        first = services[0]
        small = is_small(embed)
        share_url = None
        if first.share_url and shared and (embed.share or small):
            share_url = first.share_url.replace("{url}", quote(shared, safe=""))
        query = urlencode(
            [("service", s.id) for s in services] + [("embed", _INDEX), ("lang", lang)]
        )
        view = self._service_view(first, ConsentState(), frozenset(), lang)
        return (
            self.env.get_template("placeholder.html")
            .render(
                lang=lang,
                action=f"{self.prefix}consent?{query}&next={_NEXT_Q}%23{anchor_id(_INDEX)}",
                disclosure_url=f"{self.prefix}disclosure?lang={lang}#gk-s-{first.id}",
                index=_INDEX,
                size=placeholder_size(embed, first.placeholder.value, small or share_url is not None),
                inline=embed.tag.lower() in _INLINE_TAGS,
                small=small,
                share_url=share_url,
                network=network_name(view.name),
                service=view,
                services=[s.id for s in services],
            )
            .strip()
        )

    def _render_undeclared(self, embed: Embed, lang: str) -> str:
        """The box before an embed from a host no declared service covers: what it is and which host
        it would contact; no buttons (only the operator can declare it). Tracking-pixel frames get none."""
        first = embed.services[0] if embed.services else None
        if not isinstance(first, Service) or first.id != UNDECLARED:
            return ""
        width, height = css_length(embed.width), css_length(embed.height)
        if any(v and v.endswith("px") and float(v[:-2]) <= 2 for v in (width, height)):
            return ""
        tag = embed.tag.lower()
        kind = tag if tag in ("video", "audio") else "iframe" if "frame" in tag else "object"
        return (
            self.env.get_template("undeclared.html")
            .render(
                lang=lang,
                index=_INDEX,
                host=first.name.en,
                kind=kind,
                size=placeholder_size(embed, first.placeholder.value, is_small(embed)),
                inline=tag in _INLINE_TAGS,
            )
            .strip()
        )

    # -- the notice page ---------------------------------------------------------------------------

    def disclosure(self, state: ConsentState, lang: str, host: str = "") -> str:
        """The full notice page: who receives what and why, the site's cookies, and the choices;
        `host` (the request's) names the site when no site_name is configured."""
        lang = self._lang(lang)
        necessary = self._label(Category.NECESSARY, lang)
        own = []
        if self.consent_cookie:
            name, days = self.consent_cookie
            purpose = self.catalogues.gettext(lang, _CONSENT_COOKIE)
            own.append(CookieView(name, necessary, purpose, self._lifetime(days, lang)))
        cookies = tuple(
            own
            + [
                CookieView(
                    c.name,
                    self._label(c.category, lang),
                    self.catalogues.text(lang, c.purpose),
                    self._lifetime(c.max_age_days, lang),
                )
                for c in self.registry.cookies
            ]
        )
        granted = state.granted_services(self.registry)
        return self.env.get_template("disclosure.html").render(
            self._context(state, lang),
            services=tuple(self._service_view(s, state, granted, lang) for s in self.registry.services),
            next=f"{self.prefix}disclosure?lang={lang}",
            cookies=cookies,
            policy_version=self.registry.policy_version,
            other_languages=tuple(
                (other, self.catalogues.endonym(other), f"{self.prefix}disclosure?lang={other}")
                for other in self.catalogues.languages
                if other != lang
            ),
            policy_date=self._date(self.registry.policy_date, lang) if self.registry.policy_date else None,
            site_name=self.site_name or _hostname(host),
            operator_name=self.operator_name,
        )


@dataclass(frozen=True, slots=True)
class _SampleEmbed:
    services: tuple[str, ...]
    index: int = 0
    tag: str = "iframe"
    width: str | int | None = 560
    height: str | int | None = 315
    url: str = "https://example.com/"
    share: bool = False
