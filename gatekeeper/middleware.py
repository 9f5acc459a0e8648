"""The middleware: the request path of DESIGN.md, wiring only (one response's way out: response.py).

request -> consent state -> [consent endpoints] -> app -> response start: cookie gate, CSP, Vary
                                                      -> response body (HTML only): rewrite, snippets
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Literal

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .consent import ConsentCodec, ConsentState, gpc_requested
from .csp import build_csp, host_of
from .endpoints import Endpoints
from .i18n import Catalogues
from .pages import Pages
from .records import RETENTION_DAYS, ConsentRecords
from .registry import ConfigError, Registry, load_registry
from .response import PageResponse, gate_set_cookies
from .startup import refuse, startup_checked

__all__ = ["Gatekeeper", "consent_of"]

log = logging.getLogger("gatekeeper")


def consent_of(conn: HTTPConnection) -> ConsentState:
    """The visitor's consent for a Starlette request (or websocket)."""
    state = conn.scope.get("gatekeeper")
    return state if isinstance(state, ConsentState) else ConsentState()


class Gatekeeper:
    """Keeps a site's cookie and third-party promises. Wrap any ASGI app:

    app = Gatekeeper(app, secret_keys=["a long random key"], services="services.toml")
    """

    failed: ConfigError | None = None  # a mistake kept for start-up (see gatekeeper/startup.py)

    @startup_checked
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
        rewrite_seconds: float = 1.0,
        templates: str | os.PathLike[str] | None = None,
        site_name: str | None = None,
        operator_name: str | None = None,
        privacy_policy_url: str | None = None,
        records: str | None = None,
        records_days: float = RETENTION_DAYS,
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
        if not rewrite_seconds > 0:
            raise ConfigError("rewrite_seconds: a number of seconds, more than 0")
        self.app = app
        self.registry = registry
        self.prefix = prefix
        self.max_body_bytes = max_body_bytes
        self.rewrite_seconds = rewrite_seconds
        self.https = https
        self.codec = ConsentCodec(secret_keys, registry, lifetime_days=consent_days)
        self.pages = Pages(
            registry,
            prefix=prefix,
            template_dir=templates,
            csp_enforced=csp == "enforce",
            consent_cookie=(self.codec.cookie_name, consent_days),
            site_name=site_name,
            operator_name=operator_name,
            privacy_policy_url=privacy_policy_url,
            catalogues=Catalogues.load(languages, default_language, locale_dir),
        )
        self.records = None
        if records is not None:  # consent records: one per decision, kept without personal data
            self.records = ConsentRecords(
                records,
                registry=registry,
                codec=self.codec,
                pages=self.pages,
                prefix=prefix,
                is_https=self._is_https,
                retention_days=records_days,
            )
        self.endpoints = Endpoints(
            registry, self.codec, prefix, self.pages, self._is_https, records=self.records
        )
        self.csp_header = {
            "enforce": "content-security-policy",
            "report-only": "content-security-policy-report-only",
        }.get(csp)
        report_uri = prefix + "csp-report"

        @lru_cache(maxsize=1024)
        def policy(granted: frozenset[str], host: str) -> str:
            return build_csp(registry, granted, host_of(host), report_uri=report_uri)

        self._policy = policy

    def _is_https(self, scope: Scope) -> bool:
        return self.https if self.https is not None else scope.get("scheme") in ("https", "wss")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.failed is not None:
            await refuse(self.failed, scope, receive, send)
            return
        if scope["type"] not in ("http", "websocket"):
            if scope["type"] == "lifespan" and self.records is not None:
                await self.records.lifespan(self.app, scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        raw_headers = scope["headers"]
        cookie_header = b"; ".join(v for k, v in raw_headers if k == b"cookie").decode("latin-1")
        https = self._is_https(scope)
        state = self.codec.read(cookie_header, https=https, gpc=gpc_requested(raw_headers))
        scope["gatekeeper"] = state
        if scope["type"] == "websocket":  # a handshake's Set-Cookie is stored like any other
            await self.app(scope, receive, self._gate_handshake(scope, state, send))
            return
        if scope["path"].startswith(self.prefix):
            await self.endpoints(scope, receive, send)
            return
        granted = state.granted
        once = self.endpoints.once.grant(cookie_header, scope["path"], https=https)
        page = PageResponse(self, scope, state, granted, once, https)
        await self.app(scope, page.receive_filter(receive), page.wrap(send))

    def _gate_handshake(self, scope: Scope, state: ConsentState, send: Send) -> Send:
        async def send_wrapper(message: Message) -> None:
            if message["type"] == "websocket.accept" and message.get("headers"):
                raw = [(k.lower(), v) for k, v in message["headers"]]
                cookies = [v.decode("latin-1") for k, v in raw if k == b"set-cookie"]
                if cookies:
                    kept = gate_set_cookies(cookies, state, self.registry, scope)
                    rest = [(k, v) for k, v in raw if k != b"set-cookie"]
                    rest += [(b"set-cookie", c.encode("latin-1")) for c in kept]
                    message = {**message, "headers": rest}
            await send(message)

        return send_wrapper
