"""The demo site: a small city office website with the third-party markup such sites really carry
(video and map embeds, social buttons, web fonts, an analytics tag, a tracking pixel), in English and
Japanese. `site()` is the bare app; `gatekeeper demo` serves it behind the middleware."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

__all__ = ["SERVICES_FILE", "demo_app", "site"]

SERVICES_FILE = Path(str(resources.files("gatekeeper.demo").joinpath("services.toml")))

NEWS = [
    {
        "id": 3,
        "date": "2026-11-20",
        "title": {"en": "Winter road closures on the river path", "ja": "河川敷遊歩道の冬季通行止めについて"},
        "body": {
            "en": "From 1 December the river path between Kita bridge and Minami bridge is closed "
            "for repairs.",
            "ja": "12月1日から、北橋から南橋までの河川敷遊歩道は補修工事のため通行止めとなります。",
        },
    },
    {
        "id": 2,
        "date": "2026-11-12",
        "title": {
            "en": "Autumn festival: thank you for coming",
            "ja": "秋まつりへのご来場ありがとうございました",
        },
        "body": {
            "en": "About 12,000 people visited the autumn festival. Photos are on the city's page.",
            "ja": "秋まつりには約12,000人の皆さまにご来場いただきました。写真を市のページに掲載しています。",
        },
    },
    {
        "id": 1,
        "date": "2026-10-30",
        "title": {"en": "New opening hours of the city library", "ja": "市立図書館の開館時間が変わります"},
        "body": {
            "en": "From November the city library opens at 9:00 on weekdays and closes at 20:00.",
            "ja": "11月から、市立図書館の平日の開館時間は9時から20時までとなります。",
        },
    },
]

TEXT = {
    "en": {
        "city": "Midori City",
        "home": "Home",
        "news": "News",
        "access": "Access",
        "welcome": "Welcome to the Midori City website",
        "intro": "Information for residents and visitors: news, events, and how to find the city office.",
        "latest": "Latest news",
        "share": "Share this page",
        "video": "A walk along the Midori river",
        "map": "How to find the city office",
        "address": "1-1 Chuo, Midori City. Open weekdays 8:30-17:15.",
        "language": "日本語",
        "other_lang": "ja",
        "privacy": "Privacy and cookies",
        "size": "Text size",
    },
    "ja": {
        "city": "みどり市",
        "home": "ホーム",
        "news": "お知らせ",
        "access": "アクセス",
        "welcome": "みどり市ホームページへようこそ",
        "intro": "市民の皆さま、来訪者の皆さまへのお知らせ、イベント、市役所へのアクセスをご案内します。",
        "latest": "新着情報",
        "share": "このページを共有する",
        "video": "みどり川の散歩道",
        "map": "市役所へのアクセス",
        "address": "みどり市中央1-1　平日8時30分から17時15分まで",
        "language": "English",
        "other_lang": "en",
        "privacy": "プライバシーとCookie",
        "size": "文字サイズ",
    },
}

_env = Environment(loader=PackageLoader("gatekeeper.demo", "templates"), autoescape=select_autoescape())


def _lang(request: Request) -> str:
    # a link may carry the language; the cookie remembers it only once the visitor allows usability
    chosen = request.query_params.get("lang") or request.cookies.get("lang") or "ja"
    return "en" if chosen == "en" else "ja"


def _render(request: Request, template: str, **context: Any) -> HTMLResponse:
    lang = _lang(request)
    size = request.cookies.get("textsize", "normal")
    html = _env.get_template(template).render(
        t=TEXT[lang], lang=lang, path=request.url.path, news=NEWS, textsize=size, **context
    )
    return HTMLResponse(html)


async def home(request: Request) -> Response:
    return _render(request, "home.html")


async def news_list(request: Request) -> Response:
    return _render(request, "news.html")


async def article(request: Request) -> Response:
    item = next((n for n in NEWS if str(n["id"]) == request.path_params["id"]), None)
    if item is None:
        return PlainTextResponse("Not found", 404)
    return _render(request, "article.html", item=item)


async def access(request: Request) -> Response:
    return _render(request, "access.html")


def _back(request: Request) -> str:
    back = request.query_params.get("next", "/")
    return back if back.startswith("/") and not back.startswith("//") else "/"


async def set_language(request: Request) -> Response:
    lang = request.path_params["lang"]
    back = _back(request)
    response = RedirectResponse(f"{back}{'&' if '?' in back else '?'}lang={lang}", status_code=303)
    if lang in ("en", "ja"):
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


async def set_text_size(request: Request) -> Response:
    size = request.path_params["size"]
    response = RedirectResponse(_back(request), status_code=303)
    if size in ("normal", "large"):
        response.set_cookie("textsize", size, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


async def robots(request: Request) -> Response:
    return PlainTextResponse("User-agent: *\nAllow: /\n")


async def sitemap(request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    paths = ["/", "/news/", "/access", *(f"/news/{n['id']}" for n in NEWS)]
    urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in paths)
    xml = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    return Response(xml, media_type="application/xml")


def site() -> Starlette:
    """The city website as its developers wrote it, without gatekeeper."""
    return Starlette(
        routes=[
            Route("/", home),
            Route("/news/", news_list),
            Route("/news/{id}", article),
            Route("/access", access),
            Route("/lang/{lang}", set_language),
            Route("/textsize/{size}", set_text_size),
            Route("/robots.txt", robots),
            Route("/sitemap.xml", sitemap),
            Mount("/static", StaticFiles(packages=[("gatekeeper.demo", "static")]), name="static"),
        ]
    )


def demo_app(secret_keys: str | list[str], **options: Any) -> Any:
    """The same site behind gatekeeper, with the demo's services file."""
    from gatekeeper import Gatekeeper

    # The city's privacy notice is gatekeeper's notice page (the footer's "Privacy and cookies"): the
    # banner links it as the site's privacy policy too.
    options.setdefault("privacy_policy_url", "/_gatekeeper/disclosure")
    return Gatekeeper(site(), secret_keys=secret_keys, services=SERVICES_FILE, **options)
