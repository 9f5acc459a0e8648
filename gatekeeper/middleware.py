"""The middleware: the request path of DESIGN.md, wiring only.

request -> consent state -> [consent endpoints] -> app -> response start: cookie gate, CSP, Vary
                                                      -> response body (HTML only): rewrite, snippets
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import anyio.to_thread
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .body import RefreshStop, process_html
from .consent import ConsentCodec, ConsentState, gpc_requested
from .cookies import Verdict, gate_cookies
from .csp import build_csp
from .endpoints import Endpoints
from .i18n import Catalogues
from .logs import log_once
from .pages import Pages
from .registry import ConfigError, Registry, load_registry
from .rewrite import PageContext, refresh_leaves

__all__ = ["Gatekeeper", "consent_of"]

log = logging.getLogger("gatekeeper")

HTML_TYPES = ("text/html", "application/xhtml+xml")
CSP_TYPES = (*HTML_TYPES, "image/svg+xml")  # documents that can load subresources
REWRITABLE_ENCODINGS = {"", "identity", "gzip", "x-gzip", "deflate", "br"}
THREAD_BYTES = 256 * 1024  # bodies larger than this are rewritten off the event loop
_OUR_ETAG = re.compile(rb'W/"(?P<tag>.*)-gk(?P<strength>[sw])(?P<digest>[0-9a-f]{12})"')


def consent_of(conn: HTTPConnection) -> ConsentState:
    """The visitor's consent for a Starlette request (or websocket)."""
    state = conn.scope.get("gatekeeper")
    return state if isinstance(state, ConsentState) else ConsentState()


class Gatekeeper:
    """Keeps a site's cookie and third-party promises. Wrap any ASGI app:

    app = Gatekeeper(app, secret_keys=["a long random key"], services="services.toml")
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret_keys: str | bytes | Sequence[str | bytes],
        services: str | os.PathLike[str] | Mapping[str, Any] | Registry | None = None,
        prefix: str = "/_gatekeeper/",
        mode: Literal["strict", "report"] | None = None,
        csp: Literal["enforce", "report-only", "off"] = "enforce",
        consent_days: float = 182,
        https: bool | None = None,
        max_body_bytes: int = 5 * 1024 * 1024,
        templates: str | os.PathLike[str] | None = None,
        languages: Sequence[str] | None = None,
        default_language: str | None = None,
        locale_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """`languages`: the visitor's languages the site offers, BCP 47 tags (default: en, ja, zh-Hans,
        zh-Hant, ko and any in `locale_dir`); `default_language`: for a visitor neither the page's
        `<html lang>` nor Accept-Language places (default: the first); `locale_dir`: a folder of
        the site's own catalogues, `<lang>/LC_MESSAGES/gatekeeper.po`, adding languages or rewording ours."""
        registry = services if isinstance(services, Registry) else load_registry(services)
        if mode is not None:
            if mode not in ("strict", "report"):
                raise ConfigError(f"mode={mode!r}: use 'strict' (the default) or 'report'")
            registry = dataclasses.replace(registry, strict=mode == "strict")
        if csp not in ("enforce", "report-only", "off"):
            raise ConfigError(f"csp={csp!r}: use 'enforce' (the default), 'report-only' or 'off'")
        if not (prefix.startswith("/") and prefix.endswith("/") and len(prefix) > 2):
            raise ConfigError(f"prefix={prefix!r}: a path that starts and ends with '/'")
        if max_body_bytes < 0:
            raise ConfigError("max_body_bytes: a number of bytes, 0 or more")
        self.app = app
        self.registry = registry
        self.prefix = prefix
        self.max_body_bytes = max_body_bytes
        self.https = https
        self.codec = ConsentCodec(secret_keys, registry, lifetime_days=consent_days)
        self.pages = Pages(
            registry,
            prefix=prefix,
            template_dir=templates,
            csp_enforced=csp == "enforce",
            consent_cookie=(self.codec.cookie_name, consent_days),
            catalogues=Catalogues.load(languages, default_language, locale_dir),
        )
        self.endpoints = Endpoints(registry, self.codec, prefix, self.pages, self._is_https)
        self.csp_header = {
            "enforce": "content-security-policy",
            "report-only": "content-security-policy-report-only",
        }.get(csp)
        report_uri = prefix + "csp-report"

        @lru_cache(maxsize=1024)
        def policy(granted: frozenset[str], host: str) -> str:
            return build_csp(registry, granted, host, report_uri=report_uri)

        self._policy = policy

    def _is_https(self, scope: Scope) -> bool:
        return self.https if self.https is not None else scope.get("scheme") in ("https", "wss")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_headers = scope["headers"]
        cookie_header = b"; ".join(v for k, v in raw_headers if k == b"cookie").decode("latin-1")
        https = self._is_https(scope)
        state = self.codec.read(cookie_header, https=https, gpc=gpc_requested(raw_headers))
        scope["gatekeeper"] = state
        if scope["path"].startswith(self.prefix):
            await self.endpoints(scope, receive, send)
            return
        granted = state.granted
        once = self.endpoints.once_grant(scope, cookie_header) if "gk_once=" in cookie_header else None
        page = _Page(self, scope, state, granted, once, https)
        await self.app(scope, page.receive_filter(receive), page.wrap(send))


