"""Issue 27: a scheduled scan has a time budget by default, and ends by it (degraded: time budget), not by a kill.

Without `[scan] max_minutes`, a scan started by `markwatch schedule` (`--trigger schedule`) gets the
scheduler's timeout less twice the grace period and five minutes for the digests, so it stops its
crawl itself and still reports, sends and records; a scan started by hand has no budget unless set.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from hostile_support import MEASURED, by_source, hostile_config, last_run
from scan_support import ROOT, env

from crawler.demo.hostile import HostileConfig, HostileServer
from markwatch.config import Settings
from markwatch.services.scan import budget_minutes


def test_scheduled_scans_get_a_budget_inside_the_schedulers_timeout():
    default = Settings()
    assert default.scan.max_minutes is None
    assert budget_minutes(default, "schedule") == (6 * 3600 - 2 * 30 - 300) / 60  # 354 minutes of a 6-hour limit
    assert budget_minutes(default, "cli") is None  # by hand: no budget unless set
    hour = Settings.model_validate({"schedule": {"timeout": 3600}})
    assert budget_minutes(hour, "schedule") == 54
    own = Settings.model_validate({"scan": {"max_minutes": 10}, "schedule": {"timeout": 3600}})
    assert budget_minutes(own, "schedule") == budget_minutes(own, "cli") == 10  # the smaller one holds
    big = Settings.model_validate({"scan": {"max_minutes": 600}, "schedule": {"timeout": 3600}})
    assert budget_minutes(big, "schedule") == 54  # never past the scheduler's own limit


@pytest.mark.slow
def test_a_scheduled_scan_ends_by_its_default_budget(tmp_path):
    """`[schedule] timeout = 360`, grace 0: a 1-minute budget; page 2 of the slow source answers after 150 s."""
    with HostileServer(HostileConfig(slow_seconds=150)) as site:
        cfg = hostile_config(
            tmp_path, {"ok": site.url, "slow": site.url}, scan_extra="grace_seconds = 0\n[schedule]\ntimeout = 360"
        )
        slow_file = tmp_path / "sources" / "hostile-slow.yaml"  # a download timeout past the budget: the budget ends it
        slow_file.write_text(slow_file.read_text().replace("timeout: 10", "timeout: 300"), encoding="utf-8")
        t = time.monotonic()
        p = subprocess.run(
            [sys.executable, "-c", MEASURED.replace('"--json"]', '"--json", "--trigger", "schedule"]'), str(cfg)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=240,
            env=env(),
        )
        took = time.monotonic() - t
    err, _, peak = p.stderr.rpartition("\nPEAK_RSS_KB ")
    assert "Traceback" not in err, err[-3000:]
    assert p.returncode == 1, err[-3000:]
    report = json.loads(p.stdout)
    slow, ok = by_source(report)["hostile-slow"], by_source(report)["hostile-ok"]
    assert (slow["state"], slow["reason"]) == ("degraded", "time budget"), slow
    assert ok["state"] == "ok" and ok["items"] == 30
    assert 55 < took < 120, took  # the 1-minute budget, not the slow page's 150 s nor the scheduler's 360 s
    code, record = last_run(cfg)
    assert (code, record["status"], record["trigger"]) == (1, "degraded", "schedule")
    print(
        f"\nFAULT | scheduled scan, no max_minutes, [schedule] timeout 360 s | {slow['state']} | {slow['reason']} | "
        f"exit {p.returncode} | took {took:.1f} s | peak RSS {round(int(peak) / 1024)} MB"
    )
