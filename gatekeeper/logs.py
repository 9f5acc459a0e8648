"""Logging once per reason: a drop or a block repeats on every request, the operator needs it once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable

__all__ = ["log_once", "logged"]

_MAX_KEYS = 4096  # keys come from app output and page content: bounded, so memory is too
_seen: set[Hashable] = set()
_lock = threading.Lock()


def log_once(logger: logging.Logger, key: Hashable, level: int, msg: str, *args: object) -> bool:
    """Log `msg` the first time `key` is seen in this process; True when it was logged."""
    with _lock:
        if key in _seen:
            return False
        if len(_seen) >= _MAX_KEYS:
            _seen.clear()  # start over rather than grow: a repeat now and then is harmless
        _seen.add(key)
    logger.log(level, msg, *args)
    return True


def logged(key: Hashable) -> bool:
    """Whether `key` was logged already (its next `log_once` would write nothing)."""
    with _lock:
        return key in _seen
