"""Dates as enterprise-data APIs, registries and bureaus' lists write them, read into ISO form.

A founding date (成立日期) decides the prior-use note, so every source's spelling must read the
same: ``2001-03-05``, ``2001/3/5``, ``2001.03.05``, ``2001年3月5日``, ``20010305``, a timestamp
(``2001-03-05 00:00:00.0``, ``2001-03-04T16:00:00Z``) or a Unix time in milliseconds or seconds,
as 天眼查's ``estiblishTime`` is. Registers count days in China's time (UTC+8), so a time with a
zone, and a Unix time, are read there. A year or a month alone (``2001``, ``2001年3月``) is kept at
that precision, never padded. Anything else reads as None: a wrong date would be worse than none.
"""

from __future__ import annotations

import datetime as dt
import re

CHINA = dt.timezone(dt.timedelta(hours=8))
_YEARS = range(1000, 3000)
_YMD = re.compile(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?")
_ZH = re.compile(r"(\d{4})\s*年(?:\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*[日号])?)?")
_MS = 4_102_444_800  # 2100-01-01 in Unix seconds: a Unix time larger than this (in size) is in
# milliseconds (any day but the 47 each side of 1970-01-01), else in seconds
_NINE_DIGITS = 10**8  # a number of nine digits or more is a Unix time: no other spelling has that many


def _iso(year: int, month: int | None = None, day: int | None = None) -> str | None:
    if year not in _YEARS:
        return None
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _unix(n: int) -> str | None:
    seconds = n / 1000 if abs(n) >= _MS else n
    try:
        return dt.datetime.fromtimestamp(seconds, CHINA).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def _digits(text: str) -> str | None:
    if len(text) == 4:
        return _iso(int(text))
    if len(text) == 6:  # 200103: a month
        return _iso(int(text[:4]), int(text[4:]))
    if len(text) == 8:  # 20010305
        return _iso(int(text[:4]), int(text[4:6]), int(text[6:]))
    n = int(text)
    return _unix(n) if n >= _NINE_DIGITS else None


def read_date(value: object) -> str | None:
    """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` for a date as sources write it, else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return (value.astimezone(CHINA) if value.tzinfo else value).date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        n = int(value)
        if n != value:
            return None
        if n == 0:  # "no date" in many APIs, not 1970
            return None
        return _digits(str(n)) if n > 0 else _unix(n)
    if not isinstance(value, str):
        return None
    text = value.strip()[:64]
    if not text:
        return None
    if text.isascii() and (text.isdigit() or (text[0] == "-" and text[1:].isdigit())):
        n = int(text)
        if n == 0:
            return None
        return _digits(text) if n > 0 else _unix(n)
    if (m := _ZH.fullmatch(text)) is not None:
        return _iso(*(int(g) if g else None for g in m.groups()))  # type: ignore[arg-type]
    if "T" in text or "Z" in text or "+" in text[10:]:
        try:
            stamp = dt.datetime.fromisoformat(text)
        except ValueError:
            stamp = None
        if stamp is not None:
            return read_date(stamp)
    m = _YMD.match(text)
    if m is None or (m.end() < len(text) and text[m.end()] not in " T"):
        return None
    return _iso(*(int(g) if g else None for g in m.groups()))  # type: ignore[arg-type]
