"""Issue 27: kill -9 at several points of a scan, then rerun (resumed): every alert the uninterrupted scan stores.

Five demo sources (detail pages, a JSON API, a daily feed, a browse walk) on one loopback demo
world; a reference scan in its own state folder; then, for each kill point, a fresh state folder,
a scan killed with SIGKILL that many seconds into its crawl, and a rerun. The alert ids are
compared with the reference's: none missing, none extra.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from crawler_fixtures import start_server
from scan_support import ROOT, TODAY, alert_ids, cli, env, scan_json, write_config

pytestmark = pytest.mark.slow

SOURCES = ["demo-registry", "demo-registry-api", "demo-market-api", "demo-market-browse", "demo-registry-daily"]
KILL_AT = (2.0, 5.0, 9.0)  # seconds after the crawl started


def _killed_scan(cfg, state, seconds: float) -> bool:
    """Start a scan, SIGKILL it *seconds* after its crawl started; False when it finished first."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "markwatch", "scan", "--config", str(cfg), "--date", TODAY, "--no-progress"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env(),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (state / "jobs").exists():
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    time.sleep(seconds)
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    return True


@pytest.mark.xfail(
    reason="issue 27, open: passes in most runs, but a kill 2 s into the crawl has lost 10 of 32 alerts "
    "on the rerun (fresh clone, 2026-12-07); the cause is not found yet",
    strict=False,
)
def test_kill_9_at_several_points_then_resume_loses_nothing(tmp_path):
    srv = start_server(fail_every=0, slow_every=0, listings=300, companies=300)
    rows = []
    try:
        ref_cfg = write_config(tmp_path / "ref", srv.url, SOURCES, "concurrency = 2")
        rc, ref = scan_json(ref_cfg, timeout=400)
        assert rc == 0, (ref["errors"], [(s["source"], s["state"], s["reason"]) for s in ref["sources"]])
        want = set(alert_ids(tmp_path / "ref" / "var" / "alerts.sqlite"))
        assert len(want) == ref["totals"]["alerts_new"] > 20
        for at in KILL_AT:
            work = tmp_path / f"kill-{at:g}"
            cfg = write_config(work, srv.url, SOURCES, "concurrency = 2")
            state = work / "var" / "state"
            killed = _killed_scan(cfg, state, at)
            assert killed, f"the scan ended before {at} s"
            before = len(alert_ids(work / "var" / "alerts.sqlite")) if (work / "var" / "alerts.sqlite").exists() else 0
            rc, again = scan_json(cfg, timeout=400)
            got = alert_ids(work / "var" / "alerts.sqlite")
            missing, extra = want - set(got), set(got) - want
            rows.append((at, before, rc, again["status"], again["resumed"], len(missing), len(extra)))
            print(
                f"\nKILL | kill -9 at {at:g} s ({before} of {len(want)} alerts stored) | rerun {again['status']}"
                f"{' (resumed)' if again['resumed'] else ''} | exit {rc} | missing {len(missing)} | extra {len(extra)}"
                f" | duplicated {len(got) - len(set(got))}"
            )
            assert not missing, sorted(missing)[:10]
            assert not extra and len(got) == len(set(got))
            assert rc == 0 and again["status"] == "ok" and again["resumed"] is True
            runs = json.loads(cli("runs", "--config", str(cfg), "--format", "json").stdout)
            assert [x["status"] for x in runs] == ["ok", "killed"]
    finally:
        srv.stop()
