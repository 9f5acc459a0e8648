"""The consent endpoints, answered before the app: choices (form or JSON), the state, the notice
page, the loader's static files and CSP reports.

A choice comes from a same-origin form or `fetch()`; anything cross-site is refused, bodies are small,
and every mistake gets a status and a one-line reason, never a 500.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import anyio
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from .consent import ConsentCodec, ConsentState, state_for_choice
from .cookies import expire_cookie
from .csp_reports import ReportBudget, printable, violations
from .logs import log_once, logged
from .once import COOKIE, OnceTickets
from .registry import Category, Registry
from .suggest import csp_advice, page_of

__all__ = ["BadRequest", "Choice", "Endpoints", "is_cross_site", "parse_choice", "safe_next"]

log = logging.getLogger("gatekeeper.endpoints")

MAX_BODY = 16 * 1024
BODY_TIMEOUT = 10.0  # seconds for a whole choice body: a slow client gets 408, not a held worker
CHOICES = ("all", "none", "custom", "allow", "once")


class BadRequest(ValueError):
    """A choice we cannot act on; the message is the one-line reason sent back."""


@dataclass(frozen=True, slots=True)
class Choice:
    choice: str
    categories: frozenset[Category] = frozenset()
    services: frozenset[str] = frozenset()
    next: str = "/"
    embed: int | None = None


_JSON_LISTS = {"categories": "category", "category": "category", "services": "service", "service": "service"}


_FORM: Final = "application/x-www-form-urlencoded"


def parse_choice(content_type: str, body: bytes, registry: Registry) -> tuple[Choice, bool]:
    """The visitor's choice and whether it came as JSON; `BadRequest` says what is wrong."""
    media = content_type.split(";", 1)[0].strip().lower()
    fields: dict[str, list[str]] = {}
    if media == "application/json":
        as_json = True
        try:
            data = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError):  # 16 KiB of "[" is deeper than json.loads goes
            raise BadRequest("the body is not JSON") from None
        if not isinstance(data, dict):
            raise BadRequest("the JSON body must be an object")
        for key, value in data.items():
            if key in _JSON_LISTS:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise BadRequest(f"{key!r} must be a list of strings")
                fields.setdefault(_JSON_LISTS[key], []).extend(value)
            elif key in ("choice", "next"):
                if not isinstance(value, str):
                    raise BadRequest(f"{key!r} must be a string")
                fields[key] = [value]
            elif key == "embed":
                if not isinstance(value, int) or isinstance(value, bool):
                    raise BadRequest("'embed' must be an integer")
                fields[key] = [str(value)]
            else:
                raise BadRequest(f"unknown field {key!r}")
    elif media == _FORM:
        as_json = False
        try:
            text = body.decode("ascii")
            pairs = parse_qsl(
                text,
                keep_blank_values=True,
                strict_parsing=bool(text),
                encoding="utf-8",
                errors="strict",
                max_num_fields=200,
            )
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("the form body is malformed") from None
        for key, value in pairs:
            if key not in ("choice", "category", "service", "next", "embed"):
                continue  # forms may carry other fields (a submit button's name, a token...)
            fields.setdefault(key, []).append(value)
    else:
        raise BadRequest("send application/x-www-form-urlencoded or application/json")

    choices = fields.get("choice", [])
    if len(choices) != 1 or choices[0] not in CHOICES:
        raise BadRequest(f"'choice' must be one of: {', '.join(CHOICES)}")
    choice = choices[0]
    categories = set()
    for name in fields.get("category", []):
        try:
            category = Category(name)
        except ValueError:
            raise BadRequest(f"unknown category {name!r}") from None
        if category is not Category.NECESSARY and category not in registry.categories:
            raise BadRequest(f"category {name!r} is not offered on this site")
        categories.add(category)
    services = set()
    for sid in fields.get("service", []):
        if sid not in registry.by_id:
            raise BadRequest(f"unknown service {sid!r}")
        services.add(sid)
    embed = None
    if choice == "once":
        raw = fields.get("embed", [])
        if len(services) != 1 or len(raw) != 1 or not re.fullmatch(r"\d{1,5}", raw[0]):
            raise BadRequest("'once' needs one 'service' and the 'embed' number")
        embed = int(raw[0])
    nexts = fields.get("next", [])
    return Choice(
        choice, frozenset(categories), frozenset(services), safe_next(nexts[0] if nexts else "/"), embed
    ), as_json


