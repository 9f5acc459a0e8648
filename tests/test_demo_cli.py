"""`gatekeeper demo` as a newcomer meets it: a busy port is one line naming --port; a Ctrl-C during the
scan stops the demo at once and announces no report it did not write."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gatekeeper.cli import main


def test_a_busy_port_says_so_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["demo", "--port", str(port)]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.strip().splitlines() == [
        f"gatekeeper demo: 127.0.0.1:{port} is in use; pick another with --port N (--port 0 picks a free one)"
    ]


@pytest.mark.browser
@pytest.mark.slow
def test_one_ctrl_c_during_the_scan_stops_the_demo_and_announces_no_report(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    demo = subprocess.Popen(
        [sys.executable, "-m", "gatekeeper.cli", "demo", "--scan", "--port", "0", "--max-pages", "50",
         "--report-dir", str(reports)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    assert demo.stdout is not None
    lines = []
    try:
        for line in demo.stdout:
            lines.append(line)
            if line.startswith("Scanning"):
                break
        time.sleep(3)  # Chromium is up and visiting pages
        os.kill(demo.pid, signal.SIGINT)  # what one Ctrl-C in the terminal sends to the demo
        rest, _ = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
    output = "".join(lines) + rest
    assert demo.returncode == 130, output
    assert "Scan interrupted: no report written; the demo stops." in output
    assert "Reports:" not in output and "Open http" not in output
    assert not (reports / "scan.html").exists()
