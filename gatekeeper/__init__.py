"""gatekeeper: keeps a site's cookie and third-party promises, and proves it.

    from gatekeeper import Gatekeeper
    app = Gatekeeper(app, secret_keys=[...], services="services.toml")

Errors:
    ConfigError (ValueError): a services file or argument is wrong, raised at start-up; the message
    names the file, the entry and the fix. Nothing at request time raises.
"""

from .consent import ConsentCodec, ConsentState
from .cookies import gate_cookies, looks_personal
from .csp import build_csp
from .middleware import Gatekeeper, consent_of
from .registry import (
    Category,
    ConfigError,
    CookieDeclaration,
    Registry,
    Service,
    load_registry,
)

__all__ = [
    "Category",
    "ConfigError",
    "ConsentCodec",
    "ConsentState",
    "CookieDeclaration",
    "Gatekeeper",
    "Registry",
    "Service",
    "build_csp",
    "consent_of",
    "gate_cookies",
    "load_registry",
    "looks_personal",
]
