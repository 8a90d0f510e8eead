"""What analysts and the follow-up do to cases: every change appends an event with who and when.

Each function reads the case, checks the transition table, appends the event and saves with the
optimistic guard of the store. Library code: raises ``CaseError`` subclasses, never exits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from alerts.cases.authority import authority_for
from alerts.cases.errors import CaseError
from alerts.cases.model import (
    ACTIVE_STATES,
    Case,
    CaseEvent,
    Filing,
    LinkOutcome,
    alert_url,
    entity_of,
    new_case_id,
    transition,
)
from alerts.cases.store import CaseStore
from alerts.model import utc

OPENABLE = ("confirmed", "escalated")
MAX_NOTE = 4000
DEFAULT_DEADLINE_DAYS = 30


def _now(now: datetime | None) -> datetime:
    return utc(now or datetime.now(UTC))


def _text(value: str, limit: int = MAX_NOTE) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise CaseError(f"text longer than {limit} characters")
    return value


def _apply(
    store: CaseStore,
    case_id: str,
    action: str,
    who: str,
    now: datetime | None,
    note: str = "",
    data: dict[str, Any] | None = None,
    **changes: Any,
) -> Case:
    case = store.get(case_id)
    to_state = transition(case, action)
    when = _now(now)
    if when <= case.updated_at:  # events stay in order even with a clock step back
        when = case.updated_at + timedelta(microseconds=1)
    event = CaseEvent.model_validate(
        {
            "at": when,
            "who": who,
            "action": action,
            "from_state": case.state,
            "to_state": to_state,
            "note": _text(note),
            "data": data or {},
        }
    )
    new = case.model_copy(update={**changes, "state": to_state, "events": [*case.events, event], "updated_at": when})
    return store.save(Case.model_validate(new.model_dump()), case.updated_at)


def open_case(
    alert_store: Any,
    store: CaseStore,
    alert_ids: Iterable[str],
    *,
    note: str = "",
    who: str = "analyst",
    now: datetime | None = None,
    grounds: Iterable[str] = (),
) -> Case:
    """A new case for confirmed alerts against one entity of one brand owner.

    Against a trademark application the case is an opposition: it keeps the application's
    opposition deadline, and *grounds* (provision ids, ``alerts.cases.opposition.EXTRA_GROUNDS``)
    that the analyst knows of beyond those drafted from the data (an agent's filing, art. 15).
    """
    from alerts.cases.opposition import check_grounds

    chosen = check_grounds(grounds)  # a mistyped ground is refused before anything else
    wanted = list(dict.fromkeys(a.strip() for a in alert_ids if a.strip()))
    if not wanted:
        raise CaseError("name at least one alert")
    resolved = []
    for a in wanted:
        if len(a) < 32:
            ids = alert_store.ids_with_prefix(a, limit=2)
            if len(ids) != 1:
                raise CaseError(f"alert id {a!r} is {'ambiguous' if ids else 'unknown'}")
            a = ids[0]
        resolved.append(a)
    alerts = alert_store.get_many(resolved)
    missing = sorted(set(resolved) - {a.id for a in alerts})
    if missing:
        raise CaseError(f"no alert with id {missing[0]!r}")
    bad = [a for a in alerts if a.status not in OPENABLE]
    if bad:
        raise CaseError(f"alert {bad[0].id[:12]} is {bad[0].status}: confirm it first (cases group confirmed alerts)")
    entities = {entity_of(a).key for a in alerts}
    if len(entities) > 1:
        raise CaseError(f"these alerts are against {len(entities)} different entities; a case has one")
    owners = {a.owner for a in alerts}
    if len(owners) > 1:
        raise CaseError("these alerts belong to different brand owners; a case has one")
    entity = entity_of(alerts[0])
    for other in store.list(states=ACTIVE_STATES, entity_key=entity.key):
        if other.owner == alerts[0].owner:
            raise CaseError(
                f"case {other.id} is already open against this entity ({other.state}): "
                f"add the alerts to it (markwatch cases add {other.id} ALERT_ID…)"
            )
    when = _now(now)
    authority = authority_for(entity.uscc).to_dict() if entity.kind == "enterprise" else {}
    extra: dict[str, Any] = {}
    if entity.kind == "trademark":
        from alerts.cases.opposition import CNIPA

        authority = dict(CNIPA)
        dates = [a.deadline for a in alerts if a.deadline is not None]
        extra = {"opposition_deadline": min(dates) if dates else None, "grounds": chosen}
    elif chosen:
        raise CaseError("--ground is for opposition cases (against a trademark application)")
    case = Case(
        id=new_case_id(),
        owner=alerts[0].owner,
        marks=sorted({a.mark for a in alerts}),
        entity=entity,
        alert_ids=[a.id for a in alerts],
        authority=authority,
        events=[CaseEvent(at=when, who=who, action="open", to_state="open", note=_text(note))],
        created_at=when,
        updated_at=when,
        **extra,
    )
    return store.create(case)


def file_case(
    store: CaseStore,
    case_id: str,
    *,
    to: str,
    ref: str = "",
    deadline: date | None = None,
    default_days: int = DEFAULT_DEADLINE_DAYS,
    who: str = "analyst",
    now: datetime | None = None,
    note: str = "",
) -> Case:
    """Complaint sent: to whom, reference; a deadline given by the authority makes it ``awaiting``.

    Without ``deadline`` a name dispute gets ``default_days`` after filing (企业名称登记管理规定:
    a name must be changed within 30 days of the decision); listings get none.
    """
    to = _text(to, 300)
    if not to:
        raise CaseError("--to: name the authority or platform the complaint went to")
    when = _now(now)
    case = store.get(case_id)
    given = deadline is not None
    if deadline is None and case.entity.kind == "enterprise" and default_days > 0:
        deadline = when.date() + timedelta(days=default_days)
    if deadline is None and case.kind == "opposition":
        from alerts.cases.opposition import decision_due

        # CNIPA decides within twelve months of the end of the announcement period (art. 35).
        deadline = decision_due(case)
    filing = Filing(to=to, ref=_text(ref, 200), at=when)
    data = {"to": to, "ref": filing.ref, "deadline": deadline.isoformat() if deadline else None}
    case = _apply(store, case.id, "file", who, when, note, data, filing=filing, deadline=deadline)
    if deadline is not None and given:
        case = _apply(store, case.id, "await", who, when, "", {"deadline": deadline.isoformat()}, deadline=deadline)
    return case


def close_case(
    store: CaseStore, case_id: str, *, reason: str, who: str = "analyst", now: datetime | None = None
) -> Case:
    reason = _text(reason)
    if not reason:
        raise CaseError("--reason: say why the case is dropped")
    return _apply(store, case_id, "close", who, now, reason, {"reason": reason}, close_reason=reason)


def resolve_case(
    store: CaseStore,
    case_id: str,
    *,
    resolution: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    who: str = "analyst",
    now: datetime | None = None,
) -> Case:
    return _apply(
        store, case_id, "resolve", who, now, note, {"resolution": resolution, **(data or {})}, resolution=resolution
    )


def reopen_case(
    store: CaseStore, case_id: str, *, note: str = "", who: str = "analyst", now: datetime | None = None
) -> Case:
    return _apply(store, case_id, "reopen", who, now, note, resolution="", close_reason="")


def record_check(
    store: CaseStore, case_id: str, *, data: dict[str, Any], who: str = "follow-up", now: datetime | None = None
) -> Case:
    """A follow-up look that found the infringer unchanged (kept so the dossier shows the checks)."""
    return _apply(store, case_id, "checked", who, now, "", data)


def record_links(
    store: CaseStore,
    case_id: str,
    outcomes: list[LinkOutcome],
    *,
    who: str = "follow-up",
    now: datetime | None = None,
    note: str = "",
) -> Case:
    """Each link's outcome (submitted in a pack, removed, rejected…), appended to the case's ``links``."""
    case = store.get(case_id)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.outcome] = counts.get(o.outcome, 0) + 1
    return _apply(store, case_id, "links", who, now, note, {"links": counts}, links=[*case.links, *outcomes])


def add_alerts(
    alert_store: Any,
    store: CaseStore,
    case_id: str,
    alert_ids: Iterable[str],
    *,
    who: str = "analyst",
    now: datetime | None = None,
) -> Case:
    """More confirmed alerts against the case's entity (another listing of the same shop) join the case."""
    case = store.get(case_id)
    wanted = []
    for a in dict.fromkeys(x.strip() for x in alert_ids if x.strip()):
        if len(a) < 32:
            ids = alert_store.ids_with_prefix(a, limit=2)
            if len(ids) != 1:
                raise CaseError(f"alert id {a!r} is {'ambiguous' if ids else 'unknown'}")
            a = ids[0]
        wanted.append(a)
    alerts = alert_store.get_many(wanted)
    missing = sorted(set(wanted) - {a.id for a in alerts})
    if missing:
        raise CaseError(f"no alert with id {missing[0]!r}")
    for a in alerts:
        if a.status not in OPENABLE:
            raise CaseError(f"alert {a.id[:12]} is {a.status}: confirm it first (cases group confirmed alerts)")
        if entity_of(a).key != case.entity.key:
            raise CaseError(f"alert {a.id[:12]} is against another entity than case {case.id}")
        if a.owner != case.owner:
            raise CaseError(f"alert {a.id[:12]} belongs to another brand owner")
    new = [a.id for a in alerts if a.id not in case.alert_ids]
    if not new:
        raise CaseError("these alerts are already on the case")
    urls = [alert_url(a) for a in alerts if a.id in new]
    return _apply(
        store,
        case.id,
        "add",
        who,
        now,
        "",
        {"alerts": new, "links": [u for u in urls if u]},
        alert_ids=[*case.alert_ids, *new],
    )
