"""Response start: the app's own Content-Security-Policy, read and kept.

Two things follow from it. Our snippets must run under it (a strict policy with a nonce gets that
nonce on our tags; a policy that allows no inline script gets no inline script from us), or the page
loses its banner and the browser reports a violation. And its report destinations are the browser's
to contact: a `report-uri` of a third party the visitor has not granted is removed (reports carry the
page URL), which never weakens what the policy enforces. The `Reporting-Endpoints`, `Report-To` and
`NEL` headers are judged in `header_gate`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = ["SnippetFit", "fit_snippets", "read_app_policies", "strip_report_uris"]

_NONCE: Final = re.compile(r"'nonce-([A-Za-z0-9+/_=\-]+)'", re.I)


def _directives(policy: str) -> dict[str, list[str]]:
    """name -> sources; the first occurrence of a directive wins, as the CSP spec says."""
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            out.setdefault(tokens[0].lower(), tokens[1:])
    return out


def _effective(directives: dict[str, list[str]], *names: str) -> list[str] | None:
    for name in names:
        if name in directives:
            return directives[name]
    return None


@dataclass(frozen=True, slots=True)
class _Kind:
    nonce: str | None  # the nonce every enforced policy accepts, when they agree on one
    inline: bool  # an inline element of ours runs (with that nonce)
    external: bool  # an external one from our own origin runs (with that nonce)


def _judge(sources_per_policy: Sequence[list[str] | None]) -> _Kind:
    nonces: set[str] = set()
    for sources in sources_per_policy:
        if sources is not None:
            nonces.update(m[1] for s in sources for m in [_NONCE.fullmatch(s)] if m)
    nonce = next(iter(nonces)) if len(nonces) == 1 else None
    inline = external = True
    for sources in sources_per_policy:
        if sources is None:
            continue
        lower = [s.lower() for s in sources]
        has_nonce = nonce is not None and f"'nonce-{nonce}'" in sources
        strict = "'strict-dynamic'" in lower
        hashed = any(s.startswith(("'sha256-", "'sha384-", "'sha512-", "'nonce-")) for s in lower)
        inline = inline and (has_nonce or ("'unsafe-inline'" in lower and not hashed and not strict))
        external = external and (has_nonce or (not strict and ("'self'" in lower or "*" in lower)))
    return _Kind(nonce, inline, external)


@dataclass(frozen=True, slots=True)
class SnippetFit:
    """How our snippets must look to run under the app's enforced policies."""

    script: _Kind = _Kind(None, True, True)
    style: _Kind = _Kind(None, True, True)

    @property
    def key(self) -> tuple[object, ...]:
        return (self.script, self.style)


def read_app_policies(policies: Iterable[str]) -> SnippetFit:
    """The fit for the app's enforced `Content-Security-Policy` values (several headers and
    comma-separated policies are each enforced)."""
    parsed = [_directives(p) for value in policies for p in value.split(",") if p.strip()]
    if not parsed:
        return SnippetFit()
    script = [_effective(d, "script-src-elem", "script-src", "default-src") for d in parsed]
    style = [_effective(d, "style-src-elem", "style-src", "default-src") for d in parsed]
    return SnippetFit(_judge(script), _judge(style))


_SNIPPET_TAG: Final = re.compile(r"<(script|link)(?=[^>]*\bdata-gk-snippet\b)([^>]*)>", re.I)
_INLINE_SCRIPT: Final = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*\bdata-gk-snippet\b[^>]*>.*?</script>", re.I | re.S
)


def fit_snippets(html: str, fit: SnippetFit) -> str:
    """Our snippet markup made to run under the app's policies: their nonce on our tags; an inline
    script no policy lets run is left out (the banner's forms still work without it)."""
    if fit == SnippetFit():
        return html
    if not fit.script.inline:
        html = _INLINE_SCRIPT.sub("", html)

    def tag(m: re.Match[str]) -> str:
        kind = fit.script if m[1].lower() == "script" else fit.style
        if kind.nonce is None or "nonce=" in m[2]:
            return m[0]
        return f'<{m[1]} nonce="{kind.nonce}"{m[2]}>'

    return _SNIPPET_TAG.sub(tag, html)


def strip_report_uris(value: str, leaves: Callable[[str], bool]) -> str:
    """A CSP header value without the `report-uri` URLs that `leaves` (a non-granted third party);
    a directive left empty goes. Everything the policy enforces stays as it was."""
    policies = []
    for policy in value.split(","):
        parts = []
        for part in policy.split(";"):
            tokens = part.split()
            if tokens and tokens[0].lower() == "report-uri":
                kept = [u for u in tokens[1:] if not leaves(u)]
                if not kept:
                    continue
                part = " ".join(["report-uri", *kept])
            parts.append(part.strip())
        policies.append("; ".join(p for p in parts if p))
    return ", ".join(policies)
