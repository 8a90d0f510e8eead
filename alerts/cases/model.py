"""The case model: one infringing entity, one brand owner, the confirmed alerts against it.

States and the actions that move between them are data (``TRANSITIONS``), so the CLI, the
service and the review site all ask the same table what is allowed.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerts.model import Alert, iso, utc

State = Literal["open", "filed", "awaiting", "resolved", "closed"]
STATES: tuple[str, ...] = ("open", "filed", "awaiting", "resolved", "closed")
ACTIVE_STATES: tuple[str, ...] = ("open", "filed", "awaiting")
FOLLOWUP_STATES: tuple[str, ...] = ("filed", "awaiting")

# action -> {from state: to state}
TRANSITIONS: dict[str, dict[str, str]] = {
    "file": {"open": "filed", "filed": "filed", "awaiting": "filed"},
    "await": {"filed": "awaiting", "awaiting": "awaiting"},
    "resolve": {"open": "resolved", "filed": "resolved", "awaiting": "resolved"},
    "close": {"open": "closed", "filed": "closed", "awaiting": "closed"},
    "reopen": {"closed": "open", "resolved": "open"},
    "note": {s: s for s in STATES},
    "check": {"filed": "filed", "awaiting": "awaiting"},
    "checked": {"filed": "filed", "awaiting": "awaiting"},  # the follow-up looked and found no change
    "add": {s: s for s in ("open", "filed", "awaiting")},  # more listings of the same shop join the case
    "links": {s: s for s in STATES},  # link outcomes recorded (complaint pack, platform's answer)
}

ResolutionKind = Literal["renamed", "deregistered", "revoked", "listing_removed", "other"]

_ZW = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def normalise(text: str) -> str:
    """NFKC, no zero-width or bidi characters, no whitespace: how entity keys are compared."""
    return re.sub(r"\s+", "", _ZW.sub("", unicodedata.normalize("NFKC", text or "")))


class Entity(BaseModel):
    """Who infringes: an enterprise (by USCC when it has a valid one), a seller or shop, a trademark
    application (by its number: the case is an opposition), or a text."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["enterprise", "listing", "trademark"]
    key: str  # the alert's entity ("uscc:<code>", "name:<name>|<region>", "listing:…") or "seller:<source>:<name>"
    name: str
    uscc: str | None = None
    seller: str | None = None
    source: str = ""
    number: str | None = None  # a trademark application's number (申请号)
    applicant: str | None = None  # and who filed it (the opposed party, 被异议人)


# What a case is, from what it is against: a name dispute, a platform complaint, an opposition.
CASE_KINDS = {"enterprise": "name", "listing": "listing", "trademark": "opposition"}


def alert_url(alert: Alert) -> str:
    """The page an alert's item came from (the alert's own ``url``, else the item's)."""
    return str(getattr(alert, "url", None) or (alert.item or {}).get("url") or "")


def entity_of(alert: Alert) -> Entity:
    """The entity an alert is against: the alert's own entity (``alerts.model.entity_of``, issue 13),
    except that listings with a seller are grouped by seller (a case is against the shop)."""
    from alerts.model import entity_of as alert_entity

    item = alert.item or {}
    key = alert_entity(alert)
    if alert.subject.kind == "enterprise":
        code = key[5:] if key.startswith("uscc:") else None
        return Entity(kind="enterprise", key=key, name=alert.subject.text, uscc=code, source=alert.source)
    if alert.subject.kind == "trademark":
        return Entity(
            kind="trademark",
            key=key,
            name=alert.subject.text,
            number=alert.subject.number or str(item.get("number") or "") or None,
            applicant=alert.subject.applicant or None,
            source=alert.source,
        )
    seller = alert.subject.seller or item.get("shop") or item.get("seller")
    if seller:
        s = normalise(str(seller))
        return Entity(
            kind="listing", key=f"seller:{alert.source}:{s}", name=str(seller), seller=str(seller), source=alert.source
        )
    return Entity(kind="listing", key=key, name=alert.subject.text, source=alert.source)


