"""One response of the app on its way to the visitor (the response side of DESIGN.md's request path):
its start gated (cookies, headers that reach out, the CSP, Vary, validators), then its body held and
rewritten (a page), streamed with its refreshes made inert (a page too large, a feed), or passed
through (anything else). Per-request state lives here, never on the middleware."""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import anyio.to_thread
from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from .app_csp import SnippetFit, fit_snippets, read_app_policies, strip_report_uris
from .body import RefreshStop, decoded_head, decoded_size, process_html, readable_accept_encoding
from .consent import ConsentState
from .cookies import Verdict, gate_cookies
from .csp import host_of
from .header_gate import gate_header, leaves_for
from .logs import log_once
from .once import OnceGrant
from .registry import Registry
from .rewrite import PageContext, refresh_leaves
from .sniff import SNIFF_BYTES, XML_ROOT_BYTES, Kind, ResponseType, kind_of_body, response_type, xml_root
from .unread_stream import CompressedRefreshStop, readable_codings
from .validators import consent_digest, if_none_match, rewritten_etag

if TYPE_CHECKING:
    from .middleware import Gatekeeper

__all__ = ["PageResponse", "gate_set_cookies"]

log = logging.getLogger("gatekeeper")

REWRITABLE_ENCODINGS = {"", "identity", "gzip", "x-gzip", "deflate", "br"}
# the XML types an XHTML page comes as: read as XML (gatekeeper/rewrite/xml_reading.py); served
# unread when it is not well-formed or not XHTML
_XHTML_TYPES: Final = frozenset({"application/xhtml+xml", "text/xml", "application/xml"})
THREAD_BYTES = 256 * 1024  # bodies larger than this, decompressed, are rewritten off the event loop
ON_LOOP_SECONDS = 0.02  # a smaller one that takes longer on the loop starts again off it


def _codings(headers: MutableHeaders) -> str:
    """Every Content-Encoding header as one list: two headers are one list to a browser."""
    return ", ".join(headers.getlist("content-encoding")).lower()


def gate_set_cookies(
    cookies: list[str], state: ConsentState, registry: Registry, scope: Scope
) -> tuple[str, ...]:
    """The Set-Cookie values that stay; each drop logged once with the reason and the fix."""
    client = scope.get("client")
    result = gate_cookies(cookies, state, registry, client_ip=client[0] if client else None, now=time.time())
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
    return result.headers


# headers judged at response start (with Content-Type, read for every response)
_LOOKED_AT: Final = frozenset(
    {b"set-cookie", b"refresh", b"link", b"speculation-rules", b"reporting-endpoints", b"report-to",
     b"content-security-policy", b"content-security-policy-report-only"}
)  # fmt: skip
_GATED_HEADERS: Final = ("link", "speculation-rules", "reporting-endpoints", "report-to")
_APP_CSP: Final = ("content-security-policy", "content-security-policy-report-only")


