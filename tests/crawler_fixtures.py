"""Helpers for the crawler tests: a demo-world server in a thread, and crawls in a subprocess.

Crawls run in a subprocess because Twisted's reactor cannot be restarted in the
pytest process; the server runs in-process so tests can read its hit counters.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from crawler.demo.server import DemoServer, ServerConfig

ROOT = Path(__file__).resolve().parents[1]
MARKS = ROOT / "markwatch" / "demo" / "marks.yaml"
TODAY = dt.date(2025, 6, 30)


def small_world(**kw) -> ServerConfig:
    """A small, fast world (the seed case is always in it); hostile knobs as given."""
    base = dict(today=TODAY, companies=600, listings=600, slow_seconds=0.2)
    base.update(kw)
    return ServerConfig(**base)


def start_server(**kw) -> DemoServer:
    return DemoServer(small_world(**kw)).start()


def crawl_cmd(sources: list[str], url: str, tmp: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "crawler.run",
        *sources,
        "--base-url",
        url,
        "--marks",
        str(MARKS),
        "--store",
        str(tmp / "alerts.sqlite"),
        "--fingerprint-db",
        str(tmp / "fp.sqlite"),
        "--date",
        TODAY.isoformat(),
        "--loopback",
        *extra,
    ]


def run_crawl(sources: list[str], url: str, tmp: Path, *extra: str, timeout: float = 120) -> dict[str, dict]:
    """Run `python -m crawler.run` to the end; per-source stats by source name."""
    proc = subprocess.run(
        crawl_cmd(sources, url, tmp, *extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {d["source"]: d for d in json.loads(proc.stdout)}


def read_feed(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def feed_arg(path: Path) -> str:
    return "FEEDS=" + json.dumps({str(path): {"format": "jsonlines", "encoding": "utf-8"}})
