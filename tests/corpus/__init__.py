"""Test pages shared by the rewriter's tests (and the browser tests):

- pages/*.html: one page per rule (element kinds, URL tricks, awkward markup, CSS, a third-party
  <base>, a Shift_JIS page); the vendors' real embed codes are in gatekeeper/demo/embeds/.
- placement.assert_well_placed(): each insertion of a rewrite plan sits where it belongs.

The leak checker and the document generator are in tests/fuzz/ (`leaks.find_leaks`, `htmlgen`).
"""

from pathlib import Path

PAGES = Path(__file__).parent / "pages"
EMBEDS = Path(__file__).resolve().parents[2] / "gatekeeper" / "demo" / "embeds"
PAGE_URL = "https://city.example.jp/news/1"
