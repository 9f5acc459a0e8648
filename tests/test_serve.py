"""`gatekeeper serve DIR`: the files of a static site behind gatekeeper (index files, types, the charset
of each page's <meta>, ETag and 304, Range, 404)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from support.origin import KEY, SJIS_TEXT, site_files

from gatekeeper import Gatekeeper
from gatekeeper.registry import ConfigError
from gatekeeper.serve import static_app

SERVICES = {"services": [{"id": "youtube"}, {"id": "x"}]}


@pytest.fixture
def site(serve: Callable[..., str], tmp_path: Path) -> tuple[str, Path]:
    root = site_files(tmp_path / "site")
    return serve(Gatekeeper(static_app(root), secret_keys=KEY, services=SERVICES)), root


@pytest.mark.parametrize(
    ("path", "charset"),
    [("/", "utf-8"), ("/index.html", "utf-8"), ("/sjis.html", "shift_jis"), ("/dir/", "utf-8")],
)
def test_pages_are_declared_in_their_own_charset_and_rewritten(site, path, charset):
    base, _ = site
    r = httpx.get(base + path)
    assert r.status_code == 200
    assert r.headers["content-type"] == f"text/html; charset={charset}"
    assert b'data-gk-src="https://www.youtube.com/embed/abc"' in r.content
    assert b"<iframe src=" not in r.content


def test_shift_jis_stays_byte_identical_outside_the_embeds(site):
    base, root = site
    original = (root / "sjis.html").read_bytes()
    served = httpx.get(base + "/sjis.html").content
    for piece in (original[original.index(b"<h1>") : original.index(b"</h1>")], SJIS_TEXT.encode("cp932")):
        assert piece in served
    served.decode("cp932")


def test_files_keep_their_type_etag_range_and_304(site):
    base, root = site
    r = httpx.get(base + "/big.bin")
    assert r.status_code == 200 and r.content == (root / "big.bin").read_bytes()
    assert "last-modified" in r.headers and "etag" in r.headers
    assert httpx.get(base + "/big.bin", headers={"if-none-match": r.headers["etag"]}).status_code == 304
    part = httpx.get(base + "/big.bin", headers={"range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == r.content[10:20]
    page = httpx.get(base + "/")
    assert httpx.get(base + "/", headers={"if-none-match": page.headers["etag"]}).status_code == 304


def test_a_directory_without_its_slash_is_redirected_and_a_missing_file_is_a_404(site):
    base, _ = site
    r = httpx.get(base + "/dir")
    assert r.status_code in (301, 307) and r.headers["location"].endswith("/dir/")
    missing = httpx.get(base + "/nothere.html")
    assert missing.status_code == 404 and "Traceback" not in missing.text
    assert "<h1>This page does not exist</h1>" in missing.text
    assert "data-gk-snippet" in missing.text  # a page like any other: the banner and the settings link
    assert httpx.get(base + "/../../etc/passwd").status_code == 404
    ja = httpx.get(base + "/nothere.html", headers={"accept-language": "ja,en;q=0.5"})
    assert ja.status_code == 404 and '<html lang="ja">' in ja.text and "このページは見つかりません" in ja.text
    post = httpx.post(base + "/index.html")
    assert post.status_code == 405 and "<h1>This page cannot be used this way</h1>" in post.text


def test_the_sites_own_404_page_is_served_when_it_has_one(site):
    base, root = site
    (root / "404.html").write_text("<!doctype html><title>Not here</title><p>Our own 404</p>")
    missing = httpx.get(base + "/nothere.html")
    assert missing.status_code == 404 and "Our own 404" in missing.text


def test_a_missing_directory_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="not a directory"):
        static_app(tmp_path / "nope")
