"""The alert: one protected mark imitated by one entity (an enterprise or a listing).

Stable interface (other modules build on it):

- ``STATUSES`` / ``Status``: ``new``, ``confirmed``, ``dismissed``, ``escalated``, ``resolved``.
- ``entity_key(kind, source, subject_key, text, region, item) -> str``: who the subject *is*, across
  sources: ``uscc:<code>`` for an enterprise with a valid credit code, else ``name:<normalised
  name>|<region>``; ``listing:<source>|<item identity>`` for a listing.
- ``alert_id(entity, mark) -> str``: the same entity found again, by any source, maps to the same alert.
- ``alert_from_hit(hit, subject, *, source, subject_key, item, evidence_id, now, url=None) -> Alert``.
- ``Alert``, ``AlertSubject``, ``Sighting``, ``HistoryEntry``, ``Note`` (pydantic models;
  ``Alert.to_doc()`` is the JSON document both stores keep, ``Alert.model_validate(doc)`` reads it back).
- ``merge_seen(old, new) -> Alert | None``: the one rule both stores apply when a hit is seen again.
- ``merge_alerts(alerts) -> Alert``: fold duplicates of one entity into one (the store migration).
- ``Alert.probability``: the calibrated probability of the best hit (``matcher.calibration``): the
  share of hits scored like this that were worth a look. Alerts stored before it was kept read it
  derived from their score (``probability_derived``); ``Alert.stored_doc()`` leaves such a value
  out, so both stores keep none until ``markwatch alerts migrate`` (``with_probability``) or a new
  sighting stores one.

Why entities: the same company found by two sources used to be two alerts, listed twice in digests,
and dismissing one copy left the other open. Now every source that saw it is a sighting on one alert,
so a review decision belongs to the entity, whatever source shows it next.

Crawled text is written by infringers: the builder caps string sizes and keeps the source item
JSON-safe, but never rewrites the text (it is evidence); escaping is the job of whatever displays it.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from datetime import UTC, date, datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from alerts.deadlines import opposition_deadline, parse_announced
from alerts.uscc import is_valid as valid_uscc
from matcher.calibration import probability as calibrated
from matcher.types import Hit, Subject, SubjectKind

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


def probability_of(score: float, probability: float | None = None) -> float:
    """The hit's calibrated probability (4 places, within 0..1), else the shipped calibration of its score."""
    if probability is None or not math.isfinite(probability):
        probability = calibrated(round(min(1.0, max(0.0, float(score))), 4))
    return round(min(1.0, max(0.0, float(probability))), 4)


