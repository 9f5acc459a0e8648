"""Test pages and tools shared by the rewriter's tests (and the browser tests):

- pages/*.html: one page per rule (element kinds, URL tricks, awkward markup, CSS, a third-party
  <base>, a Shift_JIS page); the vendors' real embed codes are in gatekeeper/demo/embeds/.
- html5_leaks.leaks(): what would still fetch from a non-granted third party, by html5lib.
- generate.documents(): hypothesis strategy for hard HTML with third-party references.
"""

from pathlib import Path

PAGES = Path(__file__).parent / "pages"
EMBEDS = Path(__file__).resolve().parents[2] / "gatekeeper" / "demo" / "embeds"
PAGE_URL = "https://city.example.jp/news/1"
