"""Issue 12: a scan that tells the truth against hostile sites on loopback (crawler/demo/hostile.py).

Every fault runs through `markwatch scan` in a subprocess next to a healthy site, and is checked
end to end: the faulty source's state and reason, the healthy one still `ok`, the exit code, the
run record (`markwatch runs --last`), the metrics file, no traceback on the terminal, and no alert
lost or duplicated (a second scan adds none).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hostile_support import alerts_in, by_source, hostile_config, last_run, run_scan

from crawler.demo.hostile import HostileConfig, HostileServer, closed_port


@pytest.fixture
def site():
    with HostileServer(HostileConfig(slow_seconds=20)) as srv:
        yield srv


def _check(tmp: Path, cfg: Path, fault: str, state: str, reason: str, *, run_status: str = "degraded") -> dict:
    rc, report, err = run_scan(cfg)
    assert "Traceback" not in err, err[-2000:]
    assert rc == 1
    assert report["status"] == run_status
    got = by_source(report)
    bad = got[f"hostile-{fault}"]
    assert bad["state"] == state, bad
    assert re.fullmatch(reason, bad["reason"]), bad["reason"]
    if "hostile-ok" in got:
        ok = got["hostile-ok"]
        assert (ok["state"], ok["reason"], ok["items"], ok["hits"]) == ("ok", "", 30, 30)
    code, record = last_run(cfg)
    assert code == 1
    assert record["status"] == run_status
    rec = {s["source"]: s for s in record["per_source"]}
    assert (rec[f"hostile-{fault}"]["state"], rec[f"hostile-{fault}"]["reason"]) == (state, bad["reason"])
    metrics = (tmp / "var" / "metrics" / "markwatch.prom").read_text(encoding="utf-8")
    assert f'markwatch_source_state{{source="hostile-{fault}"}} {1 if state == "degraded" else 2}' in metrics
    # Nothing lost: every hit is one stored alert; nothing duplicated: a second scan stores no new one.
    stored = alerts_in(tmp)
    assert len(stored) == sum(s["alerts_new"] for s in report["sources"]) == sum(s["hits"] for s in report["sources"])
    rc2, again, _ = run_scan(cfg)
    assert sum(s["alerts_new"] for s in again["sources"]) == 0
    after = alerts_in(tmp)
    assert sorted(after) == sorted(stored)
    hits = sum(s["hits"] for s in report["sources"])
    # One line per fault for the closing table of issue 12 (pytest -s shows it).
    print(
        f"\nFAULT | {fault} | {bad['state']} | {bad['reason']} | exit {rc} | run {report['status']} | "
        f"peak RSS {report['peak_rss_mb']} MB | lost {hits - len(stored)} | duplicated {len(after) - len(set(after))}"
        f" + {sum(s['alerts_new'] for s in again['sources'])} new on rescan"
    )
    return report


def test_all_ok_exits_0_and_says_so_everywhere(tmp_path, site):
    cfg = hostile_config(tmp_path, {"ok": site.url})
    rc, report, err = run_scan(cfg)
    assert (rc, report["status"], err) == (0, "ok", "")
    assert report["peak_rss_mb"] < 600
    (ok,) = report["sources"]
    assert (ok["state"], ok["items"], ok["pages"], ok["refused"]) == ("ok", 30, 4, 0)  # 3 pages, the empty 4th
    assert ok["alerts_new"] == 30 and report["emails_sent"] == 5  # one digest per mark's owner
    code, record = last_run(cfg)
    assert (code, record["status"], record["per_source"][0]["state"]) == (0, "ok", "ok")
    metrics = (tmp_path / "var" / "metrics" / "markwatch.prom").read_text(encoding="utf-8")
    assert 'markwatch_scan_state{status="ok"} 0' in metrics
    assert 'markwatch_source_items{source="hostile-ok"} 30' in metrics
    assert not list((tmp_path / "var" / "metrics").glob(".markwatch-*"))  # the temp file was renamed


def test_site_down_is_failed_not_ok(tmp_path):
    cfg = hostile_config(tmp_path, {"down": f"http://127.0.0.1:{closed_port()}"})
    _check(
        tmp_path,
        cfg,
        "down",
        "failed",
        r"site unreachable: connection refused \(\d+ tries in a row, 127\.0\.0\.1:\d+\)",
        run_status="failed",
    )


def test_selector_drift(tmp_path, site):
    cfg = hostile_config(tmp_path, {"ok": site.url, "drift": site.url})
    _check(tmp_path, cfg, "drift", "degraded", r"0 rows: selector `li\.item` matched nothing on 1 page")


def test_401_everywhere_is_failed(tmp_path, site):
    cfg = hostile_config(tmp_path, {"ok": site.url, "auth": site.url})
    _check(tmp_path, cfg, "auth", "failed", r"refused: HTTP 401 \(1 of 1 requests\)")


def test_200_with_error_body_is_refused(tmp_path, site):
    cfg = hostile_config(tmp_path, {"ok": site.url, "errbody": site.url})
    _check(tmp_path, cfg, "errbody", "failed", r"refused: error body \(HTTP 200\) \(1 of 1 requests\)")


def test_truncated_json_is_malformed(tmp_path, site):
    cfg = hostile_config(tmp_path, {"ok": site.url, "trunc": site.url})
    report = _check(tmp_path, cfg, "trunc", "degraded", r"malformed: malformed JSON on page 2")
    assert by_source(report)["hostile-trunc"]["items"] == 10  # page 1's rows were kept


def test_offsite_redirect_is_not_followed(tmp_path, site):
    with HostileServer(site.cfg, host="127.0.0.2", port=int(site.url.rsplit(":", 1)[1])) as other:
        cfg = hostile_config(tmp_path, {"ok": site.url, "redirect": site.url})
        _check(
            tmp_path, cfg, "redirect", "degraded", r"offsite: redirect to another host \(127\.0\.0\.2\) \(\+29 more\)"
        )
        assert not [k for k in other.cfg.hits if k.startswith("127.0.0.2")]  # not even its robots.txt


def test_slow_source_stopped_at_the_time_budget(tmp_path, site):
    cfg = hostile_config(tmp_path, {"ok": site.url, "slow": site.url}, scan_extra="max_minutes = 0.1")
    t = time.monotonic()
    report = _check(tmp_path, cfg, "slow", "degraded", r"time budget")
    assert time.monotonic() - t < 60
    assert by_source(report)["hostile-slow"]["items"] == 10


def test_yield_watch_flags_a_night_far_below_the_usual(tmp_path, site):
    cfg = hostile_config(tmp_path, {"few": site.url})
    for _ in range(3):
        rc, report, _ = run_scan(cfg)
        assert (rc, report["sources"][0]["items"]) == (0, 30)
    site.cfg.few = True
    rc, report, err = run_scan(cfg)
    assert rc == 1 and "Traceback" not in err
    (src,) = report["sources"]
    assert (src["state"], src["reason"]) == ("degraded", "items 2, usual 30 ± 0")
    assert last_run(cfg)[1]["per_source"][0]["reason"] == "items 2, usual 30 ± 0"
    print(
        f"\nFAULT | few (yield drop) | {src['state']} | {src['reason']} | exit {rc} | peak RSS {report['peak_rss_mb']} MB"
    )


def test_operators_get_one_short_email_per_bad_run(tmp_path, site):
    cfg = hostile_config(tmp_path, {"ok": site.url, "auth": site.url}, notify='operators = ["ops@markwatch.example"]')
    rc, report, _ = run_scan(cfg)
    assert rc == 1
    mails = sorted((tmp_path / "var" / "outbox").glob("ops@markwatch.example*"))
    assert len(mails) == 1
    text = mails[0].read_text(encoding="utf-8")
    assert "Subject: markwatch scan #1: degraded (1 of 2 sources)" in text
    assert "hostile-auth: failed: refused: HTTP 401 (1 of 1 requests)" in text
    assert "hostile-ok" not in text


def test_listing_identity_does_not_depend_on_host_or_port(tmp_path):
    with HostileServer() as first:
        cfg = hostile_config(tmp_path, {"ok": first.url})
        rc, report, _ = run_scan(cfg)
        assert rc == 0 and report["emails_sent"] > 0
        before = sorted(alerts_in(tmp_path))
        assert all(key.startswith("id:ok-") for _, key in before)
    with HostileServer() as moved:  # the same site on another port
        assert moved.url != first.url
        cfg = hostile_config(tmp_path, {"ok": moved.url})
        rc, report, _ = run_scan(cfg)
    assert rc == 0
    assert (report["sources"][0]["alerts_new"], report["emails_sent"]) == (0, 0)
    assert sorted(alerts_in(tmp_path)) == before
    print(f"\nFAULT | another port | {report['sources'][0]['state']} | new alerts 0, emails 0 | exit {rc}")


def test_gzip_bomb_is_cut_and_memory_stays_bounded(tmp_path, site):
    """400 KB on the wire, 400 MB decompressed: one response recorded too large, peak RSS < 600 MB."""
    cfg = hostile_config(tmp_path, {"ok": site.url, "bomb": site.url})
    report = _check(
        tmp_path,
        cfg,
        "bomb",
        "degraded",
        r"too large: body over the size limit after decompression \(more than \d+ bytes; reading stopped\)",
    )
    assert report["peak_rss_mb"] < 600
    bomb = by_source(report)["hostile-bomb"]
    assert bomb["items"] == 10  # pages 1 kept; page 2 was the bomb
    log = (tmp_path / "var" / "state" / "scan.log").stat().st_size
    assert log < 100_000  # the body is never printed into the log
