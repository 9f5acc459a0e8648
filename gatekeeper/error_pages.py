"""The small pages gatekeeper itself answers with (the proxy's 502 and 504, `serve`'s 404 and 405), in
the visitor's language."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from markupsafe import escape

from .i18n import N_, Catalogues

__all__ = ["ERRORS", "error_page"]


ERRORS: Mapping[int, tuple[str, str]] = {
    404: (
        N_("This page does not exist"),
        N_(
            "There is no page at this address. Please check the address, or start again from the site's "
            "home page."
        ),
    ),
    405: (
        N_("This page cannot be used this way"),
        N_("The site does not accept this kind of request at this address."),
    ),
    502: (
        N_("The site is not reachable right now"),
        N_(
            "The server that holds this site did not accept the connection. Please try again in a few "
            "minutes."
        ),
    ),
    504: (
        N_("The site is taking too long to answer"),
        N_("The server that holds this site did not answer in time. Please try again in a few minutes."),
    ),
}


@lru_cache(maxsize=1)
def _default_catalogues() -> Catalogues:
    return Catalogues.load()


def error_page(status: int, accept_language: str | None, catalogues: Catalogues | None = None) -> bytes:
    """The small page gatekeeper answers with when the site behind `gatekeeper proxy` refuses (502)
    or is too slow (504), or `gatekeeper serve` has no such file (404) or method (405): what
    happened, in the visitor's language, and nothing about the servers."""
    cat = catalogues or _default_catalogues()
    lang = cat.choose(None, accept_language)
    title, about = (cat.gettext(lang, m) for m in ERRORS[status])
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>"
        f"<p>{escape(about)}</p><p>{status}</p></body></html>\n"
    ).encode()
