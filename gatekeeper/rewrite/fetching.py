"""The one table of what fetches: the elements and attributes that make a browser contact a server, the rels,
script types and widgets, read by the skip scan (tokenizing), the element handlers and the SVG/MathML
branch (reading)."""

from __future__ import annotations

import json
import re
from typing import Final

from ..registry import Placeholder

# Attributes that can fetch on any element: a boring tag has none of them.
_GENERIC_ATTRS: Final = ("style", "background", "attributionsrc")


_RAW_TEXT: Final = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"})
# The HTML elements that fetch, and the attributes each fetches from: the skip scan stops at every one
# of them (_FETCHERS), the element handler checks these attributes (a <link> only with a rel that
# fetches; an iframe's srcdoc and a meta refresh are read as documents and refresh URLs).
_URL_ATTRS: Final[dict[str, tuple[str, ...]]] = {
    "img": ("src", "srcset"), "image": ("src", "srcset"), "source": ("src", "srcset"),
    "iframe": ("src",), "frame": ("src",), "audio": ("src",), "track": ("src",), "embed": ("src",),
    "input": ("src",), "video": ("src", "poster"), "object": ("data",),
    "link": ("href", "imagesrcset"), "script": ("src",), "meta": (),
    # AMP's embeds: amp-iframe fetches its src; the video players, what _AMP_PLAYERS says
    "amp-iframe": ("src",), "amp-youtube": (), "amp-vimeo": (), "amp-dailymotion": (),
}  # fmt: skip
_FETCHERS: Final = frozenset(_URL_ATTRS)
_STRUCTURE: Final = frozenset(
    {"noscript", "template", "svg", "math", "base", "head", "html", "plaintext", "select", "keygen"}
)
_SELECT_IGNORES: Final = frozenset(
    {"xmp", "style", "iframe", "noembed", "noframes", "noscript", "plaintext", "svg", "math", "title"}
)
_HTML_STARTS: Final = _RAW_TEXT | _FETCHERS | _STRUCTURE
_HTML_ENDS: Final = frozenset({"body", "template", "noscript", "video", "audio", "select"})
_WIDGET_TAGS: Final = frozenset({"blockquote", "a", "div"})
_WIDGET_CLASS: Final = (
    r"twitter-(?:tweet|timeline|video|share-button)|instagram-media|tiktok-embed|fb-(?:post|page|video|share-button)"
    r"|line-it-button|hatena-bookmark-button|data-pin-do|data-flickr-embed"
)
_WIDGET_TAIL: Final = r"(?:t(?:weet|imeline)|video|media|embed|p(?:ost|age)|button|do)"
# a cheap first look for the class names above (a literal first character makes `re` fast)
_WIDGET_RE_CLASS: Final = re.compile(_WIDGET_CLASS)
_WIDGET_HINT: Final = re.compile("-" + _WIDGET_TAIL)


_SVG_FETCH: Final = frozenset({"image", "use", "feimage", "script"})


_LINK_FETCH_RELS: Final = frozenset(
    {"stylesheet", "icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon",
     "preload", "prefetch", "modulepreload", "preconnect", "dns-prefetch", "prerender", "manifest",
     "search", "compression-dictionary", "import", "fluid-icon"}
)  # fmt: skip
_JS_TYPES: Final = frozenset(
    {"", "module", "text/javascript", "application/javascript", "application/ecmascript",
     "application/x-ecmascript", "application/x-javascript", "text/ecmascript", "text/javascript1.0",
     "text/javascript1.1", "text/javascript1.2", "text/javascript1.3", "text/javascript1.4",
     "text/javascript1.5", "text/jscript", "text/livescript", "text/x-ecmascript", "text/x-javascript"}
)  # fmt: skip
# AMP's video players: the attribute that names the video, and the player's URL it is put after (what the
# player is judged on). Their component scripts (<script custom-element="amp-youtube">) wait for that
# service too: without one the AMP runtime cannot build the element.
_AMP_PLAYERS: Final = {
    "amp-youtube": ("data-videoid", "https://www.youtube.com/embed/"),
    "amp-vimeo": ("data-videoid", "https://player.vimeo.com/video/"),
    "amp-dailymotion": ("data-videoid", "https://www.dailymotion.com/embed/video/"),
}
_EMBED_TAGS: Final = frozenset(
    {"iframe", "frame", "object", "embed", "video", "audio", "amp-iframe", *_AMP_PLAYERS}
)
_PLACEHOLDER_KINDS: Final = frozenset({Placeholder.VIDEO, Placeholder.MAP, Placeholder.POST})
# Script-driven post widgets: the class names vendors' embed codes use, and where the widget loads from.
_WIDGETS: Final = {
    "twitter-tweet": "https://platform.twitter.com/widgets.js",
    "twitter-timeline": "https://platform.twitter.com/widgets.js",
    "twitter-video": "https://platform.twitter.com/widgets.js",
    "instagram-media": "https://www.instagram.com/embed.js",
    "tiktok-embed": "https://www.tiktok.com/embed.js",
    "fb-post": "https://connect.facebook.net/sdk.js",
    "fb-page": "https://connect.facebook.net/sdk.js",
    "fb-video": "https://connect.facebook.net/sdk.js",
    # Flickr's is an <a data-flickr-embed> around the photo (its href the photo's page)
    "data-flickr-embed": "https://embedr.flickr.com/assets/client-code.js",
}
_WIDGET_URL_ATTRS: Final = ("cite", "data-instgrm-permalink", "data-href", "href")
# Script-drawn share buttons: a share link to the network stands in for them (the page they share:
# their data-url or data-href, else the page itself). Pinterest's is marked by data-pin-do instead.
_SHARE_WIDGETS: Final = {
    "twitter-share-button": "https://platform.twitter.com/widgets.js",
    "fb-share-button": "https://connect.facebook.net/sdk.js",
    "line-it-button": "https://www.line-website.com/social-plugins/js/thirdparty/loader.min.js",
    "hatena-bookmark-button": "https://b.st-hatena.com/js/bookmark_button.js",
    "data-pin-do=button": "https://assets.pinterest.com/js/pinit.js",
}
_SHARE_URL_ATTRS: Final = ("data-url", "data-href")
# LinkedIn's share button is a <script type="IN/Share"> its in.js draws
_IN_SHARE: Final = re.compile(r"type[\t\n\f\r ]*+=[\t\n\f\r ]*+[\"']?in/share", re.IGNORECASE)
_IN_SHARE_JS: Final = "https://platform.linkedin.com/in.js"


# <script type=speculationrules>: Chromium prefetches or prerenders what its rules name (with a
# Referer), and no CSP directive stops it.
_SPECULATION: Final = re.compile(r"speculationrules", re.IGNORECASE)


def _speculation_urls(text: str) -> list[str | None]:
    """The URLs speculation rules name; None for a rule that acts on the page's links or that cannot
    be read (it may reach any host)."""
    try:
        rules = json.loads(text.strip() or "{}")  # raw text in HTML: no character references
    except (ValueError, RecursionError):
        return [None]
    if not isinstance(rules, dict):
        return [None]
    out: list[str | None] = []
    for action in ("prefetch", "prerender", "prefetch_with_subresources"):
        for rule in rules.get(action) or []:
            if not isinstance(rule, dict) or rule.get("source") == "document" or "where" in rule:
                out.append(None)
                continue
            urls = rule.get("urls")
            if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
                out.append(None)
                continue
            out.extend(urls)
    return out
