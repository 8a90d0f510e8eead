"""Dump every hit the matcher gives on a fixed corpus, so that a speed change can be
checked to change nothing: run before and after, then `cmp` the two files.

    .venv/bin/python scripts/golden_hits.py OUT.jsonl [--names 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_matcher as bench  # noqa: E402

from matcher import Matcher, Subject  # noqa: E402
from matcher.marksfile import load_marks  # noqa: E402


def dump(m: Matcher, subjects: list[Subject], out) -> None:
    for s in subjects:
        hits = m.screen(s)
        out.write(json.dumps({"text": s.text, "hits": [h.to_dict() for h in hits]}, ensure_ascii=False) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--names", type=int, default=100_000)
    args = ap.parse_args()
    with open(args.out, "w", encoding="utf-8") as out:
        marks = load_marks(ROOT / "markwatch/demo/marks.yaml")
        m = Matcher(marks)
        cases = []
        for f in ("eval_cases.jsonl", "holdout_cases.jsonl"):
            for line in (ROOT / "tests/data" / f).read_text(encoding="utf-8").splitlines():
                c = json.loads(line)
                cases.append(
                    Subject(text=c["text"], kind=c["kind"], seller=c.get("seller"), category=c.get("category_hint"))
                )
        demo = [
            Subject(text=t, kind="enterprise")
            for t in (ROOT / "markwatch/demo/names.txt").read_text(encoding="utf-8").splitlines()
            if t.strip()
        ]
        dump(m, cases + demo, out)
        rng = random.Random(7)
        pool = bench.char_weights()
        bmarks = bench.make_marks(rng, 1000, pool)
        texts = bench.make_texts(rng, bmarks, args.names, pool)
        dump(Matcher(bmarks), [Subject(text=t, kind=k) for k, t in texts], out)


if __name__ == "__main__":
    main()
