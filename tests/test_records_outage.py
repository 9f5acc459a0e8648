"""Consent records when the database is in the way: locked, hanging, stopped, shared. The visitor's
choice always answers at once; every record is either stored or counted as lost (never silently
dropped); two site processes writing to one PostgreSQL agree with what was sent."""

from __future__ import annotations

import json
import logging
import re
import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx
from asgi import run
from support import postgres as pg
from support.records_app import make, start_process
from test_records import records_in
from test_records_cli import run_cli

from gatekeeper.demo.server import serve_app
from gatekeeper.records import open_store
from gatekeeper.records.postgres import COMMAND_TIMEOUT
from gatekeeper.records.sqlite import BUSY_TIMEOUT

FORM = {"content-type": "application/x-www-form-urlencoded"}


def lost_in(url: str) -> int:
    async def read() -> int:
        store = open_store(url)
        await store.open()
        try:
            return sum(x.count for x in await store.lost())
        finally:
            await store.close()

    return run(read())


def choose(base: str, choice: str = "none", as_json: bool = False) -> tuple[int, float]:
    began = time.monotonic()
    if as_json:
        answer = httpx.post(base + "/_gatekeeper/consent", json={"choice": choice}, timeout=30)
    else:
        answer = httpx.post(base + "/_gatekeeper/consent", data={"choice": choice, "next": "/x"}, timeout=30)
    return answer.status_code, time.monotonic() - began


def test_a_locked_sqlite_file_delays_no_choice_and_the_lost_count_is_exact(tmp_path, caplog):
    url = f"sqlite:///{tmp_path}/consent.db"
    site = make(url)
    site.records.recorder.max_queue = 5
    site.records.recorder.linger = 0  # the first choice is being written alone when the lock comes
    caplog.set_level(logging.ERROR, "gatekeeper.records")
    with serve_app(site, lifespan="on") as base:
        assert pg.wait_until(lambda: site.records.recorder.idle)  # the start-up purge is done
        locker = sqlite3.connect(tmp_path / "consent.db", isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # another process holds the file: every write waits
        try:
            answers = [choose(base, "none" if i % 2 else "all", as_json=i % 3 == 0) for i in range(20)]
        finally:
            time.sleep(0.3)
            locker.execute("COMMIT")
            locker.close()
        assert [status for status, _ in answers] == [200 if i % 3 == 0 else 303 for i in range(20)]
        # a choice waiting on the database would take the whole busy timeout
        assert max(elapsed for _, elapsed in answers) < BUSY_TIMEOUT / 2
        choose(base)  # one more after the lock: it also carries the count of those lost
        recorder = site.records.recorder
        assert pg.wait_until(lambda: recorder.idle and recorder.written + recorder.lost == 21)
    stats = recorder.stats()
    # one record or none was being written when the lock came, five waited in the queue (the bound), the
    # rest did not fit: each counted, in the store too, once it answered again
    assert 14 <= stats.lost <= 15 and stats.lost_unreported == 0
    assert len(records_in(url)) == stats.written == 21 - stats.lost and lost_in(url) == stats.lost
    assert any(f"{stats.lost} lost since start" in r.getMessage() for r in caplog.records)


def test_a_hanging_then_stopped_postgresql_never_delays_a_choice(postgres, tmp_path):
    url = postgres.new_database()
    log = tmp_path / "site.log"
    proc, base = start_process(url, log)
    sent = 0
    try:
        for _ in range(3):
            assert choose(base)[0] == 303
            sent += 1
        assert pg.wait_until(lambda: len(records_in(url)) == 3)
        postgres.pause()  # the database hangs: connections open, nothing answers
        # (a choice that waited on it would wait for the store's command timeout at least)
        try:
            for i in range(8):
                status, elapsed = choose(base, "all", as_json=bool(i % 2))
                sent += 1
                assert status in (200, 303) and elapsed < COMMAND_TIMEOUT / 2
        finally:
            postgres.resume()
        postgres.stop("immediate")  # and then it is gone
        try:
            for _ in range(8):
                status, elapsed = choose(base, "none")
                sent += 1
                assert status == 303 and elapsed < COMMAND_TIMEOUT / 2
            # those sent while it was down are lost once their tries run out, and said so
            assert pg.wait_until(lambda: _lost_logged(log) >= 8, timeout=40), log.read_text()[-2000:]
        finally:
            postgres.start()
        assert choose(base)[0] == 303  # the store is back: this record and the lost count reach it
        sent += 1
    finally:
        proc.send_signal(signal.SIGINT)  # lifespan shutdown: the queue is written
        proc.wait(30)
    stored, lost = len(records_in(url)), lost_in(url)
    tail = log.read_text(errors="replace")[-3000:]
    assert stored + lost == sent, (stored, lost, sent, tail)
    assert lost == _lost_logged(log) >= 8, tail
    assert stored >= 4  # the three before, the one after


def _lost_logged(log: Path) -> int:
    found = re.findall(r"(\d+) lost since start", log.read_text(errors="replace"))
    return int(found[-1]) if found else 0


def test_two_site_processes_writing_to_one_postgresql_give_consistent_stats(postgres, tmp_path, capsys):
    url = postgres.new_database()
    sites = [start_process(url, tmp_path / f"site{i}.log") for i in range(2)]  # migrate together
    plan = ["all"] * 9 + ["none"] * 6 + ["custom"] * 5  # per process, form and JSON in turn
    try:

        def send(base: str) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                for i, choice in enumerate(plan):
                    cats = ["analytics"] if choice == "custom" else []
                    if i % 2:
                        body = {"choice": choice, "categories": cats, "next": "/p"}
                        answer = client.post("/_gatekeeper/consent", json=body)
                    else:
                        form = {"choice": choice, "category": cats, "next": "/p"}
                        answer = client.post("/_gatekeeper/consent", data=form, headers=FORM)
                    assert answer.status_code in (200, 303)

        threads = [threading.Thread(target=send, args=(base,)) for _, base in sites]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for proc, _ in sites:
            proc.send_signal(signal.SIGINT)
        for proc, _ in sites:
            proc.wait(30)
    capsys.readouterr()
    assert run_cli(["records", "--url", url, "stats", "--json"]) == 0
    total = json.loads(capsys.readouterr().out)["total"]
    n = 2 * len(plan)
    assert total["decisions"] == n == len(records_in(url))
    assert (total["accept_all"], total["reject_all"], total["custom"]) == (18, 12, 10)
    assert total["without_javascript"] == 2 * sum(1 for i in range(len(plan)) if i % 2 == 0)
    assert total["lost"] == 0
    assert total["category_opt_in"]["analytics"] == round((18 + 10) / n, 4)
    assert total["category_opt_in"]["media"] == round(18 / n, 4)
    for proc, _ in sites:
        assert proc.returncode == 0
