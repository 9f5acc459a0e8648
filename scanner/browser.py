"""Chromium set-up: find a browser, start it so that third-party cookies are observable, attach Playwright.

Used by the scanner and by every browser test. The shape, and why:

- `find_chromium()` looks for Debian's Chromium on PATH (Playwright cannot download browsers here), a
  path given with `--chromium`, or a Playwright download, and raises `BrowserNotFound` with the fix.
- `Chromium` is the browser *process*. It is started by hand with a user-data dir whose preferences
  allow third-party cookies (`cookie_controls_mode: 0`): this Chromium blocks them by default, and a
  scanner that cannot see a widget's cookies under-reports. Playwright's own `launch()` cannot take
  such a profile, and `launch_persistent_context()` gives one context per process, so we attach over
  CDP instead: every `browser.new_context()` of an attached Playwright then accepts them. Both the
  sync API (tests) and the async API (the scanner) can attach to the same process.
- `host_resolver_rules()` sends chosen host names to local servers and makes every other name fail
  at once (`~NOTFOUND`), so no DNS query leaves the machine in tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.async_api import Browser as AsyncBrowser
    from playwright.async_api import Playwright as AsyncPlaywright
    from playwright.sync_api import Browser, Playwright

__all__ = [
    "BASE_ARGS",
    "LOOPBACK",
    "BrowserNotFound",
    "Chromium",
    "chromium_args",
    "context_options",
    "find_chromium",
    "host_resolver_rules",
]

_DISABLED_FEATURES = (
    "IsolateOrigins",  # with site-per-process: one renderer per page (see below)
    "site-per-process",
    "HttpsUpgrades",  # keep http:// navigations on http (local sites, mapped hosts)
    "HttpsFirstBalancedModeAutoEnable",
    "PaintHolding",
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    # Headless Chromium 156 still builds each window's omnibox popup as a WebUI page in a renderer
    # of its own ("--type=renderer --top-chrome-webui"): without these a fresh context cost ~410 ms
    # of CPU here, with them ~150 ms.
    "WebUIOmniboxPopup",
    "WebUIOmniboxFullPopup",
    "WebUIOmniboxAimPopup",
    "PreloadTopChromeWebUI",
    "WebUIReloadButton",
    "WebUITabStrip",
    # the rest only call Google's hosts on a network that has none
    "Translate",
    "MediaRouter",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "LensOverlay",
)

# Flags for this machine, most as Playwright's own launch sets them: root needs --no-sandbox; on a
# closed network the rest stop Chromium from calling Google's hosts (and waiting on them). Without
# site isolation a cross-site iframe lives in its page's renderer, so the page's DevTools session
# sees the iframe's requests and cookies too (the scanner records from there); it also saves a
# renderer process per embed.
BASE_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--enable-unsafe-swiftshader",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-service-autorun",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-component-extensions-with-background-pages",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-breakpad",
    "--disable-field-trial-config",
    "--disable-search-engine-choice-screen",
    "--metrics-recording-only",
    "--password-store=basic",
    "--use-mock-keychain",
    # automation: no throttling of background tabs, no dialogs that wait for a person
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--disable-back-forward-cache",
    "--disable-hang-monitor",
    "--disable-ipc-flooding-protection",
    "--disable-popup-blocking",
    "--disable-prompt-on-repost",
    "--allow-pre-commit-input",
    "--force-color-profile=srgb",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--hide-scrollbars",
    "--disable-site-isolation-trials",
    "--disable-features=" + ",".join(_DISABLED_FEATURES),
    "--enable-features=SkipListAccountsWithoutGaiaCookies",
)

LOOPBACK: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]")

_PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_INSTALL_HINT = "install Debian's Chromium (apt-get install chromium), or pass --chromium /path/to/chrome"


class BrowserNotFound(RuntimeError):
    """No usable Chromium: the message says where we looked and how to fix it."""


def find_chromium(explicit: str | os.PathLike[str] | None = None) -> str:
    """The Chromium executable to use: `explicit`, else `$GATEKEEPER_CHROMIUM`, else one on PATH,
    else a Playwright download."""
    if explicit is not None:
        path = Path(explicit)
        found = shutil.which(str(path)) if not path.is_file() else str(path)
        if found is None or not os.access(found, os.X_OK):
            raise BrowserNotFound(f"--chromium {explicit}: no executable there; {_INSTALL_HINT}")
        return _unwrap(found)
    env = os.environ.get("GATEKEEPER_CHROMIUM")
    if env:
        return find_chromium(env)
    for name in _PATH_NAMES:
        found = shutil.which(name)
        if found:
            return _unwrap(found)
    downloaded = _playwright_download()
    if downloaded:
        return downloaded
    raise BrowserNotFound(f"no Chromium found on PATH ({', '.join(_PATH_NAMES)}); {_INSTALL_HINT}")


def _unwrap(path: str) -> str:
    """Debian's /usr/bin/chromium is a shell script that adds flags (extensions, GPU rasterization)
    and Google API keys before it execs /usr/lib/chromium/chromium: run the binary itself."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return path
    if not head.startswith(b"#!"):
        return path
    text = head.decode("utf-8", "replace")
    libdir = re.search(r"^LIBDIR=(\S+)", text, re.M)
    app = re.search(r"^APPNAME=(\S+)", text, re.M)
    if libdir and app:
        binary = Path(libdir.group(1).replace("$APPNAME", app.group(1)), app.group(1))
        if binary.is_file() and os.access(binary, os.X_OK):
            return str(binary)
    return path


