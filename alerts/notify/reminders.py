"""Opposition-deadline reminders: 30 and 7 days before an unhandled trademark deadline, once each.

A trademark alert's opposition deadline (``alerts.deadlines``) is the brand owner's last day to
oppose the application. Each reminder (``alerts.deadlines.REMINDER_DAYS``) goes once to each
address that follows the mark, inside that address's digest (a digest with nothing else is sent
for it). "Once" is kept in the notify ledger under the key ``deadline:<alert_id>:<days>``
(table ``case_updates``), by the same protocol as alerts and case updates: recorded as sending
before the SMTP transaction, as sent after it, released to pending when the server refused the
message, re-sent byte for byte after an interrupted run. So a reminder that could not go on its
day (no run, the mail server down) goes with the next run that can send it, and never twice.

"Unhandled": the alert is still open (``new``, ``confirmed`` or ``escalated``: not dismissed or
resolved) and no case on it has been filed, resolved or closed (an opposition filed, or the
analysts decided not to oppose). An alert whose deadline has passed gets no reminder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from alerts.deadlines import REMINDER_DAYS, reminder_key, reminders_due
from alerts.notify.model import DigestItem, Recipient

HORIZON = max(REMINDER_DAYS)
HANDLED_CASE_STATES = ("filed", "awaiting", "resolved", "closed")


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder line: the alert, the most urgent reminder due, and every ledger key it settles."""

    item: DigestItem
    days: int  # the reminder (30 or 7 days before)
    days_left: int
    keys: tuple[str, ...]


def for_recipient(recipient: Recipient, items: Sequence[DigestItem], done: set[str], today: date) -> list[Reminder]:
    """The reminders due for this address today (its own date), nearest deadline first.

    *items*: the open trademark alerts with a deadline within the horizon; *done*: the ledger's
    keys already sent to (or held for) the address.
    """
    marks = set(recipient.marks)
    out: list[Reminder] = []
    seen: set[str] = set()
    for it in items:
        if it.deadline is None or it.mark not in marks or it.alert_id in seen:
            continue
        if it.score < recipient.min_score.get(it.mark, 0.0):
            continue
        sent = {d for d in REMINDER_DAYS if reminder_key(it.alert_id, d) in done}
        due = reminders_due(it.deadline, today, sent)
        if not due:
            continue
        seen.add(it.alert_id)
        keys = tuple(reminder_key(it.alert_id, d) for d in due)
        out.append(Reminder(it, min(due), (it.deadline - today).days, keys))
    return sorted(out, key=lambda r: (r.days_left, r.item.mark, r.item.alert_id))
