"""What the visitor-facing UI tests share: the demo and a page of vendors' embeds at their default and
smallest sizes (each in a <p>), served behind the middleware; the two screens; axe-core (GATEKEEPER_AXE);
and the in-page measurements (hit tests, covered focus)."""

# ruff: noqa: E501 (vendor markup and CSS written as the vendors and sites write them)
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from support import serve_app

from gatekeeper import Gatekeeper
from gatekeeper.demo.app import demo_app, site

SCREENS = {"desktop": (1280, 800), "phone": (375, 812)}
LANGS = ("en", "ja")
KEY = "ui-tests-" + "k" * 32
OPTIONS = {"privacy_policy_url": "/privacy", "operator_name": "Midori City Office"}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]

# Vendors' embed codes at their generators' default size and the smallest they offer or support,
# each inside a paragraph with text after it (a placeholder must not end the paragraph).
VENDOR_EMBEDS = (
    ("youtube", '<iframe width="560" height="315" src="https://www.youtube.com/embed/M7lc1UVf-VE"></iframe>'),
    ("youtube", '<iframe width="200" height="200" src="https://www.youtube.com/embed/small"></iframe>'),
    ("vimeo", '<iframe src="https://player.vimeo.com/video/76979871" width="640" height="360"></iframe>'),
    ("vimeo", '<iframe src="https://player.vimeo.com/video/1" width="200" height="113"></iframe>'),
    ("google-maps", '<iframe src="https://www.google.com/maps/embed?pb=!1m18" width="600" height="450"></iframe>'),
    ("google-maps", '<iframe src="https://www.google.com/maps/embed?pb=!2m3" width="200" height="200"></iframe>'),
    ("facebook", '<iframe src="https://www.facebook.com/plugins/share_button.php?href=https%3A%2F%2Fwww.example.org'
     '%2Fnews%2F1&layout=button&size=small&width=96&height=20" width="96" height="20"></iframe>'),
    ("facebook", '<iframe src="https://www.facebook.com/plugins/like.php?href=https%3A%2F%2Fwww.example.org%2F'
     '&width=450&height=35" width="450" height="35"></iframe>'),
    ("facebook", '<iframe src="https://www.facebook.com/plugins/page.php?href=https%3A%2F%2Fwww.facebook.com'
     '%2Ffacebook&width=340&height=500" width="340" height="500"></iframe>'),
    ("linkedin", '<iframe src="https://www.linkedin.com/embed/feed/update/urn:li:share:1" height="592" '
     'width="504"></iframe>'),
)  # fmt: skip
SHARE_BUTTONS = (  # script-drawn, as the networks' generators write them
    '<a href="https://twitter.com/share?ref_src=twsrc%5Etfw" class="twitter-share-button">Tweet</a>'
    '<script async src="https://platform.twitter.com/widgets.js"></script>',
    '<div class="fb-share-button" data-href="https://www.example.org/news/1" data-layout="button"></div>'
    '<script async src="https://connect.facebook.net/ja_JP/sdk.js#xfbml=1&version=v19.0"></script>',
    '<div class="line-it-button" data-lang="ja" data-type="share-a" data-url="https://www.example.org/news/1" '
    'style="display: none;"></div>'
    '<script src="https://www.line-website.com/social-plugins/js/thirdparty/loader.min.js" async></script>',
    '<a href="https://b.hatena.ne.jp/entry/" class="hatena-bookmark-button"><img '
    'src="https://b.st-hatena.com/images/v4/public/entry-button/button-only@2x.png" alt="" width="20" height="20">'
    '</a><script src="https://b.st-hatena.com/js/bookmark_button.js" async></script>',
    '<a data-pin-do="buttonBookmark" href="https://www.pinterest.com/pin/create/button/"></a>'
    '<script async defer src="//assets.pinterest.com/js/pinit.js"></script>',
    '<script src="https://platform.linkedin.com/in.js" type="text/javascript">lang: en_US</script>'
    '<script type="IN/Share" data-url="https://www.example.org/news/1"></script>',
)
TWEET = (
    '<blockquote class="twitter-tweet"><p lang="en">A post.</p>&mdash; Someone '
    '<a href="https://twitter.com/someone/status/1808012345678901234">July 2, 2024</a></blockquote>'
)


