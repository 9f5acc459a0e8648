"""Rewrite time per page, the pure functions only (no server): `python bench/rewrite_speed.py`.

Pages: a 20 KB page with no third-party markup, 20 KB and 100 KB pages with ten embeds (the vendors'
real codes from gatekeeper/demo/embeds), written with the tag density of a real CMS page (navigation,
nested divs with classes, inline SVG icons, comments, scripts). For each: rewrite() on the text; process_html() on
the bytes with no cache key ("uncached"), on bytes that differ on every request by a token ("unique",
the cache cannot help), and on the same bytes again ("cached").
The end-to-end throughput bench is bench/throughput.py.
"""

# ruff: noqa: E501 (the page templates below are markup as a CMS writes it, one line per element)
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gatekeeper.body import clear_cache, process_html
from gatekeeper.registry import load_registry
from gatekeeper.rewrite import Embed, PageContext, rewrite

EMBEDS = Path(__file__).resolve().parent.parent / "gatekeeper" / "demo" / "embeds"
SERVICES = (
    "youtube", "google-maps", "x", "facebook", "instagram", "vimeo", "google-analytics", "meta-pixel",
    "google-fonts", "hatena",
)  # fmt: skip

HEAD = """<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>お知らせ | サンプル市</title>
<meta property="og:title" content="お知らせ">
<meta property="og:image" content="https://city.example.jp/img/ogp.png">
<link rel="stylesheet" href="/assets/css/site.css?v=20240701">
<link rel="icon" href="/favicon.ico">
<script src="/assets/js/site.js" defer></script>
</head>
<body class="page page-news">
<!-- header -->
<header class="site-header"><div class="inner"><a class="logo" href="/"><img src="/img/logo.svg" alt="サンプル市" width="180" height="40"></a>
<nav class="global-nav"><ul class="menu">
<li class="menu-item"><a href="/kurashi/">くらし・手続き</a></li>
<li class="menu-item"><a href="/kenko/">健康・福祉</a></li>
<li class="menu-item"><a href="/kosodate/">子育て・教育</a></li>
<li class="menu-item"><a href="/sangyo/">産業・しごと</a></li>
<li class="menu-item"><a href="/shisei/">市政情報</a></li>
</ul></nav></div></header>
<main id="main" class="main"><div class="container"><article class="entry">
"""

BLOCK = """<section class="block"><h2 class="block-title"><svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M12 2L2 7l10 5 10-5-10-5z"/><path d="M2 17l10 5 10-5"/></svg>市民窓口のご案内</h2>
<div class="block-body"><p class="lead">市役所の窓口は平日8時30分から17時15分まで開いています。<a href="/guide/counters">窓口一覧</a>をご覧ください。</p>
<ul class="list"><li><a href="/docs/a.pdf">申請書（PDF：120KB）</a></li><li><a href="/docs/b.pdf">記入例（PDF：80KB）</a></li></ul>
<div class="note" style="margin-top:1em"><span class="label">注意</span> 混雑時はお待ちいただく場合があります。</div>
<figure class="figure"><img src="/img/counter.jpg" srcset="/img/counter.jpg 1x, /img/counter@2x.jpg 2x" alt="" loading="lazy" width="640" height="360"><figcaption>1階総合窓口</figcaption></figure>
</div></section>
"""

TAIL = """</article></div></main>
<footer class="site-footer"><div class="inner"><p class="copyright">&copy; Sample City</p></div></footer>
<script>document.documentElement.classList.add('js');</script>
</body>
</html>
"""


def first_embed(service: str) -> str:
    text = (EMBEDS / f"{service}.html").read_text("utf-8")
    blocks = [b.strip() for b in text.split("\n\n") if b.strip() and not b.strip().startswith("<!--")]
    return blocks[0] if blocks else text


