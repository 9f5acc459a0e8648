"""Concurrency: many requests at once, each with its own consent, never see each other's page.

On a real uvicorn with a thread pool of clients: pages small enough to be rewritten on the event loop
and large enough (> 256 KiB) to be rewritten in a worker thread, the same bytes again and again (the
rewrite, snippet and CSP caches are hit) and bytes that differ per request. Each answer is checked
against its own consent: the embed is live exactly when granted, the CSP names YouTube exactly then,
the banner's granted list is the request's, and the page carries the request's own token.
"""

from __future__ import annotations

import concurrent.futures
import json
import re

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import HTMLResponse

from gatekeeper.middleware import Gatekeeper

KEY = "concurrency-secret-key-0123456789"
SERVICES = {"services": [{"id": "youtube"}, {"id": "google-analytics"}]}
EMBED = '<iframe src="https://www.youtube.com/embed/x"></iframe>'
GTAG = '<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
FILLER = "<p>" + "lorem ipsum " * 30 + "</p>"


async def app(scope, receive, send):
    request = Request(scope)
    token = request.query_params.get("t", "")
    big = request.query_params.get("big") == "1"
    body = FILLER * (700 if big else 3)  # about 270 KiB: rewritten in a worker thread
    unique = f"<p id=token>{token}</p>" if request.query_params.get("u") == "1" else ""
    html = f"<!doctype html><html><head>{GTAG}</head><body>{unique}{EMBED}{body}</body></html>"
    await HTMLResponse(html)(scope, receive, send)


STATES = {
    "none": None,
    "all": {"choice": "all"},
    "media": {"choice": "custom", "categories": ["media"]},
    "analytics": {"choice": "custom", "categories": ["analytics"]},
}
EXPECT = {"none": set(), "all": {"youtube", "google-analytics"}, "media": {"youtube"},
          "analytics": {"google-analytics"}}  # fmt: skip


@pytest.fixture(scope="module")
def site():
    from support import serve_app

    with serve_app(Gatekeeper(app, secret_keys=KEY, services=SERVICES)) as base:
        cookies = {}
        with httpx.Client(base_url=base, timeout=10) as client:
            for name, choice in STATES.items():
                if choice is not None:
                    r = client.post("/_gatekeeper/consent", json=choice)
                    cookies[name] = r.headers["set-cookie"].split(";", 1)[0]
        yield base, cookies


def fetch(base, cookies, i):
    name = list(STATES)[i % len(STATES)]
    big = i % 3 == 0
    unique = i % 2 == 0
    headers = {"cookie": cookies[name]} if name in cookies else {}
    url = f"{base}/?t=tok{i}&big={int(big)}&u={int(unique)}"
    r = httpx.get(url, headers=headers, timeout=20)
    return name, i, unique, r


def test_interleaved_requests_with_different_consents_never_mix(site):
    base, cookies = site
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda i: fetch(base, cookies, i), range(240)))
    for name, i, unique, r in results:
        assert r.status_code == 200, (name, i)
        text = r.text
        granted = EXPECT[name]
        assert ('<iframe src="https://www.youtube.com' in text) is ("youtube" in granted), (name, i)
        assert ('<script async src="https://www.googletagmanager.com' in text) is (
            "google-analytics" in granted
        )
        csp = r.headers["content-security-policy"]
        assert ("youtube.com" in csp) is ("youtube" in granted), (name, i)
        assert ("googletagmanager.com" in csp) is ("google-analytics" in granted), (name, i)
        loader = re.search(r'data-gk-granted="([^"]*)"', text)
        assert loader is not None and set(loader.group(1).split()) == granted, (name, i)
        if unique:
            assert f"<p id=token>tok{i}</p>" in text
        assert len(re.findall(r"data-gk-snippet", text)) >= 2 and text.count("</html>") == 1


def test_consent_posts_and_reads_interleaved(site):
    base, _ = site

    def choose(i):
        with httpx.Client(base_url=base, timeout=10) as client:
            choice = {"choice": "custom", "categories": ["media"]} if i % 2 else {"choice": "none"}
            r = client.post("/_gatekeeper/consent", json=choice)
            cookie = r.headers["set-cookie"].split(";", 1)[0]
            state = client.get("/_gatekeeper/consent", headers={"cookie": cookie}).json()
            return i, json.dumps(state["services"], sort_keys=True)

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        for i, services in pool.map(choose, range(120)):
            expected = {"youtube": bool(i % 2), "google-analytics": False}
            assert services == json.dumps(expected, sort_keys=True), i
