"""kill -9 of a scan, then the next scan: it resumes, the dead run is logged as killed, no alert twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from crawler_fixtures import start_server
from scan_support import ROOT, TODAY, alert_ids, cli, env, scan_json, write_config


def test_killed_scan_resumes_without_duplicate_alerts(tmp_path):
    srv = start_server(fail_every=0, slow_every=0, listings=250)
    try:
        ref_cfg = write_config(tmp_path / "ref", srv.url, ["demo-market-browse"])
        rc, ref = scan_json(ref_cfg)
        assert rc == 0
        cfg = write_config(tmp_path / "work", srv.url, ["demo-market-browse"], "concurrency = 2")
        journal = tmp_path / "work" / "var" / "state" / "jobs" / "demo-market-browse" / "markwatch-done.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "markwatch", "scan", "--config", str(cfg), "--date", TODAY],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env(),
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.exists() and journal.read_text().count("\n") >= 80:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the scan ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        done_before = journal.read_text().count("\n")
        rc, resumed = scan_json(cfg)
    finally:
        srv.stop()
    assert rc == 0 and resumed["status"] == "ok" and resumed["resumed"] is True
    r = resumed["sources"][0]
    assert r["resume_skipped"] >= done_before - 2 and r["items"] <= 250 - done_before + 8
    assert not journal.parent.exists()  # a finished source's job folder is cleared for the next night
    ref_ids = alert_ids(tmp_path / "ref" / "var" / "alerts.sqlite")
    got = alert_ids(tmp_path / "work" / "var" / "alerts.sqlite")
    assert len(ref_ids) == ref["totals"]["alerts_new"] > 0
    assert sorted(got) == sorted(ref_ids)  # the same alerts, none twice
    runs = json.loads(cli("runs", "--config", str(cfg), "--format", "json").stdout)
    assert [(x["id"], x["status"], x["resumed"]) for x in runs] == [(2, "ok", True), (1, "killed", False)]
    assert runs[1]["ended_at"] and "died" in runs[1]["errors"][0]
