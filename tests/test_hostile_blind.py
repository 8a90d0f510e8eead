"""Issue 27: the second hostile world. Budgets inside one page, signals, a full disk, lost pages, traps, floods.

Each fault runs through `markwatch scan` in a subprocess against a loopback hostile site
(crawler/demo/hostile.py) next to a healthy one, and is checked end to end: state and reason,
exit code, the run record, no traceback on the terminal, the peak RSS of the scan (target
< 600 MB), and the alerts stored against what the site holds. `pytest -s` prints one FAULT line
per case for the closing table.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_support import alerts_in, by_source, hostile_config, last_run, run_scan
from scan_support import ROOT, cli, env

from crawler.demo.hostile import HostileConfig, HostileServer

pytestmark = pytest.mark.slow


@pytest.fixture
def site():
    with HostileServer(HostileConfig(slow_seconds=30)) as srv:
        yield srv


def _table(fault: str, src: dict, rc: int, report: dict, lost: int | str = 0, dup: int | str = 0) -> None:
    print(
        f"\nFAULT | {fault} | {src['state']} | {src['reason']} | exit {rc} | run {report['status']} | "
        f"peak RSS {report.get('peak_rss_mb', '?')} MB | lost {lost} | duplicated {dup}"
    )


def _healthy(report: dict) -> None:
    ok = by_source(report).get("hostile-ok")
    if ok is not None:
        assert (ok["state"], ok["reason"], ok["items"], ok["hits"]) == ("ok", "", 30, 30), ok


def test_huge_json_page_is_cut_inside_the_page_and_reported(tmp_path, site):
    """30 MB of JSON, 10 million rows, max_minutes = 1: read to the row limit, said so, bounded in time and memory."""
    cfg = hostile_config(tmp_path, {"ok": site.url, "bigjson": site.url}, scan_extra="max_minutes = 1")
    t = time.monotonic()
    rc, report, err = run_scan(cfg)
    took = time.monotonic() - t
    assert "Traceback" not in err, err[-2000:]
    assert rc == 1 and report["status"] == "degraded"
    _healthy(report)
    big = by_source(report)["hostile-bigjson"]
    assert big["state"] == "degraded"
    assert "cut: page 1: 10,000,003 rows, read 50,000 (limit)" in big["reason"], big["reason"]
    assert big["reason"] == "cut: page 1: 10,000,003 rows, read 50,000 (limit)", big["reason"]
    assert big["hits"] == 3  # the 3 real rows were read
    assert took < 60
    assert report["peak_rss_mb"] < 600
    assert last_run(cfg)[1]["status"] == "degraded"
    logs = list((tmp_path / "var" / "state").glob("scan.log*"))
    assert sum(p.stat().st_size for p in logs) < 2_000_000  # one line per kind, not per row
    text = (tmp_path / "var" / "state" / "scan.log").read_text(encoding="utf-8")
    assert len([line for line in text.splitlines() if "Dropped" in line]) == 0
    assert len([line for line in text.splitlines() if "hostile-bigjson: cut" in line]) == 1
    _table("30 MB JSON page, 10M rows, max_minutes=1", big, rc, report)
    print(f"      took {took:.1f} s; scan.log {sum(p.stat().st_size for p in logs)} bytes")


def _start(cfg: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "markwatch", "scan", "--config", str(cfg), "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )


def _wait_for_crawl(cfg: Path, tmp: Path, seconds: float = 60) -> None:
    """Until the scan's crawl has started (the run row exists and the log file is there)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (tmp / "var" / "state" / "scan.log").exists() and (tmp / "var" / "state" / "runs.sqlite").exists():
            time.sleep(2.0)
            return
        time.sleep(0.1)
    raise AssertionError("the scan never started crawling")


