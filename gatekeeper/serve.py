"""`gatekeeper serve DIR`: a static site (a CMS's export, often Shift_JIS) as the app behind gatekeeper.

Starlette's StaticFiles does the file serving: index.html for a directory (and a redirect to its
trailing slash), 404.html when present (else a 404 page in the visitor's language), types from the
file name, ETag and Last-Modified, 304 and Range, no symlink out of the directory. One change: an
HTML page is declared in the charset its own <meta> names (Starlette would say UTF-8 for every text
file), so a Shift_JIS page reaches the browser, and the rewriter, byte-identical and read as
Shift_JIS.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from .body import _prescan as meta_charset
from .error_pages import ERRORS, error_page
from .registry import ConfigError

__all__ = ["SiteFiles", "static_app"]

_HTML_TYPES = ("text/html", "application/xhtml+xml")


class SiteFiles(StaticFiles):
    """StaticFiles(directory=..., html=True), with HTML declared in the charset of its <meta>."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # nothing to start: say so, so uvicorn can run with lifespan="on"
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        try:
            await super().__call__(scope, receive, send)
        except HTTPException as e:  # Starlette leaves these to an exception middleware we do not have
            response: Response
            if e.status_code not in ERRORS:
                response = PlainTextResponse(e.detail, status_code=e.status_code, headers=e.headers)
            else:  # the site's own 404.html was served above, when it has one
                accept = Headers(scope=scope).get("accept-language")
                page = error_page(e.status_code, accept)
                response = Response(page, e.status_code, e.headers, "text/html; charset=utf-8")
            await response(scope, receive, send)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media in _HTML_TYPES:
            with open(full_path, "rb") as f:
                found = meta_charset(f.read(1024))
            if found is not None:
                response.headers["content-type"] = f"{media}; charset={found[1]}"
        return response


def static_app(directory: str | os.PathLike[str]) -> SiteFiles:
    path = Path(directory)
    if not path.is_dir():
        raise ConfigError(f"gatekeeper serve {directory}: not a directory")
    return SiteFiles(directory=path, html=True)
