"""scanner.cli and the crawl's pure parts: arguments, exit code 2 for usage errors, URL scope, the
Open Cookie Database (no browser)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from scanner.cli import _options, build_merge_parser, build_parser, main
from scanner.cookiedb import CookieDatabase, cookie_database
from scanner.model import VisitKind
from scanner.scope import Scope, normalize_url, sitemap_urls


def options(*argv: str):
    parser = build_parser()
    return _options(parser.parse_args(list(argv)), parser)


def test_defaults():
    o = options("http://127.0.0.1:8000/")
    assert (o.max_pages, o.max_depth, o.workers, o.visits) == (50, None, 3, tuple(VisitKind))
    assert o.headers == {} and o.host_map == {} and o.services is None and o.sitemap


def test_options_map_to_scan_options(tmp_path):
    o = options(
        "https://example.jp/", "--max-pages", "5", "--max-depth", "2", "--include", "/news/*",
        "--exclude", "/lang/*", "--exclude", "*?print=1", "--workers", "4",
        "--header", "Authorization: Basic eDp5", "--map-host", "*.x.com=127.0.0.1:8443",
        "--block-unmapped", "--visits", "first-view,gpc", "--services", str(tmp_path / "s.toml"),
        "--no-sitemap", "--no-screenshots", "--client-ip", "198.51.100.4",
    )  # fmt: skip
    assert o.max_pages == 5 and o.max_depth == 2 and o.workers == 4
    assert o.include == ("/news/*",) and o.exclude == ("/lang/*", "*?print=1")
    assert o.headers == {"Authorization": "Basic eDp5"}
    assert o.host_map == {"*.x.com": "127.0.0.1:8443"} and o.block_unmapped
    assert o.visits == (VisitKind.FIRST_VIEW, VisitKind.GPC)
    assert not o.sitemap and not o.screenshots and o.client_ip == "198.51.100.4"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: url"),
        (["http://x/", "--header", "no-colon"], "write it as 'Name: value'"),
        (["http://x/", "--map-host", "*.x.com"], "PATTERN=HOST:PORT"),
        (["http://x/", "--visits", "first-view,nope"], "choose from first-view, reject"),
        (["http://x/", "--visits", "reject"], "must include first-view"),
        (["http://x/", "--workers", "0"], "--workers must be 1 or more"),
        (["http://x/", "--fail-on", "sometimes"], "invalid choice"),
        (["http://x/", "--shard", "3/2"], "write it as K/N with 1 <= K <= N"),
        (["http://x/", "--shard", "0/2"], "write it as K/N"),
        (["http://x/", "--shard", "a/b"], "write it as K/N"),
        (["http://x/", "--shard", "2"], "write it as K/N"),
        (["http://x/", "--resume"], "--resume needs --journal FILE"),
        (["http://x/", "--dwell", "soon"], "invalid int value"),
        (["merge"], "the following arguments are required: REPORT"),
        (["merge", "a.json", "--fail-on", "sometimes"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_url_that_is_not_http_is_a_run_error(capsys):
    assert main(["ftp://example.jp/", "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        "gatekeeper scan: error: ftp://example.jp/: give an http:// or https:// URL"
    )


def test_a_bad_services_file_is_a_run_error_before_any_browser(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GATEKEEPER_CHROMIUM", str(tmp_path / "no-browser"))
    bad = tmp_path / "services.toml"
    bad.write_text("[[services]]\nid = 'nope-not-in-catalog'\n")
    assert main(["http://127.0.0.1:9/", "--services", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gatekeeper scan: error: {bad}: [[services]] #1 ('nope-not-in-catalog')")
    assert err.count("\n") == 1


def test_no_browser_is_a_run_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GATEKEEPER_CHROMIUM", str(tmp_path / "no-browser"))
    assert main(["http://127.0.0.1:9/", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no executable there" in err and "apt-get install chromium" in err


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("http://Example.JP:80/a#frag", "http://example.jp/a"),
        ("https://example.jp", "https://example.jp/"),
        ("https://example.jp:8443/x?q=1", "https://example.jp:8443/x?q=1"),
    ],
)
def test_normalize_url(url, normal):
    assert normalize_url(url) == normal


def test_scope():
    scope = Scope("http://127.0.0.1:8000/", include=(), exclude=("/lang/*",))
    assert scope.admit("http://127.0.0.1:8000/news/1#top") == "http://127.0.0.1:8000/news/1"
    for outside in (
        "http://127.0.0.1:8001/",  # another origin
        "https://127.0.0.1:8000/",
        "mailto:a@b.jp",
        "http://127.0.0.1:8000/files/report.pdf",
        "http://127.0.0.1:8000/_gatekeeper/disclosure",
        "http://127.0.0.1:8000/lang/en?next=/",
    ):
        assert scope.admit(outside) is None, outside
    news_only = Scope("http://127.0.0.1:8000/", include=("/news/*",), exclude=())
    assert news_only.admit("http://127.0.0.1:8000/news/2") and not news_only.admit("http://127.0.0.1:8000/")


def testsitemap_urls():
    xml = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc> http://a.jp/ </loc></url><url><loc>http://a.jp/news/1</loc></url></urlset>"
    )
    assert sitemap_urls(xml) == ["http://a.jp/", "http://a.jp/news/1"]


def test_open_cookie_database():
    db = cookie_database()
    assert len(db) > 1000
    ga = db.lookup("_ga")
    assert ga is not None and ga.category is not None and ga.category.value == "analytics"
    assert db.lookup("_ga_ABC123") is not None  # a wildcard (prefix) entry
    assert db.lookup("surely-not-a-known-cookie") is None
    assert "Open Cookie Database" in ga.explain()


def test_cookie_database_parses_and_degrades():
    empty = CookieDatabase.parse("")
    assert len(empty) == 0 and empty.lookup("_ga") is None
    one = CookieDatabase.parse(
        "ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,"
        "Data Controller,User Privacy & GDPR Rights Portals,Wildcard match\n"
        "1,Shop,Marketing,shop_,,Ads,1 year,Shop Inc,https://shop.example/,1\n"
    )
    found = one.lookup("shop_123")
    assert found is not None and found.category is not None and found.category.value == "marketing"


def test_new_options_map_to_scan_options(tmp_path):
    o = options(
        "http://x/", "--dwell", "500", "--quiet-wait", "800", "--no-interaction", "--unjudged-ok",
        "--shard", "2/3", "--journal", str(tmp_path / "j.jsonl"), "--resume",
    )  # fmt: skip
    assert (o.dwell_ms, o.max_quiet_wait_ms, o.interact, o.unjudged_ok) == (500, 800, False, True)
    assert o.shard == (2, 3) and o.journal == tmp_path / "j.jsonl" and o.resume
    d = options("http://x/")
    assert (d.dwell_ms, d.max_quiet_wait_ms, d.interact, d.shard, d.resume) == (
        3000,
        2000,
        True,
        (1, 1),
        False,
    )


@pytest.mark.parametrize("parser", [build_parser(), build_merge_parser()], ids=["scan", "merge"])
def test_every_option_has_a_description(parser):
    for action in parser._actions:
        assert action.help, f"{action.option_strings or action.dest} has no description"


def test_visits_help_names_the_visits(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for kind in VisitKind:
        assert kind.value + " (" in out


def test_without_the_scanner_extra_scan_help_exits_2():
    """As README says: the command exists, the extra is missing, exit code 2 with the fix."""
    code = (
        "import sys; sys.modules['playwright'] = None; sys.modules['playwright.async_api'] = None\n"
        "from gatekeeper.cli import main; sys.exit(main(['scan', '--help']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "pip install 'gatekeeper-consent[scanner]'" in done.stderr
