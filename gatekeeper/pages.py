"""Response body, what the visitor sees: the banner and loader snippets, the two-click placeholders and the
notice page, rendered from the registry (Jinja2, English and Japanese) and cached; no ASGI here.

Operator templates in `template_dir` override ours by file name (banner.html, placeholder.html,
disclosure.html, _settings.html); the context each one gets is written at its top.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import os
import re
import threading
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Generic, Protocol, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import jinja2
from markupsafe import escape

from .consent import ConsentState
from .registry import CONSENT_MODE_TYPES, Category, ConfigError, Registry, Service

__all__ = ["LANGUAGES", "Pages", "build_static", "consent_mode_defaults", "snippet_budget"]

LANGUAGES = ("en", "ja")
_NEXT = "gk-next-9c4e1a"  # stands for the page's path in cached renders; survives autoescape as is
_NEXT_Q = "gk-nextq-9c4e1a"  # the same, percent-encoded for a URL's query
# A body snippet is 5-15 KB (the settings list every service): 256 pages' worth is a few MB. A path
# not in the cache costs one str.replace on its consent state's render (microseconds), not a render.
_PAGES_CACHED = 256
_STATES_CACHED = 256
_PLACEHOLDERS_CACHED = 1024
_ALL_TYPES = tuple(t for c in Category for t in CONSENT_MODE_TYPES[c])
_INLINE_TAGS = frozenset({"iframe", "video", "audio", "img", "object", "embed", "picture"})
_SHARING_TYPES = ("ad_user_data", "ad_personalization")  # what Global Privacy Control opts out of


class Embed(Protocol):
    """What a placeholder needs of an embed (gatekeeper.rewrite.Embed has this shape)."""

    @property
    def index(self) -> int: ...
    @property
    def tag(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def share(self) -> bool: ...
    @property
    def width(self) -> str | int | None: ...
    @property
    def height(self) -> str | int | None: ...
    @property
    def services(self) -> Sequence[str] | Sequence[Service]: ...


# ---------------------------------------------------------------------------------------------
# Texts. Operators change wording by overriding a template; these are the defaults.

_TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Cookies and information sent to other companies",
        "intro": "This site's own cookies only make it easier to use and hold no personal "
        "information. With your permission, we also use the services below, which send "
        "information about your visit to the companies that provide them.",
        "details": "Details: who receives what, and why",
        "service_line": "Recipient: {vendor} — Purpose: {purpose}",
        "later": "You can change your choice at any time under “Privacy settings”.",
        "gpc": "Your browser sends a Global Privacy Control signal, and we honour it: services "
        "that sell or share your information stay off unless you turn them on here.",
        "accept": "Accept all",
        "reject": "Reject all",
        "settings": "Settings",
        "save": "Save choices",
        "reopen": "Privacy settings",
        "hint": "Nothing is on until you turn it on. Ticking a category allows every service in "
        "it; to allow only some, tick just those services.",
        "necessary": "Strictly necessary (always on)",
        "necessary_about": "Keep the site working and remember the choice you make here.",
        "recipient": "Recipient",
        "category": "Category",
        "sent": "Information sent",
        "colon": ": ",
        "purpose": "Purpose",
        "policy": "Privacy policy",
        "their_cookies": "Cookies it sets",
        "cookie_meta": "(Lifetime: {lifetime})",
        "cookie_meta_site": "(Lifetime: {lifetime}; set on this site's domain)",
        "consent_cookie": "Remembers the choices you make about cookies and the services listed here.",
        "your_choice": "Your choice",
        "allowed": "Allowed",
        "not_allowed": "Not allowed",
        "not_allowed_gpc": "Not allowed (Global Privacy Control)",
        "ph_intro": "This content is provided by {name} ({vendor}). Loading it sends information "
        "about your visit to {vendor}.",
        "ph_details": "About the information sent",
        "once": "Load once",
        "always": "Always allow {name}",
        "always_short": "Always allow",
        "details_short": "Details",
        "page_intro": "This site uses cookies only to make it easier to use; they hold no personal "
        "information. Only with your permission does it use the services below, which send "
        "information about your visit to the recipients named here. This page is generated from "
        "the site's configuration, so it lists exactly what the site does.",
        "services": "Services that receive information",
        "no_services": "This site uses no such services.",
        "site_cookies": "Cookies set by this site",
        "no_cookies": "This site sets no cookies of its own other than the one that remembers your choice.",
        "name": "Name",
        "lifetime": "Lifetime",
        "session": "Until you close the browser",
        "days": "{n} days",
        "hours": "{n} hours",
        "choices": "Your choices",
        "version": "Policy version",
        "language": "日本語",
        "site_policy": "Privacy policy",
        "back": "Back to {site}",
        "operator": "{site} is operated by {operator}.",
        "changed": "Last changed on {date}.",
        "date": "{d} {month} {y}",
        "months": "January February March April May June July August September October November December",
        "share_on": "Share on {network}",
        "share_title": "Opens {network} in a new tab; nothing is sent to it before you click.",
        "receipt": "Your choice of {date}. Receipt code:",
        "receipt_download": "Download the receipt (JSON)",
    },
    "ja": {
        "title": "Cookieと外部送信について",
        "intro": "本サイトが使用するCookieは、サイトを使いやすくするためのものであり、個人を特定する"
        "情報は含まれていません。皆様の同意をいただいた場合に限り、次のサービスを利用し、閲覧に関する"
        "情報を各サービスの提供事業者に送信します。",
        "details": "送信される情報と送信先の詳細",
        "service_line": "送信先：{vendor}　利用目的：{purpose}",
        "later": "選択した内容は「プライバシー設定」からいつでも変更できます。",
        "gpc": "お使いのブラウザからグローバル・プライバシー・コントロール（GPC）の信号を受信しました。"
        "本サイトはこれを尊重し、情報の販売・共有にあたるサービスは、ここで有効にされない限り利用"
        "しません。",
        "accept": "すべて同意する",
        "reject": "すべて拒否する",
        "settings": "詳細設定",
        "save": "選択した内容を保存する",
        "reopen": "プライバシー設定",
        "hint": "選択されるまで、いずれも無効です。分類を選択すると、その分類のすべてのサービスを"
        "許可します。一部のサービスのみを許可する場合は、そのサービスだけを選択してください。",
        "necessary": "必須（常に有効）",
        "necessary_about": "サイトの動作と、この画面で選択した内容の記憶に使用します。",
        "recipient": "送信先",
        "category": "分類",
        "sent": "送信される情報",
        "colon": "：",
        "purpose": "利用目的",
        "policy": "プライバシーポリシー",
        "their_cookies": "送信先が設定するCookie",
        "cookie_meta": "（保存期間：{lifetime}）",
        "cookie_meta_site": "（保存期間：{lifetime}、本サイトのドメインに設定）",
        "consent_cookie": "Cookieと、ここに記載したサービスについての選択内容を記憶します。",
        "your_choice": "現在の設定",
        "allowed": "許可しています",
        "not_allowed": "許可していません",
        "not_allowed_gpc": "許可していません（GPC）",
        "ph_intro": "このコンテンツは{vendor}の{name}により提供されています。表示すると、閲覧に関する"
        "情報が{vendor}に送信されます。",
        "ph_details": "外部送信について",
        "once": "今回のみ表示する",
        "always": "{name}を常に許可する",
        "always_short": "常に許可する",
        "details_short": "詳細",
        "page_intro": "本サイトでは、サイトを使いやすくするためにのみCookieを使用しており、Cookieに"
        "個人を特定する情報は含まれていません。皆様の同意をいただいた場合に限り、次の外部サービスを"
        "利用し、閲覧に関する情報を以下の送信先に送信します。このページはサイトの設定から自動的に"
        "作成しており、実際の動作と一致しています。",
        "services": "外部送信先と送信される情報",
        "no_services": "本サイトでは、外部送信を行うサービスを利用していません。",
        "site_cookies": "本サイトが使用するCookie",
        "no_cookies": "本サイトでは、選択内容を記憶するためのCookie以外は使用していません。",
        "name": "名称",
        "lifetime": "保存期間",
        "session": "ブラウザを閉じるまで",
        "days": "{n}日",
        "hours": "{n}時間",
        "choices": "同意の設定",
        "version": "ポリシーのバージョン",
        "language": "English",
        "site_policy": "プライバシーポリシー",
        "back": "{site}に戻る",
        "operator": "{site}の運営者：{operator}",
        "changed": "最終更新日：{date}",
        "date": "{y}年{m}月{d}日",
        "months": "",
        "share_on": "{network}で共有",
        "share_title": "{network}を新しいタブで開きます。クリックするまで何も送信されません。",
        "receipt": "{date}に選択した内容の受付番号：",
        "receipt_download": "控えをダウンロード（JSON）",
    },
}

_CATEGORY_TEXTS: Mapping[Category, Mapping[str, tuple[str, str, str]]] = {
    # (label, what it is, the one sentence that asks for it; {services} lists the services)
    Category.USABILITY: {
        "en": ("Usability", "Remembers settings such as language and text size on this device.",
               "Usability: remember your settings, such as language and text size."),
        "ja": ("利便性向上", "表示言語や文字サイズなどの設定を、この端末に記憶します。",
               "利便性向上：表示言語や文字サイズなどの設定を記憶します。"),
    },
    Category.ANALYTICS: {
        "en": ("Analytics", "Measures how pages are used, so that the site can be improved.",
               "Analytics ({services}): measure how pages are used, to improve the site."),
        "ja": ("アクセス解析", "サイトの改善のため、ページの閲覧状況を測定します。",
               "アクセス解析（{services}）：サイトの改善のため、閲覧状況を測定します。"),
    },
    Category.SOCIAL: {
        "en": ("Social media", "Share buttons and posts from social networks.",
               "Social media ({services}): show share buttons and posts; the network learns "
               "which page you are viewing."),
        "ja": ("ソーシャルメディア", "SNSの共有ボタンや投稿を表示します。",
               "ソーシャルメディア（{services}）：共有ボタンや投稿を表示します。閲覧中のページが"
               "SNSの事業者に伝わります。"),
    },
    Category.MEDIA: {
        "en": ("Videos and maps", "Videos, maps and other content embedded from other sites.",
               "Videos and maps ({services}): play embedded content; its provider receives your "
               "IP address and the page you are viewing."),
        "ja": ("動画・地図", "他のサイトの動画や地図などを埋め込んで表示します。",
               "動画・地図（{services}）：埋め込まれた動画や地図を表示します。提供事業者にIP"
               "アドレスや閲覧中のページが送信されます。"),
    },
    Category.MARKETING: {
        "en": ("Advertising", "Measures advertising and shows advertising suited to you.",
               "Advertising ({services}): measure advertising and show advertising suited to you."),
        "ja": ("広告", "広告の効果測定や、閲覧者に合わせた広告の表示に使用します。",
               "広告（{services}）：広告の効果を測定し、閲覧者に合わせた広告を表示します。"),
    },
    Category.NECESSARY: {
        "en": ("Strictly necessary", "Keeps the site working.", "Strictly necessary."),
        "ja": ("必須", "サイトの動作に必要です。", "必須。"),
    },
    Category.REQUIRED: {
        "en": ("Required for the site to work",
               "Loaded without consent because the site cannot work without it; receives your IP "
               "address and the page you are viewing.",
               "Required for the site to work (loaded without consent)."),
        "ja": ("サイトの動作に必須の配信元",
               "サイトの動作に欠かせないため、同意なしに読み込みます。IPアドレスと閲覧中のページが"
               "送信されます。",
               "サイトの動作に必須（同意なしに読み込みます）。"),
    },
}  # fmt: skip


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


def consent_mode_defaults(state: ConsentState, granted: Iterable[str], registry: Registry) -> dict[str, str]:
    """Google Consent Mode v2 values for a state: a type is granted when its category is; under
    Global Privacy Control the ad data-sharing types also need a sale/share service opted in to."""
    out = {t: "denied" for t in _ALL_TYPES}
    for category in Category:
        if state.category_granted(category):
            for t in CONSENT_MODE_TYPES[category]:
                out[t] = "granted"
    ids = set(granted)
    if state.gpc and not any(s.sale_share and s.id in ids for s in registry.services):
        for t in _SHARING_TYPES:
            out[t] = "denied"
    return out


def _compact_js(text: str) -> str:
    """Whole-line comments and indentation go (newlines stay, so semicolon insertion is unchanged)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


