"""Append rows to the real-case corpus (tests/data/real_cases) and refresh its README counts.

Rows come from a JSON-lines sheet written by hand while reading published pages: the same fields as
``cases.jsonl`` without ``id`` and ``split``. This script gives each new row the next id and the part
the split rule gives its URL (sha256 of the URL, bucket < 60 of 100 is ``tune``), refuses a row whose
(text, mark) pair is already labelled, and rewrites the counts block of the README. Existing rows are
never touched, so ids and parts stay stable.

    python scripts/add_real_cases.py sheet.jsonl          # append and refresh counts
    python scripts/add_real_cases.py --counts-only        # refresh the README counts block only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "real_cases"
CASES = DATA / "cases.jsonl"
MARKS = DATA / "marks.yaml"
README = DATA / "README.md"
FIELDS = [
    "id",
    "kind",
    "text",
    "expected",
    "look_alike_of",
    "outcome",
    "category",
    "detail",
    "url",
    "source",
    "split",
    "classes",
    "industry",
    "founded",
    "founded_approx",
    "note",
]
START, END = "<!-- counts:start -->", "<!-- counts:end -->"
OUTCOME_ORDER = ["infringing", "ruled_not_similar", "coexistence", "other_lawful", "descriptive", "prior_use"]


def split_of(url: str) -> str:
    """The corpus's split rule (same as tests/test_real_cases_data.py)."""
    return "tune" if int(hashlib.sha256(url.encode("utf-8")).hexdigest(), 16) % 100 < 60 else "holdout"


def mark_of(row: dict) -> str:
    return row.get("expected") or row.get("look_alike_of") or ""


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def append(sheet: Path) -> int:
    rows = load(CASES)
    seen = {(r["text"], mark_of(r)) for r in rows}
    new = load(sheet)
    out: list[dict] = []
    for n, r in enumerate(new, 1):
        key = (r["text"], mark_of(r))
        if key in seen:
            raise SystemExit(f"sheet row {n}: {key} is already in the corpus")
        seen.add(key)
        r = dict(r, id=f"r{len(rows) + len(out) + 1:04d}", split=split_of(r["url"]))
        r.setdefault("detail", r["category"])
        for k in ("industry", "founded", "founded_approx"):
            r.setdefault(k, None)
        r.setdefault("classes", [])
        out.append({k: r.get(k) for k in FIELDS})
    with CASES.open("a", encoding="utf-8") as fh:
        for r in out:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(out)


def _table(title: str, key: str, rows: list[dict], order: list[str] | None = None) -> list[str]:
    total = Counter(r[key] for r in rows)
    names = order or [k for k, _ in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))]
    names = [k for k in names if total[k]] + sorted(k for k in total if k not in names)
    lines = [f"| {title} | tune | holdout | all |", "|---|---:|---:|---:|"]
    for k in names:
        t = sum(1 for r in rows if r[key] == k and r["split"] == "tune")
        h = sum(1 for r in rows if r[key] == k and r["split"] == "holdout")
        lines.append(f"| {k} | {t} | {h} | {t + h} |")
    t = sum(1 for r in rows if r["split"] == "tune")
    lines.append(f"| **all** | {t} | {len(rows) - t} | {len(rows)} |")
    return lines


def counts_block(rows: list[dict]) -> str:
    from urllib.parse import urlsplit

    urls = {r["url"] for r in rows}
    sites = {(urlsplit(u).hostname or "").removeprefix("www.") for u in urls}
    marks = {mark_of(r) for r in rows}
    tune_urls = {r["url"] for r in rows if r["split"] == "tune"}
    tune = sum(1 for r in rows if r["split"] == "tune")
    head = (
        f"{len(rows)} rows from {len(urls)} pages on {len(sites)} sites, naming {len(marks)} marks; "
        f"{len(tune_urls)} pages ({tune} rows) are in the tuning part, "
        f"{len(urls) - len(tune_urls)} pages ({len(rows) - tune} rows) held out."
    )
    parts = [
        head,
        "",
        *_table("kind", "kind", rows),
        "",
        *_table("outcome", "outcome", rows, OUTCOME_ORDER),
        "",
        *_table("category", "category", rows),
    ]
    return "\n".join(parts)


def refresh_readme() -> None:
    text = README.read_text(encoding="utf-8")
    a, b = text.index(START) + len(START), text.index(END)
    README.write_text(text[:a] + "\n" + counts_block(load(CASES)) + "\n" + text[b:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sheet", nargs="?", type=Path, help="JSON-lines rows to append")
    ap.add_argument("--counts-only", action="store_true", help="only refresh the README counts block")
    args = ap.parse_args(argv)
    if not args.counts_only:
        if args.sheet is None:
            ap.error("a sheet is needed unless --counts-only")
        print(f"appended {append(args.sheet)} rows", file=sys.stderr)
    refresh_readme()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
