"""Rewrite cost on crafted pages: does it grow with the page, and only with it?

    .venv/bin/python bench/adversarial.py [--base 640000] [--cap 20] [--only svg-script,noscript]
                                          [--root DIR] [--no-memory]

Each family is a shape that stresses a tokenizer (unclosed comments and quotes, deep nesting of every
foreign, raw-text, template and select element, thousands of <base>, srcdoc nesting, a huge srcset,
CSS url()/@import storms, vendor signatures in huge scripts...), built at 1x, 2x, 4x and 8x of
`--base` bytes (8x of the default is 5 MB). For each size it prints the time of `plan()` (the whole
rewrite, uncached, no cache key) in ms per MB (best of a few runs, CPU time) and the peak memory the
call allocated beyond the page (tracemalloc, a second run), as a multiple of the page size. The last
columns: the growth of ms/MB from 1x to 8x (1.0 is linear; a target of at most 1.5) and ms/MB at 8x
against an ordinary CMS page with embeds (bench/rewrite_speed.py's 100 KB page; a target of at most 5).

Every case runs in a child process that is killed after `--cap` seconds (then "> cap", and the larger
sizes of that family are not tried), so the run ends on a rewriter with quadratic paths too.
`--root DIR` imports gatekeeper from another checkout (an older commit: `git worktree add`) to compare.
Not a test: CI runs a reduced set with a ratio bound (tests/test_rewrite_linear.py).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
import tracemalloc
from multiprocessing.connection import Connection
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def _measure(family: str, size: int, memory: bool, out: Connection) -> None:
    from fuzz.adversarial import FAMILIES, context

    from gatekeeper.rewrite import TooMuchWork, plan

    def attempt(page: str) -> bool:
        """Plan the page; False when the rewriter gave up (the page is then served unread)."""
        try:
            plan(page, context())  # a new registry: nothing memoized
        except TooMuchWork:
            return False
        return True

    page = FAMILIES[family][1](size)
    attempt(page[:2000])  # regexes compiled
    best = float("inf")
    spent = 0.0
    runs = 0
    done = True
    while runs < 5 and (runs == 0 or spent < 1.0):
        t = time.process_time()
        done = attempt(page)
        took = time.process_time() - t
        best, spent, runs = min(best, took), spent + took, runs + 1
    peak = -1
    if memory:
        tracemalloc.start()
        attempt(page)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    out.send((len(page), best, peak, done))


def run_case(family: str, size: int, cap: float, memory: bool) -> tuple[int, float, int, bool] | None:
    """(page length, best seconds, peak bytes, rewritten: not given up) or None when it ran past the cap."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_measure, args=(family, size, memory, send))
    proc.start()
    send.close()
    try:
        if not recv.poll(cap):
            return None
        result: tuple[int, float, int, bool] = recv.recv()
        return result
    except EOFError:
        raise SystemExit(f"{family} at {size}: the measuring process died (exit {proc.exitcode})") from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--base", type=int, default=640_000, help="1x page size in bytes (8x is 5 MB)")
    parser.add_argument("--cap", type=float, default=20.0, help="seconds per case before '> cap'")
    parser.add_argument("--only", default="", help="comma-separated families")
    parser.add_argument("--root", default="", help="import gatekeeper from this checkout")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    args = parser.parse_args()
    sys.path.insert(0, args.root or str(HERE.parent))
    from fuzz.adversarial import FAMILIES

    names = [n for n in args.only.split(",") if n] or list(FAMILIES)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise SystemExit(f"unknown families: {', '.join(unknown)}; known: {', '.join(FAMILIES)}")
    import gatekeeper

    print(f"gatekeeper from {Path(gatekeeper.__file__).parent}; 1x = {args.base:,} bytes, cap {args.cap:g} s")
    print("ms/MB at each size (extra memory as a multiple of the page; u: given up, served unread);")
    print("growth = ms/MB 8x / 1x")
    scales = (1, 2, 4, 8)
    print(f"{'family':20} " + " ".join(f"{f'{k}x':>16}" for k in scales) + f" {'growth':>7} {'vs CMS':>7}")
    cms = run_case("ordinary", 100_000, args.cap, not args.no_memory)
    assert cms is not None, "the ordinary page ran past the cap"
    reference = cms[1] * 1000 / (cms[0] / 1e6)
    mem = f" {cms[2] / cms[0]:4.1f}x" if cms[2] >= 0 else ""
    print(f"{'CMS page, 100 KB':20} {f'{reference:9.0f}{mem}':>16}  (the reference)")
    for name in names:
        cells: list[str] = []
        rates: list[float] = []
        capped = False
        for k in scales:
            if capped:
                cells.append("> cap")
                continue
            r = run_case(name, args.base * k, args.cap, not args.no_memory)
            if r is None:
                capped = True
                cells.append(f"> {args.cap:g} s")
                continue
            length, seconds, peak, done = r
            rate = seconds * 1000 / (length / 1e6)
            rates.append(rate)
            mem = f" {peak / length:4.1f}x" if peak >= 0 else ""
            cells.append(f"{rate:9.0f}{mem}" + ("" if done else " u"))
        full = len(rates) == len(scales)
        growth = f"{rates[-1] / rates[0]:7.2f}" if full else "      -"
        versus = f"{rates[-1] / reference:7.2f}" if full else "      -"
        print(f"{name:20} " + " ".join(f"{c:>16}" for c in cells) + f" {growth} {versus}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
