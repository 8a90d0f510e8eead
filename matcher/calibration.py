"""Calibrated probability of a hit: the share of labelled hits with such a score
that were right (isotonic fit, scripts/calibrate.py, shipped as data)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE_PATH = Path(__file__).resolve().parent / "data" / "calibration.tsv"


@dataclass(frozen=True)
class Calibration:
    """Step function: from each block's lowest score on, its probability."""

    steps: tuple[tuple[float, float], ...]

    def probability(self, score: float) -> float:
        if not self.steps:
            return score
        k = bisect_right([s for s, _ in self.steps], score) - 1
        return self.steps[max(k, 0)][1]


@cache
def calibration() -> Calibration:
    steps = []
    if TABLE_PATH.exists():
        for line in TABLE_PATH.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                lo, p, *_ = line.split("\t")
                steps.append((float(lo), float(p)))
    return Calibration(tuple(steps))


def probability(score: float) -> float:
    """Calibrated probability that a hit with this score is worth an analyst's look."""
    return calibration().probability(score)