def _playwright_download() -> str | None:
    """The newest `chromium-*` Playwright has downloaded, if any (without starting Playwright)."""
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache/ms-playwright")
    if not root.is_dir():
        return None
    candidates = sorted(root.glob("chromium-*/chrome-linux*/chrome"), reverse=True)
    candidates += sorted(root.glob("chromium_headless_shell-*/chrome-*/headless_shell"), reverse=True)
    for c in candidates:
        if os.access(c, os.X_OK):
            return str(c)
    return None


def host_resolver_rules(
    host_map: Mapping[str, str | int] | None = None,
    *,
    block_unmapped: bool = True,
    keep: Iterable[str] = LOOPBACK,
) -> str:
    """`--host-resolver-rules` for `host_map` ({Chromium host pattern: "127.0.0.1:PORT" or a port}).

    Patterns are Chromium's: `*.twitter.com` matches subdomains only, so list `twitter.com` too; `*`
    sends every name. With `block_unmapped` every other name fails at once as "not resolved". The
    hosts in `keep` (loopback) are never mapped. Chromium rewrites the port for every scheme, so a
    server behind a mapping must speak whatever scheme the page uses (see tests/support/stub.py).
    """
    rules: list[str] = []
    for pattern, target in (host_map or {}).items():
        if isinstance(target, int):
            target = f"127.0.0.1:{target}"
        rules.append(f"MAP {pattern} {target}")
    if block_unmapped:
        rules.append("MAP * ~NOTFOUND")
    if not rules:
        return ""
    rules += [f"EXCLUDE {h}" for h in keep]
    return ", ".join(rules)


def chromium_args(
    host_map: Mapping[str, str | int] | None = None,
    *,
    block_unmapped: bool = False,
    headless: bool = True,
    extra: Iterable[str] = (),
) -> list[str]:
    """Command-line flags for this machine, plus host mapping when asked."""
    args = list(BASE_ARGS)
    if headless:
        args.append("--headless")
    rules = host_resolver_rules(host_map, block_unmapped=block_unmapped)
    if rules:
        args.append(f"--host-resolver-rules={rules}")
    args += extra
    return args


_PREFERENCES = {
    # 0 = allow third-party cookies (1 = block in incognito, 2 = block): the browser's default here
    # blocks them, which would hide what a widget sets.
    "profile": {"cookie_controls_mode": 0, "exit_type": "Normal"},
    "browser": {"check_default_browser": False},
}


