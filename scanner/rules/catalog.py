"""Every rule: its id (scanner.model.RuleId), default severity, title and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import RuleId, Severity

__all__ = ["RULES", "Rule"]


@dataclass(frozen=True)
class Rule:
    id: RuleId
    severity: Severity
    title: str
    help: str  # what it means and how to fix it


E, W = Severity.ERROR, Severity.WARNING
R = RuleId
RULES: dict[RuleId, Rule] = {
    r.id: r
    for r in (
        Rule(R.REQUEST_BEFORE_CONSENT, E, "Third party contacted before consent",
             "The page made the browser contact a third party before the visitor chose. Load the "
             "element only after consent (gatekeeper makes it inert), or declare the host as first "
             "party if it is your own."),
        Rule(R.COOKIE_BEFORE_CONSENT, E, "Cookie set before consent",
             "A cookie that is not strictly necessary was set, or offered, before the visitor chose. "
             "Set it only once its category is granted."),
        Rule(R.STORAGE_BEFORE_CONSENT, W, "Browser storage written before consent",
             "localStorage, sessionStorage or IndexedDB was written before the visitor chose. Storage "
             "needs the same consent as cookies unless it is strictly necessary (declare it as necessary)."),
        Rule(R.THIRD_PARTY_STORAGE, E, "A third party's script wrote browser storage before consent",
             "A script from a third party wrote localStorage, sessionStorage or IndexedDB before the "
             "visitor chose: an identifier kept on the device. Load that script only after consent."),
        Rule(R.REQUEST_AFTER_REJECT, E, "Third party contacted after \"reject all\"",
             "After the visitor rejected everything, the page still contacted a third party."),
        Rule(R.COOKIE_AFTER_REJECT, E, "Cookie set after \"reject all\"",
             "After the visitor rejected everything, a cookie that is not strictly necessary was set."),
        Rule(R.GPC_IGNORED, E, "Global Privacy Control ignored",
             "With Sec-GPC: 1, a service that sells or shares data was loaded after \"accept all\". "
             "Under GPC such a service needs an explicit opt-in to it."),
        Rule(R.FINGERPRINTING, E, "Browser fingerprinting without consent",
             "A script read what tells this browser from others (a canvas with text read back, text "
             "measured in many fonts, the GPU's name, an audio rendering) before the visitor chose or "
             "after they rejected everything. Such reading needs consent like a cookie does."),
        Rule(R.KEYLOGGING, E, "Typed input sent to a third party before submission",
             "What the visitor typed into a field reached a third party before any form was submitted "
             "(the scan types a marker text and never submits). Send form data only on submission, "
             "and only where the visitor expects it."),
        Rule(R.SESSION_RECORDING, E, "Session recording without consent",
             "A session-recording service (it records the visitor's clicks, scrolling and typing) was "
             "loaded before the visitor chose or after they rejected everything."),
        Rule(R.UNDECLARED_THIRD_PARTY, W, "Undeclared third party",
             "A host that belongs to no service of the registry. Add the service to the services file "
             "(or the host to first_party_hosts), so visitors are told about it."),
        Rule(R.UNDECLARED_COOKIE, W, "Undeclared first-party cookie",
             "The site set a cookie its services file does not declare. Declare it with its category, "
             "purpose and lifetime, or stop setting it."),
        Rule(R.PERSONAL_DATA_IN_COOKIE, E, "Personal data in a cookie",
             "A cookie value holds an e-mail address, the visitor's IP address or a phone number "
             "(perhaps URL- or base64-encoded). Keep such data on the server."),
        Rule(R.COOKIE_INSECURE, W, "Insecure cookie attributes",
             "A first-party cookie lacks Secure on an HTTPS site, or has SameSite=None without Secure."),
        Rule(R.COOKIE_LIFETIME, W, "Cookie kept too long",
             "A first-party cookie lives longer than its declaration allows, or longer than 13 months."),
        Rule(R.FORM_OVER_HTTP, W, "Form posts over plain HTTP",
             "A form sends what the visitor enters over unencrypted HTTP. Make its action https://."),
        Rule(R.NO_BANNER, W, "No consent banner",
             "No consent banner was found on this page, though the site needs consent (it has a banner "
             "elsewhere, or this page uses third parties or cookies that need it)."),
        Rule(R.NO_REJECT_ON_FIRST_LAYER, W, "No reject button on the first layer",
             "The banner offers \"accept\" but no equally easy \"reject\": refusing must be as easy as "
             "accepting."),
        Rule(R.REJECT_NOT_AS_EASY, E, "\"Reject\" is not as easy as \"accept\"",
             "The reject button is much smaller, or fainter (a text link beside a coloured button), "
             "than the accept button. Give both the same size and weight."),
        Rule(R.PRETICKED_BOXES, E, "Consent boxes ticked in advance",
             "The banner's settings have boxes for optional purposes ticked before the visitor chose. "
             "Consent must be an action: leave them unticked."),
        Rule(R.BANNER_NO_PURPOSES, W, "The banner names no purpose",
             "The banner does not say what the cookies and services are for (analytics, advertising, "
             "videos, ...). Name each purpose."),
        Rule(R.BANNER_NO_THIRD_PARTIES, W, "The banner names no third party",
             "The page uses third parties, and the banner names none of them. Name who receives data."),
        Rule(R.BANNER_NO_RETENTION, W, "The banner states no retention",
             "The banner (or its settings) does not say how long cookies or data are kept."),
        Rule(R.BANNER_NO_WITHDRAWAL, W, "The banner does not say how to withdraw",
             "The banner does not tell the visitor that, and how, they can change or withdraw their "
             "choice later."),
        Rule(R.BANNER_NO_PRIVACY_POLICY, W, "No privacy-policy link in the banner",
             "The banner has no link to the site's privacy policy."),
        Rule(R.CONSENT_NOT_WITHDRAWN, E, "Cookies stay after withdrawal",
             "After the visitor withdrew consent, cookies that depended on it were still there. Expire "
             "the cookies of revoked categories when consent is withdrawn."),
        Rule(R.PAGE_NOT_JUDGED, E, "Page could not be judged",
             "The page did not load at all in its first view, so nothing about it could be judged. "
             "Fix the page or exclude it; --unjudged-ok makes this a warning."),
        Rule(R.PAGE_ERROR, W, "Page could not be scanned fully",
             "The page failed to load, or answered with an HTTP error, in at least one visit."),
        Rule(R.PAGE_TIMEOUT, W, "Page load timed out",
             "The page did not finish loading within --timeout. The visit went on and was judged on "
             "everything it recorded; what the page would have done later may be missing."),
    )
}  # fmt: skip
assert set(RULES) == set(RuleId), "every rule id has its rule"
