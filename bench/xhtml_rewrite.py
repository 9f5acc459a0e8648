"""XHTML read as XML against the same page read as HTML: time per character at growing sizes, and the
expat well-formedness check body.py runs on the page before and after (twice per page).

    .venv/bin/python bench/xhtml_rewrite.py [--sizes 40,320,1280]

The page is tests/test_xhtml_rewrite.py's full shape (every piece: embeds, trackers, CDATA, SVG,
comments, PIs) repeated; the HTML page is the same text after `<!doctype html>`. CPU time, the least
of three runs, garbage collection off.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(1, str(ROOT))

from test_xhtml_rewrite import PIECES, STYLES, TITLES, ctx, document  # noqa: E402

from gatekeeper.rewrite import plan  # noqa: E402
from gatekeeper.rewrite.xml_reading import well_formed  # noqa: E402


def best(f: Callable[[], object]) -> float:
    f()
    least = float("inf")
    for _ in range(3):
        start = time.process_time()
        f()
        least = min(least, time.process_time() - start)
    return least


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="40,320,1280")
    args = parser.parse_args()
    gc.disable()
    print(f"{'repeats':>8} {'bytes':>9} {'xml ms':>8} {'html ms':>8} {'expat ms':>9} {'xml ns/char':>12}")
    for n in (int(s) for s in args.sizes.split(",")):
        doc = document("", STYLES[0], TITLES[1], PIECES * n)
        page = "<!doctype html>" + doc
        xml = best(lambda: plan(doc, ctx(), xml=True))  # noqa: B023
        html = best(lambda: plan(page, ctx()))  # noqa: B023
        expat = best(lambda: well_formed(doc))  # noqa: B023
        print(
            f"{n:>8} {len(doc):>9} {xml * 1e3:>8.1f} {html * 1e3:>8.1f} {expat * 1e3:>9.1f}"
            f" {xml / len(doc) * 1e9:>12.0f}"
        )


if __name__ == "__main__":
    main()
