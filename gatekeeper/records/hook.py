"""Consent records, step 6: the wiring into the request path. The consent endpoint hands every
decision to `ConsentRecords.chose` (one record, queued); pages get the visitor's receipt filled in;
`GET {prefix}receipt` downloads it; the ASGI lifespan opens the store at start-up and writes the queue
at shutdown. Only what the record lists is read from the request: Accept-Language (resolved to one of
our languages), Sec-GPC (already in the state) and the consent cookie.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from markupsafe import escape
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..consent import ConsentCodec, ConsentState
from ..registry import ConfigError, Registry
from .model import build_record
from .queue import Recorder
from .receipt import RECEIPT_SLOT, Receipt, read_receipt, receipt_json
from .store import RETENTION_DAYS, open_store
from .texts import TextsShown

__all__ = ["ConsentRecords"]


class ConsentRecords:
    def __init__(
        self,
        url: str,
        *,
        registry: Registry,
        codec: ConsentCodec,
        pages: Any,  # gatekeeper.pages.Pages
        prefix: str,
        is_https: Callable[[Scope], bool],
        retention_days: float = RETENTION_DAYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 30 <= retention_days <= 20 * 365:
            raise ConfigError(f"records_days={retention_days}: keep records between 30 days and 20 years")
        self.registry = registry
        self.codec = codec
        self.pages = pages
        self.prefix = prefix
        self.is_https = is_https
        self.clock = clock
        self.texts = TextsShown(pages)
        self.recorder = Recorder(open_store(url), retention_days=retention_days, clock=clock)
        pages.env.globals["receipts"] = True  # banner.html and disclosure.html then hold RECEIPT_SLOT

    # -- a decision -------------------------------------------------------------------------------

    def chose(
        self,
        scope: Scope,
        *,
        choice: str,
        javascript: bool,
        previous: ConsentState,
        new: ConsentState,
        token: str,
        next_path: str,
        once: str | None = None,
    ) -> dict[str, Any]:
        """Queue the record of one decision; what to add to a JSON answer (the new receipt)."""
        lang = self._lang(scope)
        texts = self.texts.get(lang, new.gpc)
        record = build_record(
            choice=choice,
            token=token,
            javascript=javascript,
            previous=previous,
            new=new,
            registry=self.registry,
            lang=lang,
            next_path=next_path,
            prefix=self.prefix,
            texts=texts.digest,
            now=int(self.clock()),
            once=once,
        )
        self.recorder.record(record, texts)
        if once is not None or not javascript:
            return {}
        receipt = Receipt(record.receipt, record.at, new)
        return {"receipt": {"code": receipt.shown, "at": receipt.at, "html": self._line(receipt, lang)}}

    # -- the receipt, shown and downloaded --------------------------------------------------------

    def receipt_of(self, scope: Scope, state: ConsentState) -> Receipt | None:
        """The receipt of the consent cookie this request carries (None before any choice)."""
        if not state.decided:
            return None
        cookie = b"; ".join(v for k, v in scope["headers"] if k == b"cookie").decode("latin-1")
        return read_receipt(self.codec, cookie, https=self.is_https(scope), gpc=state.gpc)

    def fill(self, html: str, receipt: Receipt, lang: str) -> str:
        """`html` (a banner or notice page) with the visitor's receipt in its slot."""
        if RECEIPT_SLOT not in html:
            return html
        filled = RECEIPT_SLOT.replace("></div>", f">{self._line(receipt, lang)}</div>")
        return html.replace(RECEIPT_SLOT, filled)

    def _line(self, receipt: Receipt, lang: str) -> str:
        template = self.pages.env.get_template("_receipt.html")
        return str(
            template.render(
                lang=lang,
                date=receipt.date,
                code=receipt.shown,
                url=f"{self.prefix}receipt?lang={escape(lang)}",
            ).strip()
        )

    def _lang(self, scope: Scope) -> str:
        query = scope.get("query_string", b"")
        if query:
            lang = self.pages.catalogues.parse_lang(dict(parse_qsl(query.decode("latin-1"))).get("lang"))
            if lang:
                return str(lang)
        accept = next((v for k, v in scope["headers"] if k == b"accept-language"), None)
        return str(self.pages.language(accept.decode("latin-1") if accept is not None else None))

    async def receipt(self, scope: Scope, receive: Receive) -> Response:
        """GET {prefix}receipt: the visitor's receipt as a JSON file."""
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("Method not allowed", 405, headers={"Allow": "GET, HEAD"})
        state: ConsentState = scope["gatekeeper"]
        receipt = self.receipt_of(scope, state)
        if receipt is None:
            return JSONResponse({"error": "no choice has been made in this browser"}, 404, _NO_STORE)
        lang = self._lang(scope)
        body = receipt_json(receipt, self.registry, self.texts.get(lang, state.gpc).digest, lang)
        return Response(
            json.dumps(body, ensure_ascii=False, indent=2) + "\n",
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="consent-receipt-{receipt.shown}.json"',
                **_NO_STORE,
            },
        )

    # -- start-up and shutdown --------------------------------------------------------------------

    async def lifespan(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """The app's lifespan, with the store opened before its start-up and written at shutdown. An
        app that does not speak lifespan still gets ours."""
        started = False

        async def receive_wrapper() -> Message:
            nonlocal started
            message = await receive()
            if message["type"] == "lifespan.startup":
                started = True
                await self.recorder.start()
            elif message["type"] == "lifespan.shutdown":
                await self.recorder.close()
            return message

        try:
            await app(scope, receive_wrapper, send)
        except Exception:
            if started:
                raise
            await self._own_lifespan(receive, send)  # the app has no lifespan: answer it ourselves
        else:
            if not started:
                await self._own_lifespan(receive, send)

    async def _own_lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.recorder.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.recorder.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


_NO_STORE = {"Cache-Control": "no-store"}
