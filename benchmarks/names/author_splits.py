"""Enterprise-name parsing against the splits companynameparser's author wrote by hand.

    .venv/bin/python benchmarks/names/author_splits.py

tests/data/enterprise_names/custom_name_split.txt (Apache-2.0, see its header): 15 names with place, trade
name (brand) and industry as the author split them. Names that are also in the gold set (groundtruth.txt)
are left out, so this check shares nothing with run.py's tune or held-out parts. Small, but labelled by
someone other than us, and rich in the hard shapes (towns and zones, names without a form).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from matcher.enterprise import parse  # noqa: E402

DATA = ROOT / "tests" / "data" / "enterprise_names"


def rows() -> list[tuple[str, str, str]]:
    """(name, place, trade name) for the author's rows whose name is not in the gold set."""
    gold = {
        line.split()[0]
        for line in (DATA / "groundtruth.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    out = []
    for line in (DATA / "custom_name_split.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split(" ")
        if fields[0] not in gold:
            out.append((fields[0], fields[1], fields[2]))
    return out


def main() -> None:
    data = rows()
    trade = place = 0
    for name, gold_place, gold_trade in data:
        p = parse(name)
        trade += p.trade_name == gold_trade
        place += p.region == gold_place
        if p.trade_name != gold_trade:
            print(f"{name}\tgold={gold_trade}\tgot={p.trade_name}\tregion={p.region}")
    n = len(data)
    print(f"author splits: names={n} trade_name={trade}/{n} ({trade / n:.3f}) region={place}/{n} ({place / n:.3f})")


if __name__ == "__main__":
    main()
