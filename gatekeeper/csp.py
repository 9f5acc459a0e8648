"""Response start: one extra Content-Security-Policy header, the safety net under the rewriter.

Its fetch directives allow the page's own origin and site, the declared first-party hosts and the hosts
of the services granted for this response; anything else the rewriter missed, the browser blocks.
Browsers enforce every CSP header they receive, so the app's own policy is never loosened. The site's
own inline scripts and styles keep working: this policy restricts hosts, not script kinds.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Final

from .psl import is_public_suffix, normalize_host, registrable_domain
from .registry import Registry

__all__ = ["FETCH_DIRECTIVES", "KEYWORDS", "NONE", "SELF", "build_csp", "host_of"]

SELF = "'self'"
NONE = "'none'"

# One `default-src` governs every fetch directive (script, style, img, font, connect, media, frame,
# object, worker, manifest): an explicit directive per kind would repeat the whole host list each
# time, and with a catalog's worth of granted services the header would pass the 8 KB proxies allow.
# The keywords keep the site's own inline code, eval and data:/blob: URLs working; none of them can
# reach another host.
KEYWORDS = ("'unsafe-inline'", "'unsafe-eval'", "'wasm-unsafe-eval'", "data:", "blob:")
FETCH_DIRECTIVES = (
    "script-src",
    "style-src",
    "img-src",
    "font-src",
    "connect-src",
    "media-src",
    "frame-src",
    "object-src",
    "worker-src",
    "manifest-src",
)


# A Host header is the client's word: only a plain DNS name or IP literal (and a port) becomes a
# source. "*", "*.", "a.com; script-src *" or a stray quote would widen or rewrite the policy.
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_DNS_HOST: Final = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?(?::\d{{1,5}})?")
_IPV6_HOST: Final = re.compile(r"\[([0-9a-f:.]+)\](?::\d{1,5})?")


def host_of(header: str | bytes | None) -> str:
    """The host name of a `Host` header when it is a valid one (lower case, no port), else ""."""
    if not header:
        return ""
    text = header.decode("latin-1") if isinstance(header, bytes) else header
    text = text.strip().lower()
    if len(text) > 260:
        return ""
    if _DNS_HOST.fullmatch(text):
        return text.rsplit(":", 1)[0] if ":" in text else text
    m = _IPV6_HOST.fullmatch(text)
    if m:
        try:
            return str(ipaddress.IPv6Address(m[1]))
        except ValueError:
            return ""
    return ""


def _site_sources(site_host: str) -> tuple[str, ...]:
    """Other hosts and ports of the page's own site are first party, as the rewriter treats them."""
    host = normalize_host(host_of(site_host))
    if not host or ":" in host:  # an IPv6 literal: 'self' covers the page's own origin
        return ()
    site = registrable_domain(host)
    if is_public_suffix(site):  # an IP address, a single label, or a site on a public suffix
        return (f"{host}:*",)
    return (f"{site}:*", f"*.{site}:*")


def build_csp(
    registry: Registry,
    granted: Iterable[str],
    site_host: str,
    *,
    report_uri: str | None = None,
) -> str:
    """The policy for one response: pure, so the middleware memoises it per (granted, host)."""
    hosts: list[str] = [*_site_sources(site_host)]
    for pattern in registry.first_party_hosts:
        hosts.extend(pattern.csp_sources())
    # A form post is no fetch: default-src does not govern it. Forms may post to the site and its
    # declared hosts (the services' hosts again would pass the 8 KB a proxy takes in one header;
    # their embeds post inside their own frames). CSP's `webrtc 'block'` would stop STUN/TURN, but
    # Chromium 156 does not know the directive and warns on every page: docs/SECURITY.md says what
    # stays open.
    forms = " ".join(dict.fromkeys([SELF, *hosts]))
    for sid in sorted(set(granted)):
        service = registry.by_id.get(sid)
        if service is not None:
            for pattern in service.hosts:
                hosts.extend(pattern.csp_sources())
    sources = " ".join(dict.fromkeys([SELF, *KEYWORDS, *hosts]))
    policy = f"default-src {sources}; form-action {forms}"
    if report_uri:
        policy += f"; report-uri {report_uri}"
    return policy
