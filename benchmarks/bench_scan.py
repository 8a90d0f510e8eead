"""A scan of the whole demo world end to end, timed, split by stage (run by hand).

    .venv/bin/python benchmarks/bench_scan.py [--companies 5000 --listings 5000 --days 60]

Every shipped source (registry search, daily GBK pages, JSON API, provider JSONL and CSV; market
search, JSON API and full browse) through `markwatch scan` (crawl → screen → store → notify, run
log, lock), against a fresh demo world in its own process (captcha off, 500s and slow pages on).
Baseline in the same run: the same sources crawled bare (`python -m crawler.run`, ITEM_PIPELINES
= {}, no store, no notify), so the stage split can be read against what fetching alone costs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKS = ROOT / "markwatch" / "demo" / "marks.yaml"
SOURCES = [
    "demo-registry",
    "demo-registry-api",
    "demo-registry-daily",
    "demo-provider-jsonl",
    "demo-provider-csv",
    "demo-market",
    "demo-market-api",
    "demo-market-browse",
]


def serve(a) -> tuple[subprocess.Popen, str]:
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crawler.demo.server",
            "--port",
            "0",
            "--today",
            a.today,
            "--companies",
            str(a.companies),
            "--listings",
            str(a.listings),
            "--burst-limit",
            "",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    return p, p.stdout.readline().strip()


def bare(url: str, a) -> tuple[float, int]:
    cmd = [
        sys.executable,
        "-m",
        "crawler.run",
        *SOURCES,
        "--base-url",
        url,
        "--date",
        a.today,
        "--days",
        str(a.days),
        "--loopback",
        "--marks",
        str(MARKS),
        "--set",
        "ITEM_PIPELINES={}",
    ]
    t = time.perf_counter()
    stats = json.loads(subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    return time.perf_counter() - t, sum(s["pages"] for s in stats)


def full(url: str, a, work: Path) -> tuple[float, dict]:
    cfg = work / "markwatch.toml"
    cfg.write_text(
        f'[marks]\npath = "{MARKS}"\n[store]\nsqlite_path = "{work}/alerts.sqlite"\n'
        f'[notify]\noutbox_dir = "{work}/outbox"\n[scan]\nsources = {json.dumps(SOURCES)}\n'
        f'state_dir = "{work}/state"\nbase_url = "{url}"\ndays = {a.days}\nloopback = true\n',
        encoding="utf-8",
    )
    t = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "markwatch", "scan", "--config", str(cfg), "--date", a.today, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t
    if p.returncode not in (0, 1):
        raise SystemExit(p.stderr[-2000:])
    return wall, json.loads(p.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--companies", type=int, default=5000)
    ap.add_argument("--listings", type=int, default=5000)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--today", default="2025-06-30")
    a = ap.parse_args()
    print(f"demo world: {a.companies} companies, {a.listings} listings, {a.days} feed days, {len(SOURCES)} sources")
    server, url = serve(a)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            wall, rep = full(url, a, Path(tmp))
    finally:
        server.terminate()
        server.wait(10)
    server, url = serve(a)
    try:
        bare_wall, bare_pages = bare(url, a)
    finally:
        server.terminate()
        server.wait(10)
    tot = rep["totals"]
    print(
        f"markwatch scan: status {rep['status']}, {wall:.1f} s wall (process), {tot['pages']} pages, "
        f"{tot['items']} items, {tot['screened']} screened, {tot['hits']} hits, {tot['alerts_new']} new alerts, "
        f"{tot['emails_sent']} digests, {tot['degraded']} degraded"
    )
    st = rep["stages"]
    for k in ("setup", "crawl", "parse", "incremental", "screen", "store", "record", "notify"):
        print(f"  {k:<12} {st.get(k, 0.0):7.1f} s  {st.get(k, 0.0) / st['total']:6.1%}")
    print(f"  {'total':<12} {st['total']:7.1f} s")
    print(f"baseline, bare crawl of the same sources: {bare_wall:.1f} s wall, {bare_pages} pages")
    print(f"full scan / bare crawl: {wall / bare_wall:.2f}x")


if __name__ == "__main__":
    main()
