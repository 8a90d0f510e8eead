"""The opposition deadline of a trademark application, as the law counts it.

Trademark Law art. 33: an opposition may be filed "自公告之日起三个月内" — within three months of the
preliminary-approval announcement (初步审定公告). The Trademark Law's implementing regulations (art. 12)
count the period as the Civil Code does (arts. 201–203):

- the day of the announcement is not counted; the period starts the next day;
- a period in months ends on the day of the last month that corresponds to the start
  (the announcement's day number), or on the last day of that month when it has no such day
  (announced 2025-11-30 → 2026-02-28);
- a period whose last day is a statutory rest day (法定休假日: a weekend rest day or a
  public holiday) ends on the first working day after it. Make-up working days (调休) are working
  days.

CNIPA prints the same window in the gazette ("异议期限：2023年10月14日至2024年01月13日" for an issue
announced 2023-10-13). Public holidays come from the ``chinesecalendar`` package (the State
Council's yearly notices, 2004 onwards). For a year it has no data for, only weekends move the
deadline, and :class:`Deadline` says so (``holidays_known``): a deadline that late is checked
against that year's notice once it is published.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from matcher.dates import read_date

OPPOSITION_MONTHS = 3
REMINDER_DAYS = (30, 7)
"""Reminders go out this many days before an unhandled deadline (largest first)."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """The last day an opposition can be filed, and how it was found."""

    announced: dt.date
    period_end: dt.date
    """The end of the three months (the date the gazette prints), before any rest day moved it."""
    deadline: dt.date
    """The last day to file: ``period_end``, or the first working day after rest days."""
    holidays_known: bool
    """False when the public-holiday calendar has no data for the deadline's year (weekends only)."""

    @property
    def moved(self) -> bool:
        return self.deadline != self.period_end

    def days_left(self, today: dt.date) -> int:
        """Days from ``today`` to the deadline (0 on the day itself, negative once it passed)."""
        return (self.deadline - today).days

    def to_dict(self) -> dict[str, object]:
        return {
            "announced": self.announced.isoformat(),
            "opens": (self.announced + dt.timedelta(days=1)).isoformat(),
            "period_end": self.period_end.isoformat(),
            "deadline": self.deadline.isoformat(),
            "holidays_known": self.holidays_known,
        }


def add_months(day: dt.date, months: int) -> dt.date:
    """The corresponding day ``months`` later, or the last day of that month when it has none."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _is_rest_day(day: dt.date) -> tuple[bool, bool]:
    """(rest day?, from the official calendar?) — weekends only where the calendar has no data."""
    try:
        import chinese_calendar
    except ImportError:  # pragma: no cover - a declared dependency; weekends still hold
        return day.weekday() >= 5, False
    try:
        return not chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() >= 5, False


def opposition_deadline(announced: dt.date | str) -> Deadline:
    """The opposition deadline of an application announced on ``announced`` (a date or ISO string)."""
    day = dt.date.fromisoformat(announced) if isinstance(announced, str) else announced
    if isinstance(day, dt.datetime):
        day = day.date()
    end = add_months(day, OPPOSITION_MONTHS)
    deadline, known = end, True
    for _ in range(60):  # the longest run of rest days (Spring Festival plus weekends) is far shorter
        rest, official = _is_rest_day(deadline)
        known = known and official
        if not rest:
            break
        deadline += dt.timedelta(days=1)
    return Deadline(announced=day, period_end=end, deadline=deadline, holidays_known=known)


def parse_announced(value: object) -> dt.date | None:
    """An announcement date as sources write it (``2026-11-13``, ``2026/11/13``, ``2026年11月13日``,
    ``20261113``, a timestamp: matcher.dates), else None: a date that cannot be read, or only a
    year or month, gives no deadline rather than a wrong one."""
    day = read_date(value)
    return dt.date.fromisoformat(day) if day is not None and len(day) == 10 else None


def reminder_due(deadline: dt.date, today: dt.date, sent: set[int]) -> int | None:
    """The reminder (days before the deadline) that is due today and not yet sent, else None.

    A reminder is due once its day has come and the deadline has not passed; when a scan was missed
    the most urgent due reminder is sent, and the earlier one is not sent late as well.
    """
    left = (deadline - today).days
    if left < 0:
        return None
    due = [d for d in REMINDER_DAYS if left <= d]
    if not due:
        return None
    most_urgent = min(due)
    return None if most_urgent in sent else most_urgent


def reminders_due(deadline: dt.date, today: dt.date, sent: set[int] | frozenset[int]) -> tuple[int, ...]:
    """Every reminder (days before the deadline) whose day has come and that was not sent yet,
    most urgent first; none once the deadline has passed.

    A reminder delayed (no run that day, the mail server down) is still due later: it goes with
    the next digest, never dropped. When a run finds both due, the notify run sends them as one
    line (the more urgent) and records both as sent: the owner is told once, nothing is lost.
    """
    left = (deadline - today).days
    if left < 0:
        return ()
    return tuple(sorted(d for d in REMINDER_DAYS if left <= d and d not in sent))


def reminder_key(alert_id: str, days: int) -> str:
    """The notify ledger's key for one reminder of one alert (table ``case_updates``)."""
    return f"deadline:{alert_id}:{days}"


def today_in(timezone: str = "Asia/Shanghai") -> dt.date:
    """Today's date where the deadlines run (China by default): "days left" counts from it."""
    from zoneinfo import ZoneInfo

    try:
        return dt.datetime.now(ZoneInfo(timezone)).date()
    except (KeyError, ValueError):
        return dt.datetime.now(dt.UTC).date()


def days_left_label(deadline: dt.date | None, today: dt.date, language: str = "en") -> str:
    """ "12 days left" / "剩余 12 天", "due today" / "今天截止", "passed 3 days ago" / "已过期 3 天"; "" without one."""
    if deadline is None:
        return ""
    left = (deadline - today).days
    zh = language.startswith("zh")
    if left < 0:
        return f"已过期 {-left} 天" if zh else f"passed {-left} day{'' if left == -1 else 's'} ago"
    if left == 0:
        return "今天截止" if zh else "due today"
    return f"剩余 {left} 天" if zh else f"{left} day{'' if left == 1 else 's'} left"
