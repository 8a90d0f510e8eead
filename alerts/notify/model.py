"""What a digest is made of, independent of how alerts are stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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


@dataclass(frozen=True, slots=True)
class Recipient:
    """An address and what it wants to hear about, per mark."""

    address: str
    marks: tuple[str, ...]
    min_score: dict[str, float] = field(default_factory=dict)
    statuses: frozenset[str] = frozenset({"new"})
    language: str = "zh"
