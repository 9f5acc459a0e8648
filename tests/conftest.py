"""Shared fixtures. Browser tests live in tests/browser/ and get the `browser` marker automatically.

Fixtures (plain Playwright sync API, no pytest-playwright):

- `stub` -> `support.StubServer`: the third-party internet on 127.0.0.1 (TLS and plain HTTP on one
  port, any Host). Records every hit (`stub.hits`, `stub.hits_for(host=, path=)`, `stub.wait_for()`),
  answers by path kind, takes per-test answers (`stub.route(url, body)`) and cookies
  (`stub.set_cookie(url, "a=1; SameSite=None; Secure")`). One server per session, reset per test.
- `serve(app) -> "http://127.0.0.1:PORT"`: runs an ASGI app on uvicorn in a thread for the test.
- `chromium` -> `scanner.browser.Chromium`: the session's browser process; every host name except
  loopback resolves to the stub; third-party cookies are allowed (ENVIRONMENT.md). Pass it to the
  scanner to reuse it.
- `browser` -> Playwright `Browser` attached to `chromium`.
- `browser_context(hosts="all", javascript=True, **options) -> BrowserContext`: a fresh context with
  `ignore_https_errors=True`. `hosts="all"` sends every name to the stub; a list of Chromium host
  patterns (`["platform.twitter.com", "*.facebook.com"]`) sends only those and makes every other name
  fail at once as not resolved (one extra browser process per distinct list, kept for the session).
  `javascript=False` disables scripts. Closed after the test.
- `page`: a page in a fresh `browser_context()`.
- `_stub_server`: the session's stub itself, unreset, for module-scoped fixtures (a whole scan).
- The scanner's async API runs in its own thread next to these (the sync API keeps an event loop in
  the main thread): `scanner.scan(options, chromium=chromium)` does that by itself.
- Also available: `pytester`, and the scanner plugin's `gatekeeper_scan` (entry point).

No browser found is an error with the fix in its message, not a skip: CI must not pass silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import StubServer, serve_app

from scanner.browser import Chromium, context_options

pytest_plugins = ["pytester"]  # tests of the scanner's pytest plugin run a pytest of their own
_BROWSER_DIR = Path(__file__).parent / "browser"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _BROWSER_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def _stub_server() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@pytest.fixture
def stub(_stub_server: StubServer) -> Iterator[StubServer]:
    _stub_server.reset()
    yield _stub_server
    _stub_server.reset()


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    stack: list[Any] = []

    def start(app: Any, **config: Any) -> str:
        cm = serve_app(app, **config)
        url = cm.__enter__()
        stack.append(cm)
        return url

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


@pytest.fixture(scope="session")
def chromium(_stub_server: StubServer) -> Iterator[Chromium]:
    with Chromium(host_map={"*": _stub_server.address}) as process:
        yield process


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(chromium: Chromium, playwright: Any) -> Iterator[Any]:
    b = chromium.connect(playwright)
    yield b
    b.close()


@pytest.fixture(scope="session")
def _mapped_browsers(_stub_server: StubServer, playwright: Any) -> Iterator[dict[Any, Any]]:
    """Browsers that map only some names to the stub, one per distinct host list, made on demand."""
    made: dict[frozenset[str], tuple[Chromium, Any]] = {}
    yield made
    for process, b in made.values():
        b.close()
        process.close()


@pytest.fixture
def browser_context(
    browser: Any, playwright: Any, _mapped_browsers: dict[Any, Any], _stub_server: StubServer
) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def make(hosts: str | Iterable[str] = "all", javascript: bool = True, **options: Any) -> Any:
        if hosts == "all":
            target = browser
        else:
            key = frozenset([hosts] if isinstance(hosts, str) else hosts)
            if key not in _mapped_browsers:
                process = Chromium(
                    host_map={h: _stub_server.address for h in sorted(key)}, block_unmapped=True
                ).start()
                _mapped_browsers[key] = (process, process.connect(playwright))
            target = _mapped_browsers[key][1]
        ctx = target.new_context(
            **context_options(ignore_https_errors=True, java_script_enabled=javascript, **options)
        )
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def page(browser_context: Callable[..., Any]) -> Any:
    return browser_context().new_page()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A real PostgreSQL 15 on 127.0.0.1 for the session (consent records); `new_database()` gives each
    test its own. Skipped only when Debian's binaries are absent (CI installs them)."""
    from support import postgres as pg

    if not pg.available():
        pytest.skip(f"PostgreSQL is not installed ({pg.BIN}/initdb missing): apt-get install postgresql")
    server = pg.PostgresServer()
    server.init()
    server.start()
    yield server
    server.close()
