"""Response start, cookie gate: a Set-Cookie's `Expires` read as browsers read it (RFC 6265bis 5.1.1).

Python's e-mail date parser reads `Thu, 01 Jan 69 00:00:00 GMT` as 1969 (a deletion); Chromium reads
it as 2069 and keeps the cookie for its 400 days. The cookie algorithm: tokens split at delimiters,
the first time, day, month and year found, two-digit years 70-99 in the 1900s and 00-69 in the
2000s, and anything out of range makes the attribute void (a session cookie).
"""

from __future__ import annotations

import calendar
import re
from typing import Final

__all__ = ["parse_cookie_date"]

# delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E
_TOKEN: Final = re.compile(r"[^\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
_TIME: Final = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D.*)?", re.S)
_DAY: Final = re.compile(r"(\d{1,2})(?:\D.*)?", re.S)
_YEAR: Final = re.compile(r"(\d{2,4})(?:\D.*)?", re.S)
_MONTHS: Final = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def parse_cookie_date(text: str) -> float | None:
    """Seconds since the epoch (UTC) that `text` names as a cookie date, or None when it names none."""
    time_: tuple[int, int, int] | None = None
    day = month = year = None
    for token in _TOKEN.findall(text):
        if time_ is None and (m := _TIME.fullmatch(token)):
            time_ = (int(m[1]), int(m[2]), int(m[3]))
        elif day is None and (m := _DAY.fullmatch(token)):
            day = int(m[1])
        elif month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS.index(token[:3].lower()) + 1
        elif year is None and (m := _YEAR.fullmatch(token)):
            year = int(m[1])
    if time_ is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = time_
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    if day > calendar.monthrange(year, month)[1]:
        return None  # 31 Feb: no such date
    return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))
