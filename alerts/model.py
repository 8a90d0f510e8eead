"""The alert: one protected mark imitated by one subject from one source.

Stable interface (other modules build on it):

- ``STATUSES`` / ``Status``: ``new``, ``confirmed``, ``dismissed``, ``escalated``, ``resolved``.
- ``alert_id(source, subject_key, mark) -> str``: the same hit found again maps to the same alert.
- ``alert_from_hit(hit, subject, *, source, subject_key, item, evidence_id, now) -> Alert``.
- ``Alert``, ``AlertSubject``, ``HistoryEntry``, ``Note`` (pydantic models; ``Alert.to_doc()`` is the
  JSON document both stores keep, ``Alert.model_validate(doc)`` reads it back).
- ``merge_seen(old, new) -> Alert | None``: the one rule both stores apply when a hit is seen again.

Crawled text is written by infringers: the builder caps string sizes and keeps the source item
JSON-safe, but never rewrites the text (it is evidence); escaping is the job of whatever displays it.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from datetime import UTC, datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator

from matcher.types import Hit, Subject

Status = Literal["new", "confirmed", "dismissed", "escalated", "resolved"]
STATUSES: tuple[str, ...] = ("new", "confirmed", "dismissed", "escalated", "resolved")

MAX_TEXT = 2000  # a subject name or listing title longer than this is truncated
MAX_ITEM_STR = 4000  # any one string value of the source item
MAX_ITEM_KEYS = 100
MAX_ITEM_DEPTH = 4


def utc(dt: datetime) -> datetime:
    """Aware UTC datetime (naive values are taken as UTC), microseconds kept for ordering."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def iso(dt: datetime | None) -> str | None:
    """One fixed-width ISO form so that string order is time order (SQLite relies on it)."""
    if dt is None:
        return None
    return utc(dt).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def alert_id(source: str, subject_key: str, mark: str) -> str:
    """Hash of source + subject key + mark: stable across runs, machines and stores."""
    parts = [unicodedata.normalize("NFC", str(p)).strip() for p in (source, subject_key, mark)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


class HistoryEntry(BaseModel):
    """One status change: who did it, when, from which status to which, and why."""

    model_config = ConfigDict(extra="forbid")

    who: str
    at: datetime
    from_status: Status
    to_status: Status
    note: str = ""


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    who: str
    at: datetime
    text: str


class AlertSubject(BaseModel):
    """The screened subject with the parsed parts of an enterprise name (empty for listings)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["enterprise", "listing"] = "enterprise"
    text: str
    region: str = ""
    trade_name: str = ""
    industry: str = ""
    form: str = ""
    branch: str = ""
    seller: str | None = None
    price: float | None = None
    category: str | None = None


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    zh: str = ""
    en: str = ""


class Alert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    source: str
    subject_key: str
    mark: str
    owner: str
    score: float = Field(ge=0.0, le=1.0)
    well_known: bool = False
    matched: str = ""
    reasons: list[Reason] = Field(default_factory=list)
    subject: AlertSubject
    item: dict[str, Any] = Field(default_factory=dict)
    evidence_id: str | None = None
    status: Status = "new"
    notes: list[Note] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    first_seen: datetime
    last_seen: datetime
    times_seen: int = 1
    notified_at: datetime | None = None

    @field_validator("first_seen", "last_seen", "notified_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return utc(v) if v is not None else None

    def to_doc(self) -> dict[str, Any]:
        """JSON-ready document, dates in the fixed ISO form; what both stores persist."""
        doc = self.model_dump(mode="json")
        for key in ("first_seen", "last_seen", "notified_at"):
            doc[key] = iso(getattr(self, key))
        for i, h in enumerate(self.history):
            doc["history"][i]["at"] = iso(h.at)
        for i, n in enumerate(self.notes):
            doc["notes"][i]["at"] = iso(n.at)
        return doc


def _cap(text: Any, limit: int) -> str:
    s = "" if text is None else str(text)
    # Lone surrogates from broken decoders would make the JSON/SQLite layers fail later.
    s = s.encode("utf-8", "replace").decode("utf-8")
    return s if len(s) <= limit else s[:limit] + "…"


def _json_safe(value: Any, depth: int = 0) -> Any:
    """Turn arbitrary crawled values into bounded JSON (no NaN, no bytes, no deep nesting)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _cap(value, MAX_ITEM_STR)
    if isinstance(value, bytes):
        return _cap(value.decode("utf-8", "replace"), MAX_ITEM_STR)
    if isinstance(value, datetime):
        return iso(value)
    if depth >= MAX_ITEM_DEPTH:
        return _cap(json.dumps(value, default=str, ensure_ascii=False), MAX_ITEM_STR)
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEM_KEYS]
        return {_cap(k, 200): _json_safe(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v, depth + 1) for v in list(value)[:MAX_ITEM_KEYS]]
    return _cap(value, MAX_ITEM_STR)


