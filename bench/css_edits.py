"""What keeping a style sheet live costs (issue 14 item 3): `python bench/css_edits.py [--kb 253]`.

A page whose <style> of that size (a CMS theme's rules) has one url() of a host no service covers:
rewrite() of the page (the sheet read by both readers, one mark inserted), and each reader of style
sheets alone (`css_edits.sheet_urls`, `css.css_urls`). Best of --repeat runs, in milliseconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gatekeeper.registry import load_registry
from gatekeeper.rewrite import PageContext, rewrite
from gatekeeper.rewrite.css import css_urls
from gatekeeper.rewrite.css_edits import sheet_urls

RULE = (
    ".nav-item > a.link:hover, .btn-primary{background:#fff url(/img/a.png) no-repeat 0 0 / 12px;"
    'color:rgba(0,0,0,.5);margin:0 auto;font:12px/1.5 "Helvetica Neue",Arial}\n'
)


def best(f: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", type=int, default=253)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    css = RULE * (args.kb * 1000 // len(RULE)) + ".ad{background:url(https://cdn.stranger.example/a.png)}"
    html = f"<!doctype html><html><head><style>{css}</style></head><body><p>x</p></body></html>"
    registry = load_registry()
    n = iter(range(1 << 30))  # a new page URL each time: no memo from the run before

    def page() -> object:
        return rewrite(html, PageContext(registry, frozenset(), f"https://site.example/{next(n)}"))

    out = rewrite(html, PageContext(registry, frozenset(), "https://site.example/"))
    assert "data-gk-css" in out.html and "https://[gk]/?/" in out.html
    print(f"style sheet of {len(css) // 1000} KB, one undeclared url()")
    print(f"  rewrite() of the page   {best(page, args.repeat):7.1f} ms")
    print(f"  css_edits.sheet_urls    {best(lambda: sheet_urls(css), args.repeat):7.1f} ms")
    print(f"  css.css_urls            {best(lambda: css_urls(css), args.repeat):7.1f} ms")


if __name__ == "__main__":
    main()
