"""The pages the benchmarks serve: the same bytes behind gatekeeper and bare.

- `plain`: a non-HTML response (a small JSON document);
- `page20`: a 20 KB HTML page with no third-party markup;
- `embeds20`, `embeds100`: 20 KB and 100 KB pages with ten embeds (the vendors' real codes);
- `unique20`: `embeds20` with a token that differs on every request (no cache can help).
"""

from __future__ import annotations

import itertools
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

EMBED_SERVICES = (
    "youtube", "google-maps", "x", "facebook", "line", "hatena", "google-analytics", "meta-pixel",
    "google-fonts", "instagram",
)  # fmt: skip

PARAGRAPH = (
    "<p>The city office is open on weekdays from 8:30 to 17:15. Residents can apply for certificates, "
    "register a move, and ask about taxes, health insurance and child care at the counters on the "
    'first floor. <a href="/guide/counters">See the counters</a>.</p>\n'
)


def _first_embed(service: str) -> str:
    """The first embed code in the vendor's file (the files hold several variants each)."""
    text = resources.files("gatekeeper.demo").joinpath(f"embeds/{service}.html").read_text("utf-8")
    blocks = [b.strip() for b in text.split("\n\n") if b.strip() and not b.strip().startswith("<!--")]
    return blocks[0] if blocks else text


def page(size: int, embeds: bool) -> str:
    head = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Benchmark page</title>\n'
        '<link rel="stylesheet" href="/static/site.css">\n</head>\n<body>\n<main>\n<h1>City news</h1>\n'
    )
    tail = "</main>\n</body>\n</html>\n"
    parts = [_first_embed(s) for s in EMBED_SERVICES] if embeds else []
    body: list[str] = []
    filler = itertools.cycle([PARAGRAPH])
    budget = size - len(head) - len(tail) - sum(len(p) for p in parts)
    interval = max(1, (budget // len(PARAGRAPH)) // (len(parts) + 1)) if parts else 0
    written = 0
    pending = list(parts)
    while written < budget:
        para = next(filler)
        body.append(para)
        written += len(para)
        if pending and interval and len(body) % interval == 0:
            body.append(pending.pop(0) + "\n")
    body.extend(p + "\n" for p in pending)
    return head + "".join(body) + tail


PAGES = {
    "page20": page(20_000, embeds=False),
    "embeds20": page(20_000, embeds=True),
    "embeds100": page(100_000, embeds=True),
}
_counter = itertools.count()
_MIDDLE = PAGES["embeds20"].index("<p>", len(PAGES["embeds20"]) // 2)
_BEFORE, _AFTER = PAGES["embeds20"][:_MIDDLE], PAGES["embeds20"][_MIDDLE:]


async def plain(request: Request) -> Response:
    return JSONResponse({"status": "ok", "items": list(range(20))})


async def fixed(request: Request) -> Response:
    return HTMLResponse(PAGES[request.path_params["name"]])


async def unique(request: Request) -> Response:
    token = f"{next(_counter):012d}"
    return HTMLResponse(f'{_BEFORE}<p data-token="{token}">Request {token}</p>\n{_AFTER}')


def bare() -> Starlette:
    return Starlette(
        routes=[
            Route("/plain", plain),
            Route("/unique20", unique),
            Route("/{name}", fixed),
        ]
    )


def wrapped() -> object:
    from gatekeeper import Gatekeeper

    return Gatekeeper(bare(), secret_keys="bench-secret-key-0123456789", services=None)
