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


def test_lawful_rows_are_reported_by_outcome() -> None:
    """A corpus row's `outcome` (prior_use, coexistence…) gets its own false-alarm rate, so a reader
    sees why look-alikes are lawful and which of those reasons the matcher cannot see."""
    from markwatch.services.evaluate import score

    cases = [
        {"text": "a", "expected": None, "outcome": "prior_use"},
        {"text": "b", "expected": None, "outcome": "prior_use"},
        {"text": "c", "expected": None, "outcome": "coexistence"},
        {"text": "d", "expected": "M", "outcome": "infringing"},
    ]
    flagged = {"a": "M", "d": "M"}
    r = score(cases, lambda c: flagged.get(c["text"]))
    assert r["outcomes"]["prior_use"] == {"n": 2, "false_alarms": 1, "false_positive_rate": 0.5}
    assert r["outcomes"]["coexistence"]["false_positive_rate"] == 0.0
    assert r["outcomes"]["infringing"]["recall"] == 1.0
    assert r["false_alarms"][0]["outcome"] == "prior_use"
