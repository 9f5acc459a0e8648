"""Differential rewrite testing (issue 5 §1): generated and mutated documents (tests/fuzz/htmlgen.py),
rewritten, then read by html5lib the way a browser reads them (tests/fuzz/leaks.py).

CI runs a few hundred documents; `bench/fuzz_rewrite.py --count 20000` runs the full campaign. Every
miss found has a minimal reproduction below: those in MISSES were bugs, are fixed, and stay as
regression tests; those in OPEN_MISSES are still open (strict xfail).
"""

from __future__ import annotations

import pytest
from fuzz.differential import catalog, check, context, identity_problems
from fuzz.htmlgen import SITE_URL, Document, document
from fuzz.leaks import css_urls, find_leaks, refresh_url, srcset_urls

from gatekeeper.registry import Registry
from gatekeeper.rewrite import plan, rewrite

CI_DOCUMENTS = 300
SEEDS = range(CI_DOCUMENTS)


@pytest.fixture(scope="module")
def outcomes():
    return [check(document(seed)) for seed in SEEDS]


def test_rewrite_never_raises_nor_gives_up(outcomes):
    failed = [(o.seed, o.exception) for o in outcomes if o.exception]
    assert failed == []


def test_output_is_the_input_plus_the_contracts_insertions(outcomes):
    broken = [(o.seed, o.identity[:2]) for o in outcomes if o.identity]
    assert broken == []


def test_the_generator_exercises_the_rewriter(outcomes):
    assert sum(o.inert for o in outcomes) > 3 * CI_DOCUMENTS  # it is not testing empty pages


def test_no_generated_document_leaks(outcomes):
    leaking = {o.seed: [str(m) for m in o.misses] for o in outcomes if o.misses}
    assert leaking == {}


def test_rewriting_twice_changes_nothing(outcomes):
    assert {o.seed for o in outcomes if not o.idempotent} == set()


# -- every miss found, reduced to its smallest reproduction (all fixed; kept as regressions) --------

MISSES = {
    # Only the first fetching attribute of an element becomes inert: a srcset next to a src, a poster
    # next to a video's src stay live (and a second pass then finds them: not idempotent either).
    "second-attribute-srcset": '<img src="https://i.ytimg.com/a.jpg" srcset="https://i.ytimg.com/b.jpg 2x">',
    "second-attribute-poster": '<video src="https://www.youtube.com/v.mp4" poster="https://www.youtube.com/p.jpg">',
    "second-attribute-undeclared": "<video src=https://evil.example/v.mp4\nposter=https://evil.example/p.jpg>",
    # A page that ends inside a start tag: the browser drops that tag at EOF, but the body snippet
    # appended after it closes it ("...alt=" + '<div ...>'), and the tag becomes live.
    "eof-in-start-tag": '<p>x</p><img src=https://evil.example/a.png alt="',
    "eof-in-unquoted-value": "<p>x</p><iframe src=https://www.youtube.com/embed/x",
    # A third-party <base href>: the injected loader (and the banner's and placeholders' forms, all
    # site-relative) resolve against it, so the loader is fetched from the third party.
    "third-party-base-loader": '<html><head><base href="https://evil.example/"></head><body><p>x</p></body></html>',
    # ... and a fragment-only URL is not "first party" then: src="#top" fetches the base URL itself.
    "third-party-base-fragment": '<base href="https://evil.example/"><img src="#top">',
    # An iframe srcdoc document falls back on the parent's base URL, even one parsed after the iframe.
    "srcdoc-later-base": '<iframe srcdoc="<img src=o.png>"></iframe><base href="https://evil.example/">',
    # The "</noscript> inside an attribute" reading is applied to the page but not to srcdoc documents.
    "srcdoc-noscript-shadow": (
        '<iframe srcdoc="<noscript><p title=&quot;</noscript><img src=https://evil.example/a.png>'
        '&quot;></noscript>"></iframe>'
    ),
    # Found by the merged checker and generator, fixed at the commit after a8855d6:
    # an inline script with a vendor's signature inside an iframe's srcdoc document stayed live (the
    # iframe tag had no URL-like character, so it was not looked at);
    "srcdoc-inline-signature": '<iframe srcdoc="<script>fbAsyncInit</script>"></iframe>',
    # an SVG style sheet in CDATA that starts with "<" (here the CDO token "<!--", which CSS skips) was
    # read as a comment: its url() stayed live;
    "svg-style-cdata-cdo": (
        "<svg><style><![CDATA[<!-- a{background:url(https://evil.example/a.png)} -->]]></style></svg>"
    ),
    # a third-party <base> made inert kept its style attribute's url() (the second pass renamed it);
    "inert-base-keeps-style": '<base href="https://evil.example/" style="background:url(https://evil.example/a.png)">',
    # "<!-->" is a whole comment to HTML but was read to the next "-->", so the preload stop
    # ("<!---->") put in a later <style> changed how the next pass read the MathML <style> before it.
    "math-style-preload-stop": '<math><style>""<!--><style>@import url(http:s)',
    # a signature split by a newline: the rewriter allowed whitespace only where a signature has a
    # space (a URL parser drops tabs and newlines, a template literal keeps them; 27 of 20,000).
    "signature-split-by-newline": "<script>platform.twitter.com\n/widgets.js</script>",
    # an image tag left open to the end in the JavaScript-on reading (after "</noscript>" in a quoted
    # value) was closed by the quote of the body snippet inserted before </body>: it went live
    "noscript-reading-open-at-body-end": '<noscript><g t="</noscript><img/src="https://evil.example/x></body>',
    # "</div>" does not leave MathML: the <base> inside is MathML, the next one is the document's,
    # which the main reading had taken for a later (ignored) one
    "math-base-then-base": "<math></div><base/href></math><base/href=//evil.example>",
    # the <svg> start tag itself was read as an HTML element: its own fill="url()" stayed live (found
    # while reducing seed 1001950 of the 20,000-document campaign)
    "svg-root-url-attribute": '<svg fill="url(https://evil.example/p.svg#g)"><rect/></svg>',
    # without a doctype (quirks mode) <table> does not close an open <p>: inside an SVG <desc>, the
    # <p> then makes "</svg>" ignored, and the <title> after is SVG's, whose <script> runs (seed
    # 1013682 of the 20,000-document campaign)
    "quirks-table-keeps-p": "<svg><desc><p><table></table></svg></p></desc><title><script src=http:v </title>",  # noqa: E501
}