class PageResponse:
    """One response on its way out: per-request state lives here, never on the middleware."""

    def __init__(
        self,
        gk: Gatekeeper,
        scope: Scope,
        state: ConsentState,
        granted: frozenset[str],
        once: OnceGrant | None,
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
        self.stream: RefreshStop | CompressedRefreshStop | None = None  # a page passed through unread
        self.type = ResponseType(Kind.OTHER, "", None)
        self.fit = SnippetFit()  # how our snippets run under the app's own CSP

    def receive_filter(self, receive: Receive) -> Receive:
        self._strip_validators()
        self.scope["headers"] = [
            (k, readable_accept_encoding(v)) if k == b"accept-encoding" else (k, v)
            for k, v in self.scope["headers"]
        ]
        return receive

    # -- request side ---------------------------------------------------------------------------------

    def _digest(self) -> str:
        key = self.state.key
        if self.gk.records is not None:  # the page shows the receipt of this very choice
            key = (*key, self.state.decided_at)
        return consent_digest(key, self.once, self._lang_default(), self._next_path())

    def _strip_validators(self) -> None:
        """If-None-Match as the app wrote its tags, for this consent only (gatekeeper/validators.py)."""
        headers = self.scope["headers"]
        if not any(k == b"if-none-match" for k, _ in headers):
            return
        digest = self._digest()
        out = []
        for k, v in headers:
            if k == b"if-none-match":
                tags = if_none_match(v, digest)
                if tags is None:
                    continue
                v = tags
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
                    body = await self._fed(message.get("body", b""), message.get("more_body", False))
                    message = {**message, "body": body}
                await send(message)
            elif kind == "http.response.body":
                await self._body(message, send)
            else:  # http.response.pathsend and anything newer: not ours to rewrite
                await self._flush(send)
                await send(message)

        return send_wrapper

    def _start(self, message: Message) -> bool:
        """Gate cookies and the headers that reach out, add the CSP; True when the body is held (to be
        rewritten, or to be sniffed first)."""
        raw = message.get("headers", ())
        if not all(k.islower() for k, _ in raw):  # ASGI says "should" be lower case: make it so
            raw = message["headers"] = [(k.lower(), v) for k, v in raw]
        judge = nosniff = False
        types: list[str] = []
        for k, v in raw:
            if k == b"content-type":
                types.append(v.decode("latin-1"))
            elif k in _LOOKED_AT:
                judge = True
            elif k == b"x-content-type-options":
                nosniff = v.strip().lower() == b"nosniff"
        self.type = rtype = response_type(types, nosniff)
        gk = self.gk
        if not judge and not rtype.document:
            # an asset: the CSP of nothing granted (it depends on the host alone, so caches may keep
            # it), in case it is run as a worker or opened as a document after all
            if gk.csp_header:
                policy = gk._policy(frozenset(), self._header(b"host") or "")
                message["headers"] = [*raw, (gk.csp_header.encode(), policy.encode())]
            return False
        headers = MutableHeaders(scope=message)
        cookies = headers.getlist("set-cookie")
        if cookies:
            kept = gate_set_cookies(cookies, self.state, gk.registry, self.scope)
            del headers["set-cookie"]
            for value in kept:
                headers.append("set-cookie", value)
        refresh = headers.get("refresh")
        if refresh is not None and refresh_leaves(refresh, gk.registry, self.granted, self._page_url()):
            del headers["refresh"]  # a navigation: no CSP stops it
            log_once(log, ("refresh", refresh), logging.INFO, "Refresh header to %r dropped", refresh)
        granted = self.once.granted(self.granted) if self.once else self.granted
        if judge:
            self._gate_headers(headers, frozenset(granted))
        host = self._header(b"host") or ""
        if gk.csp_header:
            headers.append(gk.csp_header, gk._policy(frozenset(granted if rtype.document else ()), host))
        if not rtype.document:
            return False
        vary = headers.get("vary", "")
        present = {v.strip().lower() for v in vary.split(",")}
        missing = [h for h in ("Cookie", "Sec-GPC") if h.lower() not in present]
        if missing and "*" not in present:
            headers["vary"] = ", ".join(filter(None, [vary.strip(), *missing]))
        if rtype.kind is Kind.XML and rtype.media not in _XHTML_TYPES:
            # an XML document that is not a page (a feed, an SVG image...): the CSP protects its
            # fetches; its <meta> refreshes (live anywhere in XML) are made inert as it streams
            self._stop_refreshes(headers)
            return False
        if not self._rewritable(message, headers):
            return False
        if rtype.kind is Kind.UNKNOWN:
            return True  # sniffed when the body is here; rewritten only if the browser reads HTML
        if rtype.kind is Kind.XML:
            return True  # a feed as text/xml is served as it came, validators and all
        self._will_rewrite(headers)
        return True

    def _will_rewrite(self, headers: MutableHeaders) -> None:
        """The headers of a page whose bytes are about to become ours."""
        gk = self.gk
        if self.once:
            headers.append("set-cookie", gk.endpoints.once.spent(https=self.https))
        etag = rewritten_etag(headers.get("etag", ""), self._digest())
        if etag is not None:
            headers["etag"] = etag
        if "last-modified" in headers:
            del headers["last-modified"]  # a date says nothing about the consent: the ETag does

    def _gate_headers(self, headers: MutableHeaders, granted: frozenset[str]) -> None:
        """Link, Speculation-Rules and the reporting headers lose what reaches a non-granted third
        party; the app's CSP keeps everything it enforces, and tells us how our snippets must look."""
        gk = self.gk
        leaves = leaves_for(gk.registry, granted, self._page_url(), host_of(self._header(b"host")))
        for name in _GATED_HEADERS:
            values = headers.getlist(name)
            if not values:
                continue
            del headers[name]
            for value in values:
                verdict = gate_header(name, value, leaves)
                if verdict.value is not None:
                    headers.append(name, verdict.value)
                if verdict.dropped:
                    what = (name, verdict.dropped)
                    log_once(log, what, logging.INFO, "%s %r dropped", *what)
        for name in _APP_CSP:
            values = headers.getlist(name)
            if values:
                del headers[name]
                for value in values:
                    headers.append(name, strip_report_uris(value, leaves))
        self.fit = read_app_policies(headers.getlist("content-security-policy"))

    def _rewritable(self, message: Message, headers: MutableHeaders) -> bool:
        if self.scope["method"] == "HEAD" or message["status"] in (204, 304) or message["status"] < 200:
            return False
        codings = _codings(headers).split(",")  # "gzip, gzip": both undone, as the browser does
        if not all(c.strip() in REWRITABLE_ENCODINGS for c in codings):
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
        """A page passed through unread still loses its third-party refreshes, as it streams (a
        compressed one inflated and compressed again as it goes); its length may change."""
        codings = [c.strip() for c in _codings(headers).split(",") if c.strip() not in ("", "identity")]
        gk, url = self.gk, self._page_url()
        if not codings:
            self.stream = RefreshStop(gk.registry, self.granted, url)
        elif readable_codings(codings):  # (the app is only asked for codings we can read)
            self.stream = CompressedRefreshStop(codings, gk.registry, self.granted, url)
        if self.stream is not None and "content-length" in headers:
            del headers["content-length"]

    async def _fed(self, chunk: bytes, more: bool) -> bytes:
        """A chunk of a page passed through unread, its refreshes made inert (a compressed one is
        inflated off the event loop: a small chunk may inflate to a lot)."""
        if self.stream is None:
            return chunk
        if isinstance(self.stream, CompressedRefreshStop):
            return await anyio.to_thread.run_sync(self.stream.feed, chunk, more)
        return self.stream.feed(chunk, more)

    async def _flush(self, send: Send) -> None:
        """Give up rewriting: send what is held, unchanged, and pass the rest through."""
        assert self.start is not None
        self.passthrough = True
        await send(self.start)
        if self.chunks:
            body = b"".join(self.chunks)
            body = await self._fed(body, True)
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
            rest = await self._fed(b"", more)
            await send({"type": "http.response.body", "body": rest, "more_body": more})
            return
        if more and self.type.kind is Kind.XML and self.size - len(chunk) < XML_ROOT_BYTES:
            headers = MutableHeaders(scope=self.start)
            root = xml_root(decoded_head(b"".join(self.chunks), _codings(headers), XML_ROOT_BYTES))
            if root is not None and root != "html":  # a feed, a sitemap: no page, streamed
                self._stop_refreshes(headers)
                await self._flush(send)
                return
        if more:
            return
        body = b"".join(self.chunks)
        self.chunks = []
        assert self.start is not None
        if self.type.kind is Kind.UNKNOWN:  # no usable Content-Type: read it as the browser will
            # (the first bytes as the browser reads them: a compressed body decoded first)
            head = decoded_head(body, _codings(MutableHeaders(scope=self.start)), SNIFF_BYTES)
            sniffed = kind_of_body(head)
            if sniffed is Kind.XML:  # "<?xml": Chromium renders it as XML (XHTML too)
                self.type = ResponseType(Kind.XML, "text/xml", None)
            elif sniffed is not Kind.HTML:
                await send(self.start)
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            else:
                self._will_rewrite(MutableHeaders(scope=self.start))
        out = await self._rewrite(body)
        headers = MutableHeaders(scope=self.start)  # a new view: _rewrite may have replaced the list
        if self.type.kind is Kind.XML and out != body:
            self._will_rewrite(headers)  # (an XML document not read as XHTML may come back unchanged)
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
        receipt = gk.records.receipt_of(self.scope, state) if gk.records is not None else None

        fit = self.fit

        def snippets(html_lang: str | None) -> tuple[str, str]:
            lang = pages.language(accept, html_lang)
            head, body = pages.snippets(state, lang, next_path, granted)
            if receipt is not None and gk.records is not None:  # the visitor's own receipt line
                body = gk.records.fill(body, receipt, lang)
            return fit_snippets(head, fit), fit_snippets(body, fit)

        def placeholder(embed: Any, html_lang: str | None) -> str:
            return pages.placeholder(embed, pages.language(accept, html_lang), next_path, page_url)

        page_url = self._page_url()
        origin = page_url[: len(page_url) - len(next_path)]
        ctx = PageContext(
            registry=gk.registry,
            granted=granted,
            page_url=page_url,
            once=frozenset({self.once.embed}) if self.once else frozenset(),
            snippets=snippets,
            placeholder=placeholder,
            cache_key=(state.key, self._lang_default(), next_path, origin, self.once, fit.key, receipt),
        )
        ctype = self.type.content_type
        cenc = _codings(headers) or None
        limit = gk.max_body_bytes
        xml = self.type.kind is Kind.XML
        result = None
        if decoded_size(body, cenc, THREAD_BYTES) <= THREAD_BYTES:
            # small pages on the loop (a thread costs more than they do), unless they take long
            result = process_html(
                body, ctype, cenc, ctx, max_bytes=limit, seconds=ON_LOOP_SECONDS, final=False, xml=xml
            )
            if result.abandoned:
                result = None
        if result is None:
            rewrite = partial(process_html, max_bytes=limit, seconds=gk.rewrite_seconds, xml=xml)
            result = await anyio.to_thread.run_sync(rewrite, body, ctype, cenc, ctx)
        if result.abandoned:
            log_once(
                log,
                ("slow", self.scope["path"]),
                logging.WARNING,
                "%s: rewriting took more than rewrite_seconds=%g; served unread (the CSP still protects,"
                " third-party refreshes made inert)",
                self.scope["path"],
                gk.rewrite_seconds,
            )
            return result.body
        if result.charset is not None and ctype is not None and "charset" not in ctype.lower():
            headers["content-type"] = f"{ctype}; charset={result.charset}"
        if result.reason and not result.no_page:  # (a feed or a sitemap is no page to rewrite)
            log_once(
                log,
                ("body", result.reason),
                logging.WARNING,
                "%s: served unchanged (%s); the CSP still protects",
                self.scope["path"],
                result.reason,
            )
        return result.body
