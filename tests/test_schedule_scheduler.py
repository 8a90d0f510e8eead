"""`markwatch schedule` with a real APScheduler: a cron trigger seconds ahead, SIGTERM, and a restart
that keeps the stored job and runs the missed run once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from crawler_fixtures import start_server
from scan_support import ROOT, cli, env, write_config

from markwatch.services.schedule import cron_trigger, next_times

TZ = ZoneInfo("Asia/Shanghai")


class Scheduler:
    """`markwatch schedule` in a child process, its log collected line by line."""

    def __init__(self, cfg) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "markwatch", "schedule", "--config", str(cfg)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env(),
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hit = next((x for x in self.lines if text in x), None)
            if hit:
                return hit
            assert self.proc.poll() is None or any(text in x for x in self.lines), "\n".join(self.lines[-30:])
            time.sleep(0.1)
        raise AssertionError(f"no {text!r} in the log:\n" + "\n".join(self.lines[-30:]))

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(60)
        time.sleep(0.2)
        return rc


def test_cron_fields_and_time_zone():
    t = cron_trigger("0 2 * * *", "Asia/Shanghai")
    runs = next_times(t, 3, datetime(2026, 1, 1, 12, 0, tzinfo=TZ))
    assert [r.isoformat() for r in runs] == [
        "2026-01-02T02:00:00+08:00",
        "2026-01-03T02:00:00+08:00",
        "2026-01-04T02:00:00+08:00",
    ]
    assert (
        next_times(cron_trigger("15 10 4 * * *", "UTC"), 1, datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")))[0].isoformat()
        == "2026-01-01T04:10:15+00:00"
    )
    with pytest.raises(ValueError):
        cron_trigger("0 2 * *", "UTC")


def test_schedule_persists_across_restarts_and_runs_a_missed_scan_once(tmp_path):
    srv = start_server(fail_every=0, slow_every=0, companies=100, listings=150)
    try:
        fire = (datetime.now(TZ) + timedelta(seconds=12)).replace(microsecond=0)
        cron = f"{fire.second} {fire.minute} {fire.hour} * * *"
        cfg = write_config(
            tmp_path,
            srv.url,
            ["demo-market-api"],
            f'[schedule]\ncron = "{cron}"\nmisfire_grace_time = 300\njobstore = "{tmp_path}/var/schedule.sqlite"\n',
        )
        # 1. Start: the job is stored; --list shows its next run in the schedule's own time zone.
        first = Scheduler(cfg)
        first.wait_for("scheduler running")
        listing = cli("schedule", "--config", str(cfg), "--list")
        assert listing.returncode == 0, listing.stderr
        assert fire.isoformat(sep=" ") in listing.stdout and "Asia/Shanghai" in listing.stdout
        # 2. SIGTERM before the fire time: a clean shutdown, nothing ran.
        assert first.terminate() == 0
        assert any("scheduler stopped" in x for x in first.lines)
        while datetime.now(TZ) < fire + timedelta(seconds=2):
            time.sleep(0.2)
        assert not (tmp_path / "var" / "state" / "runs.sqlite").exists()
        # 3. Restart after the fire time: the stored job (not a new one) runs the missed scan, once.
        second = Scheduler(cfg)
        second.wait_for("kept stored job")
        second.wait_for("scan finished", timeout=120)
        time.sleep(1.5)
        assert second.terminate() == 0
    finally:
        srv.stop()
    log = "\n".join(second.lines)
    assert log.count("scan starting") == 1 and "exit 0 (ok)" in log
    runs = json.loads(cli("runs", "--config", str(cfg), "--format", "json").stdout)
    assert [(r["trigger"], r["status"]) for r in runs] == [("schedule", "ok")]
    assert runs[0]["totals"]["pages"] > 0
    # The next run is the same time tomorrow.
    listing = cli("schedule", "--config", str(cfg), "--list").stdout
    assert (fire + timedelta(days=1)).isoformat(sep=" ") in listing