@pytest.mark.parametrize("signals", [1, 2])
def test_sigterm_stops_within_the_grace_period_and_is_interrupted(tmp_path, site, signals):
    """First SIGTERM: stop, finish within the grace period, `interrupted`, exit 1; a second: at once."""
    cfg = hostile_config(tmp_path, {"ok": site.url, "slow": site.url}, scan_extra="grace_seconds = 4")
    proc = _start(cfg)
    _wait_for_crawl(cfg, tmp_path)
    t = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    if signals == 2:
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - t
    assert "Traceback" not in err, err[-2000:]
    assert proc.returncode == 1
    report = json.loads(out)
    assert report["status"] == "interrupted"
    assert any(e.startswith("interrupted by SIGTERM") for e in report["errors"]), report["errors"]
    slow = by_source(report)["hostile-slow"]
    assert slow["state"] == "degraded" and "interrupted" in slow["reason"]
    assert took < (4 + 10 if signals == 1 else 8)
    code, record = last_run(cfg)
    assert (code, record["status"]) == (1, "interrupted")
    _table(f"SIGTERM ×{signals} mid-scan (grace 4 s)", slow, proc.returncode, report)
    print(f"      stopped {took:.1f} s after the first signal")


def test_redirect_chain_and_loop_lose_pages_with_a_reason(tmp_path, site):
    cfg = hostile_config(tmp_path, {"ok": site.url, "redirchain": site.url, "redirloop": site.url})
    rc, report, err = run_scan(cfg)
    assert "Traceback" not in err, err[-2000:]
    assert rc == 1
    _healthy(report)
    chain = by_source(report)["hostile-redirchain"]
    loop = by_source(report)["hostile-redirloop"]
    assert chain["state"] == "degraded" and chain["reason"] == "30 pages lost: redirect limit", chain
    assert loop["state"] == "degraded" and loop["reason"] == "30 pages lost: redirect loop", loop
    record = {s["source"]: s for s in last_run(cfg)[1]["per_source"]}
    assert record["hostile-redirchain"]["reason"] == chain["reason"]
    _table("detail pages behind a 30-redirect chain", chain, rc, report)
    _table("detail pages in a redirect loop", loop, rc, report)


def test_json_nested_100000_deep_is_malformed_not_a_crash(tmp_path, site):
    cfg = hostile_config(tmp_path, {"ok": site.url, "deep": site.url})
    rc, report, err = run_scan(cfg)
    assert "Traceback" not in err and "RecursionError" not in err, err[-2000:]
    assert rc == 1
    _healthy(report)
    deep = by_source(report)["hostile-deep"]
    assert deep["state"] == "degraded"
    assert deep["reason"] == "malformed: JSON nested deeper than 256 levels on page 2", deep["reason"]
    assert deep["items"] == 10  # page 1 kept
    assert report["peak_rss_mb"] < 600
    _table("a JSON page nested 100,000 deep", deep, rc, report)


def test_dropped_items_are_a_reason_and_one_log_line(tmp_path, site):
    cfg = hostile_config(tmp_path, {"ok": site.url, "dropped": site.url})
    rc, report, err = run_scan(cfg)
    assert rc == 1 and "Traceback" not in err
    src = by_source(report)["hostile-dropped"]
    assert (src["state"], src["reason"]) == ("degraded", "10 items dropped: missing title")
    log = (tmp_path / "var" / "state" / "scan.log").read_text(encoding="utf-8").splitlines()
    assert [line for line in log if "hostile-dropped" in line and "dropped" in line].__len__() == 1, log
    assert not [line for line in log if "Dropped:" in line]
    _table("items dropped by the pipeline", src, rc, report)


