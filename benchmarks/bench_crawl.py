"""Crawl throughput with the whole pipeline vs. the same crawl with no pipelines (run by hand).

    .venv/bin/python benchmarks/bench_crawl.py [--companies 5000 --listings 5000] [--concurrency 8]

Starts the demo world in its own process on loopback (captcha off, so the
crawl is not cut short; 500s and slow pages on as usual), then crawls every
company (daily feed, 60 days, GBK list pages + detail pages) and every listing
(browse + item pages) twice: once bare (ITEM_PIPELINES = {}), once with
validate → normalise → seen → screen → alert → record into a fresh store.
Target: the pipeline run keeps ≥ 80% of the bare run's pages per second.
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
SOURCES = ["demo-registry-daily", "demo-market-browse"]


def crawl(url: str, today: str, work: Path, concurrency: int, pipeline: bool) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "crawler.run",
        *SOURCES,
        "--base-url",
        url,
        "--date",
        today,
        "--days",
        "60",
        "--loopback",
        "--set",
        f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
        "--set",
        f"CONCURRENT_REQUESTS={concurrency * 2}",
    ]
    if pipeline:
        cmd += [
            "--marks",
            str(MARKS),
            "--store",
            str(work / "alerts.sqlite"),
            "--fingerprint-db",
            str(work / "fp.sqlite"),
        ]
    else:
        cmd += ["--set", "ITEM_PIPELINES={}"]
    t = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - t
    stats = json.loads(out)
    pages = sum(s["pages"] for s in stats)
    crawl_s = max(s["elapsed_seconds"] for s in stats)
    return {
        "pages": pages,
        "items": sum(s["items"] for s in stats),
        "hits": sum(s["hits"] for s in stats),
        "alerts": sum(s["alerts_new"] for s in stats),
        "crawl_s": crawl_s,
        "wall_s": wall,
        "pps": pages / crawl_s if crawl_s else 0.0,
    }


def serve(a) -> tuple[subprocess.Popen, str]:
    """A fresh server per run, so both runs meet the same 500s and slow pages."""
    server = subprocess.Popen(
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
    return server, server.stdout.readline().strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--companies", type=int, default=5000)
    ap.add_argument("--listings", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--today", default="2025-06-30")
    a = ap.parse_args()
    print(f"demo world: {a.companies} companies, {a.listings} listings; concurrency {a.concurrency}")
    results = {}
    for name, pipeline in (("bare", False), ("pipeline", True)):
        server, url = serve(a)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                results[name] = r = crawl(url, a.today, Path(tmp), a.concurrency, pipeline)
        finally:
            server.terminate()
            server.wait(10)
        print(
            f"{name:>8}: {r['pages']} pages, {r['items']} items, {r['hits']} hits, "
            f"{r['alerts']} alerts in {r['crawl_s']:.1f} s → {r['pps']:.1f} pages/s"
        )
    ratio = results["pipeline"]["pps"] / results["bare"]["pps"]
    print(f"pipeline keeps {ratio:.0%} of the bare crawl's rate (target ≥ 80%)")


if __name__ == "__main__":
    main()
