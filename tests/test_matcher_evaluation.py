"""The matcher's quality on the labelled set: floors it has reached, so a change cannot quietly lose them."""

from __future__ import annotations

from pathlib import Path

import pytest

from markwatch.services.evaluate import load_cases, run_evaluation
from matcher.marksfile import load_marks

ROOT = Path(__file__).resolve().parent.parent
MARKS = ROOT / "markwatch" / "demo" / "marks.yaml"


@pytest.fixture(scope="module")
def report():
    marks = load_marks(MARKS)
    cases = load_cases(ROOT / "tests" / "data" / "eval_cases.jsonl", {m.name for m in marks})
    return run_evaluation(marks, cases)


def test_floors_on_the_tuning_set(report):
    r = report["matcher"]
    assert r["recall"] >= 0.98, r["misses"]
    assert r["false_positive_rate"] <= 0.01, r["false_alarms"]
    assert r["precision"] >= 0.99
    assert r["wrong_mark"] == 0


def test_every_signal_category_is_mostly_found(report):
    for cat, c in report["matcher"]["categories"].items():
        if "recall" in c:
            assert c["recall"] >= 0.85, (cat, c)
        else:
            assert c["false_positive_rate"] <= 0.05, (cat, c)


def test_matcher_beats_both_naive_baselines(report):
    m = report["matcher"]
    for key in ("baseline_substring", "baseline_partial_ratio_66"):
        b = report[key]
        assert m["recall"] > b["recall"] and m["false_positive_rate"] < b["false_positive_rate"], key
