"""The third-party internet, on 127.0.0.1: one server that answers for every mapped host and records hits.

Chromium's `--host-resolver-rules` sends mapped names here and rewrites the port for every scheme,
so this one port speaks both TLS and plain HTTP: it peeks at the first byte of each connection
(0x16 is a TLS handshake). The certificate is self-signed, made at start; contexts that talk to it
use `ignore_https_errors=True`.

Answers are small and plausible by what was asked for (`Sec-Fetch-Dest`, then the path): JavaScript,
a 1x1 GIF, HTML for frames, CSS, a font, JSON. A test can register its own answer per host and path
(`stub.route(...)`) and make any answer set cookies (`stub.set_cookie(...)`): real `Set-Cookie`
headers from a real third-party origin, so the browser's cookie policy applies as in the wild.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import socket
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

__all__ = ["GIF", "Hit", "Response", "StubServer", "self_signed_certificate"]

GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
WOFF2 = b"wOF2" + bytes(44)  # a header-shaped stand-in; browsers reject it quietly, as a bad font

_BY_DEST = {
    "script": ("application/javascript", b"/* stub */\n"),
    "image": ("image/gif", GIF),
    "iframe": ("text/html; charset=utf-8", b"<!doctype html><title>embed</title><p>third-party embed"),
    "frame": ("text/html; charset=utf-8", b"<!doctype html><title>embed</title><p>third-party embed"),
    "document": ("text/html; charset=utf-8", b"<!doctype html><title>stub</title><p>stub page"),
    "style": ("text/css", b"/* stub */ body{}\n"),
    "font": ("font/woff2", WOFF2),
    "empty": ("application/json", b"{}"),
}
_BY_SUFFIX = {
    ".js": "script", ".mjs": "script",
    ".gif": "image", ".png": "image", ".jpg": "image", ".jpeg": "image", ".webp": "image",
    ".svg": "image", ".ico": "image",
    ".css": "style", ".woff2": "font", ".woff": "font", ".ttf": "font", ".otf": "font",
    ".json": "empty", ".html": "iframe", ".htm": "iframe",
}  # fmt: skip
_SCRIPTISH = ("/js", "gtag", "gtm", "sdk", "widgets", "iframe_api", "analytics", "pixel.js", "embed.js")
_PIXELISH = ("/tr", "pixel", "collect", "/p?", "beacon", "/b/ss", "track")
_FRAMEISH = ("embed", "plugins", "frame", "widget")


def _guess_dest(path: str) -> str:
    bare = urlsplit(path).path.lower()
    for suffix, dest in _BY_SUFFIX.items():
        if bare.endswith(suffix):
            return dest
    low = path.lower()
    if any(s in low for s in _PIXELISH):
        return "image"
    if any(s in low for s in _SCRIPTISH):
        return "script"
    if any(s in low for s in _FRAMEISH):
        return "iframe"
    return "document"


def _dest(hit: Hit) -> str:
    """What the browser asked for: its `Sec-Fetch-Dest` (sent on https), else a guess from the path."""
    dest = hit.headers.get("sec-fetch-dest", "")
    if dest in _BY_DEST and dest != "empty":
        return dest
    guess = _guess_dest(hit.path)
    return "empty" if dest == "empty" and guess == "document" else guess


@dataclass(frozen=True)
class Hit:
    """One request the stub received."""

    scheme: str  # "https" or "http"
    host: str  # from the Host header, without port
    path: str  # with the query
    method: str
    headers: Mapping[str, str]  # lower-case names; repeated headers joined with ", "
    cookies: Mapping[str, str]  # the Cookie header, parsed
    time: float  # time.time()
    body: bytes = b""

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{self.path}"


@dataclass
class Response:
    status: int = 200
    body: bytes | str = b""
    content_type: str | None = None  # None: guessed from the request like the default answers
    headers: list[tuple[str, str]] = field(default_factory=list)


def self_signed_certificate(names: Iterable[str] = ("localhost", "127.0.0.1")) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) valid for two days for `names` (host names or IP addresses)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gatekeeper test stub")])
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stub: StubServer
    tls: ssl.SSLContext

    def handle_error(self, request: object, client_address: object) -> None:
        # Browsers drop keep-alive and speculative connections at any time: not a test failure.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def finish_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        # Runs in the connection's own thread: sniff TLS here so a slow handshake blocks no one.
        request.settimeout(5)
        try:
            first = request.recv(1, socket.MSG_PEEK)
        except OSError:
            return
        if first == b"\x16":
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        self.RequestHandlerClass(request, client_address, self)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 10

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = (self.headers.get("Host") or "").lower()
        if host.startswith("["):
            host = host[: host.index("]") + 1]
        else:
            host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        jar = SimpleCookie()
        with contextlib.suppress(Exception):  # a cookie the stdlib cannot parse is still a hit
            jar.load(headers.get("cookie", ""))
        hit = Hit(
            scheme="https" if isinstance(self.connection, ssl.SSLSocket) else "http",
            host=host,
            path=self.path,
            method=self.command,
            headers=headers,
            cookies={k: m.value for k, m in jar.items()},
            time=time.time(),
            body=body,
        )
        response = self.server.stub._answer(hit)
        payload = response.body.encode() if isinstance(response.body, str) else response.body
        if self.command == "HEAD":
            payload = b""
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        origin = headers.get("origin")
        if origin:  # let pages fetch() us with credentials, like real beacon endpoints do
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Access-Control-Allow-Headers", "*")
        self.send_header("Cache-Control", "no-store")
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_HEAD = do_PUT = do_OPTIONS = _serve


Handler = Callable[[Hit], Response]


class StubServer:
    """One TLS + plain-HTTP server on 127.0.0.1 for every third-party host.

    stub.route("https://platform.twitter.com/widgets.js", body="...", content_type=...)
    stub.route("/frame", body="<p>any host</p>")             # a path on every host
    stub.set_cookie("https://widget.example/frame", "w=1; SameSite=None; Secure; Max-Age=60")
    stub.hits, stub.hits_for(host="www.facebook.com"), stub.wait_for(host=..., path=...)
    stub.reset()                                              # hits, routes and cookies
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._lock = threading.Lock()
        self._hits: list[Hit] = []
        self._routes: dict[tuple[str | None, str], Response | Handler] = {}
        self._cookies: dict[tuple[str | None, str], list[str]] = {}
        self._host = host
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> StubServer:
        if self._httpd is not None:
            return self
        cert, key = self_signed_certificate(("localhost", "127.0.0.1"))
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as d:
            Path(d, "cert.pem").write_bytes(cert)
            Path(d, "key.pem").write_bytes(key)
            tls.load_cert_chain(Path(d, "cert.pem"), Path(d, "key.pem"))
        httpd = _Server((self._host, 0), _Handler)
        httpd.stub = self
        httpd.tls = tls
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """Where a host mapping should send names: `127.0.0.1:PORT`."""
        return f"{self._host}:{self.port}"

    # -- what to answer -----------------------------------------------------------------------

    @staticmethod
    def _key(where: str) -> tuple[str | None, str]:
        if where.startswith("/"):
            return None, where
        parts = urlsplit(where if "://" in where else "https://" + where)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return (parts.hostname or "").lower(), path

    def route(
        self,
        where: str,
        body: bytes | str | Handler = b"",
        *,
        status: int = 200,
        content_type: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Answer `where` ("https://host/path", "host/path" or "/path" for every host) with this.

        A path without a query also answers requests with any query. `body` may be a function
        of the `Hit` that returns a `Response`.
        """
        key = self._key(where)
        value = body if callable(body) else Response(status, body, content_type, list(headers))
        with self._lock:
            self._routes[key] = value

    def set_cookie(self, where: str, cookie: str) -> None:
        """Add `Set-Cookie: cookie` to every answer for `where` (same forms as `route`)."""
        with self._lock:
            self._cookies.setdefault(self._key(where), []).append(cookie)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self._routes.clear()
            self._cookies.clear()

    @staticmethod
    def _lookup(table: Mapping[tuple[str | None, str], T], hit: Hit) -> list[T]:
        bare = hit.path.split("?", 1)[0]
        keys = [(hit.host, hit.path), (hit.host, bare), (None, hit.path), (None, bare)]
        return [table[k] for k in dict.fromkeys(keys) if k in table]

    def _answer(self, hit: Hit) -> Response:
        with self._lock:
            self._hits.append(hit)
            routes = self._lookup(self._routes, hit)
            cookie_lists = self._lookup(self._cookies, hit)
        if hit.method == "OPTIONS":
            response = Response(204, b"", None, [("Access-Control-Allow-Methods", "GET, POST")])
        elif routes:
            found = routes[0]
            r = found(hit) if callable(found) else found
            content_type = r.content_type or _BY_DEST[_dest(hit)][0]
            response = Response(r.status, r.body, content_type, list(r.headers))
        else:
            content_type, body = _BY_DEST[_dest(hit)]
            response = Response(200, body, content_type)
        for cookies in cookie_lists:
            response.headers += [("Set-Cookie", c) for c in cookies]
        return response

    # -- what was asked -----------------------------------------------------------------------

    @property
    def hits(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def hits_for(self, host: str | None = None, path: str | None = None) -> list[Hit]:
        """Hits on `host` (exact), whose path starts with `path` (when given)."""
        return [
            h
            for h in self.hits
            if (host is None or h.host == host) and (path is None or h.path.startswith(path))
        ]

    @property
    def hosts(self) -> set[str]:
        return {h.host for h in self.hits}

    def wait_for(self, host: str | None = None, path: str | None = None, timeout: float = 5.0) -> Hit:
        """The first matching hit, waiting for it up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.hits_for(host, path)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                seen = sorted({h.url for h in self.hits})
                raise AssertionError(f"no hit on {host or '*'}{path or ''}; seen: {seen}")
            time.sleep(0.02)

    def describe(self) -> str:
        return json.dumps([h.url for h in self.hits], indent=1)
