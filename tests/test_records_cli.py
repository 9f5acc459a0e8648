"""What operators get from consent records: `gatekeeper records stats|show|export|purge|report` on a real
SQLite file, the figures checked against records made for the purpose; and the pure pieces under
them (receipt codes, which control a choice came from, the texts read as shown, store URLs)."""

from __future__ import annotations

import concurrent.futures
import csv
import io
import json
import re
import time
from pathlib import Path

import pytest
from asgi import run
from support.records_app import make

from gatekeeper.cli import main as gatekeeper_main
from gatekeeper.records import (
    Control,
    Lost,
    Record,
    TextSet,
    control_of,
    format_receipt,
    normalize_receipt,
    open_store,
    receipt_code,
    visible_text,
)
from gatekeeper.registry import ConfigError

DAY = 86_400
NOW = int(time.time()) // DAY * DAY + 3600  # today, 01:00 UTC
TEXTS = TextSet("en", "v1", (("banner", "Accept all\nReject all"), ("disclosure", "Who receives what")))


def record(n: int, choice: str, day: int, **fields: object) -> Record:
    cats = {"analytics": choice == "all" or n % 3 == 0, "media": choice == "all"}
    base: dict[str, object] = {
        "receipt": receipt_code(f"payload.{n}.sig{n:04d}"),
        "at": NOW - day * DAY + n,
        "policy_version": "v1",
        "choice": choice,
        "control": Control.BANNER if choice in ("all", "none") else Control.SETTINGS,
        "javascript": n % 2 == 0,
        "withdrawal": False,
        "gpc": False,
        "lang": "en",
        "path": "/",
        "categories": cats,
        "services": {"google-analytics": cats["analytics"], "youtube": cats["media"]},
        "texts": TEXTS.digest,
    }
    base.update(fields)
    return Record(**base)  # type: ignore[arg-type]


# ten days ago: 4 all, 4 none, 2 custom; yesterday: 1 all, 3 none (one a withdrawal), 1 once; 2 lost
RECORDS = (
    [record(i, "all", 10) for i in range(4)]
    + [record(4 + i, "none", 10) for i in range(4)]
    + [record(8 + i, "custom", 10) for i in range(2)]
    + [record(20, "all", 1), record(21, "none", 1), record(22, "none", 1, withdrawal=True)]
    + [record(23, "none", 1), record(24, "once", 1, control=Control.PLACEHOLDER_ONCE)]
)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/consent.db"

    async def fill() -> None:
        store = open_store(url)
        await store.open()
        await store.write(RECORDS, [TEXTS], [Lost(time.strftime("%Y-%m-%d", time.gmtime(NOW - DAY)), 2)])
        await store.close()

    run(fill())
    return url


def run_cli(argv: list[str]) -> int:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright may hold this thread's loop
        return int(pool.submit(gatekeeper_main, argv).result())


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = run_cli(["records", *args])
    return code, capsys.readouterr().out


def test_stats_per_day_and_policy_version(store_url, capsys):
    code, out = cli(capsys, "--url", store_url, "stats", "--json")
    assert code == 0
    data = json.loads(out)
    old, recent = data["days"]
    assert (old["decisions"], old["accept_all"], old["reject_all"], old["custom"]) == (10, 4, 4, 2)
    assert old["accept_all_rate"] == 0.4 and old["custom_rate"] == 0.2
    assert (recent["decisions"], recent["load_once"], recent["withdrawals"], recent["lost"]) == (5, 1, 1, 2)
    assert recent["accept_all_rate"] == 0.25  # of the four that set a consent
    assert old["without_javascript"] == 5 and old["lost"] == 0
    # analytics: every "all" and the records numbered 0 mod 3 among the others
    assert old["category_opt_in"]["analytics"] == (4 + 2) / 10  # 4 all + none #6 + custom #9
    assert old["service_opt_in"]["youtube"] == 0.4
    assert data["total"]["decisions"] == 15 and data["total"]["lost"] == 2
    code, text = cli(capsys, "--url", store_url, "stats")
    assert code == 0 and "40.0%" in text and "category analytics" in text


def test_show_a_receipt_with_the_texts_shown(store_url, capsys):
    wanted = RECORDS[5]
    typed = format_receipt(wanted.receipt).lower()  # as a visitor might read it out
    code, out = cli(capsys, "--url", store_url, "show", typed)
    assert code == 0
    shown = json.loads(out)
    assert [r["receipt"] for r in shown["records"]] == [format_receipt(wanted.receipt)]
    assert shown["records"][0]["choice"] == "none"
    assert shown["texts"][TEXTS.digest]["banner"] == "Accept all\nReject all"
    code, _ = cli(capsys, "--url", store_url, "show", "AAAA-BBBB-CCCC-DDDD")
    assert code == 1


