"""scanner.browser without a real browser: a Chromium that is missing, cannot run, or exits at once is
our own BrowserNotFound with what happened and the fix, never an AttributeError or a hang."""

from __future__ import annotations

import os
import stat

import pytest

from scanner.browser import BrowserNotFound, Chromium


def _executable(path, body: str):
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("#!/bin/sh\nexit 3\n", "exited with 3 at start"),
        (
            "#!/bin/sh\necho 'cannot open display' >&2\nexit 1\n",
            "exited with 1 at start: cannot open display",
        ),
        ("#!/bin/sh\nkill -9 $$\n", "exited with -9 at start"),
    ],
    ids=["exit-3", "exit-1-with-a-message", "killed"],
)
def test_a_browser_that_exits_at_start_is_browser_not_found(tmp_path, body, expected):
    fake = _executable(tmp_path / "chrome", body)
    with pytest.raises(BrowserNotFound) as error:
        Chromium(fake, start_timeout=10).start()
    assert expected in str(error.value)
    assert str(fake) in str(error.value)


def test_a_browser_that_never_opens_its_port_times_out_as_browser_not_found(tmp_path):
    fake = _executable(tmp_path / "chrome", "#!/bin/sh\nsleep 30\n")
    process = Chromium(fake, start_timeout=0.5)
    with pytest.raises(BrowserNotFound, match=r"did not start in (0|1) s"):
        process.start()
    assert not process.running


def test_a_file_that_cannot_be_executed_is_browser_not_found(tmp_path):
    plain = tmp_path / "chrome"
    plain.write_text("not a program")
    with pytest.raises(BrowserNotFound, match="no executable there"):
        Chromium(plain)
    bad = _executable(tmp_path / "bad", "\x7fELF-not-really")
    if os.access(bad, os.X_OK):
        with pytest.raises(BrowserNotFound, match="cannot start"):
            Chromium(bad).start()
