"""Helpers for the source tests (tests/test_sources_*.py): a marks file and a markwatch.toml in tmp, the alerts stored.

One writer for every source test's config, so a new [scan] key or store path is changed in one place.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

ONE_MARK = "marks:\n  - name: 一正\n    owner: 吉林一正药业集团有限公司\n    classes: [5]\n    industries: [医药]\n"


def source_config(
    tmp: Path,
    marks: str,
    *,
    url: str | None = None,
    sources: list[str] | None = None,
    sources_dir: bool = False,
    notify: bool = True,
    extra: str = "",
) -> Path:
    """tmp/marks.yaml (*marks*) and tmp/markwatch.toml scanning on loopback with every file under tmp/var.

    *sources*: `[scan] sources` (None: not set); *sources_dir*: tmp/sources holds extra source files;
    *notify*: digests to the .eml outbox, else none; *extra*: more `[scan]` lines.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "marks.yaml").write_text(marks, encoding="utf-8")
    scan = [f'state_dir = "{tmp}/var/state"', "loopback = true"]
    if sources is not None:
        scan.append(f"sources = {json.dumps(sources)}")
    if sources_dir:
        scan.append(f'sources_dirs = ["{tmp}/sources"]')
    if url is not None:
        scan.append(f'base_url = "{url}"')
    mail = f'outbox_dir = "{tmp}/var/outbox"' if notify else "enabled = false"
    cfg = tmp / "markwatch.toml"
    cfg.write_text(
        f'[marks]\npath = "{tmp}/marks.yaml"\n[store]\nsqlite_path = "{tmp}/var/alerts.sqlite"\n'
        f"[notify]\n{mail}\n[scan]\n" + "\n".join(scan) + f"\n{extra}\n",
        encoding="utf-8",
    )
    return cfg


def stored_alerts(tmp: Path) -> list[dict]:
    """Every alert document the scan stored under tmp/var."""
    con = sqlite3.connect(tmp / "var" / "alerts.sqlite")
    try:
        return [json.loads(r[0]) for r in con.execute("SELECT doc FROM alerts")]
    finally:
        con.close()
