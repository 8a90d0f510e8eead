"""Where digests get their alerts: the alerts store, read through its public interface."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol, cast

from alerts.model import Alert, Status
from alerts.notify.model import DigestItem
from alerts.store import NOTIFY_STATUSES, AlertQuery, AlertStore

log = logging.getLogger(__name__)

# Only for alerts stored before Alert.url existed.
_URL_KEYS = ("url", "link", "source_url", "detail_url", "page_url")


class AlertSource(Protocol):
    def candidates(self, mark: str, min_score: float, statuses: Iterable[str]) -> list[DigestItem]: ...

    def mark_notified(self, ids: Iterable[str], at: datetime) -> None: ...


class DeadlineSource(Protocol):
    """A source that also knows the open trademark deadlines (the reminders, alerts.notify.reminders)."""

    def deadlines(self, marks: Iterable[str], since: date, until: date) -> list[DigestItem]: ...


def item_from_alert(alert: Alert) -> DigestItem:
    """The owner-facing view of a stored alert (raw text; rendering escapes it)."""
    url = alert.url
    if url is None:
        # Alerts stored before the crawler kept the page URL on the alert: guess it from the item.
        url = next((v for k in _URL_KEYS if isinstance(v := alert.item.get(k), str) and v), None)
    # One alert per entity: the digest lists it once, with every source that saw it.
    where = ", ".join(alert.sources) or alert.source
    if alert.subject.kind == "listing" and alert.subject.seller:
        where = f"{where}, seller {alert.subject.seller}"
    reasons = tuple(r.en or r.zh or r.code for r in alert.reasons)
    uscc, authority = "", ""
    if alert.subject.kind == "enterprise":
        from alerts.cases.authority import authority_for, uscc_valid

        ent = alert.entity or ""
        code = str(ent[5:] if ent.startswith("uscc:") else (alert.item or {}).get("uscc") or "").strip().upper()
        if uscc_valid(code):
            uscc = code
            auth = authority_for(code)
            authority = auth.name if auth.known else ""
    sub = alert.subject
    tm = sub.kind == "trademark"
    return DigestItem(
        number=str(sub.number or "") if tm else "",
        classes=tuple(sub.classes) if tm else (),
        applicant=str(sub.applicant or "") if tm else "",
        announcement=str((alert.item or {}).get("announcement") or "") if tm else "",
        announced=sub.announced if tm else None,
        deadline=alert.deadline if tm else None,
        alert_id=alert.id,
        mark=alert.mark,
        name=alert.subject.text,
        score=alert.score,
        kind=alert.subject.kind,
        source=where,
        url=url,
        reasons=reasons,
        first_seen=alert.first_seen,
        status=alert.status,
        reasons_zh=tuple(r.zh or r.en or r.code for r in alert.reasons),
        probability=alert.chance,
        uscc=uscc,
        authority=authority,
        source_kind=alert.source,
    )


class StoreSource:
    """Reads candidates from an AlertStore and records `notified_at` on first delivery."""

    def __init__(self, store: AlertStore) -> None:
        self.store = store
        self._first_time: set[str] = set()

    def candidates(self, mark: str, min_score: float, statuses: Iterable[str]) -> list[DigestItem]:
        statuses_ = cast(list[Status], sorted(set(statuses)))  # AlertQuery validates them
        q = AlertQuery(marks=[mark], statuses=statuses_, min_score=min_score, sort="-probability")
        out = []
        for alert in self.store.export(q):
            try:
                out.append(item_from_alert(alert))
            except Exception:  # one odd document must not stop every owner's digest
                log.exception("alert %s cannot be shown in a digest; skipped", alert.id)
                continue
            if alert.notified_at is None:
                self._first_time.add(alert.id)
        return out

    def deadlines(self, marks: Iterable[str], since: date, until: date) -> list[DigestItem]:
        """Open trademark alerts of these marks whose opposition deadline falls in since..until and that
        no filed, resolved or closed case handles: what the reminders are about."""
        from alerts.notify.reminders import HANDLED_CASE_STATES

        q = AlertQuery(
            marks=sorted(set(marks)),
            kinds=["trademark"],
            statuses=cast(list[Status], list(NOTIFY_STATUSES)),
            deadline_from=since,
            deadline_to=until,
            sort="deadline",
        )
        alerts = list(self.store.export(q))
        if not alerts:
            return []
        handled: set[str] = set()
        try:
            from alerts.cases.store import open_case_store

            for case in open_case_store(self.store).list(states=HANDLED_CASE_STATES):
                handled.update(case.alert_ids)
        except Exception:  # a reminder too many beats a deadline missed
            log.warning("could not read the cases: every open deadline counts as unhandled", exc_info=True)
        out = []
        for alert in alerts:
            if alert.id in handled:
                continue
            try:
                out.append(item_from_alert(alert))
            except Exception:
                log.exception("alert %s cannot be shown in a reminder; skipped", alert.id)
        return out

    def mark_notified(self, ids: Iterable[str], at: datetime) -> None:
        """Set notified_at the first time anyone is told; the ledger stays the record per address."""
        first = [i for i in ids if i in self._first_time]
        if first:
            self.store.mark_notified(first, at)
            self._first_time.difference_update(first)
