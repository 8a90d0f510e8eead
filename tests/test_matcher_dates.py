"""Dates as sources write them read into one ISO form (matcher.dates), so that a founding date from
天眼查 (Unix milliseconds), a bureau's spreadsheet (2001年3月5日) or a registry page (2001/3/5)
gives the same prior-use note."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.dates import CHINA, read_date


def spellings(d: dt.date) -> list[object]:
    midnight = dt.datetime(d.year, d.month, d.day, tzinfo=CHINA)
    ms = int(midnight.timestamp() * 1000)
    return [
        d.isoformat(),
        f"{d.year}/{d.month}/{d.day}",
        f"{d.year}.{d.month:02d}.{d.day:02d}",
        f"{d.year}年{d.month}月{d.day}日",
        f"{d.year}年{d.month:02d}月{d.day:02d}号",
        f"{d.year}{d.month:02d}{d.day:02d}",
        int(f"{d.year}{d.month:02d}{d.day:02d}"),
        f"{d.isoformat()} 00:00:00.0",  # 天眼查's search
        f"{d.isoformat()}T00:00:00+08:00",
        (midnight - dt.timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ"),  # the same instant in UTC: the day before
        midnight,
        d,
    ] + ([ms, str(ms)] if abs(ms) > 4_102_444_800 else [])  # 天眼查's baseinfo: milliseconds, counted in
    # China's time (within 47 days of 1970-01-01 a number of milliseconds is also a plausible number of seconds)


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_every_spelling_of_a_day_reads_as_that_day(d: dt.date) -> None:
    got = {repr(s): read_date(s) for s in spellings(d)}
    assert set(got.values()) == {d.isoformat()}, got


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("2001", "2001"),
        (2001, "2001"),
        ("2001年", "2001"),
        ("2001-03", "2001-03"),
        ("2001年3月", "2001-03"),
        ("200103", "2001-03"),
        (983721600, "2001-03-05"),  # Unix seconds
        (-315648000000, "1960-01-01"),  # before 1970, in milliseconds
    ],
)
def test_a_year_or_month_alone_stays_at_that_precision(value: object, want: str) -> None:
    assert read_date(value) == want


@pytest.mark.parametrize(
    "value",
    [None, "", "  ", "0", 0, True, "abc", "2001-02-30", "2001-13", "2001-03-05abc", "0999", "9999-01-01",
     2001.5, float("nan"), float("inf"), ["2001"], {"date": "2001"}, "12345", "2001年13月"],
)  # fmt: skip
def test_what_is_not_a_date_reads_as_none(value: object) -> None:
    assert read_date(value) is None