def alert_from_hit(
    hit: Hit,
    subject: Subject,
    *,
    source: str,
    subject_key: str,
    item: dict,
    evidence_id: str | None,
    now: datetime,
) -> Alert:
    """Build the alert for one matcher hit; ``now`` becomes first_seen and last_seen."""
    parts = hit.parts.to_dict() if hit.parts else {}
    price = subject.price if subject.price is not None and math.isfinite(subject.price) else None
    return Alert(
        id=alert_id(source, subject_key, hit.mark),
        source=_cap(source, 200),
        subject_key=_cap(subject_key, 1000),
        mark=hit.mark,
        owner=hit.owner,
        score=min(1.0, max(0.0, float(hit.score))),
        well_known=hit.well_known,
        matched=_cap(hit.matched, 200),
        reasons=[Reason(code=r.code, zh=r.zh, en=r.en) for r in hit.reasons],
        subject=AlertSubject(
            kind=subject.kind,
            text=_cap(subject.text, MAX_TEXT),
            region=_cap(parts.get("region"), 200),
            trade_name=_cap(parts.get("trade_name"), 200),
            industry=_cap(parts.get("industry"), 200),
            form=_cap(parts.get("form"), 200),
            branch=_cap(parts.get("branch"), 200),
            seller=_cap(subject.seller, 500) if subject.seller is not None else None,
            price=price,
            category=_cap(subject.category, 200) if subject.category is not None else None,
        ),
        item=_json_safe(dict(item or {})),
        evidence_id=evidence_id,
        first_seen=now,
        last_seen=now,
    )


def merge_seen(old: Alert, new: Alert) -> Alert | None:
    """The alert after ``new`` (a fresh hit) meets the stored ``old``; None when nothing changes.

    A replay of the same or an older sighting (an outbox retried, a run repeated) changes
    nothing, which makes upserts idempotent. A later sighting refreshes what the matcher and
    crawler saw and counts it, while the analysts' work (status, notes, history, notified_at)
    and first_seen stay.
    """
    if new.last_seen <= old.last_seen:
        return None
    return new.model_copy(
        update={
            "status": old.status,
            "notes": old.notes,
            "history": old.history,
            "first_seen": min(old.first_seen, new.first_seen),
            "times_seen": old.times_seen + 1,
            "notified_at": old.notified_at,
        }
    )


def reviewed(alert: Alert, status: str, note: str, who: str, now: datetime) -> Alert:
    """The alert after an analyst's review: new status, history entry, note kept."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r} (one of {', '.join(STATUSES)})")
    now = utc(now)
    entry = HistoryEntry(who=who, at=now, from_status=alert.status, to_status=cast(Status, status), note=note)
    notes = [*alert.notes, Note(who=who, at=now, text=note)] if note else alert.notes
    return alert.model_copy(update={"status": status, "history": [*alert.history, entry], "notes": notes})
