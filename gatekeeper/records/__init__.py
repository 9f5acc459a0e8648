"""Consent records: proof of every choice without personal data (see README, "Consent records").

model (what a record is) -> texts (what was shown) -> store, sqlite, postgres (where it is kept) ->
queue (off the request path) -> receipt, hook (the visitor's side) -> stats, report, cli (the
operator's side).
"""

from .hook import ConsentRecords
from .model import Control, Record, build_record, control_of, format_receipt, normalize_receipt, receipt_code
from .queue import Recorder, RecorderStats
from .store import MIGRATIONS, RETENTION_DAYS, SCHEMA_VERSION, Lost, Store, open_store
from .texts import TextSet, TextsShown, visible_text

__all__ = [
    "MIGRATIONS",
    "RETENTION_DAYS",
    "SCHEMA_VERSION",
    "ConsentRecords",
    "Control",
    "Lost",
    "Record",
    "Recorder",
    "RecorderStats",
    "Store",
    "TextSet",
    "TextsShown",
    "build_record",
    "control_of",
    "format_receipt",
    "normalize_receipt",
    "open_store",
    "receipt_code",
    "visible_text",
]