# -- misses open in the rewriter, found by the merged checker and generator ----------------------------
# Reduced reproductions (nothing granted, page https://site.example/); /tmp/consolidate_findings.md has
# the details. Each is a strict xfail: it fails the suite once the rewriter is fixed, so that it moves
# to MISSES.

OPEN_MISSES: dict[str, str] = {}


OPEN = pytest.mark.xfail(strict=True, reason="open rewriter miss (see OPEN_MISSES)")


@pytest.mark.parametrize(
    "html",
    [*MISSES.values(), *(pytest.param(html, marks=OPEN) for html in OPEN_MISSES.values())],
    ids=[*MISSES, *OPEN_MISSES],
)
def test_reduced_miss(html):
    ctx = context(catalog(), frozenset(), "https://site.example/")
    out = rewrite(html, ctx).html
    assert [str(m) for m in find_leaks(out, "https://site.example/", catalog())] == []
    assert rewrite(out, ctx).html == out


# A marker inserted in a reading that ends inside an attribute value (no quotes) got a trailing space
# before whitespace, where the contract puts one only before a "/" (when two readings' markers were
# merged; 47 of 20,000 documents): harmless, but not the contract's. Fixed after 83e5b91.
def test_identity_trailing_space_only_before_a_slash():
    html = '<select><iframe><svg><script src=http:">'
    ctx = context(catalog(), frozenset(), "https://site.example/")
    assert identity_problems(html, rewrite(html, ctx).html, plan(html, ctx).inserts) == []


