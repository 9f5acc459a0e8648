"""The browser-level leak check (tests/browser/test_fuzz_leaks.py) on as many documents as you like.

    .venv/bin/python bench/fuzz_browser.py --count 2000 [--seed 2] [--tabs 4] [--quiet]

Generated documents (`tests/fuzz/htmlgen.documents(count, seed)`) behind the middleware on uvicorn,
loaded in Chromium with every third-party name mapped to a local stub, nothing consented: four passes
(CSP report-only and enforced, JavaScript on and off; JavaScript off only over documents with a
`<noscript>`). Prints every third-party request that left the browser with its document's seed, then
a table. Exit status 1 when the enforced CSP let a subresource or frame through (a top-level navigation
is outside any CSP and is reported, not failed). Not part of CI; loopback only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "browser"), str(ROOT / "tests"), str(ROOT)]

from fuzz.htmlgen import documents  # noqa: E402
from support import StubServer, serve_app  # noqa: E402
from test_fuzz_leaks import (  # noqa: E402
    KEY,
    TABS,
    Pass,
    check_pages,
    quiet_gatekeeper_log,
    report,
    site,
    with_noscript,
)

from gatekeeper import Gatekeeper  # noqa: E402
from scanner.browser import Chromium, context_options  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--tabs", type=int, default=TABS)
    parser.add_argument("--quiet", action="store_true", help="the table only, not every request")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    docs = documents(args.count, args.seed)
    app = site(docs)
    results: dict[tuple[str, bool], Pass] = {}
    with (
        StubServer() as stub,
        Chromium(host_map={"*": stub.address}) as chromium,
        sync_playwright() as playwright,
        serve_app(Gatekeeper(app, secret_keys=KEY, csp="report-only")) as report_only,
        serve_app(Gatekeeper(app, secret_keys=KEY, csp="enforce")) as enforced,
        quiet_gatekeeper_log(),
    ):
        browser = chromium.connect(playwright)
        for csp, base in (("report-only", report_only), ("enforce", enforced)):
            for javascript in (True, False):
                context = browser.new_context(
                    **context_options(ignore_https_errors=True, java_script_enabled=javascript)
                )
                indices = None if javascript else with_noscript(docs)
                result = check_pages(context, base, docs, indices, stub, tabs=args.tabs)
                context.close()
                results[csp, javascript] = result
                text = report(f"csp {csp}, javascript {'on' if javascript else 'off'}", result)
                print(text.splitlines()[0] if args.quiet else text, flush=True)
        browser.close()

    print(f"\n{args.count} documents (seed {args.seed}), {args.tabs} tabs")
    print(f"{'csp':<12}{'javascript':<12}{'documents':>10}{'leaking':>9}{'requests':>10}"
          f"{'navig.':>8}{'stopped':>9}{'seconds':>9}")  # fmt: skip
    for (csp, javascript), r in results.items():
        leaking = len({m.index for m in r.misses})
        print(f"{csp:<12}{'on' if javascript else 'off':<12}{r.pages:>10}{leaking:>9}{len(r.misses):>10}"
              f"{len(r.navigations):>8}{r.blocked:>9}{r.seconds:>9.1f}")  # fmt: skip
    bad = [m for (csp, _), r in results.items() if csp == "enforce" for m in r.subresources]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