_LOOKED_AT: Final = frozenset({b"set-cookie", b"refresh"})
_CSP_TYPES_B: Final = frozenset(t.encode() for t in CSP_TYPES)


class _Page:
    """One response on its way out: per-request state lives here, never on the middleware."""

    def __init__(
        self,
        gk: Gatekeeper,
        scope: Scope,
        state: ConsentState,
        granted: frozenset[str],
        once: tuple[str, int] | None,
        https: bool,
    ) -> None:
        self.gk = gk
        self.scope = scope
        self.state = state
        self.granted = granted
        self.once = once
        self.https = https
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.passthrough = False
        self.stream: RefreshStop | None = None  # a page passed through unread

    def receive_filter(self, receive: Receive) -> Receive:
        self._strip_validators()
        return receive

    # -- request side ---------------------------------------------------------------------------------

    def _digest(self) -> str:
        key = repr((self.state.key, self.once, self._lang_default(), self._next_path()))
        return hashlib.blake2b(key.encode(), digest_size=6).hexdigest()

    def _strip_validators(self) -> None:
        """A page we rewrite depends on the consent: its ETag carries a digest of what it depends on,
        so a 304 is only ever given for the same consent. Tags for another consent are dropped, ours
        go back to the app as it wrote them."""
        headers = self.scope["headers"]
        if not any(k == b"if-none-match" for k, _ in headers):
            return
        digest = self._digest().encode()
        out = []
        for k, v in headers:
            if k == b"if-none-match":
                tags = []
                for tag in v.split(b","):
                    ours = _OUR_ETAG.fullmatch(tag.strip())
                    if ours is None:
                        tags.append(tag.strip())
                    elif ours["digest"] == digest:
                        weak = b"W/" if ours["strength"] == b"w" else b""
                        tags.append(weak + b'"' + ours["tag"] + b'"')
                if not tags:
                    continue
                v = b", ".join(tags)
            out.append((k, v))
        self.scope["headers"] = out

    def _lang_default(self) -> str:
        return str(self.gk.pages.language(self._header(b"accept-language")))

    def _header(self, name: bytes) -> str | None:
        for k, v in self.scope["headers"]:
            if k == name:
                return str(v.decode("latin-1"))
        return None

    def _next_path(self) -> str:
        path: bytes = self.scope.get("raw_path") or self.scope["path"].encode()
        query = self.scope.get("query_string", b"")
        return (path + (b"?" + query if query else b"")).decode("latin-1")

    def _page_url(self) -> str:
        host = self._header(b"host")
        if not host:
            server = self.scope.get("server") or ("localhost", None)
            host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
        return f"{self.scope.get('scheme', 'http')}://{host}{self._next_path()}"

    # -- response side ------------------------------------------------------------------------------

    def wrap(self, send: Send) -> Send:
        async def send_wrapper(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                if self._start(message):
                    self.start = message  # held until the whole body is here
                    return
                await send(message)
            elif self.start is None or self.passthrough:
                if self.stream is not None and kind == "http.response.body":
                    body = self.stream.feed(message.get("body", b""), message.get("more_body", False))
                    message = {**message, "body": body}
                await send(message)
            elif kind == "http.response.body":
                await self._body(message, send)
            else:  # http.response.pathsend and anything newer: not ours to rewrite
                await self._flush(send)
                await send(message)

        return send_wrapper

    def _start(self, message: Message) -> bool:
        """Gate cookies, add the CSP; True when the body is to be rewritten."""
        raw = message.get("headers", ())
        if not all(k.islower() for k, _ in raw):  # ASGI says "should" be lower case: make it so
            raw = message["headers"] = [(k.lower(), v) for k, v in raw]
        kind = b""
        for k, v in raw:
            if k in _LOOKED_AT:  # a cookie or a refresh to judge
                break
            if k == b"content-type":
                kind = v.split(b";", 1)[0].strip().lower()
        else:
            if kind not in _CSP_TYPES_B:
                return False  # nothing of ours: the common case for assets, fast
        headers = MutableHeaders(scope=message)
        gk = self.gk
        cookies = headers.getlist("set-cookie")
        if cookies:
            client = self.scope.get("client")
            result = gate_cookies(
                cookies, self.state, gk.registry, client_ip=client[0] if client else None, now=time.time()
            )
            del headers["set-cookie"]
            for value in result.headers:
                headers.append("set-cookie", value)
            for v in result.verdicts:
                if v.verdict not in (Verdict.PASS, Verdict.MALFORMED):
                    level = logging.INFO if v.verdict is Verdict.NOT_GRANTED else logging.WARNING
                    log_once(
                        log,
                        ("cookie", v.name, v.verdict),
                        level,
                        "cookie %r %s: %s",
                        v.name,
                        "kept" if v.kept else "dropped",
                        v.detail,
                    )
        refresh = headers.get("refresh")
        if refresh is not None and refresh_leaves(refresh, gk.registry, self.granted, self._page_url()):
            del headers["refresh"]  # a navigation: no CSP stops it
            log_once(log, ("refresh", refresh), logging.INFO, "Refresh header to %r dropped", refresh)
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media not in CSP_TYPES:
            return False
        granted = self.granted | {self.once[0]} if self.once else self.granted
        if gk.csp_header:
            try:
                site_host = urlsplit("//" + (self._header(b"host") or "")).hostname or ""
            except ValueError:  # a Host like "[::1" (no "]"): 'self' still names the page's origin
                site_host = ""
            headers.append(gk.csp_header, gk._policy(frozenset(granted), site_host))
        vary = headers.get("vary", "")
        present = {v.strip().lower() for v in vary.split(",")}
        missing = [h for h in ("Cookie", "Sec-GPC") if h.lower() not in present]
        if missing and "*" not in present:
            headers["vary"] = ", ".join(filter(None, [vary.strip(), *missing]))
        if media not in HTML_TYPES or not self._rewritable(message, headers):
            return False
        if self.once:
            headers.append("set-cookie", gk.endpoints.spent_once(self.scope))
        etag = headers.get("etag", "")
        tag = etag[2:] if etag.startswith("W/") else etag
        if len(tag) >= 2 and tag[0] == tag[-1] == '"':
            # weak, since the bytes are ours now; the marker remembers the app's own strength
            strength = "w" if etag.startswith("W/") else "s"
            headers["etag"] = f'W/"{tag[1:-1]}-gk{strength}{self._digest()}"'
        if "last-modified" in headers:
            del headers["last-modified"]  # a date says nothing about the consent: the ETag does
        return True

    def _rewritable(self, message: Message, headers: MutableHeaders) -> bool:
        if self.scope["method"] == "HEAD" or message["status"] in (204, 304) or message["status"] < 200:
            return False
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding not in REWRITABLE_ENCODINGS:
            return False
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.gk.max_body_bytes:
            self._too_big()
            self._stop_refreshes(headers)
            return False
        return True

    def _too_big(self) -> None:
        log_once(
            log,
            ("too-big", self.scope["path"]),
            logging.WARNING,
            "%s: the page is over max_body_bytes=%d, served without rewriting (the CSP still protects)",
            self.scope["path"],
            self.gk.max_body_bytes,
        )

    def _stop_refreshes(self, headers: MutableHeaders) -> None:
        """A page passed through unread still loses its third-party refreshes, as it streams (bodies
        we can read as they come: not compressed); its length may change."""
        if headers.get("content-encoding", "").strip().lower() in ("", "identity"):
            self.stream = RefreshStop(self.gk.registry, self.granted, self._page_url())
            if "content-length" in headers:
                del headers["content-length"]

    async def _flush(self, send: Send) -> None:
        """Give up rewriting: send what is held, unchanged, and pass the rest through."""
        assert self.start is not None
        self.passthrough = True
        await send(self.start)
        if self.chunks:
            body = b"".join(self.chunks)
            if self.stream is not None:
                body = self.stream.feed(body, True)
            await send({"type": "http.response.body", "body": body, "more_body": True})
            self.chunks = []

    async def _body(self, message: Message, send: Send) -> None:
        chunk = message.get("body", b"")
        self.chunks.append(chunk)
        self.size += len(chunk)
        more = message.get("more_body", False)
        if self.size > self.gk.max_body_bytes:
            self._too_big()
            assert self.start is not None
            self._stop_refreshes(MutableHeaders(scope=self.start))
            await self._flush(send)
            rest = self.stream.feed(b"", more) if self.stream is not None else b""
            await send({"type": "http.response.body", "body": rest, "more_body": more})
            return
        if more:
            return
        body = b"".join(self.chunks)
        self.chunks = []
        out = await self._rewrite(body)
        assert self.start is not None
        headers = MutableHeaders(scope=self.start)
        if "content-length" in headers or out != body:
            headers["content-length"] = str(len(out))
        await send(self.start)
        await send({"type": "http.response.body", "body": out, "more_body": False})

    async def _rewrite(self, body: bytes) -> bytes:
        assert self.start is not None
        gk = self.gk
        headers = MutableHeaders(scope=self.start)
        pages = gk.pages
        accept = self._header(b"accept-language")
        next_path = self._next_path()
        state, granted = self.state, self.granted

        def snippets(html_lang: str | None) -> tuple[str, str]:
            lang = pages.language(accept, html_lang)
            return pages.snippets(state, lang, next_path, granted)

        def placeholder(embed: Any, html_lang: str | None) -> str:
            return pages.placeholder(embed, pages.language(accept, html_lang), next_path)

        page_url = self._page_url()
        origin = page_url[: len(page_url) - len(next_path)]
        ctx = PageContext(
            registry=gk.registry,
            granted=granted,
            page_url=page_url,
            once=frozenset({self.once[1]}) if self.once else frozenset(),
            snippets=snippets,
            placeholder=placeholder,
            cache_key=(state.key, self._lang_default(), next_path, origin, self.once),
        )
        ctype = headers.get("content-type")
        cenc = headers.get("content-encoding")
        if len(body) > THREAD_BYTES:
            result = await anyio.to_thread.run_sync(process_html, body, ctype, cenc, ctx)
        else:
            result = process_html(body, ctype, cenc, ctx)
        if result.charset is not None and ctype is not None and "charset" not in ctype.lower():
            headers["content-type"] = f"{ctype}; charset={result.charset}"
        if result.reason:
            log_once(
                log,
                ("body", result.reason),
                logging.WARNING,
                "%s: served unchanged (%s); the CSP still protects",
                self.scope["path"],
                result.reason,
            )
        return result.body
