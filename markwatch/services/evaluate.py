"""Measure the matcher on a labelled set, beside two naive baselines run on the same cases."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, get_args

from rapidfuzz import fuzz
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import matcher
from matcher import Mark, Matcher, Subject
from matcher.types import SubjectKind

KINDS = frozenset(get_args(SubjectKind))
SPLITS = ("tune", "holdout")


class EvaluationError(Exception):
    """The labelled cases file is missing or wrong (exit 2, like any other bad input file)."""

    exit_code = 2


def load_cases(path: str | Path, mark_names: set[str], split: str | None = None) -> list[dict]:
    """Read a labelled cases file (JSON lines). `split` keeps only the cases of one part
    (``tune`` or ``holdout``, the `split` field of the real-case corpus)."""
    if split is not None and split not in SPLITS:
        raise EvaluationError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvaluationError(f"{p}: cannot read cases: {exc.strerror or exc}") from None
    cases = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except ValueError as exc:
            raise EvaluationError(f"{p}:{n}: malformed JSON: {exc}") from None
        if not isinstance(case, dict) or not isinstance(case.get("text"), str):
            raise EvaluationError(f"{p}:{n}: key 'text': a string is required")
        exp = case.get("expected")
        if exp is not None and exp not in mark_names:
            raise EvaluationError(f"{p}:{n}: key 'expected': {exp!r} is not a mark in the marks file")
        kind = case.get("kind", "enterprise")
        if kind not in KINDS:
            raise EvaluationError(f"{p}:{n}: key 'kind': {kind!r} is not one of {', '.join(sorted(KINDS))}")
        classes = case.get("classes") or []
        if not isinstance(classes, list) or any(not isinstance(c, int) or not 1 <= c <= 45 for c in classes):
            raise EvaluationError(f"{p}:{n}: key 'classes': a list of Nice classes (1-45) is required")
        if split is not None:
            if case.get("split") not in SPLITS:
                raise EvaluationError(f"{p}:{n}: key 'split': {', '.join(SPLITS)} is required to filter by split")
            if case["split"] != split:
                continue
        cases.append(case)
    if not cases:
        raise EvaluationError(f"{p}: no cases" + (f" in split {split!r}" if split else ""))
    return cases


Predictor = Callable[[dict], str | None]


def _subject(case: dict) -> Subject:
    """A labelled case as the matcher sees it: the fields `markwatch match` reads (kind, seller,
    category — `category_hint` in the older sets —, uscc, industry, classes, groups, dates)."""
    groups = case.get("groups") or ()
    return Subject(
        text=case["text"],
        kind=case.get("kind", "enterprise"),
        seller=case.get("seller"),
        category=case.get("category_hint") or case.get("category_path"),
        uscc=case.get("uscc"),
        industry=case.get("industry"),
        classes=tuple(int(c) for c in case.get("classes") or ()),
        groups=tuple(str(g).zfill(4) for g in groups),
        founded=case.get("founded"),
        announced=case.get("announced"),
        applicant=case.get("applicant"),
    )


def matcher_predictor(marks: list[Mark], threshold: float, mode: str = "default") -> Predictor:
    m = Matcher(marks, threshold=threshold, mode=mode)

    def predict(case: dict) -> str | None:
        hits = m.screen(_subject(case))
        return hits[0].mark if hits else None

    return predict


def substring_predictor(marks: list[Mark]) -> Predictor:
    """Naive baseline 1: the mark or one of its aliases appears verbatim (case-insensitive)."""
    forms = [(m.name, [m.name.lower(), *(a.lower() for a in m.aliases)]) for m in marks]

    def predict(case: dict) -> str | None:
        text = case["text"].lower()
        for name, fs in forms:
            if any(f in text for f in fs):
                return name
        return None

    return predict


def fuzzy_predictor(marks: list[Mark], cutoff: float = 66) -> Predictor:
    """Naive baseline 2: rapidfuzz partial_ratio of a mark form against the text ≥ 66."""
    forms = [(m.name, [m.name, *m.aliases]) for m in marks]

    def predict(case: dict) -> str | None:
        best, best_score = None, cutoff
        for name, fs in forms:
            for f in fs:
                s = fuzz.partial_ratio(f.lower(), case["text"].lower(), score_cutoff=cutoff)
                if s >= best_score and (best is None or s > best_score):
                    best, best_score = name, s
        return best

    return predict


def _rates(c: Counter) -> dict[str, Any]:
    """Recall over the positives of a group and false-positive rate over its negatives; a group of
    only one sort reports only that sort's figure (the labelled sets' categories are pure)."""
    out: dict[str, Any] = {"n": c["pos"] + c["neg"]}
    if c["pos"]:
        out.update(found=c["found"], recall=round(c["found"] / c["pos"], 4))
    if c["neg"]:
        out.update(false_alarms=c["flagged"], false_positive_rate=round(c["flagged"] / c["neg"], 4))
    return out


def score(cases: Iterable[dict], predict: Predictor) -> dict[str, Any]:
    tp = fp = fn = tn = wrong = 0
    per_cat: dict[str, Counter] = defaultdict(Counter)
    per_kind: dict[str, Counter] = defaultdict(Counter)
    per_outcome: dict[str, Counter] = defaultdict(Counter)  # the corpus's `outcome` (prior_use, coexistence…)
    misses, false_alarms = [], []
    for case in cases:
        exp = case.get("expected")
        got = predict(case)
        cat = case.get("category", "?")
        groups: tuple[Counter, ...] = (per_cat[cat], per_kind[case.get("kind", "enterprise")])
        if isinstance(case.get("outcome"), str):
            groups += (per_outcome[case["outcome"]],)
        for g in groups:
            g["neg" if exp is None else "pos"] += 1
        if exp is None:
            if got is None:
                tn += 1
            else:
                fp += 1
                for g in groups:
                    g["flagged"] += 1
                false_alarms.append(
                    {
                        "id": case.get("id"),
                        "text": case["text"],
                        "got": got,
                        "category": cat,
                        "outcome": case.get("outcome"),
                    }
                )
        elif got == exp:
            tp += 1
            for g in groups:
                g["found"] += 1
        else:
            fn += 1
            if got is not None:
                wrong += 1
            misses.append({"id": case.get("id"), "text": case["text"], "expected": exp, "got": got, "category": cat})
    positives, negatives = tp + fn, tn + fp
    flagged = tp + fp + wrong
    return {
        "cases": positives + negatives,
        "positives": positives,
        "negatives": negatives,
        "true_positives": tp,
        "false_positives": fp,
        "wrong_mark": wrong,
        "precision": round(tp / flagged, 4) if flagged else 0.0,
        "recall": round(tp / positives, 4) if positives else 0.0,
        "false_positive_rate": round(fp / negatives, 4) if negatives else 0.0,
        "categories": {cat: _rates(c) for cat, c in sorted(per_cat.items())},
        "kinds": {kind: _rates(c) for kind, c in sorted(per_kind.items())},
        "outcomes": {o: _rates(c) for o, c in sorted(per_outcome.items())},
        "misses": misses,
        "false_alarms": false_alarms,
    }


def run_evaluation(
    marks: list[Mark], cases: list[dict], threshold: float = 0.6, mode: str = "default", split: str | None = None
) -> dict[str, Any]:
    return {
        "threshold": threshold,
        "mode": mode,
        "split": split,
        "compiled": matcher.IMPLEMENTATION == "compiled",
        "matcher": score(cases, matcher_predictor(marks, threshold, mode)),
        "baseline_substring": score(cases, substring_predictor(marks)),
        "baseline_partial_ratio_66": score(cases, fuzzy_predictor(marks)),
    }


def print_report(report: dict[str, Any], console: Console) -> None:
    path = "compiled fast path" if report.get("compiled") else "pure Python"
    part = f", split {report['split']}" if report.get("split") else ""
    summary = Table(title=f"Evaluation (threshold {report['threshold']}{part}, matcher: {path})")
    for col in ("system", "precision", "recall", "false-positive rate", "TP", "FP", "wrong mark", "cases"):
        summary.add_column(col, justify="right" if col != "system" else "left")
    for key, label in (
        ("matcher", "markwatch matcher"),
        ("baseline_substring", "baseline: substring"),
        ("baseline_partial_ratio_66", "baseline: partial_ratio ≥ 66"),
    ):
        r = report[key]
        summary.add_row(
            label,
            f"{r['precision']:.3f}",
            f"{r['recall']:.3f}",
            f"{r['false_positive_rate']:.3f}",
            str(r["true_positives"]),
            str(r["false_positives"]),
            str(r["wrong_mark"]),
            str(r["cases"]),
        )
    console.print(summary)
    cats = Table(title="Per category (matcher vs substring vs partial_ratio)")
    for col in ("category", "n", "matcher", "substring", "partial_ratio"):
        cats.add_column(col)
    m, b1, b2 = (report[k]["categories"] for k in ("matcher", "baseline_substring", "baseline_partial_ratio_66"))

    def fmt(c: dict) -> str:
        parts = []
        if "recall" in c:
            parts.append(f"recall {c['recall']:.2f}")
        if "false_positive_rate" in c:
            parts.append(f"FPR {c['false_positive_rate']:.2f}")
        return ", ".join(parts)

    for cat in m:
        cats.add_row(cat, str(m[cat]["n"]), fmt(m[cat]), fmt(b1[cat]), fmt(b2[cat]))
    console.print(cats)
    mk, k1, k2 = (report[k]["kinds"] for k in ("matcher", "baseline_substring", "baseline_partial_ratio_66"))
    if len(mk) > 1:
        kinds = Table(title="Per subject kind (matcher vs substring vs partial_ratio)")
        for col in ("kind", "n", "matcher", "substring", "partial_ratio"):
            kinds.add_column(col)
        for kind in mk:
            kinds.add_row(kind, str(mk[kind]["n"]), fmt(mk[kind]), fmt(k1[kind]), fmt(k2[kind]))
        console.print(kinds)
    mo = report["matcher"].get("outcomes") or {}
    if len(mo) > 1:
        # why a lawful look-alike is lawful (the real-case corpus): which of them the matcher flags
        outcomes = Table(title="Per outcome (matcher)")
        for col in ("outcome", "n", "matcher"):
            outcomes.add_column(col)
        for o, c in mo.items():
            outcomes.add_row(o, str(c["n"]), fmt(c))
        console.print(outcomes)
    r = report["matcher"]
    if r["misses"]:
        t = Table(title=f"Misses ({len(r['misses'])})")
        for col in ("id", "category", "text", "expected", "got"):
            t.add_column(col)
        for x in r["misses"]:
            t.add_row(str(x["id"]), x["category"], escape(x["text"]), x["expected"], str(x["got"]))
        console.print(t)
    if r["false_alarms"]:
        t = Table(title=f"False alarms ({len(r['false_alarms'])})")
        for col in ("id", "category", "text", "flagged as"):
            t.add_column(col)
        for x in r["false_alarms"]:
            t.add_row(str(x["id"]), x["category"], escape(x["text"]), x["got"])
        console.print(t)
