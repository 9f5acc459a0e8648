"""Consent records end to end, against a real SQLite file and a real PostgreSQL server (started here on
127.0.0.1): every kind of decision leaves exactly one record with the right grants; no stored value
comes from a request header other than those the record lists; the receipt from a visitor's cookie
finds their record; restarts and a migration from the older schema keep what was stored."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from asgi import run
from support import postgres as pg
from support.records_app import KEY, PAGE, SERVICES, make, site

from gatekeeper import Gatekeeper
from gatekeeper.demo.server import serve_app
from gatekeeper.records import SCHEMA_VERSION, Record, normalize_receipt, open_store, receipt_code
from gatekeeper.records.postgres import PostgresStore
from gatekeeper.records.sqlite import migrate_to
from gatekeeper.registry import load_registry

SALE_SHARE = {s.id for s in load_registry(SERVICES).services if s.sale_share}

FORM = {"content-type": "application/x-www-form-urlencoded"}
# Distinctive values in every request header a record must not keep
PROBES = {
    "user-agent": "Mozilla/5.0 ProbeAgent/77.1-UAZQ81",
    "x-forwarded-for": "198.51.100.77, 203.0.113.99",
    "x-real-ip": "192.0.2.201",
    "forwarded": "for=192.0.2.202;proto=https",
    "referer": "http://127.0.0.1/secret-referrer-9XQ?utm=probe-ref-41",
    "x-request-id": "req-id-probe-5T6Y",
    "dnt": "1",
}
PROBE_COOKIE = "tracker=cookie-probe-K7M2; _ga=GA1.2.99887766.55443322"
PROBE_STRINGS = [
    "UAZQ81", "ProbeAgent", "198.51.100.77", "203.0.113.99", "192.0.2.201", "192.0.2.202",
    "secret-referrer", "probe-ref-41", "req-id-probe", "cookie-probe-K7M2", "99887766", "tracker",
    "127.0.0.1", "utm=",
]  # fmt: skip


def new_url(backend: str, tmp: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp}/consent.db"
    server: pg.PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


def records_in(url: str) -> list[Record]:
    async def read() -> list[Record]:
        store = open_store(url)
        await store.open()
        try:
            return await store.select()
        finally:
            await store.close()

    return run(read())


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the store made."""
    if url.startswith("sqlite"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {n: list(db.execute(f"SELECT * FROM {n}")) for n in names}
        finally:
            db.close()

    async def read() -> dict[str, list[tuple[Any, ...]]]:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            names = [
                r[0]
                for r in await conn.fetch(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                )
            ]
            return {n: [tuple(r) for r in await conn.fetch(f"SELECT * FROM {n}")] for n in names}
        finally:
            await conn.close()

    return run(read())


ALL_CATS = {"usability", "analytics", "social", "media"}
ALL_SVCS = {"youtube", "google-analytics", "x"}
Case = tuple[str, dict[str, Any] | None, dict[str, Any], bool, dict[str, str], dict[str, Any]]
# (name, previous choice or None, body, as JSON, extra headers, expected record fields and grants)
CASES: list[Case] = [
    ("banner-accept", None, {"choice": "all", "next": "/p/accept?q=secret"}, False, {},
     {"choice": "all", "control": "banner", "cats": ALL_CATS, "svcs": ALL_SVCS}),
    ("banner-reject", None, {"choice": "none", "next": "/p/reject"}, False, {},
     {"choice": "none", "control": "banner", "cats": set(), "svcs": set()}),
    ("settings", None,
     {"choice": "custom", "category": ["analytics"], "service": ["youtube"], "next": "/p/settings"},
     False, {},
     {"choice": "custom", "control": "settings", "cats": {"analytics"},
      "svcs": {"google-analytics", "youtube"}}),
    ("once", None,
     {"choice": "once", "service": ["youtube"], "embed": "0", "next": "/p/once#gk-ph-0"}, False, {},
     {"choice": "once", "control": "placeholder-once", "cats": set(), "svcs": {"youtube"}}),
    ("always", None, {"choice": "allow", "service": ["x"], "next": "/p/always"}, False, {},
     {"choice": "allow", "control": "placeholder-always", "cats": set(), "svcs": {"x"}}),
    ("disclosure", None,
     {"choice": "custom", "category": ["social"], "next": "/_gatekeeper/disclosure?lang=ja"}, False, {},
     {"choice": "custom", "control": "disclosure", "cats": {"social"}, "svcs": {"x"}}),
    ("json-accept", None, {"choice": "all", "next": "/p/json-accept"}, True, {},
     {"choice": "all", "control": "banner", "javascript": True, "cats": ALL_CATS, "svcs": ALL_SVCS}),
    ("json-settings", None,
     {"choice": "custom", "services": ["x", "youtube"], "next": "/p/json-settings"}, True, {},
     {"choice": "custom", "control": "settings", "javascript": True, "cats": set(),
      "svcs": {"x", "youtube"}}),
    ("json-always", None,
     {"choice": "allow", "services": ["google-analytics"], "next": "/p/json-always"}, True, {},
     {"choice": "allow", "control": "placeholder-always", "javascript": True, "cats": set(),
      "svcs": {"google-analytics"}}),
    ("withdraw-form", {"choice": "all"}, {"choice": "none", "next": "/p/withdraw-form"}, False, {},
     {"choice": "none", "control": "banner", "withdrawal": True, "cats": set(), "svcs": set()}),
    ("withdraw-json", {"choice": "custom", "category": ["media", "analytics"]},
     {"choice": "custom", "categories": ["analytics"], "next": "/p/withdraw-json"}, True, {},
     {"choice": "custom", "control": "settings", "withdrawal": True, "javascript": True,
      "cats": {"analytics"}, "svcs": {"google-analytics"}}),
    ("add-no-withdrawal", {"choice": "custom", "category": ["analytics"]},
     {"choice": "allow", "service": ["youtube"], "next": "/p/add"}, False, {},
     {"choice": "allow", "control": "placeholder-always", "withdrawal": False, "cats": {"analytics"},
      "svcs": {"google-analytics", "youtube"}}),
    ("gpc-ja", None, {"choice": "all", "next": "/p/gpc"}, False,
     {"sec-gpc": "1", "accept-language": "ja,en;q=0.5"},
     {"choice": "all", "control": "banner", "gpc": True, "lang": "ja", "cats": ALL_CATS, "svcs": ALL_SVCS}),
]  # fmt: skip


def token_of(response: httpx.Response, once: bool) -> str:
    name = "gk_once" if once else "gk_consent"
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            return header.split("=", 1)[1].split(";", 1)[0]
    raise AssertionError(f"no {name} cookie in {response.headers}")


def post(
    client: httpx.Client, body: dict[str, Any], as_json: bool, headers: dict[str, str]
) -> httpx.Response:
    if as_json:
        return client.post("/_gatekeeper/consent", json=body, headers=headers)
    return client.post("/_gatekeeper/consent", data=body, headers={**FORM, **headers})


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def decisions(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, list[dict[str, Any]], int]:
    """Every case against one site (uvicorn, lifespan on), its store written and closed at shutdown:
    (store URL, per case its receipt and answer, POSTs made)."""
    url = new_url(request.param, tmp_path_factory.mktemp("records"), request)
    results = []
    posts = 0
    with serve_app(make(url), lifespan="on") as base:
        for name, previous, body, as_json, extra, expect in CASES:
            with httpx.Client(base_url=base, headers=PROBES) as client:
                client.headers["cookie"] = PROBE_COOKIE
                if previous is not None:
                    first = post(client, {**previous, "next": f"/setup/{name}"}, False, {})
                    posts += 1
                    client.headers["cookie"] = f"{PROBE_COOKIE}; gk_consent={token_of(first, False)}"
                answer = post(client, body, as_json, extra)
                posts += 1
                assert answer.status_code == (200 if as_json else 303), (name, answer.text)
                token = token_of(answer, body["choice"] == "once")
                results.append({"name": name, "receipt": receipt_code(token), "token": token,
                                "expect": expect, "next": body["next"]})  # fmt: skip
    return url, results, posts


def test_every_decision_leaves_exactly_one_record_with_its_grants(decisions):
    url, results, posts = decisions
    stored = records_in(url)
    assert len(stored) == posts  # one record per decision, setup choices included, no more
    for result in results:
        expect = result["expect"]
        # the same choice in the same second gives the same cookie, so the same receipt: the page tells
        # these records apart here (each case has its own)
        path = urlsplit(result["next"]).path
        mine = [r for r in stored if r.receipt == result["receipt"] and r.path == path]
        assert len(mine) == 1, (result["name"], mine)
        (record,) = mine
        assert record.choice == expect["choice"], result["name"]
        assert record.control.value == expect["control"], result["name"]
        assert record.javascript is expect.get("javascript", False), result["name"]
        assert record.withdrawal is expect.get("withdrawal", False), result["name"]
        assert record.gpc is expect.get("gpc", False), result["name"]
        assert record.lang == expect.get("lang", "en"), result["name"]
        assert record.path == urlsplit(result["next"]).path, result["name"]
        assert {k for k, v in record.categories.items() if v} == expect["cats"], result["name"]
        assert set(record.categories) == {"usability", "analytics", "social", "media"}
        granted = {k for k, v in record.services.items() if v}
        if expect.get("gpc"):  # "accept all" under GPC leaves sale/share services off
            assert granted == expect["svcs"] - SALE_SHARE, result["name"]
        else:
            assert granted == expect["svcs"], result["name"]
        assert set(record.services) == {s["id"] for s in SERVICES["services"]}
        assert re.fullmatch(r"[0-9a-f]{32}", record.texts)


def test_the_paths_are_the_pages_without_query(decisions):
    url, _results, _ = decisions
    paths = {r.path for r in records_in(url)}
    assert "/p/accept" in paths and "/_gatekeeper/disclosure" in paths and "/p/once" in paths
    assert not any("?" in p or "#" in p for p in paths)


def test_no_stored_value_comes_from_other_request_headers(decisions):
    url, results, _ = decisions
    tables = dump(url)
    assert {"gk_records", "gk_texts", "gk_schema", "gk_lost"} <= set(tables)
    assert tables["gk_records"], "nothing was stored: the scan would prove nothing"
    values = [str(v) for rows in tables.values() for row in rows for v in row]
    for probe in PROBE_STRINGS:
        hits = [v[:80] for v in values if probe.lower() in v.lower()]
        assert not hits, f"{probe!r} stored: {hits}"
    for result in results:  # the cookie itself (its signature) is not kept either: only a hash of it
        signature = result["token"].rsplit(".", 1)[1]
        assert not any(signature in v for v in values)
    # the control shows the scan would catch a stored header value
    assert any(v == "ja" for v in values)  # Accept-Language, resolved: listed, and found by the same scan


def test_the_texts_shown_are_stored_once_per_digest(decisions):
    url, _, _ = decisions
    tables = dump(url)
    stored = [row[0] for row in tables["gk_texts"]]
    assert len(stored) == len(set(stored))  # once each
    assert {r.texts for r in records_in(url)} == set(stored)  # (en, ja, and ja under GPC)
    bodies = " ".join(str(row[3]) for row in tables["gk_texts"])
    assert "Reject all" in bodies and "すべて拒否する" in bodies  # English and Japanese were shown
    assert "Load once" in bodies and "YouTube" in bodies


def test_the_record_names_the_language_the_page_showed_the_choice_in(tmp_path):
    """The page says <html lang=en>, so its banner and placeholders are English, whatever the
    browser's Accept-Language: the record says English, with and without JavaScript."""
    url = f"sqlite:///{tmp_path}/consent.db"
    ja = {"accept-language": "ja,en;q=0.5"}
    with serve_app(make(url), lifespan="on") as base, httpx.Client(base_url=base, headers=ja) as client:
        page = client.get("/article").text
        assert "Accept all" in page and "すべて受け入れる" not in page
        banner = re.search(r'<form method="post" action="([^"]+)"', page)
        placeholder = re.search(r'formaction="([^"]+)"[^>]*value="allow"', page)
        assert banner and placeholder
        client.post(banner[1].replace("&amp;", "&"), data={"choice": "none", "next": "/a"}, headers=FORM)
        client.post(placeholder[1].replace("&amp;", "&"), data={"choice": "allow"}, headers=FORM)
        client.post("/_gatekeeper/consent?lang=en", json={"choice": "all", "next": "/b"})
        client.post("/_gatekeeper/consent", json={"choice": "all", "next": "/c"})  # said nothing: ja
    by_path = {r.path: r.lang for r in records_in(url)}
    assert by_path == {"/a": "en", "/article": "en", "/b": "en", "/c": "ja"}, by_path


# -- the receipt ----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_receipt_from_a_visitors_cookie_finds_their_record(backend, tmp_path, request):
    url = new_url(backend, tmp_path, request)
    with serve_app(make(url), lifespan="on") as base, httpx.Client(base_url=base) as client:
        answer = client.post("/_gatekeeper/consent", data={"choice": "custom", "category": "media",
                                                           "next": "/article"}, headers=FORM)  # fmt: skip
        assert answer.status_code == 303
        client.cookies.set("gk_consent", token_of(answer, False))
        page = client.get("/article").text
        shown = re.search(r'data-gk-receipt="([A-Z2-7-]{19})"', page)
        assert shown, "the settings panel shows no receipt"
        notice = client.get("/_gatekeeper/disclosure?lang=ja").text
        assert f'data-gk-receipt="{shown[1]}"' in notice and "受付番号" in notice
        download = client.get("/_gatekeeper/receipt")
        assert download.status_code == 200
        assert "attachment" in download.headers["content-disposition"]
        receipt = download.json()
        assert receipt["receipt"] == shown[1]
        assert receipt["categories"]["media"] is True and receipt["services"]["youtube"] is True
        # no cookie, no receipt
        assert httpx.get(base + "/_gatekeeper/receipt").status_code == 404

    async def find() -> list[Record]:
        store = open_store(url)
        await store.open()
        try:
            return await store.find(normalize_receipt(receipt["receipt"].lower()))
        finally:
            await store.close()

    (record,) = run(find())
    assert record.path == "/article" and record.categories["media"] is True
    assert record.at == receipt["at"] and record.texts == receipt["texts"]


def test_a_page_kept_by_the_browser_never_shows_an_older_receipt(tmp_path):
    """The same choice made again is a new record with a new receipt: a conditional request for the
    page the visitor saw before is not answered 304 (which would show the old receipt)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await site(scope, receive, send)
            return
        etag = b'"v1"'
        fresh = (b"if-none-match", etag) in scope["headers"]
        headers = [(b"etag", etag), (b"content-type", b"text/html; charset=utf-8")]
        await send({"type": "http.response.start", "status": 304 if fresh else 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if fresh else PAGE.encode()})

    url = f"sqlite:///{tmp_path}/consent.db"
    gk = Gatekeeper(app, secret_keys=KEY, services=SERVICES, records=url)
    with serve_app(gk, lifespan="on") as base, httpx.Client(base_url=base) as client:
        receipts, etags = [], []
        for _ in range(2):
            answer = post(client, {"choice": "none", "next": "/p"}, False, {})
            client.cookies.set("gk_consent", token_of(answer, False))
            page = client.get("/p", headers={"if-none-match": etags[-1]} if etags else {})
            assert page.status_code == 200
            receipts.append(re.search(r'data-gk-receipt="([A-Z2-7-]{19})"', page.text)[1])  # type: ignore[index]
            etags.append(page.headers["etag"])
            time.sleep(1.1)  # the next choice is made in another second: another cookie, another receipt
        assert receipts[0] != receipts[1]
        assert client.get("/p", headers={"if-none-match": etags[1]}).status_code == 304  # still cached


# -- restarts and migrations ----------------------------------------------------------------------

V1_RECORD = (
    "OLDRECEIPTCODEAA", 1_700_000_000, "oldpolicy", "all", "banner", 0, 0, "en", "/old",
    '{"media":true}', '{"youtube":true}', "oldtexts",
)  # fmt: skip


def _old_schema(backend: str, url: str) -> None:
    """A store as version 1 of the schema left it, with one record in it."""
    insert_text = (
        "INSERT INTO gk_texts (digest, lang, policy_version, body) "
        "VALUES ('oldtexts', 'en', 'oldpolicy', '{}')"
    )
    columns = (
        "receipt, at, policy_version, choice, control, javascript, gpc, lang, path, categories, services, "
    )
    columns += "texts"
    if backend == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        migrate_to(path, 1)
        db = sqlite3.connect(path, isolation_level=None)
        db.execute(insert_text)
        db.execute(f"INSERT INTO gk_records ({columns}) VALUES ({', '.join('?' * 12)})", V1_RECORD)
        db.close()
        return

    async def make_old() -> None:
        import asyncpg

        await PostgresStore(url).migrate(1)
        conn = await asyncpg.connect(url)
        await conn.execute(insert_text)
        await conn.execute(
            f"INSERT INTO gk_records ({columns}) VALUES ({', '.join(f'${i}' for i in range(1, 13))})",
            *V1_RECORD,
        )
        await conn.close()

    run(make_old())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_restart_and_migration_from_the_older_schema(backend, tmp_path, request):
    url = new_url(backend, tmp_path, request)
    _old_schema(backend, url)
    assert "withdrawal" not in str(dump(url).get("gk_lost", "no lost table"))  # really the old schema
    for start in range(2):  # the first start migrates, the second finds nothing to do
        with serve_app(make(url), lifespan="on") as base:
            answer = httpx.post(
                base + "/_gatekeeper/consent", data={"choice": "none", "next": f"/run{start}"}
            )
            assert answer.status_code == 303

    async def version() -> int:
        store = open_store(url)
        try:
            return await store.schema_version()
        finally:
            await store.close()

    assert run(version()) == SCHEMA_VERSION == 2
    stored = records_in(url)
    assert [r.path for r in stored] == ["/old", "/run0", "/run1"]
    old = stored[0]
    assert old.receipt == "OLDRECEIPTCODEAA" and old.withdrawal is False and old.services == {"youtube": True}
    tables = dump(url)
    assert len(tables["gk_texts"]) == 2  # the old texts, and the current ones stored once for both runs
    versions = sorted(row[0] for row in tables["gk_schema"])
    assert versions == [1, 2]
