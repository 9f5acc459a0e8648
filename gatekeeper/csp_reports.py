"""After the response: what a browser's CSP report names, and the services-file lines that would
declare it. The endpoint (endpoints.csp_report) reads and limits the body and logs; this module only
reads reports (`report-uri`'s `csp-report` and the Reporting API's list of `csp-violation`s) and says,
once per host and page, what the operator can add. Pure, so every report shape is tested without a
server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from .registry import Registry
from .suggest import hint

__all__ = ["Violation", "suggestion", "violations"]

_MAX_URL = 200  # reports come from anyone: what is logged is bounded


@dataclass(frozen=True, slots=True)
class Violation:
    host: str  # the host the page tried to contact
    path: str  # its path (a catalog service may be told by it: www.google.com/maps)
    page: str  # the page (scheme, host and path; no query: it may hold a visitor's data)
    directive: str
    enforced: bool  # False: a report-only policy let the request through

    @property
    def key(self) -> tuple[str, str]:
        return (self.host, self.page)


def _page(raw: object) -> str:
    try:
        parts = urlsplit(str(raw)[:_MAX_URL])
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else ""


def violations(data: object) -> Iterator[Violation]:
    """The third-party requests a report body names; anything else in it is skipped."""
    reports = data if isinstance(data, list) else [data]
    for report in reports[:100]:
        if not isinstance(report, dict):
            continue
        body = report.get("csp-report") or report.get("body") or {}
        if not isinstance(body, dict):
            continue
        blocked = str(body.get("blocked-uri") or body.get("blockedURL") or "")[:_MAX_URL]
        try:
            parts = urlsplit(blocked)
            host = (parts.hostname or "").lower()
        except ValueError:
            continue
        if "." not in host:  # "inline", "eval", "data", a bare name: no other host to declare
            continue
        directive = str(body.get("effective-directive") or body.get("effectiveDirective")
                        or body.get("violated-directive") or "")[:40]  # fmt: skip
        disposition = str(body.get("disposition") or "enforce")
        page = _page(body.get("document-uri") or body.get("documentURL") or "")
        yield Violation(host, parts.path or "/", page, directive, disposition != "report")


def suggestion(v: Violation, registry: Registry) -> str | None:
    """One log line for the operator (None for the site's own hosts): the page, the host, and for an
    undeclared host the services-file lines to add."""
    if registry.is_first_party(v.host, urlsplit(v.page).hostname or ""):
        return None
    what = "blocked" if v.enforced else "reported (report-only: let through)"
    head = f"CSP {what}: {v.page or 'a page'} contacted {v.host} ({v.directive or 'a fetch'})"
    declared = registry.services_for(v.host, v.path)
    if declared:
        return (
            f"{head}; it is declared ({declared[0].id}) but this visitor had not allowed it: "
            "markup the rewriter did not make inert, or a script that added it"
        )
    return f"{head}; {hint(v.host, v.path)}"