def vendor_page(lang: str) -> str:
    paragraphs = "\n".join(
        f'<p id="p{i}">Before {html} after.</p>' for i, (_, html) in enumerate(VENDOR_EMBEDS)
    )
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Embeds</title></head>'
        f"<body><main><h1>Embeds</h1>\n{paragraphs}\n{TWEET}\n"
        f'<div id="share">{"".join(SHARE_BUTTONS)}</div></main></body></html>'
    )


def vendors_app() -> Any:
    async def embeds(request: Request) -> HTMLResponse:
        return HTMLResponse(vendor_page(request.query_params.get("lang", "en")))

    return Starlette(routes=[Route("/", embeds)])


@pytest.fixture(scope="module")
def demo() -> Iterator[str]:
    with serve_app(demo_app(KEY, **OPTIONS), lifespan="off") as base:
        yield base


@pytest.fixture(scope="module")
def vendors() -> Iterator[str]:
    with serve_app(Gatekeeper(vendors_app(), secret_keys=KEY, **OPTIONS), lifespan="off") as base:
        yield base


@pytest.fixture(scope="module")
def bare_vendors() -> Iterator[str]:
    with serve_app(vendors_app(), lifespan="off") as base:
        yield base


@pytest.fixture(scope="module")
def bare_demo() -> Iterator[str]:
    with serve_app(site(), lifespan="off") as base:
        yield base


@pytest.fixture(scope="session")
def axe_script() -> str:
    """axe-core's script, which `./run test` installs once (npm) and names in GATEKEEPER_AXE."""
    path = os.environ.get("GATEKEEPER_AXE")
    if not path or not Path(path).is_file():
        pytest.fail("the accessibility tests read axe-core from GATEKEEPER_AXE: run them with ./run test")
    return Path(path).read_text("utf-8")


def new_page(browser_context: Any, screen: str, lang: str, **options: Any) -> Any:
    width, height = SCREENS[screen]
    context = browser_context(
        viewport={"width": width, "height": height},
        locale=lang,
        extra_http_headers={"Accept-Language": lang},
        reduced_motion=options.pop("reduced_motion", "reduce"),
        **options,
    )
    return context.new_page()


def ready(page: Any) -> None:
    page.wait_for_function("window.__gk === 1")


# Every control of a root: its size and whether its centre hit-tests to it (not clipped, not covered).
CONTROLS = """(sel) => {
  const out = [];
  for (const root of document.querySelectorAll(sel)) {
    for (const el of root.querySelectorAll('a[href], button, summary, input:not([type=hidden])')) {
      if (!el.getClientRects().length) continue;
      el.scrollIntoView({block: 'center', inline: 'center'});
      const r = el.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
      const hit = document.elementFromPoint(x, y);
      out.push({root: root.id || root.className, text: (el.textContent || el.value || el.name).trim().slice(0, 40),
                w: r.width, h: r.height, hit: !!hit && (hit === el || el.contains(hit) || (el.labels && [...el.labels].includes(hit)))});
    }
  }
  return out;
}"""

# The focused element's box against the banner's: covered if they overlap (the banner is fixed).
FOCUS_COVERED = """() => {
  const el = document.activeElement, panel = document.querySelector('[data-gk-banner]');
  if (!el || el === document.body || !panel || panel.contains(el) || el.closest('.gk')) return null;
  const r = el.getBoundingClientRect(), p = panel.getBoundingClientRect();
  if (!r.width && !r.height) return null;
  return {what: el.outerHTML.slice(0, 80), covered: r.bottom > p.top + 0.5 && r.top < p.bottom};
}"""


def axe(page: Any, script: str, include: list[str] | None = None) -> list[dict[str, Any]]:
    """axe-core's violations with the WCAG 2.2 A/AA tags, in `include` (selectors) or the whole page."""
    if not page.evaluate("!!window.axe"):
        page.add_script_tag(content=script)
    violations: list[dict[str, Any]] = page.evaluate(
        """([include, tags]) => axe.run(include ? {include: include.map(s => [s])} : document,
             {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
           .then(r => r.violations.map(v => ({id: v.id, help: v.help,
                 nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary.slice(0, 200))})))""",
        [include, AXE_TAGS],
    )
    return violations
