"""What a digest is made of, independent of how alerts are stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One alert as a brand owner sees it. Text fields are raw (hostile) until rendered."""

    alert_id: str
    mark: str
    name: str
    score: float
    kind: str = "enterprise"
    source: str = ""
    url: str | None = None
    reasons: tuple[str, ...] = ()
    first_seen: datetime | None = None
    status: str = "new"
    reasons_zh: tuple[str, ...] = ()
    probability: float | None = None  # calibrated; None: derived from the score when rendered
    uscc: str = ""  # an enterprise's credit code
    authority: str = ""  # its registering authority (from the code), "" when unknown
    source_kind: str = ""  # the raw source name, for the owner's page link (DigestOptions.page_for)
    # A trademark application (kind "trademark"): its number, classes, applicant, the gazette issue
    # and date that announced it, and its opposition deadline (alerts.deadlines).
    number: str = ""
    classes: tuple[int, ...] = ()
    applicant: str = ""
    announcement: str = ""
    announced: date | None = None
    deadline: date | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    """An address and what it wants to hear about, per mark."""

    address: str
    marks: tuple[str, ...]
    min_score: dict[str, float] = field(default_factory=dict)
    statuses: frozenset[str] = frozenset({"new"})
    language: str = "zh"
    timezone: str = "Asia/Shanghai"  # times in the digest
    csv: bool = False  # attach the digest's alerts as CSV
    links: bool = True  # signed read-only links to each alert (when [review] secret_key is set)
