"""The README's "Running in production", run as written: nginx terminates TLS (a certificate made at test
time) in front of `gatekeeper proxy --workers 2 --forwarded-allow-ips 127.0.0.1 --log-format json`, in
front of a static site. In Chromium the consent cookie is `__Host-` and `Secure`, nothing leaves before
consent, the embeds load after; the health check answers through nginx; every log line is JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import self_signed_certificate
from support.origin import free_port, nginx, run_nginx, site_files, start_gatekeeper

README = Path(__file__).resolve().parents[2] / "README.md"
ACCEPT = ".gk button[value=all]"


def readme_nginx() -> str:
    blocks = re.findall(r"```nginx\n(.*?)```", README.read_text("utf-8"), re.S)
    assert len(blocks) == 1, "README.md: one nginx example under 'Running in production'"
    return blocks[0]


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    base = tmp_path_factory.mktemp("production")
    cert, key = self_signed_certificate(("127.0.0.1", "localhost"))
    (base / "site.crt").write_bytes(cert)
    (base / "site.key").write_bytes(key)
    with nginx(site_files(base / "site"), base / "upstream") as upstream, start_gatekeeper(
        "proxy", "--upstream", upstream, "--workers", "2", "--forwarded-allow-ips", "127.0.0.1",
        "--log-format", "json",
    ) as (gatekeeper, proc):  # fmt: skip
        port = free_port()
        conf = readme_nginx()
        for old, new in (
            ("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
            ("/etc/ssl/www.example.jp.crt", str(base / "site.crt")),
            ("/etc/ssl/www.example.jp.key", str(base / "site.key")),
            ("http://127.0.0.1:8000", gatekeeper),
        ):
            assert old in conf
            conf = conf.replace(old, new)
        with run_nginx(base / "front", conf, port):
            yield f"https://127.0.0.1:{port}", proc


def test_behind_tls_termination_the_consent_cookie_is_host_prefixed_and_secure(front, stub, browser_context):
    url, _ = front
    context = browser_context()
    page = context.new_page()
    page.goto(url + "/", wait_until="load")
    page.wait_for_timeout(300)
    assert stub.hits == []
    page.click(ACCEPT)
    stub.wait_for("www.youtube.com", "/embed/abc")
    cookies = {c["name"]: c for c in context.cookies()}
    assert "__Host-gk_consent" in cookies and "gk_consent" not in cookies
    consent = cookies["__Host-gk_consent"]
    assert consent["secure"] and consent["httpOnly"] and consent["path"] == "/" and "domain" in consent
    stub.reset()
    context.new_page().goto(url + "/sjis.html", wait_until="load")
    stub.wait_for("www.youtube.com", "/embed/abc")


def test_health_through_the_front_proxy_and_json_logs(front):
    url, proc = front
    r = httpx.get(url + "/_gatekeeper/health", verify=False)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    proc.send_signal(2)  # stop it to read its whole log (the module's last test)
    _, err = proc.communicate(timeout=15)
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert lines and all(json.loads(line)["level"] for line in lines)
    access = [json.loads(line)["message"] for line in lines if '"uvicorn.access"' in line]
    assert any("/_gatekeeper/health" in m for m in access)
