"""Keep the held-out evaluation set well-formed, balanced, documented and disjoint from the tuning set.

The held-out file is what honest figures are reported on, so it gets the same checks as
eval_cases.jsonl plus one more: none of its texts may also be a tuning case.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter

import pytest
from test_eval_data import (
    CASES,
    DATA,
    INVISIBLE,
    MARKS,
    README,
    _positive,
    _section,
    check_unique,
    check_well_typed,
    parse_cases,
)

from matcher.marksfile import load_marks

HOLDOUT = DATA / "holdout_cases.jsonl"


@pytest.fixture(scope="module")
def raw_lines() -> list[str]:
    return HOLDOUT.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def cases(raw_lines: list[str]) -> list[dict]:
    return parse_cases(raw_lines, "holdout_cases.jsonl")


@pytest.fixture(scope="module")
def documented_tags() -> set[str]:
    section = _section(README.read_text(encoding="utf-8"), "tags")
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))


def test_every_line_is_a_well_typed_case(cases: list[dict]) -> None:
    check_well_typed(cases, r"h\d{4}")


def test_ids_and_texts_are_unique(cases: list[dict]) -> None:
    check_unique(cases)


def test_no_text_repeats_a_tuning_case(cases: list[dict]) -> None:
    with CASES.open(encoding="utf-8") as f:
        tuning = {json.loads(line)["text"] for line in f if line.strip()}
    assert sorted(c["id"] for c in cases if c["text"] in tuning) == []


def test_expected_marks_exist_in_the_marks_file(cases: list[dict]) -> None:
    names = {m.name for m in load_marks(MARKS)}
    assert sorted({c["expected"] for c in cases if c["expected"] is not None} - names) == []


def test_size_coverage_and_mix(cases: list[dict]) -> None:
    assert len(cases) >= 200
    assert len({c["expected"] for c in cases if c["expected"] is not None}) >= 25
    enterprise = sum(c["kind"] == "enterprise" for c in cases) / len(cases)
    assert 0.45 <= enterprise <= 0.65, f"enterprise share {enterprise:.1%}"


def test_positives_and_negatives_are_balanced(cases: list[dict]) -> None:
    share = sum(c["expected"] is not None for c in cases) / len(cases)
    assert 0.40 <= share <= 0.60, f"positive share {share:.1%}"


def test_categories_are_documented_and_match_labels(cases: list[dict], documented_tags: set[str]) -> None:
    assert documented_tags, "no tags found in README.md"
    for c in cases:
        assert c["category"] in documented_tags, f"{c['id']}: undocumented tag {c['category']!r}"
        assert _positive(c["category"]) == (c["expected"] is not None), f"{c['id']}: label contradicts tag"


def test_every_category_is_used(cases: list[dict], documented_tags: set[str]) -> None:
    counts = Counter(c["category"] for c in cases)
    assert {t: counts[t] for t in documented_tags if counts[t] < 5} == {}


def test_invisible_characters_are_stored_as_escapes(raw_lines: list[str], cases: list[dict]) -> None:
    assert [n for n, line in enumerate(raw_lines, 1) if INVISIBLE.search(line)] == []
    assert any(INVISIBLE.search(c["text"]) for c in cases), "no zero-width cases left"


def test_readme_counts_are_current(cases: list[dict]) -> None:
    spec = importlib.util.spec_from_file_location("count_cases", DATA / "count_cases.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    documented = _section(README.read_text(encoding="utf-8"), "holdout-counts").strip()
    assert documented == mod.table(cases).strip(), (
        "run `python tests/data/count_cases.py tests/data/holdout_cases.jsonl` and update README.md"
    )
