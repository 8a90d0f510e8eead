"""`markwatch evaluate --split`: score one part of a split corpus, reject what it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from markwatch.cli import app
from markwatch.services.evaluate import EvaluationError, load_cases, run_evaluation
from matcher.marksfile import load_marks

REAL = Path(__file__).parent / "data" / "real_cases"
MARKS = {"康师傅", "六个核桃"}


def write(tmp_path: Path, rows: list[dict]) -> Path:
    p = tmp_path / "cases.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return p


ROWS = [
    {"text": "康帅傅", "expected": "康师傅", "kind": "brand", "split": "tune"},
    {"text": "六个土核桃", "expected": "六个核桃", "kind": "brand", "split": "holdout"},
    {"text": "康师傅方便面专卖", "expected": None, "kind": "shop", "split": "holdout"},
]


def test_split_keeps_only_that_part(tmp_path: Path) -> None:
    p = write(tmp_path, ROWS)
    assert [c["text"] for c in load_cases(p, MARKS, split="tune")] == ["康帅傅"]
    assert [c["text"] for c in load_cases(p, MARKS, split="holdout")] == ["六个土核桃", "康师傅方便面专卖"]
    assert len(load_cases(p, MARKS)) == 3


def test_unknown_split_value_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="split must be one of"):
        load_cases(write(tmp_path, ROWS), MARKS, split="train")


def test_rows_without_a_split_cannot_be_filtered(tmp_path: Path) -> None:
    rows = [dict(ROWS[0]), {"text": "八个核桃", "expected": "六个核桃", "kind": "brand"}]
    with pytest.raises(EvaluationError, match=r":2: key 'split'"):
        load_cases(write(tmp_path, rows), MARKS, split="tune")


def test_unknown_kind_and_bad_classes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="key 'kind'"):
        load_cases(write(tmp_path, [{"text": "x", "expected": None, "kind": "billboard"}]), MARKS)
    with pytest.raises(EvaluationError, match="key 'classes'"):
        load_cases(write(tmp_path, [{"text": "x", "expected": None, "kind": "trademark", "classes": [46]}]), MARKS)


def test_an_empty_part_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="no cases in split 'tune'"):
        load_cases(write(tmp_path, ROWS[1:]), MARKS, split="tune")


def test_report_names_the_split_and_scores_per_kind() -> None:
    marks = load_marks(REAL / "marks.yaml")
    cases = load_cases(REAL / "cases.jsonl", {m.name for m in marks}, split="holdout")
    report = run_evaluation(marks, cases, split="holdout")
    assert report["split"] == "holdout"
    assert report["matcher"]["cases"] == len(cases)
    assert set(report["matcher"]["kinds"]) <= {"enterprise", "shop", "brand", "listing", "trademark"}


def test_cli_split_option(tmp_path: Path) -> None:
    marks = tmp_path / "marks.yaml"
    marks.write_text(
        "marks:\n  - name: 康师傅\n    owner: 康师傅控股\n  - name: 六个核桃\n    owner: 养元\n", encoding="utf-8"
    )
    cases = write(tmp_path, ROWS)
    runner = CliRunner(env={"COLUMNS": "200"})
    args = ["evaluate", "--marks", str(marks), "--cases", str(cases), "--format", "json"]
    out = runner.invoke(app, [*args, "--split", "holdout"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["split"] == "holdout" and report["matcher"]["cases"] == 2
    bad = runner.invoke(app, [*args, "--split", "train"])
    assert bad.exit_code != 0
    assert "split must be one of" in bad.output