def test_export_csv_and_json_in_a_time_range(store_url, capsys, tmp_path):
    since = time.strftime("%Y-%m-%d", time.gmtime(NOW - 2 * DAY))
    code, out = cli(capsys, "--url", store_url, "export", "--format", "json", "--since", since)
    assert code == 0
    assert [r["receipt"] for r in json.loads(out)] == [format_receipt(r.receipt) for r in RECORDS[10:]]
    until = time.strftime("%Y-%m-%d", time.gmtime(NOW - 2 * DAY))
    code, _ = cli(capsys, "--url", store_url, "export", "--until", until, "-o", str(tmp_path / "old.csv"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "old.csv").read_text())))
    assert code == 0 and len(rows) == 10
    assert rows[0]["choice"] == "all" and rows[0]["categories"] == "analytics media"
    assert rows[0]["time"].endswith("Z") and re.fullmatch(r"([A-Z2-7]{4}-){3}[A-Z2-7]{4}", rows[0]["receipt"])


def test_purge_removes_what_is_older_than_the_retention(store_url, capsys):
    code, out = cli(capsys, "--url", store_url, "purge", "--days", "5")
    assert code == 0 and out.startswith("10 records")
    code, out = cli(capsys, "--url", store_url, "export", "--format", "json")
    assert len(json.loads(out)) == 5


def test_the_html_report_is_self_contained_with_charts(store_url, capsys, tmp_path):
    target = tmp_path / "report.html"
    code, _ = cli(capsys, "--url", store_url, "report", "--html", str(target))
    html = target.read_text()
    assert code == 0 and html.count("<svg") == 3 and "<polyline" in html
    assert "accept all" in html and "analytics" in html
    assert not re.search(r"(src|href)\s*=|<script|@import|url\(|https?://", html, re.I)  # nothing fetched


def test_a_store_is_named_or_the_command_says_how(capsys, monkeypatch):
    monkeypatch.delenv("GATEKEEPER_RECORDS", raising=False)
    assert run_cli(["records", "stats"]) == 2
    assert "GATEKEEPER_RECORDS" in capsys.readouterr().err


# -- the pure pieces ------------------------------------------------------------------------------


def test_a_receipt_depends_on_the_signature_alone():
    assert receipt_code("a.b.SIG") == receipt_code("other.payload.SIG")
    codes = {receipt_code(f"p.t.signature{i}") for i in range(2000)}
    assert len(codes) == 2000 and all(re.fullmatch(r"[A-Z2-7]{16}", c) for c in codes)


@pytest.mark.parametrize(
    "typed", ["ABCD-EFGH-IJKL-MNO2", "abcd efgh ijkl mno2", "ABCDEFGHIJKLMNO2", " abcd-efgh-1jkl-mn02 "]
)
def test_receipts_typed_any_way_are_found(typed):
    assert normalize_receipt(typed) == "ABCDEFGHIJKLMNO2"


@pytest.mark.parametrize(
    ("choice", "next_path", "control"),
    [
        ("all", "/", Control.BANNER),
        ("none", "/a/b", Control.BANNER),
        ("custom", "/", Control.SETTINGS),
        ("once", "/", Control.PLACEHOLDER_ONCE),
        ("once", "/_gatekeeper/disclosure", Control.PLACEHOLDER_ONCE),
        ("allow", "/", Control.PLACEHOLDER_ALWAYS),
        ("all", "/_gatekeeper/disclosure", Control.DISCLOSURE),
        ("none", "/_gatekeeper/disclosure", Control.DISCLOSURE),
        ("custom", "/_gatekeeper/disclosure", Control.DISCLOSURE),
        ("custom", "/_gatekeeper/consent", Control.SETTINGS),
    ],
)
def test_the_control_a_choice_came_from(choice, next_path, control):
    assert control_of(choice, next_path, "/_gatekeeper/") is control


def test_texts_are_read_as_shown():
    html = (
        "<div><h2>Title &amp; more</h2><script>var hidden = 1</script><style>p{}</style>"
        "<p>One\n   line</p><button>Accept</button><!-- a comment --></div>"
    )
    assert visible_text(html) == "Title & more\nOne line\nAccept"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://localhost/db",
        "sqlite://relative.db",
        "sqlite:///",
        "sqlite:////no/such/folder/consent.db",
        "postgres",
        "",
        "http://example.com/",
    ],
)
def test_a_store_url_we_cannot_use_fails_at_start_up(url):
    with pytest.raises(ConfigError):
        open_store(url)
    with pytest.raises(ConfigError):
        make(url)


@pytest.mark.parametrize("days", [0, 10, 20 * 365 + 1, -5])
def test_a_retention_outside_reason_fails_at_start_up(days, tmp_path):
    with pytest.raises(ConfigError, match="records_days"):
        make(f"sqlite:///{tmp_path}/c.db", records_days=days)


def test_a_password_never_shows_in_messages():
    from gatekeeper.records.store import describe_url

    assert (
        describe_url("postgresql://gk:s3cret@db.internal/consent")
        == "postgresql://gk:***@db.internal/consent"
    )