def test_one_log_line_per_kind_of_failure_per_source(tmp_path, site):
    """Lost redirects, a decompression bomb, dropped items, a truncated feed and a dead host (connection refused,
    retried): scan.log says each once, with its count, and none of Scrapy's per-request lines or tracebacks."""
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback here
    faults = {"ok": site.url, "redirchain": site.url, "bomb": site.url, "dropped": site.url, "trunc": site.url}
    cfg = hostile_config(tmp_path, {**faults, "drift": dead})
    rc, report, err = run_scan(cfg)
    assert rc == 1 and "Traceback" not in err, err[-2000:]
    _healthy(report)
    drift = by_source(report)["hostile-drift"]
    assert drift["state"] == "failed" and "connection refused" in drift["reason"], drift
    log = (tmp_path / "var" / "state" / "scan.log").read_text(encoding="utf-8").splitlines()
    per_request = (
        "Gave up retrying",
        "Error downloading",
        "Traceback",
        "larger than download max size",
        "Ignored response",
    )
    assert not [line for line in log if any(p in line for p in per_request)], log
    for fault in ("redirchain", "bomb", "dropped", "trunc", "drift"):  # the summary line: one per source here
        said = [line for line in log if f"[crawler.lost] WARNING: source hostile-{fault}: " in line]
        assert len(said) == 1, (fault, log)
    # The dead host's first refusal is said when the source is stopped, the rest counted (crawler.failfast).
    assert len([line for line in log if "source hostile-drift: connection refused" in line]) <= 1, log
    assert "source hostile-redirchain: lost × 30 (30 × redirect limit)" in "\n".join(log)
    assert len(log) <= 7, log
    print(f"\nLOG | 5 failing sources, {sum(1 for _ in log)} lines in scan.log:\n" + "\n".join(log))


def test_crawl_trap_is_stopped_by_the_per_host_guard(tmp_path, site):
    cfg = hostile_config(
        tmp_path, {"ok": site.url, "trap": site.url, "reptrap": site.url}, scan_extra="max_pages_per_host = 40"
    )
    rc, report, err = run_scan(cfg)
    assert rc == 1 and "Traceback" not in err, err[-2000:]
    _healthy(report)
    trap = by_source(report)["hostile-trap"]
    assert trap["state"] == "degraded"
    assert trap["reason"] == "crawl trap: more than 40 pages from 127.0.0.1 (limit)", trap["reason"]
    assert trap["pages"] <= 40
    rep = by_source(report)["hostile-reptrap"]
    assert rep["state"] == "degraded"
    assert re.search(r"1 request refused as a crawl trap: URL pattern repeats", rep["reason"]), rep["reason"]
    assert rep["pages"] == 3  # /list, /list/more, /list/more/more; the third `more` is refused
    _table("crawl trap (a new page per page), 40 pages per host", trap, rc, report)
    _table("repeating URL pattern trap", rep, rc, report)


def test_a_link_past_the_url_length_limit_is_a_lost_page(tmp_path, site):
    """The trap's next link grows by a few characters a page: at URLLENGTH_LIMIT the walk ends, and says so."""
    cfg = hostile_config(tmp_path, {"ok": site.url, "trap": site.url}, scan_extra="scrapy = {URLLENGTH_LIMIT = 200}")
    rc, report, err = run_scan(cfg)
    assert rc == 1 and "Traceback" not in err, err[-2000:]
    _healthy(report)
    trap = by_source(report)["hostile-trap"]
    assert trap["state"] == "degraded" and trap["reason"] == "1 page lost: URL too long", trap
    assert 10 < trap["pages"] < 40
    log = (tmp_path / "var" / "state" / "scan.log").read_text(encoding="utf-8").splitlines()
    assert not [line for line in log if "Ignoring link" in line], log
    _table("a next link growing past the URL length limit (200)", trap, rc, report)


def test_a_flood_of_new_alerts_is_held_from_the_digests_until_released(tmp_path):
    with HostileServer(HostileConfig()) as srv:
        cfg = hostile_config(tmp_path, {"ok": srv.url}, max_pages=40, scan_extra="flood_min = 50")
        for _ in range(3):
            rc, report, _ = run_scan(cfg)
            assert rc == 0
        mails_before = len(list((tmp_path / "var" / "outbox").glob("*.eml")))
        srv.cfg.pages = 30  # the site now shows 300 listings: 270 new alerts, usual 0
        rc, report, err = run_scan(cfg)
    assert rc == 1 and "Traceback" not in err
    (src,) = report["sources"]
    assert src["state"] == "degraded"
    assert src["reason"] == (
        "flood: 270 new alerts, usual 0 ± 0; 270 held from the digests for review (markwatch alerts release)"
    ), src["reason"]
    assert report["emails_sent"] == 0
    assert len(list((tmp_path / "var" / "outbox").glob("*.eml"))) == mails_before
    assert len(alerts_in(tmp_path)) == 300  # stored, in the review queue
    held = cli("alerts", "held", "--config", str(cfg))
    assert held.returncode == 0 and "hostile-ok" in held.stdout and "270" in held.stdout, held.stdout
    rel = cli("alerts", "release", "--config", str(cfg), "--source", "hostile-ok")
    assert rel.returncode == 0 and "270 alert(s) released" in rel.stdout, rel.stdout + rel.stderr
    sent = cli("notify", "--config", str(cfg))
    assert sent.returncode == 0, sent.stderr
    assert len(list((tmp_path / "var" / "outbox").glob("*.eml"))) > mails_before
    _table("a flood of new alerts (270, usual 0)", src, rc, report)


