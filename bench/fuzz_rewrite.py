"""The differential rewrite campaign: N generated documents, rewritten and read back as a browser would.

    .venv/bin/python bench/fuzz_rewrite.py --count 20000 --seed 1 [--show 5] [--minimize]

Each document is `tests/fuzz/htmlgen.document(seed * 1_000_003 + n)`; each is rewritten with every
catalog service offered (strict) and mostly nothing granted, then checked by `tests/fuzz/differential`:
no fetch to a non-granted third party (html5lib, scripting on and off), never raises, output = input +
the contract's insertions, rewriting twice changes nothing. Prints the counts, the misses grouped by
element and attribute with the first seed of each (`--minimize` reduces that document to a small
reproduction), and the time. Exit status 1 when anything failed. Not part of CI (CI runs a few hundred
documents in tests/test_hardening_rewrite.py).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(1, str(ROOT))

from fuzz.differential import Outcome, catalog, check, minimize  # noqa: E402
from fuzz.htmlgen import Document, document  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=3, help="reproductions to print per kind of failure")
    parser.add_argument("--minimize", action="store_true", help="reduce each shown document")
    args = parser.parse_args()

    registry = catalog()
    kinds: collections.Counter[str] = collections.Counter()
    first: dict[str, list[Outcome]] = collections.defaultdict(list)
    docs: dict[int, Document] = {}
    failed = inert = unread = 0
    start = time.perf_counter()
    for n in range(args.count):
        doc = document(args.seed * 1_000_003 + n)
        outcome = check(doc, registry)
        inert += outcome.inert
        unread += outcome.unread
        found = []
        if outcome.exception:
            found.append("exception")
        if outcome.unreadable:
            found.append("html5lib fails on the output only")
        if outcome.identity:
            found.append("identity")
        if not outcome.idempotent:
            found.append("not idempotent")
        cause = "miss (injection completes a tag)" if outcome.by_injection else "miss"
        found += sorted({f"{cause}: <{m.fetch.element} {m.fetch.attribute}>" for m in outcome.misses})
        if found:
            failed += 1
        for kind in found:
            kinds[kind] += 1
            if len(first[kind]) < args.show:
                first[kind].append(outcome)
                docs[doc.seed] = doc
    elapsed = time.perf_counter() - start

    misses = sum(v for k, v in kinds.items() if k.startswith("miss"))
    print(f"documents         {args.count} (seed {args.seed})")
    print(f"elements inert    {inert}")
    print(f"documents failing {failed}")
    print(f"misses            {misses}")
    print(f"exceptions        {kinds['exception']}")
    print(f"identity broken   {kinds['identity']}")
    print(f"not idempotent    {kinds['not idempotent']}")
    print(f"no verdict        {unread} (html5lib fails on the input too)")
    print(f"time              {elapsed:.1f} s ({1000 * elapsed / max(args.count, 1):.2f} ms per document)")
    print("URL oracle        ada-url (WHATWG reference)")
    for kind, count in kinds.most_common():
        print(f"\n{count:6d}  {kind}")
        for outcome in first[kind]:
            doc = docs[outcome.seed]
            detail = [str(m) for m in outcome.misses][:2] or outcome.identity[:1]
            detail = detail or [outcome.exception or outcome.unreadable or ""]
            print(f"        seed {outcome.seed}: {'; '.join(detail)[:200]}")
            if args.minimize and kind.startswith("miss"):
                element = kind.rsplit("<", 1)[1].rstrip(">").split(" ")

                def still(html: str, element: list[str] = element, outcome: Outcome = outcome) -> bool:
                    o = check(Document(outcome.seed, html), registry, outcome.granted)
                    return any([m.fetch.element, m.fetch.attribute] == element for m in o.misses)

                print(f"        reduced: {minimize(doc.html, still)!r}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
