"""The resume journal: each finished page, as a line of the JSON report's page form, appended as soon as
its visits are done; `--resume` takes those pages as done and visits only the rest."""

from __future__ import annotations

import json
from pathlib import Path

from .model import PageResult
from .report.records import page_from, page_to

__all__ = ["Journal"]


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, PageResult]:
        """The pages a previous run finished (a line cut short by the interruption is ignored)."""
        done: dict[str, PageResult] = {}
        if not self.path.exists():
            return done
        for line in self.path.read_text("utf-8").splitlines():
            try:
                page = page_from(json.loads(line))
            except (ValueError, KeyError, TypeError):
                continue
            done[page.url] = page
        return done

    def start(self, resume: bool) -> None:
        if not resume or not self.path.exists():
            self.path.write_text("", "utf-8")
            return
        text = self.path.read_text("utf-8")
        if text and not text.endswith("\n"):  # a line cut short: what follows starts a line of its own
            with self.path.open("a", encoding="utf-8") as f:
                f.write("\n")

    def add(self, page: PageResult) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(page_to(page), ensure_ascii=False) + "\n")