class CaseEvent(BaseModel):
    """One change: who, when, which action, from which state to which, and its details."""

    model_config = ConfigDict(extra="forbid")

    at: datetime
    who: str
    action: str
    from_state: State | None = None
    to_state: State
    note: str = ""
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return utc(v)


class LinkOutcome(BaseModel):
    """What became of one infringing link of a case: kept for the platform's success rate.

    ``outcome``: ``submitted`` (in a complaint pack), ``removed`` (the platform took it down: the
    follow-up saw it gone, or an analyst recorded it), ``online`` (still there), ``rejected``
    (the platform refused the complaint), ``counter_notice`` (the seller objected).
    """

    model_config = ConfigDict(extra="forbid")

    url: str
    alert_id: str = ""
    outcome: Literal["submitted", "removed", "online", "rejected", "counter_notice"]
    at: datetime
    detail: str = ""
    pack: str = ""  # the complaint pack it went out in

    @field_validator("at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return utc(v)


LINK_FINAL = ("removed", "rejected", "counter_notice")


class Filing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str
    ref: str = ""
    at: datetime


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    owner: str
    marks: list[str]
    entity: Entity
    alert_ids: list[str]
    state: State = "open"
    authority: dict[str, Any] = Field(default_factory=dict)  # see alerts.cases.authority.Authority
    filing: Filing | None = None
    deadline: date | None = None
    # An opposition's last day to file (alerts.deadlines; the alert's deadline when the case opened),
    # and the grounds an analyst adds beyond those drafted from the data (provision ids: tml-15…).
    opposition_deadline: date | None = None
    grounds: list[str] = Field(default_factory=list)
    resolution: str = ""
    close_reason: str = ""
    events: list[CaseEvent] = Field(default_factory=list)
    links: list[LinkOutcome] = Field(default_factory=list)  # each link's outcomes, latest last (shops)
    created_at: datetime
    updated_at: datetime

    @field_validator("created_at", "updated_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return utc(v)

    @property
    def kind(self) -> str:
        """``name`` (an enterprise-name dispute), ``listing`` (a platform complaint) or ``opposition``."""
        return CASE_KINDS[self.entity.kind]

    def overdue(self, today: date) -> bool:
        """A deadline passed while the case still waits for the infringer."""
        return self.state in FOLLOWUP_STATES and self.deadline is not None and self.deadline < today

    def opposition_missed(self, today: date) -> bool:
        """An opposition still not filed when its last day has passed: only invalidation is left."""
        return (
            self.kind == "opposition"
            and self.state == "open"
            and self.opposition_deadline is not None
            and self.opposition_deadline < today
        )

    def to_doc(self) -> dict[str, Any]:
        doc = self.model_dump(mode="json")
        doc["created_at"] = iso(self.created_at)
        doc["updated_at"] = iso(self.updated_at)
        for i, e in enumerate(self.events):
            doc["events"][i]["at"] = iso(e.at)
        for i, lk in enumerate(self.links):
            doc["links"][i]["at"] = iso(lk.at)
        return doc

    def link_states(self) -> dict[str, LinkOutcome]:
        """Each link's latest outcome (by URL)."""
        out: dict[str, LinkOutcome] = {}
        for lk in self.links:
            out[lk.url] = lk
        return out


def new_case_id() -> str:
    """Short, unguessable enough, typeable: ``C-`` + 10 hex digits."""
    return "C-" + secrets.token_hex(5)


def transition(case: Case, action: str) -> str:
    """The state after ``action``, or raise InvalidTransition naming what is allowed."""
    from alerts.cases.errors import InvalidTransition

    table = TRANSITIONS.get(action)
    if table is None:
        raise InvalidTransition(f"unknown action {action!r}")
    if case.state not in table:
        allowed = sorted(
            a for a, t in TRANSITIONS.items() if case.state in t and a not in ("note", "check", "checked", "links")
        )
        raise InvalidTransition(
            f"case {case.id} is {case.state}: cannot {action} (allowed: {', '.join(allowed) or 'nothing'})"
        )
    return table[case.state]
