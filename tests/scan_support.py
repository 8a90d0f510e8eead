"""Helpers for the scan, schedule and redis tests: a config file in tmp, the CLI in a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKS = ROOT / "markwatch" / "demo" / "marks.yaml"
TODAY = "2025-06-30"


def write_config(tmp: Path, url: str, sources: list[str], extra: str = "", days: int = 3) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = tmp / "markwatch.toml"
    cfg.write_text(
        f"""
[marks]
path = "{MARKS}"
[store]
sqlite_path = "{tmp}/var/alerts.sqlite"
[notify]
outbox_dir = "{tmp}/var/outbox"
[scan]
sources = {json.dumps(sources)}
state_dir = "{tmp}/var/state"
base_url = "{url}"
days = {days}
loopback = true
terms_per_mark = 1
{extra}
""",
        encoding="utf-8",
    )
    return cfg


def env(**kw: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("MARKWATCH_") or k == "MARKWATCH_ES_URL"}
    out["PYTHONWARNINGS"] = "ignore"
    out.update(kw)
    return out


def cli(*args: str, timeout: float = 180, **envs: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "markwatch", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env(**envs),
    )


def scan(cfg: Path, *args: str, timeout: float = 180, **envs: str) -> subprocess.CompletedProcess:
    return cli("scan", "--config", str(cfg), "--date", TODAY, *args, timeout=timeout, **envs)


def scan_json(cfg: Path, *args: str, **kw) -> tuple[int, dict]:
    p = scan(cfg, "--json", *args, **kw)
    assert p.returncode in (0, 1), p.stderr[-3000:]
    return p.returncode, json.loads(p.stdout)


def alert_ids(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [r[0] for r in con.execute("SELECT id FROM alerts")]
    finally:
        con.close()
