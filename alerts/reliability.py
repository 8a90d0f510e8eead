"""Does the shipped calibration fit this team's own decisions? The store's reliability table.

The matcher's calibration (``matcher/data/calibration.tsv``) was fitted on our labelled sets; a
team's marks, sources and taste differ. This reads the review decisions kept in the store and, per
score band and per probability band, counts the alerts, those decided, and the share confirmed,
beside the probability the alerts were given (the shipped calibration's prediction). "Of alerts
scored ≥ 0.9, what share did analysts confirm" is the ``at_least`` table.

A decision is the alert's status: ``confirmed``, ``escalated`` and ``resolved`` (only confirmed
imitations get resolved) were worth a look, ``dismissed`` was not, ``new`` is undecided. A
dismissal by ``markwatch alerts rescreen --apply`` is the matcher's, not an analyst's: undecided.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from alerts.model import Alert

WORTH = frozenset({"confirmed", "escalated", "resolved"})
NOT_WORTH = frozenset({"dismissed"})
RESCREEN_NOTE = "rescreened: no longer matches"  # markwatch.services.rescreen.NOTE (alerts may not import the app)

SCORE_EDGES = (0.0, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)  # lower edges; the last band ends at 1 inclusive
PROBABILITY_EDGES = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95)
AT_LEAST = (0.6, 0.7, 0.8, 0.9, 0.95)  # "scored at least": cumulative rows


def decision(alert: Alert) -> bool | None:
    """True: worth a look; False: dismissed by an analyst; None: undecided."""
    if alert.status in WORTH:
        return True
    if alert.status in NOT_WORTH:
        last = alert.history[-1] if alert.history else None
        if last is not None and last.to_status == "dismissed" and last.note.startswith(RESCREEN_NOTE):
            return None
        return False
    return None


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float] | None:
    """95 % Wilson interval of a share k/n (honest for small n and for 0 or n), None when n = 0."""
    if n <= 0:
        return None
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


@dataclass
class Band:
    """Alerts whose value lies in [low, high) (the top band includes 1)."""

    low: float
    high: float
    alerts: int = 0
    decided: int = 0
    confirmed: int = 0
    _predicted: float = field(default=0.0, repr=False)  # sum of probabilities of the decided

    def add(self, probability: float, worth: bool | None) -> None:
        self.alerts += 1
        if worth is None:
            return
        self.decided += 1
        self.confirmed += int(worth)
        self._predicted += probability

    @property
    def share(self) -> float | None:
        """Confirmed share of the decided alerts."""
        return self.confirmed / self.decided if self.decided else None

    @property
    def predicted(self) -> float | None:
        """Mean calibrated probability of the decided alerts: what the shipped calibration expected."""
        return self._predicted / self.decided if self.decided else None

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        ci = wilson(self.confirmed, self.decided)
        d.update(
            share=_round(self.share),
            ci95=None if ci is None else [_round(ci[0]), _round(ci[1])],
            predicted=_round(self.predicted),
        )
        return d


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _bands(edges: tuple[float, ...]) -> list[Band]:
    return [Band(lo, hi) for lo, hi in zip(edges, (*edges[1:], 1.0), strict=True)]


def _place(bands: list[Band], value: float) -> Band:
    for b in reversed(bands):
        if value >= b.low:
            return b
    return bands[0]


@dataclass
class Reliability:
    by_score: list[Band] = field(default_factory=lambda: _bands(SCORE_EDGES))
    by_probability: list[Band] = field(default_factory=lambda: _bands(PROBABILITY_EDGES))
    at_least: list[Band] = field(default_factory=lambda: [Band(lo, 1.0) for lo in AT_LEAST])
    total: Band = field(default_factory=lambda: Band(0.0, 1.0))
    derived: int = 0  # alerts whose probability came from their score (stored before it was kept)

    def add(self, alert: Alert) -> None:
        worth = decision(alert)
        p = alert.chance
        _place(self.by_score, alert.score).add(p, worth)
        _place(self.by_probability, p).add(p, worth)
        for b in self.at_least:
            if alert.score >= b.low:
                b.add(p, worth)
        self.total.add(p, worth)
        self.derived += int(alert.probability_derived)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total.to_dict(),
            "derived": self.derived,
            "by_score": [b.to_dict() for b in self.by_score],
            "by_probability": [b.to_dict() for b in self.by_probability],
            "score_at_least": [b.to_dict() for b in self.at_least],
        }


def reliability(alerts: Iterable[Alert]) -> Reliability:
    """The reliability tables of these alerts (one pass; any iterable, e.g. ``store.export(query)``)."""
    out = Reliability()
    for a in alerts:
        out.add(a)
    return out
