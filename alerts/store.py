"""The AlertStore interface that both backends (SQLite, Elasticsearch) implement.

Stable interface:

- ``upsert(alerts) -> UpsertResult(new, updated, unchanged, queued, new_ids)``: idempotent by
  alert id (see ``alerts.model.merge_seen``).
- ``get(id) -> Alert`` (raises ``AlertNotFound``), ``get_many(ids) -> list[Alert]``.
- ``search(AlertQuery) -> Page``; ``counts(AlertQuery | None) -> Counts`` (by mark, status, day);
  ``facets(AlertQuery, size) -> {facet: [(value, count)]}`` (mark, kind, source, region, authority,
  status, likelihood band; ``alerts.facets``), the same on both stores.
- ``review(ids, status, note, who, now=None) -> list[Alert]``: all ids or none (unknown id raises).
- ``export(AlertQuery) -> Iterator[Alert]``: every match in query order, no paging.
- For notifications: ``pending_notifications(marks, min_score=0.0, statuses=NOTIFY_STATUSES)``
  yields alerts never notified; ``mark_notified(ids, at)`` records ``notified_at``.
- ``ids_with_prefix(prefix, limit)`` for short ids; ``close()``. Stores are also context managers.
- ``migrate_entities(apply=True) -> MigrationReport``: one alert per (mark, entity) from alerts
  stored per source (merging duplicates, keeping every review event), and the calibrated
  probability stored on alerts made before it was kept; a second run changes nothing.
- Exceptions (``alerts.exceptions``): ``exception_add``, ``exception_list``, ``exception_revoke``.

Text search matches each whitespace-separated term as a phrase in the subject's name or title
or the seller, or as a part of the credit code (letters upper-cased), the registering authority or
the legal representative; Han characters are single tokens in both backends, so "九阳" finds
"上海九阳电器" (like a substring), and terms are ANDed. Days of ``counts`` are days of
``first_seen`` in ``AlertQuery.time_zone`` (UTC unless the caller says).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from alerts.errors import AlertNotFound, AlertsError
from alerts.errors import StoreUnavailable as StoreUnavailable  # re-exported: stores and the web app import it here
from alerts.model import STATUSES, Alert, Status

if TYPE_CHECKING:
    from alerts.exceptions import MarkException
    from alerts.sessions import AuditEvent, AuditQuery, SessionRecord

SortKey = Literal[
    "-probability",
    "probability",
    "-score",
    "score",
    "-last_seen",
    "last_seen",
    "-first_seen",
    "first_seen",
    "mark",
    "-times_seen",
    "deadline",
]
# The analysts' order: most likely worth a look first; ties by score, then the longest waiting
# (first seen), then id. Both stores sort alerts without a stored probability (made before it was
# kept, until `markwatch alerts migrate`) after those with one, whichever the direction.
DEFAULT_SORT: SortKey = "-probability"
NOTIFY_STATUSES: tuple[str, ...] = ("new", "confirmed", "escalated")
MAX_PAGE = 100_000  # pages beyond this are refused (400); export walks everything instead


def check_status(status: str) -> None:
    """A review status every store accepts, or an AlertsError naming the valid ones."""
    if status not in STATUSES:
        raise AlertsError(f"unknown status {status!r} (one of {', '.join(STATUSES)})")


def not_found(missing: list[str]) -> AlertNotFound:
    """One error for a review naming ids that are not stored: the first, and how many more."""
    more = f" (+{len(missing) - 1} more)" if len(missing) > 1 else ""
    return AlertNotFound(f"no alert with id {missing[0]!r}{more}")


class ReviewConflict(AlertsError):
    """Other analysts kept changing these alerts while a review was saved; nothing was lost."""


class AlertQuery(BaseModel):
    """Filters, full text, sort and page: what an analyst can ask for."""

    model_config = ConfigDict(extra="forbid")

    marks: list[str] = Field(default_factory=list)
    owners: list[str] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)
    kinds: list[Literal["enterprise", "listing", "shop", "brand", "trademark"]] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    ids: list[str] = Field(default_factory=list)
    # Facets and relations (``alerts.facets``): the credit code's division, the registering
    # authority, the likelihood band, one entity, and the values related entities share.
    regions: list[str] = Field(default_factory=list)
    authorities: list[str] = Field(default_factory=list)
    bands: list[Literal["high", "medium", "low"]] = Field(default_factory=list)
    usccs: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    shops: list[str] = Field(default_factory=list)
    legal_reps: list[str] = Field(default_factory=list)
    addresses: list[str] = Field(default_factory=list)
    contacts: list[str] = Field(default_factory=list)
    min_score: float | None = Field(default=None, ge=0.0, le=1.0)
    max_score: float | None = Field(default=None, ge=0.0, le=1.0)
    min_probability: float | None = Field(default=None, ge=0.0, le=1.0)
    date_field: Literal["first_seen", "last_seen"] = "last_seen"
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive (``build_query`` makes a plain end day inclusive)
    time_zone: str = "UTC"  # whose days ``counts().by_day`` counts (an IANA name)
    notified: bool | None = None  # False: notified_at is empty
    # A trademark alert's opposition deadline within these days (inclusive); alerts without one never match.
    deadline_from: date | None = None
    deadline_to: date | None = None
    text: str | None = Field(default=None, max_length=500)
    sort: SortKey = DEFAULT_SORT
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    size: int = Field(default=50, ge=1, le=1000)


@dataclass
class Page:
    items: list[Alert]
    total: int
    page: int
    size: int


@dataclass
class Counts:
    by_mark: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    by_day: dict[str, int] = field(default_factory=dict)  # "YYYY-MM-DD" (UTC) of first_seen


@dataclass
class MigrationReport:
    """What ``migrate_entities`` found and did: alerts before and after, groups merged."""

    alerts_before: int = 0
    alerts_after: int = 0
    merged_groups: int = 0  # (mark, entity) pairs that had more than one alert
    rewritten: int = 0  # alerts written: merged, only re-keyed, or only given their probability
    deleted: int = 0  # old per-source ids removed
    backfilled: int = 0  # alerts stored without a calibrated probability, given the one of their score
    applied: bool = False


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    queued: int = 0  # waiting in the outbox (Elasticsearch unreachable)
    replayed: int = 0  # taken from the outbox and written (their outcome is in the counts above)
    failed: int = 0  # rejected by the store (see errors); the run goes on
    new_ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class AlertStore(abc.ABC):
    @abc.abstractmethod
    def upsert(self, alerts: Iterable[Alert]) -> UpsertResult: ...

    @abc.abstractmethod
    def get_many(self, ids: Iterable[str]) -> list[Alert]:
        """The alerts that exist, in the order asked; missing ids are left out."""

    def get(self, id: str) -> Alert:
        found = self.get_many([id])
        if not found:
            raise AlertNotFound(f"no alert with id {id!r}")
        return found[0]

    @abc.abstractmethod
    def search(self, query: AlertQuery) -> Page: ...

    @abc.abstractmethod
    def counts(self, query: AlertQuery | None = None) -> Counts: ...

    @abc.abstractmethod
    def export(self, query: AlertQuery) -> Iterator[Alert]: ...

    @abc.abstractmethod
    def facets(self, query: AlertQuery, size: int = 20) -> dict[str, list[tuple[str, int]]]:
        """Per facet (``alerts.facets.FACETS``) the values of the matching alerts with their counts,
        most frequent first (ties by value), at most ``size`` each; empty values left out."""

    @abc.abstractmethod
    def _save_reviewed(self, old: list[Alert], new: list[Alert]) -> None: ...

    def migrate_entities(self, apply: bool = True) -> MigrationReport:
        """Re-key every alert by (mark, entity) and merge the duplicates (see ``merge_alerts``), and
        store the calibrated probability of alerts made before it was kept (derived from the score).

        Safe to run twice: an alert already under its entity id with its sightings and its
        probability is left alone.
        Reads everything first, then writes the merged alerts before deleting the old ids, so an
        interrupted run loses nothing (the next run merges what is left).
        """
        from alerts.model import alert_id, entity_of, merge_alerts, with_probability

        groups: dict[str, list[Alert]] = {}
        entities: dict[str, str] = {}
        before = 0
        for a in self.export(AlertQuery(sort="first_seen")):
            before += 1
            entity = entity_of(a)
            new_id = alert_id(entity, a.mark)
            groups.setdefault(new_id, []).append(a)
            entities[new_id] = entity
        report = MigrationReport(alerts_before=before, alerts_after=len(groups), applied=apply)
        write: list[Alert] = []
        delete: list[str] = []
        for new_id, group in groups.items():
            report.backfilled += sum(a.probability_derived for a in group)
            if len(group) > 1:
                report.merged_groups += 1
            elif group[0].id == new_id and group[0].entity and group[0].sightings:
                if group[0].probability_derived:  # only the probability is missing: store the one read
                    write.append(with_probability(group[0]))
                continue
            write.append(merge_alerts(group, id=new_id, entity=entities[new_id]))
            delete.extend(a.id for a in group if a.id != new_id)
        report.rewritten, report.deleted = len(write), len(delete)
        if apply and (write or delete):
            self._replace(write, delete)
        return report

    def _replace(self, alerts: list[Alert], delete_ids: list[str]) -> None:
        """Write these alerts as they are (no merge) and then delete these ids (the migration)."""
        raise NotImplementedError(f"{type(self).__name__} cannot migrate")

    # -- exceptions ("never flag this word for this mark again", alerts.exceptions) -----------
    def exception_add(self, exc: MarkException) -> MarkException:
        """Store a new exception (its id is fresh); returns it."""
        raise NotImplementedError(f"{type(self).__name__} keeps no exceptions")

    def exception_list(self, active_only: bool = False) -> list[MarkException]:
        """Every exception, newest first (``active_only``: not revoked)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no exceptions")

    def exception_revoke(self, id: str, who: str, why: str = "", now: datetime | None = None) -> MarkException:
        """Revoke one exception (raises AlertNotFound for an unknown id; revoking twice keeps the first)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no exceptions")

    @abc.abstractmethod
    def mark_notified(self, ids: Iterable[str], at: datetime) -> int:
        """Record notified_at on these alerts; returns how many were found."""

    def review(
        self, ids: Iterable[str], status: str, note: str = "", who: str = "analyst", now: datetime | None = None
    ) -> list[Alert]:
        from alerts.model import reviewed, utc

        check_status(status)
        wanted = list(dict.fromkeys(ids))
        found = self.get_many(wanted)
        missing = sorted(set(wanted) - {a.id for a in found})
        if missing:
            raise not_found(missing)
        when = utc(now or datetime.now().astimezone())
        new = [reviewed(a, status, note, who, when) for a in found]
        self._save_reviewed(found, new)
        return new

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> list[str]:
        """Ids starting with ``prefix`` (for short ids typed by analysts), at most ``limit``."""
        return [a.id for a in self.export(AlertQuery(sort="-score")) if a.id.startswith(prefix)][:limit]

    def pending_notifications(
        self,
        marks: Iterable[str] | None = None,
        min_score: float = 0.0,
        statuses: Iterable[str] = NOTIFY_STATUSES,
    ) -> Iterator[Alert]:
        """Alerts of these marks never notified yet, best score first."""
        q = AlertQuery(
            marks=list(marks or []),
            statuses=cast(list[Status], list(statuses)),  # AlertQuery validates them
            min_score=min_score,
            notified=False,
            sort="-score",
        )
        return self.export(q)

    # -- review-site sessions and audit log (alerts.sessions) ------------------------------
    def _security(self) -> Any:
        """The sessions/audit backend over this store's database (``alerts.sessions``)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no sessions")

    def session_save(self, rec: SessionRecord, new: bool = False) -> None:
        """Create (``new``: searchable at once) or update a session."""
        self._security().session_save(rec, new)

    def session_get(self, key: str) -> SessionRecord | None:
        return self._security().session_get(key)

    def session_delete(self, key: str) -> None:
        self._security().session_delete(key)

    def session_delete_user(self, user: str) -> int:
        """End every session of ``user`` ("sign out everywhere"); returns how many."""
        return self._security().session_delete_user(user)

    def session_purge(self, seen_before: float) -> int:
        """Forget sessions idle since before ``seen_before`` (Unix seconds)."""
        return self._security().session_purge(seen_before)

    def audit_add(self, event: AuditEvent) -> None:
        self._security().audit_add(event)

    def audit_search(self, query: AuditQuery) -> list[AuditEvent]:
        """Newest first."""
        return self._security().audit_search(query)

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> AlertStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
