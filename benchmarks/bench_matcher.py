"""Matcher throughput on one core, against the naive baseline, in one run.

Generates 1,000 marks and 1,000,000 enterprise names and listing titles (a
realistic mix, ~3 % imitations), screens them all, and reports names per
second of CPU time (so that load on the other core does not count), peak RSS
and the ratio to the naive baseline (rapidfuzz partial_ratio of each text
against every mark form), measured on a sample in the same run.

    .venv/bin/python benchmarks/bench_matcher.py [--names 1000000] [--marks 1000] [--sample 2000]

Run by hand; targets: ≥ 100,000 names/s, ≥ 30× the baseline, < 1 GB RSS.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time

from rapidfuzz import fuzz

import matcher
from matcher import Mark, Matcher, Subject
from matcher.resources import lookalikes, regions


def char_weights() -> tuple[list[str], list[float]]:
    """Common characters weighted by how often they occur in jieba's dictionary words,
    so that generated trade names collide with marks about as often as real ones."""
    from collections import Counter
    from importlib.resources import files

    freq: Counter[str] = Counter()
    with files("jieba").joinpath("dict.txt").open(encoding="utf-8") as fh:
        for line in fh:
            word, f, *_ = line.split()
            for c in word:
                if "\u4e00" <= c <= "\u9fff":
                    freq[c] += int(f)
    chars = [c for c, _ in freq.most_common(3000)]
    return chars, [freq[c] ** 0.5 for c in chars]


INDUSTRIES = [
    "科技",
    "贸易",
    "食品",
    "医药",
    "电器",
    "服饰",
    "餐饮管理",
    "建材",
    "物流",
    "文化传播",
    "酒业",
    "饮品",
    "日化",
    "电子",
    "机械设备",
    "农业",
    "小家电",
    "鞋业",
    "体育用品",
    "调味品",
]
FORMS = ["有限公司", "有限责任公司", "股份有限公司", "商行", "经营部", "店", "合伙企业（有限合伙）"]
PRODUCTS = [
    "豆浆机",
    "运动鞋",
    "辣条",
    "矿泉水",
    "洗衣液",
    "手机壳",
    "白酒",
    "炒锅",
    "面条",
    "牛奶",
    "空调",
    "感冒灵颗粒",
    "充电器",
    "卫衣",
    "茶叶",
]
CUES = ["高仿", "原单", "同款", "", "", "", "", "", "", ""]


def trade_name(rng: random.Random, pool: tuple[list[str], list[float]], length: int) -> str:
    return "".join(rng.choices(pool[0], weights=pool[1], k=length))


def make_marks(rng: random.Random, n: int, pool: tuple[list[str], list[float]]) -> list[Mark]:
    names: set[str] = set()
    while len(names) < n:
        names.add(trade_name(rng, pool, rng.choice((2, 2, 3, 3, 4))))
    out = []
    for i, name in enumerate(sorted(names)):
        out.append(
            Mark(
                name=name,
                owner=f"{name}集团有限公司",
                well_known=rng.random() < 0.3,
                classes=rng.sample(range(1, 46), 2),
                whitelist=[f"{name}集团有限公司"],
                aliases=[f"BRAND{i:04d}"] if rng.random() < 0.2 else [],
            )
        )
    return out


def imitate(rng: random.Random, name: str) -> str:
    la = lookalikes()
    k = rng.randrange(len(name))
    trick = rng.random()
    if trick < 0.3 and la.get(name[k]):
        return name[:k] + rng.choice(list(la[name[k]])) + name[k + 1 :]
    if trick < 0.5:
        return name[:k] + "\u200b" + name[k:]
    if trick < 0.7:
        return "新" + name
    return name


def make_texts(
    rng: random.Random, marks: list[Mark], n: int, pool: tuple[list[str], list[float]]
) -> list[tuple[str, str]]:
    region_list = sorted(r for r in regions() if 2 <= len(r) <= 4)
    out = []
    for _ in range(n):
        if rng.random() < 0.03:
            trade = imitate(rng, rng.choice(marks).name)
        else:
            trade = trade_name(rng, pool, rng.choice((2, 3, 4)))
        if rng.random() < 0.6:
            out.append(("enterprise", rng.choice(region_list) + trade + rng.choice(INDUSTRIES) + rng.choice(FORMS)))
        else:
            out.append(("listing", f"{trade}{rng.choice(PRODUCTS)} {rng.choice(CUES)} {rng.randint(1, 999)}ml 包邮"))
    return out


def naive(marks: list[Mark], texts: list[tuple[str, str]]) -> float:
    forms = [f for m in marks for f in (m.name, *m.aliases)]
    t = time.process_time()
    for _kind, text in texts:
        for f in forms:
            if fuzz.partial_ratio(f, text, score_cutoff=66):
                break
    return len(texts) / (time.process_time() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--names", type=int, default=1_000_000)
    ap.add_argument("--marks", type=int, default=1000)
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    rng = random.Random(args.seed)
    pool = char_weights()
    marks = make_marks(rng, args.marks, pool)
    t0 = time.perf_counter()
    m = Matcher(marks)
    build = time.perf_counter() - t0
    texts = make_texts(rng, marks, args.names, pool)
    subjects = [Subject(text=t, kind=k) for k, t in texts]
    screen = m.screen
    hits = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for s in subjects:
        if screen(s):
            hits += 1
    wall, elapsed = time.perf_counter() - t0, time.process_time() - c0
    rate = len(subjects) / elapsed
    base = naive(marks, texts[: args.sample])
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"marks: {len(marks)}; index build {build:.2f} s")
    path = "compiled (matcher._accel, matcher._compiled)" if matcher.IMPLEMENTATION == "compiled" else "pure Python"
    print(f"matcher: {path}; MARKWATCH_MATCHER_IMPL=python|compiled chooses")
    print(
        f"screened {len(subjects):,} names in {elapsed:.1f} s of CPU ({wall:.1f} s wall): "
        f"{rate:,.0f} names/s on one core; flagged {hits:,}"
    )
    print(f"naive baseline (partial_ratio vs every mark form, {args.sample:,}-name sample): {base:,.0f} names/s")
    print(f"ratio: {rate / base:,.1f}x")
    print(f"peak RSS: {rss_mb:,.0f} MB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
