"""Keep the matcher's labelled evaluation set well-formed, balanced and documented.

These tests check the data, not the matcher: a broken or lopsided eval set would make every
precision/recall figure computed from it meaningless.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from matcher.marksfile import load_marks

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CASES = DATA / "eval_cases.jsonl"
README = DATA / "README.md"
MARKS = ROOT / "markwatch" / "demo" / "marks.yaml"
KEYS = {"id", "kind", "text", "seller", "category_hint", "expected", "category", "note"}
INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")


def _section(text: str, name: str) -> str:
    m = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, re.S)
    assert m, f"README.md lacks the {name}:start/{name}:end markers"
    return m.group(1)


@pytest.fixture(scope="module")
def raw_lines() -> list[str]:
    return CASES.read_text(encoding="utf-8").splitlines()


def parse_cases(raw_lines: list[str], name: str) -> list[dict]:
    """One case per line; a blank or broken line fails with the file name and line number."""
    out = []
    for n, line in enumerate(raw_lines, 1):
        assert line.strip(), f"{name}:{n}: blank line"
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            pytest.fail(f"{name}:{n}: invalid JSON: {exc}")
    return out


@pytest.fixture(scope="module")
def cases(raw_lines: list[str]) -> list[dict]:
    return parse_cases(raw_lines, "eval_cases.jsonl")


@pytest.fixture(scope="module")
def documented_tags() -> set[str]:
    section = _section(README.read_text(encoding="utf-8"), "tags")
    tags = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))
    assert tags, "no tags found in README.md"
    return tags


def _positive(tag: str) -> bool:
    return not tag.startswith("neg_")


def check_well_typed(cases: list[dict], id_pattern: str) -> None:
    """The shape every case of an evaluation file must have (shared with the held-out set's tests)."""
    for c in cases:
        where = c.get("id", "?")
        assert set(c) == KEYS, f"{where}: keys {sorted(set(c) ^ KEYS)} wrong"
        assert re.fullmatch(id_pattern, c["id"]), where
        assert c["kind"] in ("enterprise", "listing"), where
        assert isinstance(c["text"], str) and c["text"].strip(), where
        assert isinstance(c["note"], str) and c["note"].strip(), where
        assert c["expected"] is None or isinstance(c["expected"], str), where
        if c["kind"] == "enterprise":
            assert c["seller"] is None and c["category_hint"] is None, f"{where}: enterprise with listing fields"
        else:
            assert isinstance(c["category_hint"], str) and c["category_hint"], f"{where}: listing without hint"
            assert c["seller"] is None or isinstance(c["seller"], str), where


def check_unique(cases: list[dict]) -> None:
    ids = Counter(c["id"] for c in cases)
    assert [i for i, k in ids.items() if k > 1] == []
    texts = Counter(c["text"] for c in cases)
    assert [t for t, k in texts.items() if k > 1] == []


def test_every_line_is_a_well_typed_case(cases: list[dict]) -> None:
    check_well_typed(cases, r"c\d{4}")


def test_ids_and_texts_are_unique(cases: list[dict]) -> None:
    check_unique(cases)


def test_expected_marks_exist_in_the_marks_file(cases: list[dict]) -> None:
    names = {m.name for m in load_marks(MARKS)}
    unknown = sorted({c["expected"] for c in cases if c["expected"] is not None} - names)
    assert unknown == []


def test_size_and_coverage(cases: list[dict]) -> None:
    assert len(cases) >= 300
    covered = {c["expected"] for c in cases if c["expected"] is not None}
    assert len(covered) >= 20


def test_positives_and_negatives_are_balanced(cases: list[dict]) -> None:
    share = sum(c["expected"] is not None for c in cases) / len(cases)
    assert 0.45 <= share <= 0.55, f"positive share {share:.1%}"


def test_categories_are_documented_and_match_labels(cases: list[dict], documented_tags: set[str]) -> None:
    for c in cases:
        assert c["category"] in documented_tags, f"{c['id']}: undocumented tag {c['category']!r}"
        assert _positive(c["category"]) == (c["expected"] is not None), f"{c['id']}: label contradicts tag"


def test_each_positive_category_has_ten_cases(cases: list[dict], documented_tags: set[str]) -> None:
    counts = Counter(c["category"] for c in cases)
    thin = {t: counts[t] for t in documented_tags if _positive(t) and counts[t] < 10}
    assert thin == {}


def test_invisible_characters_are_stored_as_escapes(raw_lines: list[str], cases: list[dict]) -> None:
    assert [n for n, line in enumerate(raw_lines, 1) if INVISIBLE.search(line)] == []
    assert any(INVISIBLE.search(c["text"]) for c in cases), "no zero-width cases left"


def test_readme_counts_are_current(cases: list[dict]) -> None:
    spec = importlib.util.spec_from_file_location("count_cases", DATA / "count_cases.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    documented = _section(README.read_text(encoding="utf-8"), "counts").strip()
    assert documented == mod.table(cases).strip(), "run tests/data/count_cases.py and update README.md"