def build(size: int, embeds: bool) -> str:
    parts = [first_embed(s) for s in SERVICES] if embeds and EMBEDS.is_dir() else []
    body: list[str] = []
    budget = size - len(HEAD) - len(TAIL) - sum(len(p) for p in parts)
    blocks = max(1, budget // len(BLOCK.encode()))
    every = max(1, blocks // (len(parts) + 1)) if parts else 0
    pending = list(parts)
    for i in range(blocks):
        body.append(BLOCK)
        if pending and every and (i + 1) % every == 0:
            body.append(pending.pop(0) + "\n")
    body.extend(p + "\n" for p in pending)
    return HEAD + "".join(body) + TAIL


PLACEHOLDER = '<div class="gk-ph" data-gk-ph="{}">' + "x" * 900 + "</div>"
HEAD_SNIPPET = (
    "<script data-gk-snippet>" + "x" * 300 + '</script><link rel="stylesheet" href="/s.css" data-gk-snippet>'
)
BODY_SNIPPET = "<div data-gk-snippet>" + "x" * 3000 + "</div>"


def context(cache_key: object) -> PageContext:
    def placeholder(embed: Embed, lang: str | None) -> str:
        return PLACEHOLDER.format(embed.index)

    return PageContext(
        load_registry(),
        frozenset(),
        "https://city.example.jp/news/2024/07/02.html",
        snippets=lambda lang: (HEAD_SNIPPET, BODY_SNIPPET),
        placeholder=placeholder,
        cache_key=cache_key,  # type: ignore[arg-type]
    )


def measure(fn: Callable[[], object], seconds: float) -> float:
    """µs per call: the fastest of many short batches, in CPU time (other processes on the machine
    then cost little accuracy)."""
    fn()
    start = time.process_time()
    n = 0
    while time.process_time() - start < 0.02:
        fn()
        n += 1
    batch = max(1, n // 4)
    best = float("inf")
    end = time.process_time() + seconds
    while time.process_time() < end:
        t = time.process_time()
        for _ in range(batch):
            fn()
        best = min(best, (time.process_time() - t) / batch)
    return best * 1e6


def fresh(data: bytes) -> bytes:
    """A new bytes object with the same content, as a server hands over for every response."""
    return bytes(bytearray(data))


def row(name: str, html: str, seconds: float) -> None:
    uncached = context(None)
    cached = context(("bench", "consent"))
    data = html.encode()
    clear_cache()
    r = rewrite(html, uncached)
    assert r.error is None, r.error
    middle = html.index("<p", len(html) // 2)
    tokens = iter(range(10**9))

    def unique() -> bytes:  # the page with a token that differs on every request
        return f'{html[:middle]}<p data-token="{next(tokens):012d}">x</p>{html[middle:]}'.encode()

    t_rewrite = measure(lambda: rewrite(html, uncached), seconds)
    t_uncached = measure(lambda: process_html(fresh(data), "text/html", None, uncached), seconds)
    t_unique = measure(lambda: process_html(unique(), "text/html", None, cached), seconds)
    t_cached = measure(lambda: process_html(fresh(data), "text/html", None, cached), seconds)
    print(
        f"{name:32} {len(data):7d} {html.count('<'):5d} {t_rewrite:8.0f}µs {t_uncached:8.0f}µs "
        f"{t_unique:8.0f}µs {t_cached:7.0f}µs  {len(data) / t_uncached:4.0f}"
        f"   ({len(r.blocked)} blocked, {len(r.embeds)} placeholders)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per measurement (default 1)")
    args = parser.parse_args()
    pages = {
        "20 KB, no third-party markup": build(20_000, embeds=False),
        "20 KB, ten embeds": build(20_000, embeds=True),
        "100 KB, ten embeds": build(100_000, embeds=True),
    }
    try:
        from bench.pages import PAGES  # the throughput bench's pages, when present

        pages.update({f"bench/pages.py {k}": v for k, v in PAGES.items()})
    except Exception:
        pass
    print(
        f"{'page':32} {'bytes':>7} {'tags':>5} {'rewrite()':>10} {'uncached':>10} {'unique':>10} "
        f"{'cached':>9}  MB/s (uncached)"
    )
    for name, html in pages.items():
        row(name, html, args.seconds)


if __name__ == "__main__":
    main()