def alert_id(entity: str, mark: str) -> str:
    """Hash of entity + mark: stable across runs, machines, sources and stores."""
    parts = [unicodedata.normalize("NFC", str(p)).strip() for p in (entity, mark)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def normalise_name(text: Any) -> str:
    """A name as an identity: NFKC (full-width brackets and letters), no spaces or invisible
    characters (zero-width, bidi controls: crawled pages hide them in names), case-folded."""
    s = unicodedata.normalize("NFKC", "" if text is None else str(text))
    return "".join(c for c in s if not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc")).casefold()


def entity_key(kind: str, source: str, subject_key: str, text: str, region: str = "", item: dict | None = None) -> str:
    """Who the subject is, the same for every source that sees it (see the module docstring).

    An enterprise's credit code counts only when its check digit is right (the crawler's identity
    ``uscc:`` is set only then; an item's ``uscc`` is checked here): a mistyped code must not merge
    two companies.
    """
    if kind == "listing":
        return f"listing:{str(source).strip()}|{str(subject_key).strip()}"
    if kind == "trademark":
        number = str((item or {}).get("number") or "").strip()
        key = str(subject_key or "").strip()
        if number:
            return f"trademark:{normalise_name(number)}"
        if key.startswith("tm:"):
            return f"trademark:{normalise_name(key[3:])}"
        return f"trademark:{normalise_name(text)}|{str(source).strip()}|{key}"
    key = str(subject_key or "").strip()
    if key.startswith("uscc:") and valid_uscc(key[5:].strip().upper()):
        return "uscc:" + key[5:].strip().upper()
    code = (item or {}).get("uscc")
    if isinstance(code, str) and valid_uscc(code.replace(" ", "").upper()):
        return "uscc:" + code.replace(" ", "").upper()
    return f"name:{normalise_name(text)}|{normalise_name(region)}"


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

    kind: SubjectKind = "enterprise"  # matcher.types: the kinds sources give
    text: str
    region: str = ""
    trade_name: str = ""
    industry: str = ""
    form: str = ""
    branch: str = ""
    seller: str | None = None
    price: float | None = None
    category: str | None = None
    # A trademark application (kind "trademark"): its number, classes and similar groups, applicant
    # and the announcement that opened its opposition period.
    number: str | None = None
    classes: list[int] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    applicant: str | None = None
    announced: date | None = None
    # An enterprise as its source described it: credit code, the industry the source declared
    # (GB/T 4754 code or name; ``industry`` above is the industry part of the name) and founding
    # date (ISO, or its year or month), so that a rescreen weighs what the scan weighed.
    uscc: str | None = None
    declared_industry: str | None = None
    founded: str | None = None


class Sighting(BaseModel):
    """One source's view of the entity: where, which item, its evidence, when, and its best score."""

    model_config = ConfigDict(extra="forbid")

    source: str
    subject_key: str
    url: str | None = None
    evidence_id: str | None = None
    score: float = Field(default=0.0, ge=0.0, le=1.0)
    first_seen: datetime
    last_seen: datetime
    times_seen: int = 1

    @field_validator("first_seen", "last_seen")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return utc(v)


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
    # Where the match is in subject.text (the matcher's Hit.span) and the page the item came from.
    # None on alerts stored before they were kept; readers fall back to looking them up.
    span_start: int | None = Field(default=None, ge=0)
    span_end: int | None = Field(default=None, ge=0)
    url: str | None = None
    status: Status = "new"
    notes: list[Note] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    first_seen: datetime
    last_seen: datetime
    times_seen: int = 1
    notified_at: datetime | None = None
    # The entity (see entity_key) and every source that saw it; "" and [] on alerts stored before
    # entities (``markwatch alerts migrate`` fills them), read as one sighting (``sightings_of``).
    entity: str = ""
    sightings: list[Sighting] = Field(default_factory=list)
    # Calibrated probability of the best hit seen (the queue and digests sort by it). Never None
    # once validated: an alert stored before it was kept gets it from its score, and says so.
    probability: float | None = Field(default=None, ge=0.0, le=1.0)
    # A trademark application's opposition deadline (alerts.deadlines: announcement + 3 months,
    # moved past rest days); None for every other kind, and for an application without a readable
    # announcement date.
    deadline: date | None = None
    _derived: bool = PrivateAttr(default=False)

    @field_validator("first_seen", "last_seen", "notified_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return utc(v) if v is not None else None

    @model_validator(mode="after")
    def _probability(self) -> Alert:
        if self.probability is None:
            self.probability = probability_of(self.score)
            self._derived = True
        return self

    @property
    def probability_derived(self) -> bool:
        """True when the stored alert had no probability (made before it was kept): backfill it."""
        return self._derived

    @property
    def chance(self) -> float:
        """``probability`` as a float for type checkers (the validator always sets it)."""
        return probability_of(self.score, self.probability)

    def to_doc(self) -> dict[str, Any]:
        """JSON-ready document, dates in the fixed ISO form; what both stores persist."""
        doc = self.model_dump(mode="json")
        for key in ("first_seen", "last_seen", "notified_at"):
            doc[key] = iso(getattr(self, key))
        for i, h in enumerate(self.history):
            doc["history"][i]["at"] = iso(h.at)
        for i, n in enumerate(self.notes):
            doc["notes"][i]["at"] = iso(n.at)
        for i, sg in enumerate(self.sightings):
            doc["sightings"][i]["first_seen"] = iso(sg.first_seen)
            doc["sightings"][i]["last_seen"] = iso(sg.last_seen)
        return doc

    def stored_doc(self) -> dict[str, Any]:
        """``to_doc`` as the stores write it: without a probability derived on reading.

        A review or ``notified_at`` written back must not store it in one store and not the other
        (Elasticsearch updates those fields alone): the queue's order stays the same in both.
        """
        doc = self.to_doc()
        if self._derived:
            del doc["probability"]
        return doc

    @property
    def sources(self) -> list[str]:
        """Every source that saw the entity, in the order they first saw it."""
        return list(dict.fromkeys(sg.source for sg in sightings_of(self)))


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
    url: str | None = None,
) -> Alert:
    """Build the alert for one matcher hit; ``now`` becomes first_seen and last_seen.

    ``url`` is the item's page (chosen by the crawler); the hit's span is kept so that a viewer
    marks exactly what the matcher matched instead of searching for it again.
    """
    parts = hit.parts.to_dict() if hit.parts else {}
    price = subject.price if subject.price is not None and math.isfinite(subject.price) else None
    source, subject_key = _cap(source, 200), _cap(subject_key, 1000)
    item = _json_safe(dict(item or {}))
    url = _cap(url, MAX_ITEM_STR) if url else None
    score = min(1.0, max(0.0, float(hit.score)))
    chance = probability_of(score, hit.probability)
    announced = parse_announced(subject.announced) if subject.kind == "trademark" else None
    entity = _cap(
        entity_key(subject.kind, source, subject_key, subject.text, str(parts.get("region") or ""), item), 2000
    )
    return Alert(
        id=alert_id(entity, hit.mark),
        entity=entity,
        sightings=[
            Sighting(
                source=source,
                subject_key=subject_key,
                url=url,
                evidence_id=evidence_id,
                score=score,
                first_seen=now,
                last_seen=now,
            )
        ],
        source=source,
        subject_key=subject_key,
        mark=hit.mark,
        owner=hit.owner,
        score=score,
        probability=chance,
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
            number=_cap(subject.number, 100) if subject.number else None,
            classes=[c for c in subject.classes if isinstance(c, int) and 1 <= c <= 45][:200],
            groups=[_cap(g, 8) for g in subject.groups][:200],
            applicant=_cap(subject.applicant, 500) if subject.applicant else None,
            announced=announced,
            uscc=_cap(subject.uscc, 40) if subject.uscc else None,
            declared_industry=_cap(subject.industry, 200) if subject.industry else None,
            founded=_cap(subject.founded, 10) if subject.founded else None,
        ),
        deadline=opposition_deadline(announced).deadline if announced else None,
        item=item,
        evidence_id=evidence_id,
        span_start=hit.span[0] if hit.span else None,
        span_end=hit.span[1] if hit.span else None,
        url=url,
        first_seen=now,
        last_seen=now,
    )


def sightings_of(alert: Alert) -> list[Sighting]:
    """The alert's sightings; an alert stored before entities counts as its one source's sighting."""
    if alert.sightings:
        return list(alert.sightings)
    return [
        Sighting(
            source=alert.source,
            subject_key=alert.subject_key,
            url=alert.url,
            evidence_id=alert.evidence_id,
            score=alert.score,
            first_seen=alert.first_seen,
            last_seen=alert.last_seen,
            times_seen=alert.times_seen,
        )
    ]


def _add_sighting(known: list[Sighting], new: Sighting) -> list[Sighting]:
    """Sightings with ``new`` folded in: one per (source, subject key), counts and times combined."""
    out = list(known)
    for i, sg in enumerate(out):
        if (sg.source, sg.subject_key) == (new.source, new.subject_key):
            later = new.last_seen >= sg.last_seen
            out[i] = sg.model_copy(
                update={
                    "url": (new.url if later else sg.url) or sg.url or new.url,
                    "evidence_id": (new.evidence_id if later else sg.evidence_id) or sg.evidence_id,
                    "score": max(sg.score, new.score),
                    "first_seen": min(sg.first_seen, new.first_seen),
                    "last_seen": max(sg.last_seen, new.last_seen),
                    "times_seen": sg.times_seen + new.times_seen,
                }
            )
            return out
    return [*out, new]


def merge_seen(old: Alert, new: Alert) -> Alert | None:
    """The alert after ``new`` (a fresh hit) meets the stored ``old``; None when nothing changes.

    A replay of the same or an older sighting by the same source (an outbox retried, a run
    repeated) changes nothing, which makes upserts idempotent. Any other sighting is added to (or
    refreshes) the alert's sightings; the score and reasons stay the best seen (a later equal score
    refreshes them), while the analysts' work (status, notes, history, notified_at) and first_seen
    stay, so a decision holds whatever source shows the entity next.
    """
    known = sightings_of(old)
    fresh = sightings_of(new)
    for sg in fresh:
        same = next((k for k in known if (k.source, k.subject_key) == (sg.source, sg.subject_key)), None)
        if same is None or sg.last_seen > same.last_seen:
            break
    else:
        return None
    merged_sightings = known
    for sg in fresh:
        merged_sightings = _add_sighting(merged_sightings, sg)
    better = new.score > old.score or (new.score == old.score and new.last_seen >= old.last_seen)
    base = new if better else old
    update: dict[str, Any] = {
        "probability": max(old.chance, new.chance),  # the best seen, like the score
        "status": old.status,
        "notes": old.notes,
        "history": old.history,
        "first_seen": min(old.first_seen, new.first_seen),
        "last_seen": max(old.last_seen, new.last_seen),
        "times_seen": old.times_seen + new.times_seen,
        "notified_at": old.notified_at,
        "entity": old.entity or new.entity,
        "sightings": merged_sightings,
    }
    return _kept(base.model_copy(update=update))


def _kept(alert: Alert) -> Alert:
    """A copy whose probability was set explicitly (``model_copy`` keeps the original's flag)."""
    alert._derived = False
    return alert


def with_probability(alert: Alert) -> Alert:
    """The alert with its probability to be stored (the migration's backfill of older alerts)."""
    return _kept(alert.model_copy(update={"probability": alert.chance}))


def merge_alerts(group: list[Alert], *, id: str, entity: str) -> Alert:
    """One alert from the stored duplicates of one (mark, entity): the store migration's rule.

    Every review event and note is kept (in time order, exact repeats once, so merging twice is
    harmless); the status is the one set by the latest review event across the copies (``new``
    when none was reviewed); notified_at is the earliest (the owner was told then); sightings,
    counts and times combine; the finding is the best-scoring copy's, the probability the highest.
    """
    if not group:
        raise ValueError("nothing to merge")
    best = max(group, key=lambda a: (a.score, a.last_seen, a.id))
    uniq: dict[tuple[str, str], Sighting] = {}
    for a in sorted(group, key=lambda a: (a.first_seen, a.id)):
        for sg in sightings_of(a):
            k = (sg.source, sg.subject_key)
            uniq[k] = sg if k not in uniq else _add_sighting([uniq[k]], sg)[0]
    history = sorted({h.model_dump_json(): h for a in group for h in a.history}.values(), key=lambda h: (h.at, h.who))
    notes = sorted({n.model_dump_json(): n for a in group for n in a.notes}.values(), key=lambda n: (n.at, n.who))
    status = history[-1].to_status if history else "new"
    if not history and len(group) == 1:
        status = group[0].status
    notified = [a.notified_at for a in group if a.notified_at is not None]
    merged = best.model_copy(
        update={
            "id": id,
            "entity": entity,
            "probability": max(a.chance for a in group),
            "sightings": list(uniq.values()),
            "status": status,
            "history": history,
            "notes": notes,
            "first_seen": min(a.first_seen for a in group),
            "last_seen": max(a.last_seen for a in group),
            "times_seen": sum(sg.times_seen for sg in uniq.values()),
            "notified_at": min(notified) if notified else None,
        }
    )
    return _kept(merged)


def rekeyed(alert: Alert) -> Alert:
    """An alert made before entities (an old outbox entry) under its entity id, with its sighting."""
    if alert.entity:
        return alert
    entity = entity_of(alert)
    return alert.model_copy(
        update={"id": alert_id(entity, alert.mark), "entity": entity, "sightings": sightings_of(alert)}
    )


def entity_of(alert: Alert) -> str:
    """The alert's entity: stored, or computed for an alert stored before entities."""
    if alert.entity:
        return alert.entity
    s = alert.subject
    return entity_key(s.kind, alert.source, alert.subject_key, s.text, s.region, alert.item)


def reviewed(alert: Alert, status: str, note: str, who: str, now: datetime) -> Alert:
    """The alert after an analyst's review: new status, history entry, note kept."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r} (one of {', '.join(STATUSES)})")
    now = utc(now)
    entry = HistoryEntry(who=who, at=now, from_status=alert.status, to_status=cast(Status, status), note=note)
    notes = [*alert.notes, Note(who=who, at=now, text=note)] if note else alert.notes
    return alert.model_copy(update={"status": status, "history": [*alert.history, entry], "notes": notes})