def test_scan_log_is_rotated_and_bounded(tmp_path, site):
    cfg = hostile_config(
        tmp_path, {"ok": site.url}, scan_extra='log_level = "DEBUG"\nlog_max_mb = 0.002\nlog_backups = 2'
    )
    rc, report, _ = run_scan(cfg)
    assert rc == 0
    logs = sorted((tmp_path / "var" / "state").glob("scan.log*"))
    assert [p.name for p in logs] == ["scan.log", "scan.log.1", "scan.log.2"]
    assert all(p.stat().st_size <= 0.002 * 1024 * 1024 + 20_000 for p in logs)


def _tmpfs(path: Path, size: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("the disk-full case needs root to mount a small tmpfs")
    path.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.decode(errors='replace').strip()}")


@pytest.mark.parametrize("ledger_on_full_disk", [False, True])
def test_full_disk_under_the_alerts_store_is_named_and_the_run_closed(tmp_path, ledger_on_full_disk):
    """The alerts store (and evidence, outbox, perhaps the notify ledger) on a 400 KB tmpfs that fills mid-scan."""
    disk = tmp_path / "disk"
    _tmpfs(disk, "400k")
    try:
        with HostileServer(HostileConfig(pages=40)) as srv:
            cfg = hostile_config(tmp_path, {"ok": srv.url}, max_pages=45)
            text = cfg.read_text(encoding="utf-8").replace(
                f'sqlite_path = "{tmp_path}/var/alerts.sqlite"', f'sqlite_path = "{disk}/alerts.sqlite"'
            )
            if not ledger_on_full_disk:  # by default the ledger lives next to the alerts
                text = text.replace("[notify]\n", f'[notify]\nledger_path = "{tmp_path}/var/notify.sqlite"\n')
            cfg.write_text(text, encoding="utf-8")
            rc, report, err = run_scan(cfg)
            assert "Traceback" not in err, err[-3000:]
            assert rc == 1
            (src,) = report["sources"]
            store_errors = [e for e in report["errors"] if e.startswith("alerts store")]
            assert store_errors and "disk full" in store_errors[0], report["errors"]
            assert src["state"] == "degraded" and re.search(
                r"not stored: store unavailable \((evidence: )?disk full\)", src["reason"]
            ), src["reason"]
            code, record = last_run(cfg)
            assert record["status"] == report["status"] == "degraded" and record["ended_at"]
            stored = _count_alerts(disk / "alerts.sqlite")
            _table(
                "alerts store's disk full mid-scan" + (" (notify ledger there too)" if ledger_on_full_disk else ""),
                src,
                rc,
                report,
                lost=f"{400 - stored} not stored this run, screened again next scan",
            )
            # Room again (the same tmpfs, grown): the next scan stores what the full disk refused, nothing twice.
            subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
            rc2, again, err2 = run_scan(cfg)
        assert "Traceback" not in err2
        ids = _ids(disk / "alerts.sqlite")
        assert len(ids) == len(set(ids)) == 400, again["errors"]
        print(f"      after the disk has room: {again['status']}, {len(ids)} of 400 alerts stored, exit {rc2}")
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def _ids(db: Path) -> list[str]:
    import sqlite3

    con = sqlite3.connect(db)
    try:
        return [r[0] for r in con.execute("SELECT id FROM alerts")]
    finally:
        con.close()


def _count_alerts(db: Path) -> int:
    import sqlite3

    try:
        con = sqlite3.connect(db)
        try:
            return int(con.execute("SELECT COUNT(*) FROM alerts").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0
