"""Enterprise-name parsing against companynameparser's gold trade names (tests/data/enterprise_names).

    .venv/bin/python benchmarks/names/run.py [--split tune|holdout|all] [--show]

The gold file gives only the trade name (字号); region, industry and form are scored against what the
gold implies: the text before the gold trade name is the region (with any town or zone), the text after
it is industry + organisation form + branch. A name whose gold trade name occurs other than once is
scored on the trade name alone.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matcher.enterprise import parse

GOLD = Path(__file__).resolve().parents[2] / "tests" / "data" / "enterprise_names" / "groundtruth.txt"


def rows(split: str) -> list[tuple[str, str]]:
    """(name, gold trade name) of the chosen split: odd data lines tune, even lines are held out."""
    out = []
    data = [line.split() for line in GOLD.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    for k, terms in enumerate(data, start=1):
        if len(terms) != 2:
            continue
        part = "tune" if k % 2 else "holdout"
        if split in ("all", part):
            out.append((terms[0], terms[1]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="all", choices=["tune", "holdout", "all"])
    ap.add_argument("--show", action="store_true", help="print each wrong trade name")
    args = ap.parse_args()
    data = rows(args.split)
    trade = region = rest = scored = 0
    for name, gold in data:
        p = parse(name)
        ok = p.trade_name == gold
        trade += ok
        if name.count(gold) == 1:
            scored += 1
            before, after = name.split(gold)
            region += (p.region + p.bracket_region) == before if not p.bracket_region else p.region == before
            rest += (p.industry + p.form + p.branch) == after.replace(
                p.bracket_region and f"（{p.bracket_region}）", ""
            )
        if not ok and args.show:
            print(f"{name}\tgold={gold}\tgot={p.trade_name}\t{p.region}|{p.industry}|{p.form}|{p.branch}")
    n = len(data)
    print(f"split={args.split} names={n} trade_name={trade}/{n} ({trade / n:.3f})")
    print(f"  region (text before the gold trade name) {region}/{scored} ({region / scored:.3f})")
    print(f"  industry+form+branch (text after it) {rest}/{scored} ({rest / scored:.3f})")


if __name__ == "__main__":
    main()