def safe_next(target: str) -> str:
    """`target` if it is a path on this site, else "/": no `//host`, `/\\host`, scheme, or encoded
    or whitespace trick that a browser (or a server decoding it once more) would turn into one."""
    if not target.startswith("/") or len(target) > 2048:
        return "/"
    if any(ord(c) < 0x21 or c in "\\\x7f" for c in target):
        return "/"  # browsers drop tabs and newlines and read "\\" as "/": "/\\evil" is "//evil"
    decoded = target
    for _ in range(4):  # a server or proxy further on may decode it again
        if decoded.startswith("//") or any(ord(c) < 0x20 or c in "\\\x7f" for c in decoded):
            return "/"
        decoded = unquote(decoded)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target if target.isascii() else quote(target, safe=_URL_SAFE)


_URL_SAFE = "/?#[]@!$&'()*+,;=%:~-._"


def is_cross_site(headers: Headers, host: str) -> bool:
    """A POST from another origin: refused (the consent must be the visitor's own act, on this site)."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() != "same-origin":
        return True
    origin = headers.get("origin")
    if origin is None:
        return False  # a non-browser client: nothing cross-site about it
    if origin == "null":
        return True
    try:
        netloc = urlsplit(origin).netloc.lower()
    except ValueError:  # "http://[::1" is no origin a browser sends
        return True
    return netloc != host.lower()


@dataclass
class Endpoints:
    registry: Registry
    codec: ConsentCodec
    prefix: str
    pages: Any  # gatekeeper.pages.Pages (rendering; kept loose to avoid an import cycle)
    is_https: Callable[[Scope], bool]
    once_cookie: str = COOKIE
    clock: Callable[[], float] = time.time
    report_budget: ReportBudget = field(default_factory=ReportBudget)
    records: Any = None  # gatekeeper.records.ConsentRecords when the site keeps consent records
    _routes: Mapping[str, Callable[..., Any]] = field(init=False)
    once: OnceTickets = field(init=False)  # "load once" tickets, read by the middleware too

    def __post_init__(self) -> None:
        self.once = OnceTickets(self.codec, self.registry, self.once_cookie)
        self._routes = {
            "consent": self.consent,
            "disclosure": self.disclosure,
            "csp-report": self.csp_report,
        }
        if self.records is not None:
            self._routes = {**self._routes, "receipt": self.records.receipt}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rest = scope["path"][len(self.prefix) :]
        handler = self._routes.get(rest)
        if handler is not None:
            response = await handler(scope, receive)
        elif rest.startswith("static/"):
            response = self.static(scope, rest.removeprefix("static/"))
        else:
            response = PlainTextResponse("Not found", status_code=404)
        await response(scope, receive, send)

    # -- consent ------------------------------------------------------------------------------------

    async def consent(self, scope: Scope, receive: Receive) -> Response:
        state: ConsentState = scope["gatekeeper"]
        method = scope["method"]
        if method in ("GET", "HEAD"):
            return JSONResponse(state.to_json(self.registry), headers=_NO_STORE)
        if method != "POST":
            return PlainTextResponse("Method not allowed", 405, headers={"Allow": "GET, HEAD, POST"})
        headers = Headers(scope=scope)
        if is_cross_site(headers, headers.get("host", "")):
            return PlainTextResponse("Cross-site consent requests are refused", 403)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return PlainTextResponse(f"The body is over {MAX_BODY} bytes", 413)
        try:
            with anyio.fail_after(BODY_TIMEOUT):
                body = await _read_body(receive, MAX_BODY)
        except TimeoutError:
            return PlainTextResponse("The body took too long", 408)
        if body is None:
            return PlainTextResponse(f"The body is over {MAX_BODY} bytes", 413)
        query = scope.get("query_string", b"")
        form = headers.get("content-type", "").split(";", 1)[0].strip().lower() == _FORM
        if query and form:
            # a placeholder's buttons carry their fields in `formaction` (a <form> would end the <p>
            # the placeholder may stand in): read as if they were in the form's body
            body = body + b"&" + query if body else query
        try:
            choice, as_json = parse_choice(headers.get("content-type", ""), body, self.registry)
        except BadRequest as e:
            return PlainTextResponse(str(e), 400)
        https = self.is_https(scope)
        if as_json:
            response: Response = JSONResponse({}, headers=_NO_STORE)
        else:
            response = Response(status_code=303, headers={"Location": choice.next, **_NO_STORE})
        if choice.choice == "once":
            (sid,) = choice.services
            assert choice.embed is not None  # (parse_choice makes sure)
            cookie, token = self.once.issue(sid, choice.embed, choice.next, https=https)
            response.headers.append("set-cookie", cookie)
            new_state = state
        else:
            new_state = state_for_choice(
                choice.choice,
                previous=state,
                registry=self.registry,
                categories=choice.categories,
                services=choice.services,
                gpc=state.gpc,
                now=int(self.clock()),
            )
            cookie = self.codec.set_cookie(new_state, https=https)
            response.headers.append("set-cookie", cookie)
            token = cookie.split("=", 1)[1].split(";", 1)[0]
            for header in self._withdrawn_cookies(state, new_state, headers.get("cookie", ""), https):
                response.headers.append("set-cookie", header)
        extra = {}
        if self.records is not None:  # one consent record per decision, queued (never waits)
            extra = self.records.chose(
                scope,
                choice=choice.choice,
                javascript=as_json,
                previous=state,
                new=new_state,
                token=token,
                next_path=choice.next,
                once=next(iter(choice.services)) if choice.choice == "once" else None,
            )
        if as_json:
            response.body = response.render({**new_state.to_json(self.registry), **extra})
            response.headers["content-length"] = str(len(response.body))
        return response

    def _withdrawn_cookies(
        self, old: ConsentState, new: ConsentState, cookie_header: str, https: bool
    ) -> Iterable[str]:
        """Expire the declared cookies of every category the visitor no longer grants."""
        revoked = {c for c in Category if old.category_granted(c) and not new.category_granted(c)}
        if not old.decided:
            # a first choice: nothing was granted before, but a cookie may linger from an older policy
            revoked = {c for c in Category if not new.category_granted(c)}
        present = [part.split("=", 1)[0].strip() for part in cookie_header.split(";") if "=" in part]
        for decl in self.registry.cookies:
            if decl.category not in revoked:
                continue
            names = [n for n in present if decl.matches(n)]
            if not decl.is_pattern and decl.name not in names:
                names.append(decl.name)
            for name in dict.fromkeys(names):
                yield expire_cookie(decl, name, https=https)

    # -- notice page, static files, CSP reports ---------------------------------------------------

    async def disclosure(self, scope: Scope, receive: Receive) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("Method not allowed", 405, headers={"Allow": "GET, HEAD"})
        headers = Headers(scope=scope)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        lang = self.pages.catalogues.parse_lang(query.get("lang")) or self.pages.language(
            headers.get("accept-language")
        )
        html = self.pages.disclosure(scope["gatekeeper"], lang, headers.get("host", ""))
        if self.records is not None:
            receipt = self.records.receipt_of(scope, scope["gatekeeper"])
            if receipt is not None:
                html = self.records.fill(html, receipt, lang)
        return HTMLResponse(
            html,
            headers={
                "Content-Security-Policy": "default-src 'self' 'unsafe-inline'",
                "Vary": "Cookie, Accept-Language, Sec-GPC",
                **_NO_STORE,
            },
        )

    def static(self, scope: Scope, name: str) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("Method not allowed", 405, headers={"Allow": "GET, HEAD"})
        item = self.pages.static.get(name)
        if item is None:
            return PlainTextResponse("Not found", 404)
        content, media_type = item
        return Response(
            content,
            media_type=media_type,
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def csp_report(self, scope: Scope, receive: Receive) -> Response:
        """Browsers report what the CSP blocked: logged once per directive and host, escaped, within
        a per-process budget (gatekeeper/csp_reports.py)."""
        if scope["method"] != "POST":
            return PlainTextResponse("Method not allowed", 405, headers={"Allow": "POST"})
        if not self.report_budget.take_request():
            return Response(status_code=429, headers={"Retry-After": "1"})
        try:
            with anyio.fail_after(BODY_TIMEOUT):
                body = await _read_body(receive, MAX_BODY)
        except TimeoutError:
            return Response(status_code=408)
        if body is None:
            return Response(status_code=413)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return Response(status_code=400)
        state: ConsentState = scope["gatekeeper"]
        for v in violations(data):
            try:
                host = urlsplit(v.blocked).netloc or v.blocked
                services = self.registry.services_for_url(v.blocked)
            except ValueError:  # "http://[x": report it as written
                host, services = v.blocked, ()
            if not host or ("." not in host and ":" not in host):
                continue  # "about", "inline", "eval", "data": nothing left for another host
            if any(s.id in state.granted for s in services):
                continue  # allowed by now: the loader turned it on in place under a report-only CSP
            page = page_of(v.document)
            key = ("csp", host, page)  # each host once per page, with the lines that would declare it
            if logged(key) or not self.report_budget.take_line():
                continue
            log_once(
                log,
                key,
                logging.WARNING,
                "the CSP %s %s (%s) on %s: %s",
                "blocked" if self.pages.csp_enforced else "reported (report-only: let through)",
                printable(host),
                printable(v.directive),
                printable(page),
                csp_advice(v.blocked, services),
            )
        return Response(status_code=204)


_NO_STORE = {"Cache-Control": "no-store"}


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
