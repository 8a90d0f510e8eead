"""Issue 27: kill -9 at several points of a scan, then rerun (resumed): every alert the uninterrupted scan stores.

Five demo sources (detail pages, a JSON API, a daily feed, a browse walk) on one loopback demo
world; a reference scan in its own state folder; then, for each kill point, a fresh state folder,
a scan killed with SIGKILL that many seconds into its crawl, and a rerun. The alert ids are
compared with the reference's: none missing, none extra.

The cause of the losses seen before (13 of 32 after a kill at 1 s): Scrapy's disk request queues
keep their bookkeeping in memory until a clean close, so the rerun read the killed run's stale
records in place of its own start requests. Each run now starts its queues empty
(crawler.resume.JournalScheduler); `test_a_killed_job_folder_does_not_shadow_the_next_runs_requests`
shows the mechanism on Scrapy's own scheduler and the fix, without a crawl.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crawler_fixtures import start_server
from scan_support import ROOT, TODAY, alert_ids, cli, env, scan_json, write_config
from scrapy import Request, Spider
from scrapy.core.scheduler import Scheduler
from scrapy.utils.test import get_crawler

from crawler.resume import JOURNAL, JournalScheduler

SOURCES = ["demo-registry", "demo-registry-api", "demo-market-api", "demo-market-browse", "demo-registry-daily"]
# Seconds after the crawl started: early (start requests still being queued: where the losses were), mid, late.
KILL_AT = (1.0, 6.0, 12.0)


def _scheduler(cls: type[Scheduler], jobdir: Path, urls: list[str]) -> Scheduler:
    crawler = get_crawler(
        Spider,
        {
            "JOBDIR": str(jobdir),
            "DUPEFILTER_CLASS": "crawler.resume.ResumableDupeFilter",
            "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue",  # the default one needs an engine
        },
    )
    spider = Spider("kill")
    spider.crawler = crawler
    sched = cls.from_crawler(crawler)
    sched.open(spider)
    for url in urls:
        sched.enqueue_request(Request(url, meta={"is_start_request": True}))
    return sched


def _drain(sched: Scheduler) -> list[str]:
    out = []
    while (r := sched.next_request()) is not None:
        out.append(r.url)
    return out


@pytest.mark.parametrize("cls", [Scheduler, JournalScheduler])
def test_a_killed_job_folder_does_not_shadow_the_next_runs_requests(tmp_path, cls):
    """A run queues 3 start requests, fetches 1 and dies (no close); the next run queues all 6 again."""
    urls = [f"http://127.0.0.1:9/search?q={i}" for i in range(6)]
    killed = _scheduler(cls, tmp_path, urls[:3])
    assert killed.next_request() is not None  # then SIGKILL: the scheduler is never closed
    got = _drain(_scheduler(cls, tmp_path, urls))
    if cls is Scheduler:  # Scrapy's disk queues: the stale records come back, the last 3 requests never do
        assert got == urls[:3] * 2
    else:
        assert got == urls


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


@pytest.mark.slow
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
            journaled = any((state / "jobs" / s / JOURNAL).exists() for s in SOURCES)
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
            assert rc == 0 and again["status"] == "ok", [
                (s["source"], s["state"], s["reason"]) for s in again["sources"]
            ]
            assert again["resumed"] is journaled  # resumed: the killed run had journaled a detail page
            runs = json.loads(cli("runs", "--config", str(cfg), "--format", "json").stdout)
            assert [x["status"] for x in runs] == ["ok", "killed"]
    finally:
        srv.stop()


def _page_requests(n: int) -> list[Request]:
    return [Request(f"http://127.0.0.1:9/list?page={i}") for i in range(1, n + 1)]


def test_done_list_pages_are_replayed_not_fetched(tmp_path):
    """Pages 1–3 journaled done (each with its next page, page 2 with a detail link as well); page 4's
    line torn by the kill. Enqueuing page 1 queues what the pages left pending: the detail link and
    page 4 (its own torn line is ignored, so page 4 is fetched), never pages 1–3."""
    from crawler.resume import DoneJournal, page_line, resume_scope

    pages = _page_requests(5)
    detail = Request("http://127.0.0.1:9/item/7", meta={"leaf": True})
    probe = _scheduler(JournalScheduler, tmp_path, [])
    fp = probe.crawler.request_fingerprinter.fingerprint
    scope = resume_scope(probe.spider)
    journal = DoneJournal(str(tmp_path))
    journal.add(page_line(scope, fp(pages[0]).hex(), [pickle.dumps(pages[1].to_dict())]))
    journal.add(page_line(scope, fp(pages[1]).hex(), [pickle.dumps(x.to_dict()) for x in (detail, pages[2])]))
    journal.add(page_line(scope, fp(pages[2]).hex(), [pickle.dumps(pages[3].to_dict())]))
    journal.add(page_line("other-scan", fp(pages[4]).hex(), []))  # another day's scan: not applied
    journal.close()
    with (tmp_path / JOURNAL).open("a", encoding="ascii") as fh:
        fh.write(page_line(scope, fp(pages[3]).hex(), [pickle.dumps(pages[4].to_dict())])[:-9])  # torn, no newline
    sched = _scheduler(JournalScheduler, tmp_path, [])
    assert sched.enqueue_request(pages[0].copy()) is True
    assert sched.enqueue_request(pages[1].copy()) is False  # replayed already: filtered like a seen request
    sched.enqueue_request(pages[4].copy())
    got = _drain(sched)
    assert sorted(got) == sorted([detail.url, pages[3].url, pages[4].url])
    assert sched.stats.get_value("markwatch/resume_pages_skipped") == 3


def test_page_journal_is_bounded(tmp_path):
    """Past MARKWATCH_RESUME_JOURNAL_MAX_BYTES no page is journaled (they are walked again on resume);
    a page yielding more than MARKWATCH_RESUME_MAX_FOLLOWUPS requests is not journaled either."""
    from scrapy.http import HtmlResponse

    from crawler.resume import PAGE, PageJournalMiddleware

    crawler = get_crawler(
        Spider,
        {"JOBDIR": str(tmp_path), "MARKWATCH_RESUME_JOURNAL_MAX_BYTES": 900, "MARKWATCH_RESUME_MAX_FOLLOWUPS": 3},
    )
    crawler.spider = Spider("bound")
    mw = PageJournalMiddleware.from_crawler(crawler)
    mw.spider_opened(crawler.spider)

    def page(i: int, links: int) -> None:
        req = Request(f"http://127.0.0.1:9/list?page={i}")
        resp = HtmlResponse(req.url, request=req, body=b"<html></html>")
        out = [Request(f"http://127.0.0.1:9/item/{i}-{j}", meta={"leaf": True}) for j in range(links)]
        assert list(mw.process_spider_output(resp, out)) == out

    for i in range(1, 6):
        page(i, 4 if i == 2 else 1)
    lines = (tmp_path / JOURNAL).read_text(encoding="ascii").splitlines()
    assert all(x.startswith(PAGE + " ") for x in lines) and 1 <= len(lines) < 4
    assert (tmp_path / JOURNAL).stat().st_size <= 900
    assert crawler.stats.get_value("markwatch/resume_journal_full") == 900
    assert crawler.stats.get_value("markwatch/resume_pages_too_many_followups") == 1
