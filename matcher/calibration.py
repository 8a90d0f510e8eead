"""Calibrated probability of a hit: the share of labelled hits with such a score
that were right (isotonic fit, scripts/calibrate.py, shipped as data).

The fit is made per *evidence group*, because the score alone does not separate
a copy in the mark's own field from the same copy where nothing shows the field:
on the labelled sets every hit with field evidence was right, while hits with
none were right about two times in three (docs/matching.md, Calibration).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE_PATH = Path(__file__).resolve().parent / "data" / "calibration.tsv"

FIELD = "field"  # the subject names the mark's field, or a well-known mark crosses classes
NO_FIELD = "no_field"  # nothing in the subject shows its field
GRADED = "graded"  # weak evidence kept low (review mode): first or two characters changed, prior use…
GROUPS = (FIELD, NO_FIELD, GRADED)


@dataclass(frozen=True)
class Calibration:
    """Step function: from each block's lowest score on, its probability."""

    steps: tuple[tuple[float, float], ...]

    def probability(self, score: float) -> float:
        if not self.steps:
            return score
        k = bisect_right(self.steps, score, key=lambda step: step[0]) - 1
        return self.steps[max(k, 0)][1]


@cache
def calibrations() -> dict[str, Calibration]:
    """Group → its step function (rows: group, lowest score, probability, hits)."""
    steps: dict[str, list[tuple[float, float]]] = {}
    if TABLE_PATH.exists():
        for line in TABLE_PATH.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                group, lo, p, *_ = line.split("\t")
                steps.setdefault(group, []).append((float(lo), float(p)))
    return {g: Calibration(tuple(sorted(s))) for g, s in steps.items()}


def calibration(group: str = FIELD) -> Calibration:
    return calibrations().get(group, Calibration(()))


def probability(score: float, group: str = FIELD) -> float:
    """Calibrated probability that a hit with this score and evidence is worth an analyst's look."""
    return calibration(group).probability(score)