# -- the oracle itself: it must see what a browser fetches, and nothing else -------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<img src="https://evil.example/a.png">', {"evil.example"}),
        ("<img src=https://www.youtube.com/a.png>", {"www.youtube.com"}),
        ('<img src="//EVIL.example./a">', {"evil.example."}),
        ('<img src="https:\\\\evil.example\\a">', {"evil.example"}),
        ('<img src="h&#x74;tps&colon;//evil&period;example/">', {"evil.example"}),
        ('<img src=" \n https://ev\til.example/ ">', {"evil.example"}),
        ('<img src="https://%65vil.example/">', {"evil.example"}),
        ('<img src="https://ｅｖｉｌ。example/">', {"evil.example"}),
        ('<img src="http:evil.example/x">', {"evil.example"}),  # another scheme than the page's
        ('<img src="https:evil.example/x">', set()),  # the page's own scheme: a relative path
        ('<img src="">', set()),
        ('<img src="data:image/gif;base64,R0lGOD">', set()),
        ('<base href="https://evil.example/"><img src="a.png">', {"evil.example"}),
        # parsed before the base: Chromium may resolve it against the base all the same (timing)
        ('<img src="a.png"><base href="https://evil.example/">', {"evil.example"}),
        ('<template><base href="https://evil.example/"></template><img src="a.png">', set()),
        ('<script type="text/plain" src="https://evil.example/a.js"></script>', set()),
        ('<script type="module" src="https://evil.example/a.js"></script>', {"evil.example"}),
        ('<script language="javascript" src="https://evil.example/a.js"></script>', {"evil.example"}),
        ('<link rel="Preconnect" href="https://evil.example">', {"evil.example"}),
        ('<link rel="alternate" href="https://evil.example/feed">', set()),
        ("<link rel=preload as=image imagesrcset='https://evil.example/a.png 2x'>", {"evil.example"}),
        ('<noscript><img src="https://evil.example/p.gif"></noscript>', {"evil.example"}),  # JS off
        ('<noscript><script src="https://evil.example/p.js"></script></noscript>', set()),
        ('<noscript><img alt="</noscript><img src=https://evil.example/x>"></noscript>', {"evil.example"}),
        ('<textarea><img src="https://evil.example/p.gif"></textarea>', set()),
        ('<!-- <img src="https://evil.example/p.gif"> -->', set()),
        ('<svg><image href="https://evil.example/i.png"/></svg>', {"evil.example"}),
        ('<svg><use xlink:href="https://evil.example/s.svg#a"/></svg>', {"evil.example"}),
        ("<svg><style>@import url(https://evil.example/a.css);</style></svg>", {"evil.example"}),
        ('<svg><style type="text/plain">@import url(https://evil.example/a.css);</style></svg>', set()),
        ('<math><mtext><img src="https://evil.example/m.png"></mtext></math>', {"evil.example"}),
        ('<iframe srcdoc="<img src=https://evil.example/s.png>"></iframe>', {"evil.example"}),
        ('<div style="background:u\\72l(https://evil.example/a.png)">', {"evil.example"}),
        ('<div style="background:url(https://evil.example/a b.png)">', set()),  # a bad-url token
        ('<style>a{b:url("https://evil.example/a.png")}</style>', {"evil.example"}),
        ('<style type="text/plain">a{b:url("https://evil.example/a.png")}</style>', set()),
        ('<table background="https://evil.example/t.png"></table>', {"evil.example"}),
        ('<input type="IMAGE" src="https://evil.example/i.png">', {"evil.example"}),
        ('<meta http-equiv="refresh" content="0; URL=\'https://evil.example/\'">', {"evil.example"}),
        ('<a href="https://evil.example/">a link fetches nothing</a>', set()),
        ('<img src="https://cdn.site.example/a.png">', set()),  # the site's own subdomain
        ('<link rel="apple-touch-icon" href="https://evil.example/i.png">', {"evil.example"}),
        ('<div background="https://evil.example/d.png"></div>', {"evil.example"}),  # as the rewriter
        ('<img src="/a.png" attributionsrc="/r https://evil.example/r">', {"evil.example"}),
        ('<svg><rect fill="url(https://evil.example/p.svg#g)"/></svg>', {"evil.example"}),
        ('<div style="b:src(&quot;https://evil.example/s.png&quot;)">', {"evil.example"}),
        ("<script>fbq ( 'init', '1');</script>", {"(inline)"}),  # a signature, whatever the whitespace
        ("<svg><script><![CDATA[ fbq('init', '1'); ]]></script></svg>", {"(inline)"}),
        ("<svg><style>@import u<g>r</g>l(https://evil.example/a.css);</style></svg>", set()),  # text nodes
        ("<noscript><script>fbq('init', '1');</script></noscript>", set()),
    ],
)
def test_the_leak_checker_reads_pages_like_a_browser(html, expected):
    leaks = find_leaks(html, "https://site.example/page", catalog())
    assert {leak.host for leak in leaks} == expected


def test_the_leak_checker_respects_grants():
    html = '<iframe src="https://www.youtube.com/embed/x"></iframe>'
    assert find_leaks(html, SITE_URL, catalog())
    assert find_leaks(html, SITE_URL, catalog(), granted={"youtube"}) == []


def test_the_leak_checker_respects_report_mode():
    html = '<img src="https://evil.example/a.png"><iframe src="https://www.youtube.com/embed/x"></iframe>'
    report = Registry(catalog().services, strict=False)  # undeclared third parties are let through
    assert {leak.host for leak in find_leaks(html, SITE_URL, report)} == {"www.youtube.com"}


def test_value_parsers():
    assert srcset_urls("a.png 1x, https://x/b.png 2x,c.png,d.png (a,b) 3x") == [
        "a.png", "https://x/b.png", "c.png,d.png"
    ]  # fmt: skip
    assert refresh_url("0; url=https://a/") == "https://a/"
    assert refresh_url("5,'https://b/'") == "https://b/"
    assert refresh_url("3") is None and refresh_url("x; url=https://c/") is None
    assert css_urls('@import "a"; @IMPORT url(b); x:image-set("c" 1x, url(d) 2x)') == ["a", "b", "c", "d"]
    assert css_urls("URL(URL(http:w") == [] and css_urls('x:"url(no)"') == []


def test_identity_check_catches_a_stray_edit():
    html = "<p>hello</p>"
    out = "<p>hellO</p>"
    assert identity_problems(html, out, ())
    ctx = context(catalog(), frozenset())
    good = "<img src=https://evil.example/a.png>"
    assert identity_problems(good, rewrite(good, ctx).html, plan(good, ctx).inserts) == []


def test_documents_are_reproducible():
    assert document(7).html == document(7).html and document(7).html != document(8).html
    assert isinstance(document(0), Document)
