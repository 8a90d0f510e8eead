"""A whole gazette issue through `markwatch scan`: throughput and peak memory (run by hand).

    .venv/bin/python benchmarks/bench_gazette.py [--per-issue 50000] [--kill-after 20]

Serves one replayed issue of ``--per-issue`` applications on 127.0.0.1 (tests/gazette_replay.py),
scans it with the demo marks under GNU time (peak RSS of the scan process), and prints items/s,
the alerts found (in the mark's classes vs across classes) and the peak RSS. With ``--kill-after
S`` the first scan is killed with SIGKILL after S seconds and a second scan resumes it; the alerts
are then compared with an uninterrupted scan of the same issue.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from gazette_replay import GazetteServer  # noqa: E402


def _config(tmp: Path, url: str) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = tmp / "markwatch.toml"
    cfg.write_text(
        f'[marks]\npath = "{ROOT}/markwatch/demo/marks.yaml"\n[store]\nsqlite_path = "{tmp}/var/alerts.sqlite"\n'
        f'[notify]\nenabled = false\n[scan]\nsources = ["cnipa-gazette"]\nstate_dir = "{tmp}/var/state"\n'
        f'base_url = "{url}"\nloopback = true\ndays = 1\n',
        encoding="utf-8",
    )
    return cfg


def _scan(cfg: Path, kill_after: float | None = None) -> tuple[int, float, int]:
    """(exit code, seconds, peak RSS in KiB) of one scan."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "markwatch", "scan", "--config", str(cfg),
           "--date", "2026-11-06", "--json", "--no-progress"]  # fmt: skip
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                         start_new_session=True)  # fmt: skip
    try:
        out, err = p.communicate(timeout=kill_after)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
    took = time.perf_counter() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    return p.returncode, took, int(m.group(1)) if m else 0


def _mark_classes() -> dict[str, set[int]]:
    """Each demo mark's classes (declared and registered): "right classes" means the application shares one."""
    from matcher.marksfile import load_marks

    return {
        m.name: set(m.classes) | {r.class_ for r in m.registrations}
        for m in load_marks(ROOT / "markwatch" / "demo" / "marks.yaml")
    }


def _alerts(tmp: Path) -> set[tuple[str, str]]:
    db = tmp / "var" / "alerts.sqlite"
    if not db.exists():
        return set()
    con = sqlite3.connect(db)
    try:
        return {(json.loads(d)["entity"], m) for d, m in con.execute("SELECT doc, mark FROM alerts")}
    finally:
        con.close()


def _baseline(rows: list[dict], work: Path) -> tuple[float, int, int]:
    """The matcher alone on the same applications (`markwatch match`, one process): (seconds, peak RSS KiB,
    flagged). The scan's time over this is what crawling, storing and the evidence cost."""
    lines = work / "applications.jsonl"
    with lines.open("w", encoding="utf-8") as fh:
        for r in rows:
            classes = [int(c) for c in str(r["int_cls"]).split(",") if c.strip()]  # match takes a list
            line = {"kind": "trademark", "text": r["tm_name"], "classes": classes, "applicant": r["reg_name"]}
            fh.write(json.dumps({**line, "announced": r["ann_date"]}, ensure_ascii=False) + "\n")
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "markwatch", "match", "--marks",
           str(ROOT / "markwatch" / "demo" / "marks.yaml"), "--jobs", "1"]  # fmt: skip
    t0 = time.perf_counter()
    with lines.open("rb") as fh:
        p = subprocess.run(cmd, cwd=ROOT, stdin=fh, capture_output=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    took = time.perf_counter() - t0
    m = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    flagged = sum(1 for line in p.stdout.splitlines() if b'"flagged":true' in line)
    return took, int(m.group(1)) if m else 0, flagged


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-issue", type=int, default=50_000)
    ap.add_argument("--kill-after", type=float, default=None)
    a = ap.parse_args()
    issues = [("1963", "2026-11-06")]
    work = Path(tempfile.mkdtemp(prefix="bench-gazette-"))
    try:
        with GazetteServer(per_issue=a.per_issue, issues=issues) as srv:
            rc, took, rss = _scan(_config(work / "full", srv.url))
            full = _alerts(work / "full")
            print(f"uninterrupted: exit {rc}, {a.per_issue} applications in {took:.1f} s "
                  f"({a.per_issue / took:,.0f}/s, whole scan incl. start-up), peak RSS {rss / 1024:.0f} MB, "
                  f"{len(full)} alerts")  # fmt: skip
            con = sqlite3.connect(work / "full" / "var" / "alerts.sqlite")
            docs = [json.loads(d) for (d,) in con.execute("SELECT doc FROM alerts")]
            con.close()
            classes = _mark_classes()
            right = sorted(d["subject"]["text"] for d in docs if set(d["subject"]["classes"]) & classes[d["mark"]])
            cross = sorted(d["subject"]["text"] for d in docs if not set(d["subject"]["classes"]) & classes[d["mark"]])
            print(f"  in the mark's classes: {len(right)} ({', '.join(right)}); across classes: {len(cross)} "
                  f"({', '.join(cross)})")  # fmt: skip
            print(f"  load average (1, 5, 15 min) after the scan: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
            bt, brss, flagged = _baseline(srv.rows(*issues[0]), work)
            print(f"baseline, the matcher alone (markwatch match, 1 job) on the same applications: {bt:.1f} s, "
                  f"peak RSS {brss / 1024:.0f} MB, {flagged} flagged; scan/baseline time {took / bt:.2f}")  # fmt: skip
            if a.kill_after:
                cfg = _config(work / "killed", srv.url)
                srv.pages_served = 0
                rc1, t1, _ = _scan(cfg, kill_after=a.kill_after)
                before = srv.pages_served
                rc2, t2, rss2 = _scan(cfg)
                print(f"  pages read before the kill: {before}; by the resumed scan: {srv.pages_served - before}")
                got = _alerts(work / "killed")
                print(f"killed after {t1:.1f} s (exit {rc1}); resumed: exit {rc2} in {t2:.1f} s, "
                      f"peak RSS {rss2 / 1024:.0f} MB; alerts {len(got)} of {len(full)}, "
                      f"missing {len(full - got)}, extra {len(got - full)}")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
