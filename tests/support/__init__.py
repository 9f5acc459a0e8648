"""Test infrastructure shared by the browser tests, the scanner tests and bench/: the third-party stub
and a uvicorn runner. Import as `from support import ...` (pytest puts tests/ on sys.path)."""

from .server import AppServer, serve_app
from .stub import GIF, Hit, Response, StubServer, self_signed_certificate

__all__ = ["GIF", "AppServer", "Hit", "Response", "StubServer", "self_signed_certificate", "serve_app"]
