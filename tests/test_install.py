"""Smoke test of what a new operator does: a fresh venv, `pip install .`, `gatekeeper demo`."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_fresh_venv_pip_install_and_demo(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr[-2000:]
    # what run time needs was installed, not only the code
    check = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.resources as r, gatekeeper, gatekeeper.demo.app;"
         "names = [p.name for p in r.files('gatekeeper.snippets').iterdir()];"
         "assert 'loader.js' in names and 'gatekeeper.css' in names, names;"
         "assert r.files('gatekeeper').joinpath('data/public_suffix_list.dat').is_file();"
         "assert r.files('gatekeeper').joinpath('catalog.toml').is_file();"
         "assert r.files('gatekeeper').joinpath('templates/banner.html').is_file();"
         "from gatekeeper.i18n import SHIPPED, Catalogues, folder_of;"
         "locales = r.files('gatekeeper').joinpath('locales');"
         "mo = [locales.joinpath(f'{folder_of(t)}/LC_MESSAGES/gatekeeper.mo') for t in SHIPPED];"
         "assert all(p.is_file() for p in mo), mo;"
         "assert Catalogues.load().gettext('ja', 'Accept all') == 'すべて同意する';"
         "print(gatekeeper.__all__)"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    port = free_port()
    demo = subprocess.Popen(
        [str(venv / "bin" / "gatekeeper"), "demo", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/access", timeout=2) as response:
                    page = response.read().decode()
                    csp = response.headers["Content-Security-Policy"]
                break
            except OSError:
                if time.monotonic() > deadline or demo.poll() is not None:
                    raise
                time.sleep(0.2)
        assert "data-gk-banner" in page
        assert 'lang="ja"' in page and "すべて同意する" in page  # the demo is Japanese: a compiled catalogue
        assert re.search(r'\ssrc="https://www.youtube.com/embed', page) is None  # inert before consent
        assert 'data-gk-src="https://www.youtube.com/embed' in page
        assert csp.startswith("default-src 'self'") and "youtube.com" not in csp
    finally:
        demo.terminate()
        output, _ = demo.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in output


def test_every_folder_of_the_packages_is_listed_in_pyproject():
    """pip installs only listed packages (a folder of data is a package too): a new subpackage or data
    folder left out of pyproject.toml would be missing from every install, and setuptools warns."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    folders = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for top in ("gatekeeper", "scanner")
        for path in (ROOT / top).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    mapped = {name: ROOT / where for name, where in config.get("package-dir", {}).items()}
    assert listed == folders | set(mapped), (sorted(folders | set(mapped) - listed), sorted(listed - folders))
    assert all(where.is_dir() for where in mapped.values())
