"""Helpers for the hostile-world tests: a config naming the hostile sites' source files, scans in subprocesses."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from scan_support import MARKS, ROOT, env

from crawler.demo.hostile import source_yaml


def hostile_config(
    tmp: Path,
    sites: dict[str, str],
    *,
    extra: str = "",
    notify: str = "",
    scan_extra: str = "",
    max_pages: int = 5,
) -> Path:
    """A markwatch.toml scanning one source per {fault: base_url}; source files in tmp/sources."""
    (tmp / "sources").mkdir(parents=True, exist_ok=True)
    names = []
    for fault, base in sites.items():
        name = f"hostile-{fault}"
        (tmp / "sources" / f"{name}.yaml").write_text(source_yaml(fault, base, name, max_pages), encoding="utf-8")
        names.append(name)
    cfg = tmp / "markwatch.toml"
    cfg.write_text(
        f"""
[marks]
path = "{MARKS}"
[store]
sqlite_path = "{tmp}/var/alerts.sqlite"
{extra}
[notify]
outbox_dir = "{tmp}/var/outbox"
{notify}
[scan]
sources = {json.dumps(names)}
sources_dirs = ["{tmp}/sources"]
state_dir = "{tmp}/var/state"
loopback = true
metrics_file = "{tmp}/var/metrics/markwatch.prom"
{scan_extra}
""",
        encoding="utf-8",
    )
    return cfg


# The scan runs as the child of a small wrapper, so its peak RSS (getrusage of the wrapper's
# children) is the scan's alone, not the test process's nor an earlier scan's.
MEASURED = """
import resource, subprocess, sys
p = subprocess.run([sys.executable, "-m", "markwatch", "scan", "--config", sys.argv[1], "--json"],
                   capture_output=True, text=True)
sys.stdout.write(p.stdout)
sys.stderr.write(p.stderr)
sys.stderr.write("\\nPEAK_RSS_KB %d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(p.returncode)
"""


def run_scan(cfg: Path, *, timeout: float = 240, **envs: str) -> tuple[int, dict, str]:
    """`markwatch scan --json` in a subprocess: exit code, report (plus its peak RSS in MB), stderr."""
    p = subprocess.run(
        [sys.executable, "-c", MEASURED, str(cfg)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env(**envs),
    )
    assert p.returncode in (0, 1), p.stderr[-3000:]
    err, _, peak = p.stderr.rpartition("\nPEAK_RSS_KB ")
    report = json.loads(p.stdout)
    report["peak_rss_mb"] = round(int(peak) / 1024)
    return p.returncode, report, err


def last_run(cfg: Path) -> tuple[int, dict]:
    """`markwatch runs --last --format json`: exit code and the run record."""
    p = subprocess.run(
        [sys.executable, "-m", "markwatch", "runs", "--config", str(cfg), "--last", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env(),
    )
    assert p.returncode in (0, 1), p.stderr[-3000:]
    return p.returncode, json.loads(p.stdout)


def by_source(report: dict) -> dict[str, dict]:
    return {s["source"]: s for s in report["sources"]}


def alerts_in(tmp: Path) -> list[tuple[str, str]]:
    """(id, subject_key) of every stored alert."""
    con = sqlite3.connect(tmp / "var" / "alerts.sqlite")
    try:
        return [(r[0], json.loads(r[1])["subject_key"]) for r in con.execute("SELECT id, doc FROM alerts")]
    finally:
        con.close()
