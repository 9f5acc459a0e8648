"""Load once: a visitor loads one embed, on one page, one time, without consenting to its service.

The placeholder's "Load once" button posts `choice=once` with the service and the embed's number; the
consent endpoint answers with a short-lived signed ticket (a cookie bound to the page's path) and sends
the visitor back to `#gk-ph-N`. The next response for that path grants the service for that page only:
its CSP lets the service in, the rewriter leaves embed N live (with an anchor where its placeholder
was, and what the embed needs besides itself, such as a post's widget script), and the ticket is
spent (expired) on the way out. The consent itself does not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from .consent import ConsentCodec, cookie_values
from .registry import Registry

__all__ = ["COOKIE", "SECONDS", "OnceGrant", "OnceTickets", "anchor_id"]

COOKIE: Final = "gk_once"
SECONDS: Final = 300  # a ticket is good for this long: the page load that follows the click
_SALT: Final = "gatekeeper.once"


def anchor_id(index: int | str) -> str:
    """The id a "load once" returns to: the placeholder's, and the anchor left before the live embed."""
    return f"gk-ph-{index}"


@dataclass(frozen=True, slots=True)
class OnceGrant:
    """This response may load embed number `embed`, and with it `service`."""

    service: str
    embed: int

    def granted(self, granted: frozenset[str]) -> frozenset[str]:
        """The services this response may reach: the visitor's, and the one loaded once."""
        return granted | {self.service}


@dataclass(frozen=True, slots=True)
class OnceTickets:
    """Issuing, reading and spending the "load once" ticket cookie."""

    codec: ConsentCodec
    registry: Registry
    cookie: str = COOKIE

    def cookie_name(self, https: bool) -> str:
        return f"__Host-{self.cookie}" if https else self.cookie

    def issue(self, service: str, embed: int, next_path: str, *, https: bool) -> tuple[str, str]:
        """The Set-Cookie value of a ticket for `embed` on the page `next_path` returns to, and the
        ticket itself (what a consent record's receipt is derived from)."""
        path = urlsplit(next_path).path or "/"
        ticket = self.codec.sign({"s": service, "e": embed, "p": path}, _SALT)
        return self._set_cookie(ticket, SECONDS, https), ticket

    def grant(self, cookie_header: str, path: str, *, https: bool) -> OnceGrant | None:
        """The grant of a ticket the visitor holds for this path, if any (a forged, expired or
        foreign one, or one for an unknown service, is no grant)."""
        if self.cookie + "=" not in cookie_header:
            return None
        for value in cookie_values(cookie_header, self.cookie_name(https)):
            data = self.codec.unsign(value, _SALT, SECONDS)
            if (
                isinstance(data, dict)
                and data.get("p") == path
                and data.get("s") in self.registry.by_id
                and isinstance(data.get("e"), int)
            ):
                return OnceGrant(str(data["s"]), int(data["e"]))
        return None

    def spent(self, *, https: bool) -> str:
        """The Set-Cookie value that ends a ticket once its page went out."""
        return self._set_cookie("", 0, https)

    def _set_cookie(self, value: str, max_age: int, https: bool) -> str:
        secure = "; Secure" if https else ""
        return f"{self.cookie_name(https)}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
