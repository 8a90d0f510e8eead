"""Opposition deadlines: three months from the announcement, by the rules of 商标法实施条例 art. 12."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts.deadlines import add_months, opposition_deadline, parse_announced, reminder_due

D = dt.date


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (D(2026, 1, 15), 3, D(2026, 4, 15)),
        (D(2025, 11, 30), 3, D(2026, 2, 28)),  # no 30 February: the month's last day
        (D(2023, 11, 30), 3, D(2024, 2, 29)),  # leap year
        (D(2023, 11, 29), 3, D(2024, 2, 29)),
        (D(2024, 11, 29), 3, D(2025, 2, 28)),
        (D(2026, 10, 31), 3, D(2027, 1, 31)),  # across the year
        (D(2026, 3, 31), 3, D(2026, 6, 30)),
        (D(2026, 12, 31), 14, D(2028, 2, 29)),
    ],
)
def test_add_months_corresponding_day_or_last_day(start: dt.date, months: int, end: dt.date) -> None:
    assert add_months(start, months) == end


def test_gazette_window_and_a_weekend_end() -> None:
    # CNIPA prints 异议期限 2023-10-14 … 2024-01-13 for an issue announced 2023-10-13; 13 January 2024
    # was a Saturday, so the last day to file is Monday 15 January.
    d = opposition_deadline("2023-10-13")
    assert d.to_dict()["opens"] == "2023-10-14"
    assert d.period_end == D(2024, 1, 13)
    assert d.deadline == D(2024, 1, 15)
    assert d.moved and d.holidays_known


def test_public_holiday_moves_to_first_working_day() -> None:
    # 2025-07-01 + 3 months = 2025-10-01, National Day: the holiday ran to 10-08 (a make-up working
    # day was Saturday 2025-10-11, not relevant here).
    d = opposition_deadline(D(2025, 7, 1))
    assert d.period_end == D(2025, 10, 1)
    assert d.deadline == D(2025, 10, 9)


def test_make_up_working_day_counts_as_working_day() -> None:
    # Sunday 2025-09-28 was a make-up working day (调休) before National Day 2025.
    d = opposition_deadline(D(2025, 6, 28))
    assert d.period_end == D(2025, 9, 28)
    assert d.deadline == D(2025, 9, 28)
    assert not d.moved


def test_ordinary_working_day_is_not_moved() -> None:
    d = opposition_deadline(D(2026, 2, 10))
    assert d.deadline == D(2026, 5, 11) or d.deadline == d.period_end  # 2026-05-10 is a Sunday
    assert d.period_end == D(2026, 5, 10)
    assert d.deadline == D(2026, 5, 11)


def test_year_without_holiday_data_says_so() -> None:
    d = opposition_deadline(D(2031, 3, 4))  # beyond any published calendar
    assert not d.holidays_known
    assert d.deadline.weekday() < 5


def test_days_left() -> None:
    d = opposition_deadline(D(2026, 1, 15))
    assert d.days_left(d.deadline) == 0
    assert d.days_left(d.deadline + dt.timedelta(days=1)) == -1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-13", D(2026, 11, 13)),
        ("2026/11/13", D(2026, 11, 13)),
        ("2026年11月13日", D(2026, 11, 13)),
        ("20261113", D(2026, 11, 13)),
        ("2026-11-13T00:00:00+08:00", D(2026, 11, 13)),
        ("2026-02-30", None),
        ("soon", None),
        (None, None),
        (20261113, D(2026, 11, 13)),  # a number, as some providers give it: the same day as the string
        (1794499200000, D(2026, 11, 13)),  # Unix milliseconds, midnight in China
        ("2026-11", None),  # a month alone gives no deadline
        ("2026", None),
    ],
)
def test_parse_announced(value: object, expected: dt.date | None) -> None:
    assert parse_announced(value) == expected


def test_reminders_once_each_and_most_urgent_when_late() -> None:
    deadline = D(2026, 6, 30)
    assert reminder_due(deadline, D(2026, 5, 30), set()) is None  # 31 days left
    assert reminder_due(deadline, D(2026, 5, 31), set()) == 30
    assert reminder_due(deadline, D(2026, 6, 1), {30}) is None
    assert reminder_due(deadline, D(2026, 6, 23), {30}) == 7
    assert reminder_due(deadline, D(2026, 6, 24), {30, 7}) is None
    assert reminder_due(deadline, D(2026, 6, 25), set()) == 7  # scans missed: only the urgent one
    assert reminder_due(deadline, D(2026, 7, 1), set()) is None  # passed


def test_match_reports_opposition_deadline_on_flagged_trademark_lines() -> None:
    from markwatch.cli.match import result_of
    from matcher import Matcher
    from matcher.marksfile import load_marks

    m = Matcher(load_marks("markwatch/demo/marks.yaml"))
    line = '{"kind": "trademark", "text": "壹正", "classes": [5], "announced": "2026-11-06"}'.encode()
    out = result_of(m, line)
    assert out["flagged"]
    assert out["opposition_deadline"]["deadline"] == "2027-02-08"  # 2027-02-06 is a Saturday
    plain = result_of(m, '{"kind": "enterprise", "text": "湖北一正医药有限公司"}'.encode())
    assert "opposition_deadline" not in plain
