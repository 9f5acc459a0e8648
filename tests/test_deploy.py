"""Production start-up, without servers: which forwarded headers are believed (a matrix of peers and
claims), where the keys come from, and that a log record is one line in either format."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
from typing import Any

import pytest

from gatekeeper.cli import main
from gatekeeper.deploy import JsonFormatter, TextFormatter, load_secret_keys
from gatekeeper.frontdoor import FrontDoor
from gatekeeper.registry import ConfigError

CLAIMS = [
    (b"x-forwarded-for", b"203.0.113.9, 10.0.0.5"),
    (b"x-forwarded-proto", b"https"),
    (b"x-forwarded-host", b"www.example.jp"),
    (b"host", b"127.0.0.1:8000"),
]


async def through(trusted: str, peer: str, kind: str = "http") -> dict[str, object]:
    seen: dict[str, object] = {}

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.update(scope)

    scope = {"type": kind, "path": "/", "scheme": "http" if kind == "http" else "ws",
             "client": (peer, 5000), "headers": list(CLAIMS)}  # fmt: skip
    await FrontDoor(app, trusted=trusted)(scope, None, None)  # type: ignore[arg-type]
    return seen


def in_a_thread(coro: Any) -> Any:
    """asyncio.run where the Playwright tests of the same session keep a loop in the main thread."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(asyncio.run(coro)))
    thread.start()
    thread.join()
    return out[0]


@pytest.mark.parametrize(
    ("trusted", "peer", "believed", "client"),
    [
        ("", "127.0.0.1", False, "127.0.0.1"),
        ("127.0.0.1", "127.0.0.1", True, "10.0.0.5"),  # the rightmost address not itself trusted
        ("127.0.0.1, 10.0.0.0/8", "127.0.0.1", True, "203.0.113.9"),
        ("127.0.0.1", "192.0.2.1", False, "192.0.2.1"),
        ("10.0.0.0/8", "10.1.2.3", True, "203.0.113.9"),
        ("*", "192.0.2.1", True, "203.0.113.9"),
        ("::1", "::1", True, "10.0.0.5"),
        ("::1", "not-an-ip", False, "not-an-ip"),
    ],
)
@pytest.mark.parametrize("kind", ["http", "websocket"])
def test_forwarded_headers_are_believed_only_from_trusted_peers(trusted, peer, believed, client, kind):
    seen = in_a_thread(through(trusted, peer, kind))
    headers = dict(seen["headers"])  # type: ignore[arg-type]
    assert seen["client"][0] == client  # type: ignore[index]
    assert seen["gatekeeper.peer"] == peer
    secure = {"http": "https", "websocket": "wss"}[kind]
    assert seen["scheme"] == (secure if believed else {"http": "http", "websocket": "ws"}[kind])
    assert headers[b"host"] == (b"www.example.jp" if believed else b"127.0.0.1:8000")
    assert (b"x-forwarded-for" in headers) is believed  # removed, not passed on, when not believed


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "localhost", "1.2.3"])
def test_a_bad_trusted_list_stops_start_up(bad):
    with pytest.raises(ConfigError, match="forwarded_allow_ips"):
        FrontDoor(lambda *a: None, trusted=bad)


def test_keys_from_the_environment_or_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GATEKEEPER_SECRET_KEYS", "old-key-0123456789abc  new-key-0123456789abc")
    assert load_secret_keys() == ["old-key-0123456789abc", "new-key-0123456789abc"]
    f = tmp_path / "keys"
    f.write_text("# rotated 2026-12\nold-key-0123456789abc\n\nnew-key-0123456789abc  # signs\n")
    assert load_secret_keys(f) == ["old-key-0123456789abc", "new-key-0123456789abc"]
    for text, message in [("", "no secret key"), ("short\n", "shorter than 16")]:
        f.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_secret_keys(f)
    with pytest.raises(ConfigError, match="No such file"):
        load_secret_keys(tmp_path / "missing")
    monkeypatch.delenv("GATEKEEPER_SECRET_KEYS")
    with pytest.raises(ConfigError, match="GATEKEEPER_SECRET_KEYS"):
        load_secret_keys()


def test_no_key_option_on_the_command_line(capsys):
    with pytest.raises(SystemExit):
        main(["proxy", "--upstream", "http://127.0.0.1:1", "--secret-key", "x" * 20])
    assert "unrecognized arguments" in capsys.readouterr().err  # not taken for --secret-keys-file


def test_a_start_up_mistake_is_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.delenv("GATEKEEPER_SECRET_KEYS", raising=False)
    assert main(["proxy", "--upstream", "http://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no secret key") and err.count("\n") == 1


def test_log_records_are_one_line_in_either_format():
    try:
        raise ValueError("line one\nline two")
    except ValueError:
        record = logging.LogRecord(
            "gatekeeper", logging.ERROR, __file__, 1, "failed:\n%s", ("x",), sys.exc_info()
        )
    text = TextFormatter().format(record)
    assert "\n" not in text and "ValueError: line one" in text and "test_deploy.py:" in text
    data = json.loads(JsonFormatter().format(record))
    assert data["level"] == "ERROR" and data["message"] == "failed:\nx" and "ValueError" in data["exception"]
