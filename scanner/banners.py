"""Consent banners: find one on a page and the buttons a visitor would click (known CMPs, then words).

Detection runs as one script per frame. It marks the buttons it chose with `data-gk-scan="accept"`,
`"reject"` or `"reopen"`, and the visit clicks them through Playwright like a visitor would (real
pointer events, waiting for the button to be visible and stable). Known consent platforms are matched
by their markup; any other banner by the words on its buttons in English, Japanese, German and French.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from playwright.async_api import Frame, Locator, Page

from .model import BannerRecord

__all__ = ["DETECT_SCRIPT", "KNOWN", "Banner", "detect_args", "find_banner", "page_script", "withdraw_by_api"]


def page_script(name: str) -> str:
    """A script shipped in scanner/data, without its leading comment lines (so that Playwright's
    `evaluate` sees a function)."""
    text = resources.files("scanner").joinpath("data", name).read_text("utf-8")
    lines = text.splitlines()
    while lines and lines[0].startswith("//"):
        lines.pop(0)
    return "\n".join(lines).strip() + "\n"


# id, banner root, accept buttons, reject buttons (first layer), control that reopens the banner
KNOWN: tuple[dict[str, Any], ...] = (
    {
        "id": "gatekeeper",
        "root": "[data-gk-banner]",
        "accept": ['[data-gk-banner] button[name="choice"][value="all"]'],
        "reject": ['[data-gk-banner] button[name="choice"][value="none"]'],
        "reopen": ["[data-gk-box] > summary"],
    },
    {
        "id": "onetrust",
        "root": "#onetrust-banner-sdk, #onetrust-consent-sdk",
        "accept": ["#onetrust-accept-btn-handler", "#accept-recommended-btn-handler"],
        "reject": ["#onetrust-reject-all-handler", ".ot-pc-refuse-all-handler"],
        "reopen": ["#ot-sdk-btn-floating .ot-floating-button__open", "#ot-sdk-btn"],
    },
    {
        "id": "cookiebot",
        "root": "#CybotCookiebotDialog",
        "accept": [
            "#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll",
            "#CybotCookiebotDialogBodyButtonAccept",
        ],
        "reject": ["#CybotCookiebotDialogBodyButtonDecline"],
        "reopen": [],
    },
    {
        "id": "didomi",
        "root": "#didomi-notice, #didomi-host",
        "accept": ["#didomi-notice-agree-button"],
        "reject": ["#didomi-notice-disagree-button", ".didomi-continue-without-agreeing"],
        "reopen": [],
    },
    {
        "id": "usercentrics",
        "root": "#usercentrics-root, #usercentrics-cmp-ui, #uc-banner",
        "accept": ['[data-testid="uc-accept-all-button"]', "#accept"],
        "reject": ['[data-testid="uc-deny-all-button"]', "#deny"],
        "reopen": [],
    },
    {
        "id": "klaro",
        "root": ".klaro .cookie-notice, .klaro .cookie-modal",
        "accept": [".klaro .cm-btn-accept-all", ".klaro .cm-btn-success"],
        "reject": [".klaro .cn-decline", ".klaro .cm-btn-decline"],
        "reopen": [],
    },
    {
        "id": "tarteaucitron",
        "root": "#tarteaucitronAlertBig, #tarteaucitronRoot",
        "accept": ["#tarteaucitronPersonalize2", "#tarteaucitronAllAllowed"],
        "reject": ["#tarteaucitronAllDenied2", "#tarteaucitronAllDenied"],
        "reopen": ["#tarteaucitronIcon", "#tarteaucitronManager"],
    },
    {
        "id": "cookieconsent",  # orestbida/cookieconsent v3, then v2
        "root": "#cc-main .cm, #cc_div #cm",
        "accept": ['#cc-main .cm [data-role="all"]', "#c-p-bn"],
        "reject": ['#cc-main .cm [data-role="necessary"]', "#c-s-bn"],
        "reopen": [],
    },
    {
        "id": "osano",
        "root": ".osano-cm-dialog, .osano-cm-window",
        "accept": [".osano-cm-accept-all", ".osano-cm-accept"],
        "reject": [".osano-cm-denyAll", ".osano-cm-deny"],
        "reopen": [".osano-cm-widget"],
    },
    {
        "id": "complianz",
        "root": ".cmplz-cookiebanner",
        "accept": [".cmplz-cookiebanner .cmplz-accept"],
        "reject": [".cmplz-cookiebanner .cmplz-deny"],
        "reopen": [".cmplz-manage-consent"],
    },
)

# Button words. Reject is tested first: "accept only necessary" is a reject button.
REJECT_WORDS = (
    r"reject|decline|deny|refuse|disagree|do not (accept|agree|consent)|don't (accept|agree)|"
    r"(only|strictly) (necessary|essential|required)|(necessary|essential|required)( cookies)? only|"
    r"continue without|no,? thanks|"
    r"拒否|拒絶|同意しない|同意せず|許可しない|受け入れない|必要な(もの|クッキー|cookie)のみ|必須(のみ|クッキーのみ)|"
    r"ablehnen|verweigern|nicht (zu)?stimmen|nur (notwendige|essenzielle|erforderliche)|"
    r"refuser|je refuse|continuer sans accepter|tout refuser|uniquement (les )?(nécessaires|essentiels)"
)
ACCEPT_WORDS = (
    r"accept|allow|agree|got it|^ok(ay)?$|^(yes|sure)\b|"
    r"同意|許可|受け入れ|承諾|了解|"
    r"akzeptieren|annehmen|zustimmen|zulassen|einverstanden|erlauben|"
    r"accepter|j'accepte|autoriser|d'accord|consentir"
)
CONTEXT_WORDS = (
    r"cookie|consent|privacy|gdpr|tracking|クッキー|同意|個人情報|プライバシー|"
    r"datenschutz|einwilligung|données|confidentialité|traceurs|témoins"
)

DETECT_SCRIPT = page_script("detect_banner.js")


@dataclass
class Banner:
    """A banner found in `frame`; its buttons are marked in the page for the click."""

    kind: str
    frame: Frame
    shown: bool
    has_accept: bool
    has_reject: bool
    has_reopen: bool
    note: str = ""

    def button(self, role: str) -> Locator:
        return self.frame.locator(f'[data-gk-scan="{role}"]').first

    def record(self, clicked: str = "", note: str = "") -> BannerRecord:
        return BannerRecord(
            found=True,
            kind=self.kind,
            has_accept=self.has_accept,
            has_reject=self.has_reject,
            clicked=clicked,
            note="; ".join(n for n in (self.note, note) if n),
        )


def detect_args(reopen: bool = False) -> dict[str, Any]:
    """The argument of DETECT_SCRIPT: `frame.evaluate(DETECT_SCRIPT, detect_args())` returns
    {kind, accept, reject, reopen, shown, note} or null, and marks the buttons."""
    return {
        "known": list(KNOWN),
        "reject": REJECT_WORDS,
        "accept": ACCEPT_WORDS,
        "context": CONTEXT_WORDS,
        "reopen": reopen,
    }


async def find_banner(page: Page, *, reopen: bool = False) -> Banner | None:
    """The consent banner of the page (main frame first, then frames), or None.

    With `reopen`, a banner that is closed after a choice also counts when the control that reopens
    it is visible (gatekeeper's "Privacy settings", OneTrust's floating button...).
    """
    args = detect_args(reopen)
    for frame in [page.main_frame, *[f for f in page.frames if f is not page.main_frame]]:
        if frame.is_detached():
            continue
        try:
            found = await frame.evaluate(DETECT_SCRIPT, args)
        except Exception:  # a frame navigating away or cross-origin teardown: look elsewhere
            continue
        if found:
            return Banner(
                kind=found["kind"],
                frame=frame,
                shown=bool(found["shown"]),
                has_accept=bool(found["accept"]),
                has_reject=bool(found["reject"]),
                has_reopen=bool(found["reopen"]),
                note=found["note"],
            )
    return None


# Withdrawal through a platform's own API, for banners that cannot be reopened by a click we know.
_WITHDRAW_APIS = page_script("withdraw.js")


async def withdraw_by_api(page: Page) -> str:
    """Withdraw consent through a known platform's JavaScript API; the API's name, or "" if none."""
    try:
        return str(await page.evaluate(_WITHDRAW_APIS))
    except Exception:
        return ""
