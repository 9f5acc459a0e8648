"""`gatekeeper proxy` streams: a 1 GB download (made on the fly by the upstream, never on disk) passes
through the proxy process with its resident memory growing by less than 50 MB."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from support.origin import start_gatekeeper, start_origin

GB = 1024**3


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def download(url: str, path: str) -> int:
    """GET with a raw socket, counting the body's bytes without keeping them."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        buf = bytearray(1 << 20)
        head = b""
        while b"\r\n\r\n" not in head:
            n = s.recv_into(buf)
            assert n, "closed before the headers"
            head += bytes(buf[:n])
        header, _, first = head.partition(b"\r\n\r\n")
        assert header.startswith(b"HTTP/1.1 200"), header
        total = len(first)
        while True:
            n = s.recv_into(buf)
            if not n:
                return total
            total += n


@pytest.mark.slow
def test_a_1gb_download_streams_with_flat_memory() -> None:
    with (
        start_origin() as origin,
        start_gatekeeper("proxy", "--upstream", origin, "--no-access-log") as (base, proc),
    ):
        download(base, "/huge?bytes=1048576")  # warm: the pool, the first request's allocations
        before = rss_bytes(proc.pid)
        peak = before
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_bytes(proc.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            got = download(base, f"/huge?bytes={GB}")
        finally:
            done.set()
            sampler.join()
    assert got == GB
    assert peak - before < 50 * 1024 * 1024, f"resident memory grew by {(peak - before) / 2**20:.1f} MB"
