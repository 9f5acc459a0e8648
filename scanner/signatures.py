"""Session-recording services, by what their script leaves behind: the hosts it loads from and records
to, and the globals it defines (those also catch a copy served from the site's own host)."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SESSION_RECORDERS", "SessionRecorder", "recorder_for_global", "recorder_for_url"]


@dataclass(frozen=True)
class SessionRecorder:
    id: str
    name: str
    url: re.Pattern[str]  # matched against a request URL
    globals: tuple[str, ...]  # window properties its snippet defines


def _r(*hosts: str) -> re.Pattern[str]:
    names = "|".join(re.escape(h) for h in hosts)
    return re.compile(rf"^(https?|wss?)://([^/?#]*\.)?({names})(:\d+)?(/|$)", re.I)


SESSION_RECORDERS: tuple[SessionRecorder, ...] = (
    SessionRecorder("hotjar", "Hotjar", _r("hotjar.com", "hotjar.io"), ("hj", "_hjSettings")),
    SessionRecorder("fullstory", "FullStory", _r("fullstory.com"), ("_fs_namespace", "_fs_org")),
    SessionRecorder("clarity", "Microsoft Clarity", _r("clarity.ms"), ("clarity",)),
    SessionRecorder("mouseflow", "Mouseflow", _r("mouseflow.com"), ("_mfq", "mouseflow")),
    SessionRecorder("smartlook", "Smartlook", _r("smartlook.com", "smartlook.cloud"), ("smartlook",)),
    SessionRecorder("logrocket", "LogRocket", _r("logrocket.io", "lr-ingest.io", "lr-in.com"),
                    ("LogRocket",)),
    SessionRecorder("luckyorange", "Lucky Orange", _r("luckyorange.com", "luckyorange.net"),
                    ("__lo_site_id",)),
    SessionRecorder("inspectlet", "Inspectlet", _r("inspectlet.com"), ("__insp",)),
    SessionRecorder("contentsquare", "Contentsquare", _r("contentsquare.net", "contentsquare.com"),
                    ("_uxa", "CS_CONF")),
    SessionRecorder("quantummetric", "Quantum Metric", _r("quantummetric.com"), ("QuantumMetricAPI",)),
    SessionRecorder("yandex-webvisor", "Yandex Metrica Webvisor", _r("mc.yandex.ru", "mc.yandex.com"), ()),
    SessionRecorder("posthog-replay", "PostHog session replay", _r("posthog.com"), ("posthog",)),
)  # fmt: skip

# Names too generic to count alone ("hj", "clarity"): they must be functions or objects, as the snippets
# define them, not a stray string.
GLOBALS_SCRIPT = """(names) => names.filter(n => { try { const v = window[n];
  return v !== undefined && v !== null && (typeof v === 'function' || typeof v === 'object'); }
  catch (e) { return false; } })"""


def recorder_for_url(url: str) -> SessionRecorder | None:
    return next((r for r in SESSION_RECORDERS if r.url.match(url)), None)


def recorder_for_global(name: str) -> SessionRecorder | None:
    return next((r for r in SESSION_RECORDERS if name in r.globals), None)


def all_globals() -> list[str]:
    return [g for r in SESSION_RECORDERS for g in r.globals]
