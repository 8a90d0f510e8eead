"""Fit the matcher's score calibration offline and write matcher/data/calibration.tsv.

A score says how close a name is to a mark; an analyst needs "of alerts scored
like this, what share was worth it". This fits an isotonic (monotone,
pool-adjacent-violators) map from the best hit's score to the share of such
hits that were right, separately for hits whose subject shows the mark's field
(or a well-known mark crossing classes: reason `same_field` or
`well_known_cross_class`) and hits where nothing shows the field, on the
labelled sets:

- tests/data/eval_cases.jsonl and tests/data/holdout_cases.jsonl: a hit is right
  when its mark is the expected one;
- benchmarks/noise/labels.tsv: a flag on a real name is right when labelled worth
  a look; flags on the mark owner's own companies are left out (a whitelist by
  name or USCC removes them in real use);
- the tuning part (split = tune) of the real-case corpus (tests/data/real_cases/,
  with its own marks file), never its untouched part.

Screened in `review` mode (threshold 0.3), so that the graded evidence (a first
or two characters changed, a sound-alike in another field, prior use: reason
codes in GRADED_CODES) gets a group of its own and hits under the default
threshold are calibrated too.

    .venv/bin/python scripts/calibrate.py [--write] [--corpus CASES --corpus-marks MARKS]

Prints the reliability table (per score bin: hits, mean score, share right,
mean calibrated probability) for each set. The labelled sets hold far more
imitations than a nightly scan does, so the probabilities are the share among
*labelled* hits, not a base rate of the field.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matcher import Matcher, Subject  # noqa: E402
from matcher.calibration import FIELD, GRADED, GROUPS, NO_FIELD, TABLE_PATH, Calibration  # noqa: E402
from matcher.marksfile import load_marks  # noqa: E402
from matcher.screen import GRADED_CODES  # noqa: E402  (the codes that mark graded evidence)

BINS = (0.3, 0.45, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.01)
CORPUS = ROOT / "tests/data/real_cases/cases.jsonl"

Point = tuple[float, int, str]  # score, right (1) or not, evidence group


def group_of(codes: tuple[str, ...] | list[str]) -> str:
    if "prior_use_possible" in codes or GRADED_CODES.intersection(codes):
        return GRADED
    return FIELD if "same_field" in codes or "well_known_cross_class" in codes else NO_FIELD


def case_points(m: Matcher, path: Path, split: str | None = None) -> list[Point]:
    from markwatch.services.evaluate import _subject

    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        c = json.loads(line)
        if split is not None and c.get("split") != split:
            continue
        hits = m.screen(_subject(c))
        if hits:
            out.append((hits[0].score, int(hits[0].mark == c.get("expected")), group_of(hits[0].codes)))
    return out


def noise_points(m: Matcher, path: Path) -> list[Point]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0].startswith("#") or row[3].startswith("owner:"):
                continue
            for h in m.screen(Subject(row[0])):
                if h.mark == row[1]:
                    out.append((h.score, int(row[2] == "yes"), group_of(h.codes)))
    return out


def isotonic(points: list[tuple[float, int]]) -> list[tuple[float, float, int]]:
    """Pool adjacent violators: [(lowest score of the block, share right, hits)], increasing."""
    blocks: list[list[float]] = []  # [low score, sum y, n]
    ties: dict[float, list[int]] = {}
    for score, y in points:
        ties.setdefault(score, []).append(y)  # equal scores are one point: pooled first
    for score in sorted(ties):
        ys = ties[score]
        blocks.append([score, float(sum(ys)), float(len(ys))])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            low, s, n = blocks.pop()
            blocks[-1][1] += s
            blocks[-1][2] += n
    return [(b[0], b[1] / b[2], int(b[2])) for b in blocks]


def reliability(name: str, points: list[Point], cals: dict[str, Calibration]) -> None:
    print(f"\n{name}: {len(points)} hits")
    print("| evidence | score | hits | mean score | share right | mean calibrated |")
    print("| --- | --- | --- | --- | --- | --- |")
    for group in GROUPS:
        for lo, hi in zip(BINS, BINS[1:], strict=False):
            sel = [(s, y) for s, y, g in points if g == group and lo <= s < hi]
            if not sel:
                continue
            ms = sum(s for s, _ in sel) / len(sel)
            share = sum(y for _, y in sel) / len(sel)
            mc = sum(cals[group].probability(s) for s, _ in sel) / len(sel)
            label = f"{lo:.2f}–{min(hi, 1.0):.2f}"
            print(f"| {group} | {label} | {len(sel)} | {ms:.3f} | {share:.3f} | {mc:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"write {TABLE_PATH.relative_to(ROOT)}")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="real-case corpus (its tune split is used)")
    ap.add_argument("--corpus-marks", type=Path, default=None, help="its marks file (default: marks.yaml beside it)")
    args = ap.parse_args()
    m = Matcher(load_marks(ROOT / "markwatch/demo/marks.yaml"), mode="review")
    sets = {
        "tuning (eval_cases)": case_points(m, ROOT / "tests/data/eval_cases.jsonl"),
        "held-out (holdout_cases)": case_points(m, ROOT / "tests/data/holdout_cases.jsonl"),
        "real names (benchmarks/noise, owners left out)": noise_points(m, ROOT / "benchmarks/noise/labels.tsv"),
    }
    if args.corpus.exists():
        cm = Matcher(load_marks(args.corpus_marks or args.corpus.with_name("marks.yaml")), mode="review")
        sets["real cases, tune split"] = case_points(cm, args.corpus, split="tune")
    allpts = [p for pts in sets.values() for p in pts]
    # Add-one (Laplace) on each block: 372 right of 372 reads 0.997, not certainty.
    tables = {
        g: [(lo, (p * n + 1) / (n + 2), n) for lo, p, n in isotonic([(s, y) for s, y, pg in allpts if pg == g])]
        for g in GROUPS
    }
    cals = {g: Calibration(tuple((lo, p) for lo, p, _ in t)) for g, t in tables.items()}
    print("isotonic blocks (evidence, lowest score, share right, hits):")
    for g, table in tables.items():
        for lo, p, n in table:
            print(f"  {g}\t{lo:.4f}\t{p:.4f}\t{n}")
    for name, pts in sets.items():
        reliability(name, pts, cals)
    if args.write:
        with TABLE_PATH.open("w", encoding="utf-8") as fh:
            fh.write(
                "# evidence\tscore_from\tprobability\thits  "
                "(scripts/calibrate.py: isotonic fit per evidence group on the labelled sets)\n"
            )
            for g, table in tables.items():
                for lo, p, n in table:
                    fh.write(f"{g}\t{lo:.4f}\t{p:.4f}\t{n}\n")
        print(f"\nwrote {TABLE_PATH}")


if __name__ == "__main__":
    main()
