"""Start-up of a deployment (`gatekeeper proxy`, `gatekeeper serve`): secret keys from the environment
or a file (never the command line, which every user of the machine can read in `ps`), logs a person can
read (one line per problem) or JSON, and uvicorn with N worker processes, each building the same site:

    FrontDoor (forwarded headers, health) -> Gatekeeper -> ReverseProxy | static files
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from starlette.types import ASGIApp

from .frontdoor import FrontDoor
from .registry import ConfigError

__all__ = [
    "KEYS_ENV",
    "JsonFormatter",
    "Site",
    "TextFormatter",
    "app_from_environment",
    "load_secret_keys",
    "run",
]

KEYS_ENV = "GATEKEEPER_SECRET_KEYS"
_SITE_ENV = "GATEKEEPER_SITE"  # the Site, as JSON, for each worker process (no keys in it)
_MAKE_KEY = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


@dataclass(frozen=True)
class Site:
    """What one `gatekeeper proxy|serve` command serves; everything but the keys, which each worker
    reads from where the operator put them."""

    kind: Literal["proxy", "serve"]
    target: str  # the upstream URL, or the directory
    gatekeeper: dict[str, Any] = field(default_factory=dict)  # Gatekeeper(...) keyword arguments
    options: dict[str, Any] = field(default_factory=dict)  # proxy_app(...) / static_app(...) ones
    forwarded_allow_ips: str = ""
    secret_keys_file: str | None = None
    log_format: Literal["text", "json"] = "text"


def load_secret_keys(path: str | os.PathLike[str] | None = None) -> list[str]:
    """Keys, oldest first (the newest signs, all verify): from `path`, one per line ('#' starts a
    comment), else from $GATEKEEPER_SECRET_KEYS, separated by spaces or newlines."""
    if path is not None:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as e:
            raise ConfigError(f"--secret-keys-file {path}: {e.strerror or e}") from e
        keys = [line.split("#", 1)[0].strip() for line in text.splitlines()]
        where = f"the file {path}"
    else:
        keys = os.environ.get(KEYS_ENV, "").split()
        where = f"${KEYS_ENV}"
    keys = [k for k in keys if k]
    if not keys:
        raise ConfigError(
            f"no secret key in {where}: set {KEYS_ENV} (or --secret-keys-file FILE, one key per line) "
            f"to a long random value, e.g. from: {_MAKE_KEY}"
        )
    short = [i for i, k in enumerate(keys, 1) if len(k) < 16]
    if short:
        raise ConfigError(f"secret key {short[0]} in {where} is shorter than 16 characters: {_MAKE_KEY}")
    return keys


def build_app(site: Site) -> ASGIApp:
    options = {**site.gatekeeper, "secret_keys": load_secret_keys(site.secret_keys_file)}
    app: ASGIApp
    if site.kind == "proxy":
        from .proxy import proxy_app

        app = proxy_app(site.target, **site.options, **options)
    else:
        from .middleware import Gatekeeper
        from .serve import static_app

        app = Gatekeeper(static_app(site.target, **site.options), **options)
    prefix = str(site.gatekeeper.get("prefix", "/_gatekeeper/"))
    return FrontDoor(app, trusted=site.forwarded_allow_ips, health_path=prefix + "health")


def app_from_environment() -> ASGIApp:
    """The factory each uvicorn worker calls (`gatekeeper.deploy:app_from_environment`)."""
    raw = os.environ.get(_SITE_ENV)
    if not raw:
        raise ConfigError(
            f"${_SITE_ENV} is not set: start the site with `gatekeeper proxy` or `gatekeeper serve`"
        )
    return build_app(Site(**json.loads(raw)))


# -- logs -----------------------------------------------------------------------------------------


def _exception_line(record: logging.LogRecord) -> str:
    if not record.exc_info or record.exc_info[1] is None:
        return ""
    error = record.exc_info[1]
    where = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    at = f" at {Path(where[0].filename).name}:{where[0].lineno}" if where else ""
    return f"{type(error).__name__}: {error}{at}"


class TextFormatter(logging.Formatter):
    """One line per record, a traceback folded into its last frame: `grep` finds a problem in one line."""

    def format(self, record: logging.LogRecord) -> str:
        when = self.formatTime(record, "%Y-%m-%d %H:%M:%S")
        line = f"{when} {record.levelname} {record.name}: {record.getMessage().strip()}"
        exc = _exception_line(record)
        return (f"{line} ({exc})" if exc else line).replace("\n", " | ")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the exception, in one string)."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage().strip(),
        }
        exc = _exception_line(record)
        if exc:
            out["exception"] = exc
        return json.dumps(out, ensure_ascii=False)


def log_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    formatter = (
        "gatekeeper.deploy.JsonFormatter" if log_format == "json" else "gatekeeper.deploy.TextFormatter"
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": formatter}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            name: {"handlers": ["stderr"], "level": level, "propagate": False}
            for name in ("gatekeeper", "uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def run(
    site: Site,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    access_log: bool = True,
    log_level: str = "info",
) -> None:
    """Serve `site` until stopped. The site is built once here first, so a mistake (no key, a bad
    services file, a missing directory) stops start-up with one line, before any worker starts."""
    import uvicorn

    build_app(site)
    os.environ[_SITE_ENV] = json.dumps(dataclasses.asdict(site))
    uvicorn.run(
        "gatekeeper.deploy:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config(site.log_format, log_level.upper()),
        log_level=log_level,
        access_log=access_log,
        proxy_headers=False,  # the FrontDoor decides, from --forwarded-allow-ips
        server_header=False,
        date_header=site.kind != "proxy",  # the upstream's Date passes through
        ws="websockets-sansio",
        lifespan="on",
    )
