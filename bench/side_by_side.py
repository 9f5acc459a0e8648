"""The rewrite speed of two versions, in one run: `bench/rewrite_speed.py` of an older commit and of
this tree, one after the other, their rows side by side.

    .venv/bin/python bench/side_by_side.py COMMIT [--seconds 1]

The older commit is exported (`git archive`) into a temporary directory and its own
bench/rewrite_speed.py runs there, importing its own gatekeeper (each tree's pages and catalog).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rows(tree: Path, seconds: float) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, str(tree / "bench" / "rewrite_speed.py"), "--seconds", str(seconds)],
        cwd=tree, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = out.splitlines()
    return {line[:32].strip(): line[32:] for line in lines[1:] if line.strip()}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("commit")
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    archive = subprocess.run(
        ["git", "archive", args.commit, "gatekeeper", "bench"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        old = rows(Path(tmp), args.seconds)
    new = rows(ROOT, args.seconds)
    print(f"{'page':32} | {args.commit[:10]}: bytes tags rewrite() uncached unique cached MB/s")
    print(f"{'':32} | this tree")
    for name in old.keys() | new.keys():
        print(f"{name:32} | {old.get(name, '-')}")
        print(f"{'':32} | {new.get(name, '-')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
