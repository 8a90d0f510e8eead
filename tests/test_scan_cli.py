"""`markwatch scan` end to end against the demo world: summary, run log, emails, exit codes, the lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from crawler_fixtures import start_server
from scan_support import ROOT, alert_ids, cli, env, scan, scan_json, write_config

from markwatch.services.scanlock import ScanLock

SOURCES = ["demo-registry-api", "demo-market-api"]


def test_scan_screens_stores_notifies_and_records(tmp_path):
    srv = start_server(fail_every=0, slow_every=0, companies=300, listings=300)
    try:
        cfg = write_config(tmp_path, srv.url, SOURCES, days=3)
        rc, rep = scan_json(cfg)
        world = srv.state.world
        in_feed = sum(len(world.by_date.get(d, [])) for d in ("2025-06-30", "2025-06-29", "2025-06-28"))
        table = scan(cfg)  # the same scan again, as a person sees it: incremental, nothing new
    finally:
        srv.stop()
    assert rc == 0 and rep["status"] == "ok"
    by = {s["source"]: s for s in rep["sources"]}
    assert set(by) == set(SOURCES)
    assert by["demo-registry-api"]["items"] == in_feed > 0  # every company of the 3 feed days
    assert all(s["finish_reason"] == "finished" and s["pages"] > 0 for s in rep["sources"])
    tot = rep["totals"]
    stored = alert_ids(tmp_path / "var" / "alerts.sqlite")
    assert tot["alerts_new"] == len(stored) > 0 and tot["hits"] > 0
    emls = list((tmp_path / "var" / "outbox").glob("*.eml"))
    assert rep["emails_sent"] == len(emls) > 0
    assert set(rep["stages"]) >= {"setup", "crawl", "screen", "store", "notify", "total"}
    assert abs(sum(v for k, v in rep["stages"].items() if k != "total") - rep["stages"]["total"]) < 0.5
    # The table run: same sources, all unchanged now, no new alerts, no new mail.
    assert table.returncode == 0, table.stderr[-2000:]
    for word in ("Scan #2: ok", "demo-registry-api", "demo-market-api", "Pages", "Hits", "Emails: 0", "Stages:"):
        assert word in table.stdout
    runs = cli("runs", "--config", str(cfg), "--format", "json")
    listed = json.loads(runs.stdout)
    assert [r["id"] for r in listed] == [2, 1] and [r["status"] for r in listed] == ["ok", "ok"]
    assert listed[1]["totals"]["alerts_new"] == len(stored) and listed[0]["totals"]["alerts_new"] == 0
    assert listed[0]["started_at"] <= listed[0]["ended_at"] and listed[1]["totals"]["emails_sent"] == len(emls)
    human = cli("runs", "--config", str(cfg))
    assert human.returncode == 0 and "ok" in human.stdout


def test_degraded_source_exits_1_and_is_recorded(tmp_path):
    srv = start_server(fail_every=0, slow_every=0, companies=200, listings=200, down_sections={"market"})
    try:
        cfg = write_config(tmp_path, srv.url, SOURCES)
        rc, rep = scan_json(cfg)
    finally:
        srv.stop()
    by = {s["source"]: s for s in rep["sources"]}
    assert rc == 1 and rep["status"] == "degraded"
    assert by["demo-market-api"]["degraded"] and not by["demo-registry-api"]["degraded"]
    assert by["demo-registry-api"]["alerts_new"] > 0  # the healthy source still did its work
    listed = json.loads(cli("runs", "--config", str(cfg), "--format", "json").stdout)
    assert listed[0]["status"] == "degraded" and listed[0]["totals"]["degraded"] == 1


def test_bad_configuration_is_one_line_and_exit_2(tmp_path):
    cfg = write_config(tmp_path, "http://127.0.0.1:9", SOURCES, "dayz = 3")
    p = scan(cfg)
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and str(cfg) in p.stderr and "scan.dayz" in p.stderr
    p = scan(write_config(tmp_path, "http://127.0.0.1:9", ["no-such-source"]))
    assert p.returncode == 2 and "no-such-source" in p.stderr
    p = scan(cfg, MARKWATCH_SCAN_DAYS="many")  # env overrides are validated too, and named
    assert p.returncode == 2 and "MARKWATCH_SCAN_DAYS" in p.stderr


def test_a_second_scan_refuses_while_one_runs_but_a_stale_lock_does_not_block(tmp_path):
    cfg = write_config(tmp_path, "http://127.0.0.1:9", SOURCES)
    state = tmp_path / "var" / "state"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from markwatch.services.scanlock import ScanLock; "
                f"l = ScanLock({str(state)!r}); l.acquire(); print('held', flush=True); time.sleep(60)"
            ),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=env(),
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        p = scan(cfg)
        assert p.returncode == 3 and f"pid {holder.pid}" in p.stderr and "another scan is running" in p.stderr
    finally:
        holder.kill()  # SIGKILL: the lock file stays, with the dead pid in it
        holder.wait(10)
    assert f'"pid": {holder.pid}' in (state / "scan.lock").read_text()
    lock = ScanLock(state)
    t = time.monotonic()
    lock.acquire()  # the kernel released the dead holder's lock: no waiting, no manual cleanup
    assert time.monotonic() - t < 1 and lock.holder()["pid"] == os.getpid()
    lock.release()