def _compact_css(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([{};,>])\s*", r"\1", text).replace(";}", "}").strip() + "\n"


def build_static(loader_js: str, css: str) -> dict[str, tuple[bytes, str]]:
    """The served snippets under content-hashed names (so they can be cached for a year)."""
    cm = {c.value: list(t) for c, t in CONSENT_MODE_TYPES.items() if t}
    js = _compact_js(loader_js.replace("/*CM*/{}", json.dumps(cm, separators=(",", ":"))))
    out: dict[str, tuple[bytes, str]] = {}
    for stem, ext, body, media in (
        ("loader", "js", js, "text/javascript; charset=utf-8"),
        ("gatekeeper", "css", _compact_css(css), "text/css; charset=utf-8"),
    ):
        data = body.encode("utf-8")
        out[f"{stem}.{hashlib.sha256(data).hexdigest()[:12]}.{ext}"] = (data, media)
    return out


def snippet_budget(static: Mapping[str, tuple[bytes, str]]) -> int:
    """Bytes of loader + styles, each gzipped as a server would send them."""
    return sum(len(gzip.compress(data, 9)) for data, _ in static.values())


@lru_cache(maxsize=512)
def _accept_language(header: str) -> str | None:
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, eq, value = param.strip().partition("=")
            if eq and key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0
        if q > 0:
            ranked.append((-q, i, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        primary = tag.replace("_", "-").split("-")[0]
        if primary in LANGUAGES:
            return primary
        if primary == "*":
            return LANGUAGES[0]
    return None


def _primary(tag: str | None) -> str | None:
    if not tag:
        return None
    primary = tag.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


def _css_length(value: str | int | None) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().lower()
    m = re.fullmatch(r"(\d{1,5}(?:\.\d+)?)(px|%)?", text)
    if not m or float(m.group(1)) == 0:
        return None
    return m.group(1) + (m.group(2) or "px")


def _placeholder_size(embed: Embed, kind: str, small: bool) -> str:
    """Inline size of a placeholder: at least the embed's own (or a width-filling box of its kind's
    shape), never narrower than the page (max-width in the style sheet) and never shorter than what it
    says: its height is a minimum, so a narrow screen or a large font makes it grow instead of clip."""
    width, height = _css_length(embed.width), _css_length(embed.height)
    if small:  # one line of its own length, at least the button's width where there is room
        return f"min-width:min({width},100%)" if width else ""
    ratio = "4/3" if kind == "map" else "16/9"
    if kind in ("post", "button") and not height:
        return f"width:{width or '100%'};min-height:8rem"
    if width and height:
        return f"width:{width};min-height:{height}"
    if width:
        return f"width:{width};aspect-ratio:{ratio}"
    if height:
        return f"width:100%;min-height:{height}"
    return f"width:100%;aspect-ratio:{ratio}"


def _network(service: Service) -> str:
    """What a share link calls the network: the service's name without its parenthesis or 'button'."""
    return re.sub(r"\s*\(.*\)|\s+button$", "", service.name).strip() or service.name


def _shared_page(embed: Embed, page_url: str) -> str:
    """The page a share link shares: a share widget's own target, a plugin frame's `href`/`url`
    parameter (Facebook's and LINE's), else the page it is on."""
    if embed.share:
        return embed.url
    if embed.tag.lower() in ("iframe", "frame"):
        for key, value in parse_qsl(urlsplit(embed.url).query):
            if key in ("href", "url") and value.startswith(("https://", "http://")):
                return value
    return page_url


def _hostname(host: str) -> str:
    """A Host header without its port: what a visitor reads as the site's name by default."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0]


def _date(day: datetime.date, t: Mapping[str, str]) -> str:
    months = t["months"].split()
    month = months[day.month - 1] if len(months) == 12 else str(day.month)
    return t["date"].format(y=day.year, m=day.month, d=day.day, month=month)


def _is_small(embed: Embed) -> bool:
    """Button-sized (a like or share button in a frame): no room for more than a line."""
    width, height = _css_length(embed.width), _css_length(embed.height)
    return bool(
        (height and height.endswith("px") and float(height[:-2]) < 150)
        or (width and width.endswith("px") and float(width[:-2]) < 260)
    )


def _lifetime(days: float | None, t: Mapping[str, str]) -> str:
    if days is None:
        return t["session"]
    if days < 1:
        return t["hours"].format(n=max(1, round(days * 24)))
    return t["days"].format(n=f"{days:g}")


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
        site_name: str | None = None,
        operator_name: str | None = None,
        privacy_policy_url: str | None = None,
    ) -> None:
        """`consent_cookie`: (name, lifetime in days) of the cookie that keeps the visitor's choice, so
        the notice lists it too. `site_name` (default: the request's host) and `operator_name` name the
        site and who runs it on the notice page; `privacy_policy_url` (a path or an http(s) URL) is
        linked from the banner and the notice."""
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
        )
        files = resources.files("gatekeeper.snippets")
        self.static: Mapping[str, tuple[bytes, str]] = build_static(
            files.joinpath("loader.js").read_text("utf-8"),
            files.joinpath("gatekeeper.css").read_text("utf-8"),
        )
        names = {name.rsplit(".", 1)[1]: name for name in self.static}
        self.loader_url = f"{prefix}static/{names['js']}"
        self.stylesheet_url = f"{prefix}static/{names['css']}"
        self._sale_share = " ".join(s.id for s in registry.services if s.sale_share)
        self._snippets: _LRU[Hashable, tuple[str, str]] = _LRU(_PAGES_CACHED)
        self._snippet_bases: _LRU[Hashable, tuple[str, str]] = _LRU(_STATES_CACHED)
        self._placeholders: _LRU[Hashable, str] = _LRU(_PLACEHOLDERS_CACHED)
        self._check_templates()

    def _check_templates(self) -> None:
        """An operator's template with a mistake fails at start-up, not on a visitor's page."""
        try:
            for lang in LANGUAGES:
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
        """The page's own `<html lang>` when we speak it, else the visitor's best Accept-Language."""
        return (
            _primary(html_lang)
            or (_accept_language(accept_language) if accept_language else None)
            or LANGUAGES[0]
        )

    # -- views -------------------------------------------------------------------------------------

    def _texts(self, lang: str) -> Mapping[str, str]:
        return _TEXTS.get(lang, _TEXTS["en"])

    def _service_view(self, s: Service, state: ConsentState, granted: frozenset[str], lang: str
                      ) -> ServiceView:  # fmt: skip
        t = self._texts(lang)
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
            name=s.name,
            vendor=s.vendor,
            category=_CATEGORY_TEXTS[s.category][lang][0],
            purpose=s.purpose.get(lang),
            data_sent=s.data_sent.get(lang),
            policy_url=s.policy_url,
            cookies=tuple(
                (c.name, c.purpose.get(lang), _lifetime(c.max_age_days, t), c.first_party) for c in s.cookies
            ),
            checked=s.id in granted,
            status=status,
        )

    def _category_views(self, state: ConsentState, lang: str) -> tuple[CategoryView, ...]:
        granted = state.granted_services(self.registry)
        sep = "、" if lang == "ja" else ", "
        views = []
        for category in self.registry.categories:
            label, about, ask = _CATEGORY_TEXTS[category][lang]
            services = tuple(
                self._service_view(s, state, granted, lang)
                for s in self.registry.services
                if s.category is category
            )
            if services:
                ask = ask.format(services=sep.join(dict.fromkeys(s.name for s in services)))
            else:
                ask = re.sub(r"\s*[（(]\{services\}[）)]", "", ask)
            views.append(
                CategoryView(category.value, label, about, ask, state.category_granted(category), services)
            )
        return tuple(views)

    def _context(self, state: ConsentState, lang: str) -> dict[str, object]:
        return {
            "lang": lang,
            "t": self._texts(lang),
            "prefix": self.prefix,
            "action": self.prefix + "consent",
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
        lang = lang if lang in LANGUAGES else LANGUAGES[0]
        mode = consent_mode_defaults(state, state.granted_services(self.registry), self.registry)
        args = json.dumps(["consent", "default", mode], separators=(",", ":"))[1:-1]
        head = (
            "<script data-gk-snippet>window.dataLayer=window.dataLayer||[];"
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
        shared = _shared_page(embed, page_url)
        key = (ids, embed.index, embed.tag, embed.width, embed.height, embed.share, lang, shared)
        html = self._placeholders.get(key)
        if html is None:
            html = self._render_placeholder(embed, lang, shared)
            self._placeholders.put(key, html)
        return html.replace(_NEXT_Q, str(escape(quote(next_path, safe="/")))).replace(
            _NEXT, str(escape(next_path))
        )

    def _render_placeholder(self, embed: Embed, lang: str, shared: str = "") -> str:
        lang = lang if lang in LANGUAGES else LANGUAGES[0]
        by_id = self.registry.by_id
        services = [
            by_id[i] for i in (s if isinstance(s, str) else s.id for s in embed.services) if i in by_id
        ]
        if not services:
            return ""
        first = services[0]
        small = _is_small(embed)
        share_url = None
        if first.share_url and shared and (embed.share or small):
            share_url = first.share_url.replace("{url}", quote(shared, safe=""))
        query = urlencode([("service", s.id) for s in services] + [("embed", str(embed.index))])
        return (
            self.env.get_template("placeholder.html")
            .render(
                lang=lang,
                t=self._texts(lang),
                action=f"{self.prefix}consent?{query}&next={_NEXT_Q}%23gk-ph-{embed.index}",
                disclosure_url=f"{self.prefix}disclosure?lang={lang}#gk-s-{first.id}",
                index=embed.index,
                size=_placeholder_size(embed, first.placeholder.value, small or share_url is not None),
                inline=embed.tag.lower() in _INLINE_TAGS,
                small=small,
                share_url=share_url,
                network=_network(first),
                service=self._service_view(first, ConsentState(), frozenset(), lang),
                services=[s.id for s in services],
            )
            .strip()
        )

    # -- the notice page ---------------------------------------------------------------------------

    def disclosure(self, state: ConsentState, lang: str, host: str = "") -> str:
        """The full notice page: who receives what and why, the site's cookies, and the choices;
        `host` (the request's) names the site when no site_name is configured."""
        if lang not in LANGUAGES:
            lang = LANGUAGES[0]
        t = self._texts(lang)
        necessary = _CATEGORY_TEXTS[Category.NECESSARY][lang][0]
        own = []
        if self.consent_cookie:
            name, days = self.consent_cookie
            own.append(CookieView(name, necessary, t["consent_cookie"], _lifetime(days, t)))
        cookies = tuple(
            own
            + [
                CookieView(
                    c.name,
                    _CATEGORY_TEXTS[c.category][lang][0],
                    c.purpose.get(lang),
                    _lifetime(c.max_age_days, t),
                )
                for c in self.registry.cookies
            ]
        )
        other = "ja" if lang == "en" else "en"
        granted = state.granted_services(self.registry)
        return self.env.get_template("disclosure.html").render(
            self._context(state, lang),
            services=tuple(self._service_view(s, state, granted, lang) for s in self.registry.services),
            next=f"{self.prefix}disclosure?lang={lang}",
            cookies=cookies,
            policy_version=self.registry.policy_version,
            policy_date=_date(self.registry.policy_date, t) if self.registry.policy_date else None,
            site_name=self.site_name or _hostname(host),
            operator_name=self.operator_name,
            other_language_url=f"{self.prefix}disclosure?lang={other}",
            other_language=other,
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
