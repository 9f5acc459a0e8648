"""The visitor's receipt in Chromium: click "Reject all", open the settings, see "your choice of DATE"
and the receipt code, download it as JSON; with and without JavaScript. The code downloaded finds the
record the site stored, and a site that keeps no records shows no receipt (the control)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.postgres import wait_until
from support.records_app import make
from test_records import records_in

from gatekeeper.records import normalize_receipt


@pytest.mark.parametrize("javascript", [True, False])
def test_reject_all_then_the_receipt_in_the_settings(serve, stub, browser_context, tmp_path, javascript):
    url = f"sqlite:///{tmp_path}/consent.db"
    base = serve(make(url), lifespan="on")
    page = browser_context(javascript=javascript).new_page()
    page.goto(base + "/article?ref=1")
    banner = page.locator("[data-gk-banner]")
    assert banner.is_visible()
    assert page.locator("[data-gk-receipt]").count() == 0  # no choice yet, no receipt
    if javascript:
        with page.expect_response(lambda r: r.url.split("?")[0].endswith("/_gatekeeper/consent")):
            banner.locator("button[value=none]").click()
    else:
        with page.expect_navigation():
            banner.locator("button[value=none]").click()
    page.wait_for_function("!document.querySelector('[data-gk-box]').open")
    page.locator(".gk-reopen").click()  # "Privacy settings": the settings panel again
    receipt = page.locator("[data-gk-receipt]")
    receipt.wait_for(state="visible")
    text = receipt.inner_text()
    assert re.search(r"Your choice of \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", text), text
    code = receipt.get_attribute("data-gk-receipt")
    assert code and re.fullmatch(r"([A-Z2-7]{4}-){3}[A-Z2-7]{4}", code) and code in text
    with page.expect_download() as download:
        receipt.locator("a").click()
    saved = Path(download.value.path())
    assert download.value.suggested_filename == f"consent-receipt-{code}.json"
    data = json.loads(saved.read_text())
    assert data["receipt"] == code
    assert not any(data["categories"].values()) and not any(data["services"].values())
    # the code the visitor holds finds the record the site keeps
    assert wait_until(lambda: any(r.receipt == normalize_receipt(code) for r in records_in(url)))
    (record,) = [r for r in records_in(url) if r.receipt == normalize_receipt(code)]
    assert (record.choice, record.javascript, record.path) == ("none", javascript, "/article")
    assert record.at == data["at"]


def test_no_records_no_receipt(serve, stub, page):
    from support.records_app import KEY, SERVICES, site

    from gatekeeper import Gatekeeper

    base = serve(Gatekeeper(site, secret_keys=KEY, services=SERVICES), lifespan="on")
    page.goto(base + "/")
    with page.expect_response(lambda r: r.url.split("?")[0].endswith("/_gatekeeper/consent")):
        page.locator("[data-gk-banner] button[value=none]").click()
    page.wait_for_function("!document.querySelector('[data-gk-box]').open")
    page.locator(".gk-reopen").click()
    page.locator("[data-gk-banner] button[value=custom]").wait_for(state="visible")
    assert page.locator("[data-gk-receipt]").count() == 0
    assert page.request.get(base + "/_gatekeeper/receipt").status == 404
