"""Print the per-category counts of a cases file as the Markdown table kept in README.md.

Run `python tests/data/count_cases.py` after editing eval_cases.jsonl and paste the output between
the `counts:start` / `counts:end` markers; tests/test_eval_data.py fails while the two disagree.
`python tests/data/count_cases.py tests/data/holdout_cases.jsonl` prints the held-out set's table
(`holdout-counts` markers, checked by tests/test_holdout_data.py).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = HERE / "eval_cases.jsonl"


def load(path: Path = CASES) -> list[dict]:
    """Read the cases, one JSON object per non-blank line."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def table(rows: list[dict]) -> str:
    """The Markdown counts table: one row per category, positives first, then totals."""
    by_cat: Counter[str] = Counter()
    by_kind: Counter[tuple[str, str]] = Counter()
    for r in rows:
        by_cat[r["category"]] += 1
        by_kind[(r["category"], r["kind"])] += 1
    cats = sorted(by_cat, key=lambda c: (c.startswith("neg_"), c))
    lines = ["| category | expected | enterprise | listing | total |", "|---|---|---:|---:|---:|"]
    for c in cats:
        polarity = "null" if c.startswith("neg_") else "a mark"
        lines.append(f"| `{c}` | {polarity} | {by_kind[(c, 'enterprise')]} | {by_kind[(c, 'listing')]} | {by_cat[c]} |")
    pos = sum(1 for r in rows if r["expected"] is not None)
    ent = sum(1 for r in rows if r["kind"] == "enterprise")
    marks = len({r["expected"] for r in rows if r["expected"] is not None})
    lines.append(f"| **all** | {pos} positive / {len(rows) - pos} negative | {ent} | {len(rows) - ent} | {len(rows)} |")
    lines.append("")
    lines.append(f"Positives cover {marks} distinct marks.")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(load(Path(sys.argv[1]) if len(sys.argv) > 1 else CASES)))
