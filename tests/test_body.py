"""process_html(): charsets round-trip byte for byte, compressed bodies, failures give the body back,
the cache."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from gatekeeper import body as body_module
from gatekeeper.body import process_html
from gatekeeper.registry import load_registry
from gatekeeper.rewrite import PageContext

REGISTRY = load_registry()
YT = "https://www.youtube.com/embed/abc"


def ctx(cache_key: object = None, **kw: object) -> PageContext:
    return PageContext(
        REGISTRY,
        frozenset(),
        "https://city.example.jp/",
        snippets=lambda lang: ("<script data-gk-snippet></script>", "<p data-gk-snippet>同意 ①</p>"),
        cache_key=cache_key,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def page(text: str, charset_meta: str | None = None) -> str:
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    return (
        f"<!doctype html><html><head>{meta}<title>{text}</title></head>"
        f'<body><p>{text}</p><iframe src="{YT}"></iframe></body></html>'
    )


def without_inserts(out: bytes, inserts: list[bytes]) -> bytes:
    for i in inserts:
        out = out.replace(i, b"")
    return out


JAPANESE = "髙橋さんと﨑村さん ① ㈱ Ⅲ ～"


@pytest.mark.parametrize(
    ("codec", "content_type", "meta"),
    [
        ("cp932", "text/html; charset=Shift_JIS", None),
        ("cp932", "text/html; charset=shift_jis", None),
        ("cp932", "text/html; charset=windows-31j", None),
        ("cp932", "text/html", "Shift_JIS"),
        ("cp932", "text/html", "x-sjis"),
        ("euc_jp", "text/html; charset=EUC-JP", None),
        ("euc_jp", "text/html", "euc-jp"),
        ("utf-8", "text/html; charset=utf-8", None),
        ("utf-8", "text/html", "utf-8"),
        ("utf-8", "text/html", None),
        ("utf-8", None, None),
    ],
)
def test_charsets_round_trip(codec: str, content_type: str | None, meta: str | None) -> None:
    text = JAPANESE if codec != "euc_jp" else "髙橋さんと﨑村さん"
    if codec == "euc_jp":
        text = "日本語のページ 東京都"
    raw = page(text, meta).encode(codec)
    out = process_html(raw, content_type, None, ctx())
    assert out.reason is None and out.changed
    decoded = out.body.decode(codec)
    assert text in decoded and 'data-gk-src="' + YT in decoded
    # the insertions aside, the bytes are the app's
    rest = (
        out.body.replace("<script data-gk-snippet></script>".encode(codec), b"")
        .replace("<p data-gk-snippet>同意 ①</p>".encode(codec, "xmlcharrefreplace"), b"")
        .replace(b' data-gk="youtube" hidden', b"")
        .replace(b"data-gk-", b"")
    )
    assert rest == raw


def test_shift_jis_duplicate_mappings_survive() -> None:
    # NEC-selected IBM extensions (0xED40) and IBM extensions (0xFA5C) decode to the same character;
    # encoding the text again would pick one. The bytes must stay as sent.
    raw = b"<!doctype html><html><head></head><body><p>\xed\x40\xfa\x5c</p></body></html>"
    assert raw.decode("cp932").encode("cp932") != raw
    out = process_html(raw, "text/html; charset=Shift_JIS", None, ctx())
    assert out.changed and b"<p>\xed\x40\xfa\x5c</p>" in out.body


def test_inserted_text_the_charset_cannot_hold() -> None:
    raw = page("x").encode("latin-1")
    out = process_html(raw, "text/html; charset=iso-8859-1", None, ctx())
    assert b"&#21516;&#24847; &#9312;" in out.body  # "同意 ①" as character references


def test_bom() -> None:
    raw = b"\xef\xbb\xbf" + page("ü").encode("utf-8")
    out = process_html(raw, "text/html; charset=Shift_JIS", None, ctx())  # the BOM wins
    assert out.changed and out.body.startswith(b"\xef\xbb\xbf<!doctype html>")
    raw16 = b"\xff\xfe" + page("ü").encode("utf-16-le")
    out16 = process_html(raw16, "text/html", None, ctx())
    assert out16.changed and out16.body[2:].decode("utf-16-le").count("data-gk-src") == 1


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "deflate-raw", "br"])
def test_compressed(encoding: str) -> None:
    raw = page("x").encode()
    if encoding in ("gzip", "x-gzip"):
        data = gzip.compress(raw)
    elif encoding == "deflate":
        data = zlib.compress(raw)
    elif encoding == "deflate-raw":
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        data = c.compress(raw) + c.flush()
        encoding = "deflate"
    else:
        data = brotli.compress(raw)
    out = process_html(data, "text/html", encoding, ctx())
    assert out.changed and out.reason is None
    if encoding in ("gzip", "x-gzip"):
        plain = gzip.decompress(out.body)
    elif encoding == "deflate":
        plain = zlib.decompress(out.body, -15 if data[0] & 0x0F != 8 else 15)
    else:
        plain = brotli.decompress(out.body)
    assert b"data-gk-src" in plain


@pytest.mark.parametrize(
    ("data", "ctype", "encoding", "reason"),
    [
        (gzip.compress(page("x").encode())[:-12], "text/html", "gzip", "truncated"),
        (b"not gzip at all", "text/html", "gzip", "corrupt"),
        (page("x").encode() + b"\xff\xfe\xfa", "text/html; charset=utf-8", None, "not valid utf-8"),
        (
            page("x").encode("utf-8").replace(b"x", b"\x82\xa0\x82"),
            "text/html; charset=euc-jp",
            None,
            "euc_jp",
        ),
        (page("x").encode(), "text/html", "compress", "not rewritten"),
        (page("x").encode(), "text/html; charset=iso-2022-jp", None, "not supported"),
    ],
)
def test_failures_leave_the_body_unchanged(
    data: bytes, ctype: str, encoding: str | None, reason: str
) -> None:
    out = process_html(data, ctype, encoding, ctx())
    assert out.body is data and not out.changed
    assert out.reason is not None and reason in out.reason


def test_nothing_to_do() -> None:
    raw = b"<!doctype html><p>x</p><div data-gk-snippet></div>"
    out = process_html(raw, "text/html", None, ctx())
    assert out.body is raw and not out.changed and out.reason is None


def test_rewrite_bug_leaves_the_body_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(html: str, c: PageContext) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(body_module, "plan", broken)
    raw = page("x").encode()
    out = process_html(raw, "text/html", None, ctx())
    assert out.body is raw and out.reason == "rewrite failed: RuntimeError: boom"


def test_cache_hit_and_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = body_module._Cache(entries=3, size=10_000)
    monkeypatch.setattr(body_module, "_cache", cache)
    calls = []
    real = body_module.plan

    def counting(html: str, c: PageContext):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(html, c)

    monkeypatch.setattr(body_module, "plan", counting)
    raw = page("x").encode()
    first = process_html(raw, "text/html", None, ctx(cache_key="k"))
    again = process_html(bytes(bytearray(raw)), "text/html", None, ctx(cache_key="k"))
    assert again is first and len(calls) == 1
    other = process_html(raw, "text/html", None, ctx(cache_key="other consent"))
    assert other is not first and len(calls) == 2
    process_html(raw, "text/html", None, ctx())  # no key: no caching
    assert len(calls) == 3 and len(cache.items) == 2
    for i in range(5):
        process_html(page(str(i)).encode(), "text/html", None, ctx(cache_key="k"))
    assert len(cache.items) == 3  # bounded in entries
    big = page("y" * 3000).encode()
    process_html(big, "text/html", None, ctx(cache_key="k"))  # over a quarter of the byte budget
    assert all(k[0] != big for k in cache.items)
    assert cache.bytes <= 10_000


@pytest.mark.parametrize(
    ("head", "codec"),
    [
        (b'<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">', "cp932"),
        (b"<meta http-equiv=content-type content='text/html;charset=euc-jp'>", "euc_jp"),
        (b"<meta charset=sjis>", "cp932"),
        (b'<!-- <meta charset="euc-jp"> --><meta charset="shift_jis">', "cp932"),
        (b'<meta charset="utf-16">', "utf-8"),  # the prescan reads UTF-16 as UTF-8
        (b'<meta charset="no-such-charset">', "utf-8"),
    ],
)
def test_meta_prescan(head: bytes, codec: str) -> None:
    text = "東京都 髙" if codec != "euc_jp" else "東京都 高"
    raw = b"<!doctype html><html><head>" + head + b"</head><body><p>" + text.encode(codec) + b"</p>"
    raw += f'<iframe src="{YT}"></iframe></body></html>'.encode()
    out = process_html(raw, "text/html", None, ctx())
    assert out.changed, out.reason
    assert text in out.body.decode(codec)


def test_content_type_wins_over_meta() -> None:
    raw = b'<meta charset="utf-8"><p>' + "髙".encode("cp932") + f'</p><iframe src="{YT}"></iframe>'.encode()
    out = process_html(raw, 'text/html; charset="Shift_JIS"', None, ctx())
    assert out.changed and "髙" in out.body.decode("cp932")


def test_each_reason_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    bad = b"\xff\xfe\xfd not utf-8 <p>"
    with caplog.at_level("INFO", logger="gatekeeper.body"):
        for _ in range(3):
            process_html(bad + b"x", "text/html; charset=utf-8", None, ctx())
    assert len([r for r in caplog.records if "not valid utf-8" in r.getMessage()]) <= 1


def test_cache_is_safe_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    cache = body_module._Cache(entries=8, size=1_000_000)
    monkeypatch.setattr(body_module, "_cache", cache)
    pages = [page(str(i)).encode() for i in range(20)]
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for i in range(200):
                raw = pages[(seed + i) % len(pages)]
                out = process_html(raw, "text/html", None, ctx(cache_key=("k", (seed + i) % 3)))
                assert out.changed and b"data-gk-src" in out.body
        except BaseException as e:  # collected for the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(cache.items) <= 8 and cache.bytes == sum(n for _, n in cache.items.values())


def test_decompression_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(body_module, "MAX_DECODED_BYTES", 10_000)
    data = gzip.compress(b"<p>" + b"x" * 100_000)
    out = process_html(data, "text/html", "gzip", ctx())
    assert out.body is data and out.reason is not None and "limit" in out.reason


def test_report_mode_lets_undeclared_through_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    from gatekeeper.registry import Registry

    report = PageContext(Registry(REGISTRY.services, strict=False), frozenset(), "https://city.example.jp/")
    raw = b'<img src="https://cdn.report-mode.example/x.png"><iframe src="' + YT.encode() + b'"></iframe>'
    with caplog.at_level("INFO", logger="gatekeeper.body"):
        out = process_html(raw, "text/html", None, report)
    assert b'src="https://cdn.report-mode.example/x.png"' in out.body  # let through
    assert b'data-gk-src="' + YT.encode() in out.body  # a declared service still waits for consent
    assert [r.url for r in out.reported] == ["https://cdn.report-mode.example/x.png"]
    assert any("cdn.report-mode.example" in r.getMessage() for r in caplog.records)
