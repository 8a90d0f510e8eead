"""Case updates for the digest: cases resolved, and deadlines passed without change.

Issue 14: a brand owner's digest lists, once each, the cases on their marks that were resolved
and the cases whose deadline passed while still waiting, since the last digest to that address.
"Once" is kept in the notify ledger (table ``case_updates``) by the same protocol as alerts, so
a re-sent digest after an SMTP failure neither loses nor repeats an update.

A new address does not get the whole history. Alerts reach a new address while they are still
open (the recipient's statuses); case updates follow the same rule: an overdue case is still
open and is listed, but a resolution is news only when it is recent, so a new address hears of
cases resolved from `NEW_ADDRESS_WINDOW` before the ledger first saw it (the first notify run or
scan after the address was added to the marks file), not of every case resolved before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from alerts.notify.sanitize import display_text

if TYPE_CHECKING:
    from alerts.cases.model import Case
    from alerts.cases.store import CaseStore
    from alerts.notify.model import Recipient


@dataclass(frozen=True, slots=True)
class CaseUpdate:
    """One thing to tell a brand owner about a case. Text fields are raw (hostile) until rendered.

    ``key`` names the update, not the case: a case resolved, reopened and resolved again, or given
    a new deadline that passes too, is a new update.
    """

    key: str
    case_id: str
    kind: str  # resolved, overdue, missed (an opposition not filed by its deadline)
    marks: tuple[str, ...]
    entity: str
    at: datetime | None = None  # when it was resolved
    resolution: str = ""
    deadline: date | None = None
    state: str = ""
    after_name: str = ""  # a renamed enterprise's new name, as the follow-up found it


class CaseUpdateSource(Protocol):
    def updates(self, today: date) -> list[CaseUpdate]: ...


def updates_of(case: Case, today: date) -> list[CaseUpdate]:
    """The update a case stands for today: resolved (its last resolve event), or overdue, or none."""
    marks = tuple(case.marks)
    if case.state == "resolved":
        ev = next((e for e in reversed(case.events) if e.action == "resolve"), None)
        at = ev.at if ev is not None else case.updated_at
        return [
            CaseUpdate(
                f"resolved:{case.id}:{at.isoformat()}",
                case.id,
                "resolved",
                marks,
                case.entity.name,
                at=at,
                resolution=case.resolution,
                state=case.state,
                after_name=str((ev.data.get("after_name") or "") if ev is not None else ""),
            )
        ]
    if case.opposition_missed(today) and case.opposition_deadline is not None:
        # An opposition never filed by its last day: said once, the owner can still ask for invalidation.
        return [
            CaseUpdate(
                f"missed:{case.id}:{case.opposition_deadline.isoformat()}",
                case.id,
                "missed",
                marks,
                case.entity.name,
                deadline=case.opposition_deadline,
                state=case.state,
            )
        ]
    if case.overdue(today) and case.deadline is not None:
        return [
            CaseUpdate(
                f"overdue:{case.id}:{case.deadline.isoformat()}",
                case.id,
                "overdue",
                marks,
                case.entity.name,
                deadline=case.deadline,
                state=case.state,
            )
        ]
    return []


class StoreCaseUpdates:
    """Case updates read from the case store next to the alerts."""

    def __init__(self, cases: CaseStore) -> None:
        self.cases = cases

    def updates(self, today: date) -> list[CaseUpdate]:
        out: list[CaseUpdate] = []
        for case in self.cases.list(states=("resolved", "filed", "awaiting", "open")):
            out.extend(updates_of(case, today))
        return sorted(out, key=lambda u: (u.kind, u.case_id))


# How far before an address was first seen its case resolutions still count as news.
NEW_ADDRESS_WINDOW = timedelta(days=7)


def for_recipient(
    recipient: Recipient, updates: Sequence[CaseUpdate], done: set[str], since: datetime | None = None
) -> list[CaseUpdate]:
    """The updates on this recipient's marks not yet sent to (or held for) the address.

    *since*: when the address was first seen; resolutions older than that by more than
    `NEW_ADDRESS_WINDOW` are history, not news, for it.
    """
    marks = set(recipient.marks)
    start = _utc(since) - NEW_ADDRESS_WINDOW if since is not None else None
    return [
        u
        for u in updates
        if u.key not in done
        and marks.intersection(u.marks)
        and not (start is not None and u.kind == "resolved" and u.at is not None and _utc(u.at) < start)
    ]


def _utc(ts: datetime) -> datetime:
    """Aware UTC (a naive time is taken as UTC), so that times from any store compare."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _fmt(ts: datetime | None) -> str:
    if ts is None:
        return ""
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


RESOLUTIONS_ZH = {
    "renamed": "已更名",
    "deregistered": "已注销",
    "revoked": "已吊销",
    "listing_removed": "商品已下架",
    "refused": "被异议商标不予注册",
    "withdrawn": "被异议商标申请已撤回",
    "registered": "被异议商标已核准注册（可请求宣告无效）",
    "other": "其他",
}
RESOLUTIONS_EN = {
    "renamed": "renamed",
    "deregistered": "deregistered",
    "revoked": "licence revoked",
    "listing_removed": "listing removed",
    "refused": "the opposed application was refused",
    "withdrawn": "the opposed application was withdrawn",
    "registered": "the opposed mark was registered (invalidation is the next route)",
    "other": "other",
}


def case_link(base_url: str, case_id: str) -> str:
    from urllib.parse import quote

    return f"{base_url.rstrip('/')}/cases/{quote(case_id, safe='')}"


def view(updates: Sequence[CaseUpdate], base_url: str, language: str) -> dict[str, list[dict]]:
    """Template context for the "案件进展 / case updates" block; all text sanitised here."""
    table = RESOLUTIONS_ZH if language == "zh" else RESOLUTIONS_EN
    resolved: list[dict] = []
    overdue: list[dict] = []
    missed: list[dict] = []
    for u in updates:
        row = {
            "id": display_text(u.case_id, 40),
            "entity": display_text(u.entity, 200) or "(no name)",
            "marks": "、".join(display_text(m, 64) for m in u.marks),
            "url": case_link(base_url, u.case_id),
            "at": _fmt(u.at),
            "resolution": table.get(u.resolution, display_text(u.resolution, 80)),
            "deadline": u.deadline.isoformat() if u.deadline else "",
            "state": display_text(u.state, 20),
            "after_name": display_text(u.after_name, 200),
        }
        {"resolved": resolved, "missed": missed}.get(u.kind, overdue).append(row)
    return {"resolved": resolved, "overdue": overdue, "missed": missed}


def subject(updates: Sequence[CaseUpdate], language: str) -> str:
    """The subject of a digest that carries only case updates."""
    from alerts.notify.sanitize import header_text

    n = len(updates)
    if language == "zh":
        return header_text(f"[markwatch] {n} 项案件进展", 200)
    return header_text(f"[markwatch] {n} case update{'' if n == 1 else 's'}", 200)
