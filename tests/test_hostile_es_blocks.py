"""Issue 27: an Elasticsearch index set read-only (the flood-stage disk watermark) under a scan.

A real node (scripts/es-node, its own name); the index is made by a first scan, then blocked with
`index.blocks.read_only_allow_delete` (what Elasticsearch itself sets at the flood stage). The next
scan must not stall per hit (the client's 429 backoffs took ~5.7 s each): the block is read from the
first error, the store is down for the run, every alert goes to the outbox, the run names the store
and the block; once the block is lifted, `markwatch alerts flush` writes them, none lost or doubled.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from hostile_support import by_source, hostile_config, last_run, run_scan
from scan_support import ROOT, env
from test_hostile_es import _ids, _unavailable, es_node

from crawler.demo.hostile import HostileConfig, HostileServer

pytestmark = [pytest.mark.es, pytest.mark.slow]


def _settings(url: str, index: str, body: dict) -> None:
    req = urllib.request.Request(
        f"{url}/{index}/_settings",
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(req, timeout=30).close()


def _outbox_ids(tmp: Path) -> set[str]:
    """Alert ids waiting in the outbox file(s) under *tmp*/var."""
    out: set[str] = set()
    for path in (tmp / "var").rglob("outbox*.sqlite"):
        con = sqlite3.connect(path)
        try:
            out |= {json.loads(doc)["id"] for (doc,) in con.execute("SELECT doc FROM outbox")}
        except sqlite3.OperationalError:  # being created
            pass
        finally:
            con.close()
    return out


def _node() -> str:
    try:
        return es_node("start", "--name", "blind")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"no Elasticsearch: {exc}")
        raise


@pytest.mark.parametrize("block", ["index.blocks.read_only_allow_delete", "index.blocks.read_only"])
def test_read_only_index_is_named_at_once_and_nothing_is_lost(tmp_path, block):
    url = os.environ.get("MARKWATCH_ES_URL")
    url = url or _node()
    prefix = f"ro{os.getpid()}{block.rsplit('.', 1)[1].replace('_', '')}"[:40]
    alias = f"{prefix}-alerts"
    store = f'urls = ["{url}"]\nindex_prefix = "{prefix}"\nreplicas = 0\nretries = 1\ntimeout = 5'
    with HostileServer(HostileConfig()) as site:
        cfg = hostile_config(tmp_path, {"ok": site.url}, extra=store, max_pages=35)
        rc, first, _ = run_scan(cfg)
        assert rc == 0 and first["sources"][0]["alerts_new"] == 30
        _settings(url, alias, {block: True})
        try:
            site.cfg.pages = 30  # 270 more listings, each a hit
            t = time.monotonic()
            rc, report, err = run_scan(cfg)
            took = time.monotonic() - t
        finally:
            _settings(url, alias, {block: None})
    assert "Traceback" not in err, err[-3000:]
    assert rc == 1 and report["status"] == "degraded"
    ok = by_source(report)["hostile-ok"]
    assert ok["hits"] == 270  # the first 30 are unchanged: not screened again
    named = [e for e in report["errors"] if e.startswith("alerts store")]
    assert named and "index read-only" in named[0] and "cluster_block_exception" in named[0], report["errors"]
    assert any(e.startswith("store unavailable, ") and "alerts queued" in e for e in report["errors"]), report["errors"]
    assert took < 90, took  # no per-hit stall: 300 hits × 5.7 s would be half an hour
    assert last_run(cfg)[1]["status"] == "degraded"
    p = subprocess.run(
        [sys.executable, "-m", "markwatch", "alerts", "flush", "--config", str(cfg)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    ids = _ids(url, alias)
    assert len(ids) == len(set(ids)) == 300
    print(
        f"\nFAULT | ES index {block} | run {report['status']} | {named[0]} | exit {rc} | took {took:.1f} s | "
        f"peak RSS {report['peak_rss_mb']} MB | lost 0 after flush | duplicated 0"
    )


def test_sigterm_under_a_read_only_index_stops_within_the_grace_period(tmp_path):
    """The index blocked, a slow source still crawling: SIGTERM ends the scan in its grace period, interrupted,
    the store named, the alerts in the outbox (none lost after the flush), no traceback."""
    url = os.environ.get("MARKWATCH_ES_URL") or _node()
    prefix = f"rosig{os.getpid()}"
    alias = f"{prefix}-alerts"
    store = f'urls = ["{url}"]\nindex_prefix = "{prefix}"\nreplicas = 0\nretries = 1\ntimeout = 5'
    with HostileServer(HostileConfig(slow_seconds=120)) as site:
        cfg = hostile_config(tmp_path, {"ok": site.url}, extra=store, max_pages=35)
        rc, first, _ = run_scan(cfg)
        assert rc == 0 and first["sources"][0]["alerts_new"] == 30
        before = set(_ids(url, alias))
        hostile_config(
            tmp_path, {"ok": site.url, "slow": site.url}, extra=store, max_pages=35, scan_extra="grace_seconds = 4"
        )
        _settings(url, alias, {"index.blocks.read_only_allow_delete": True})
        try:
            site.cfg.pages = 30
            proc = subprocess.Popen(
                [sys.executable, "-m", "markwatch", "scan", "--config", str(cfg), "--json"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env(),
            )
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:  # until the block has sent alerts to the outbox
                if _outbox_ids(tmp_path):
                    break
                time.sleep(0.2)
            time.sleep(2.0)
            assert proc.poll() is None, "the scan ended before the signal"
            t = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=90)
            took = time.monotonic() - t
        finally:
            _settings(url, alias, {"index.blocks.read_only_allow_delete": None})
    assert "Traceback" not in err, err[-3000:]
    assert proc.returncode == 1
    report = json.loads(out)
    assert report["status"] == "interrupted", report["errors"]
    assert any(e.startswith("interrupted by SIGTERM") for e in report["errors"]), report["errors"]
    named = [e for e in report["errors"] if e.startswith("alerts store")]
    assert named and "index read-only" in named[0], report["errors"]
    assert took < 4 + 10, took
    assert last_run(cfg)[1]["status"] == "interrupted"
    queued = _outbox_ids(tmp_path)
    assert queued and not queued & before
    p = subprocess.run(
        [sys.executable, "-m", "markwatch", "alerts", "flush", "--config", str(cfg)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    ids = _ids(url, alias)
    assert len(ids) == len(set(ids)) and set(ids) == before | queued  # none lost, none twice
    assert not _outbox_ids(tmp_path)
    print(
        f"\nFAULT | ES index read_only_allow_delete + SIGTERM | run {report['status']} | {named[0]} | exit "
        f"{proc.returncode} | stopped {took:.1f} s after SIGTERM | {len(ids)} alerts in the index after flush"
    )
