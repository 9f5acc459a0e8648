"""Any ASGI app on uvicorn, on 127.0.0.1 and a free port, in a background thread (the same runner the
`gatekeeper demo --scan` command uses)."""

from gatekeeper.demo.server import AppServer, serve_app

__all__ = ["AppServer", "serve_app"]