class Chromium:
    """A running Chromium process that Playwright attaches to over CDP.

        with Chromium(host_map={"*": stub_port}) as chromium:
            browser = chromium.connect(playwright)            # sync API
            browser = await chromium.connect_async(playwright)  # or async API

    `host_map` and `block_unmapped` are fixed for the life of the process (they are launch flags).
    The DevTools port listens on 127.0.0.1 only and dies with the process.
    """

    def __init__(
        self,
        executable: str | os.PathLike[str] | None = None,
        *,
        host_map: Mapping[str, str | int] | None = None,
        block_unmapped: bool | None = None,
        headless: bool = True,
        extra_args: Iterable[str] = (),
        start_timeout: float = 15.0,
    ) -> None:
        self.executable = find_chromium(executable)
        if block_unmapped is None:
            block_unmapped = bool(host_map)
        self.args = chromium_args(
            host_map, block_unmapped=block_unmapped, headless=headless, extra=extra_args
        )
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None
        self.cdp_url = ""

    def start(self) -> Chromium:
        if self._proc is not None:
            return self
        self._dir = tempfile.mkdtemp(prefix="gatekeeper-chromium-")
        profile = Path(self._dir, "Default")
        profile.mkdir()
        (profile / "Preferences").write_text(json.dumps(_PREFERENCES), "utf-8")
        cmd = [
            self.executable,
            f"--user-data-dir={self._dir}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--no-startup-window",
            *self.args,
        ]
        log = open(Path(self._dir, "chromium.log"), "wb")  # noqa: SIM115 (closed by the child's exit)
        try:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        except OSError as e:
            self._cleanup_dir()
            raise BrowserNotFound(f"{self.executable}: cannot start: {e.strerror}") from e
        finally:
            log.close()
        self.cdp_url = self._wait_for_port()
        return self

    def _wait_for_port(self) -> str:
        assert self._proc is not None and self._dir is not None
        port_file = Path(self._dir, "DevToolsActivePort")
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                tail = self._log_tail()  # before close(), which removes the log with the profile
                self.close()
                raise BrowserNotFound(f"{self.executable} exited with {code} at start: {tail}")
            with contextlib.suppress(OSError):
                first = port_file.read_text("ascii").split("\n", 1)[0].strip()
                if first.isdigit():
                    return f"http://127.0.0.1:{first}"
            time.sleep(0.02)
        tail = self._log_tail()
        self.close()
        raise BrowserNotFound(f"{self.executable} did not start in {self.start_timeout:.0f} s: {tail}")

    def _log_tail(self) -> str:
        try:
            lines = Path(self._dir or "", "chromium.log").read_text("utf-8", "replace").splitlines()
        except OSError:
            return "(no log)"
        useful = [ln for ln in lines if ln.strip()][-3:]
        return " | ".join(useful) or "(empty log)"

    def connect(self, playwright: Playwright) -> Browser:
        """Attach a sync-API Playwright; its `new_context()`s accept third-party cookies."""
        self.start()
        return playwright.chromium.connect_over_cdp(self.cdp_url)

    async def connect_async(self, playwright: AsyncPlaywright) -> AsyncBrowser:
        self.start()
        return await playwright.chromium.connect_over_cdp(self.cdp_url)

    @property
    def pid(self) -> int:
        """The browser's process id (it leads the process group of its renderers); 0 if stopped."""
        return self._proc.pid if self._proc is not None else 0

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            # The browser leads its own process group (start_new_session): end it and its renderers.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self._cleanup_dir()

    def _cleanup_dir(self) -> None:
        d, self._dir = self._dir, None
        if d is not None:
            shutil.rmtree(d, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_proc", None) is not None:
            self.close()

    def __repr__(self) -> str:
        state = self.cdp_url if self.running else "stopped"
        return f"Chromium({self.executable!r}, {state})"


def context_options(**overrides: Any) -> dict[str, Any]:
    """Defaults for a scanning/test context: a desktop viewport, English, no service workers
    (they would hide requests from the page's events)."""
    options: dict[str, Any] = {
        "viewport": {"width": 1280, "height": 900},
        "locale": "en-US",
        "service_workers": "block",
    }
    options.update(overrides)
    return options
