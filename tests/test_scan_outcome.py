"""crawler.outcome: the one place a source's state and reason are decided."""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler import health
from crawler.outcome import FINAL_REQUESTS, TIME_BUDGET, usual_yield, verdict, worst, yield_drop


def _stats(**counts) -> MemoryStatsCollector:
    stats = MemoryStatsCollector(get_crawler())
    stats.set_value("finish_reason", "finished")
    for k, v in counts.items():
        stats.set_value(k, v)
    return stats


def test_ok_when_nothing_was_noted_and_items_came():
    s = _stats(item_scraped_count=480, **{FINAL_REQUESTS: 50})
    assert verdict(s.get_stats()).state == "ok"


def test_every_request_unreachable_is_failed_with_counts():
    s = _stats(**{FINAL_REQUESTS: 22})
    for _ in range(22):
        health.note(s, "unreachable", "connection refused")
    out = verdict(s.get_stats())
    assert (out.state, out.reason) == ("failed", "site unreachable: connection refused (22 of 22 requests)")


def test_some_pages_refused_is_degraded_all_refused_is_failed():
    s = _stats(item_scraped_count=100, **{FINAL_REQUESTS: 22})
    for _ in range(3):
        health.note(s, "refused", "HTTP 429")
    assert verdict(s.get_stats()).reason == "refused: HTTP 429 (3 of 22 requests)"
    assert verdict(s.get_stats()).state == "degraded"
    s = _stats(**{FINAL_REQUESTS: 22})
    for _ in range(22):
        health.note(s, "refused", "HTTP 401")
    assert (verdict(s.get_stats()).state, verdict(s.get_stats()).reason) == (
        "failed",
        "refused: HTTP 401 (22 of 22 requests)",
    )


def test_empty_pages_only_matter_when_the_source_yielded_nothing():
    s = _stats(item_scraped_count=0, **{FINAL_REQUESTS: 3})
    for _ in range(3):
        health.note(s, "empty", "selector `li.item` matched nothing")
    out = verdict(s.get_stats())
    assert (out.state, out.reason) == ("degraded", "0 rows: selector `li.item` matched nothing on 3 pages")
    s.set_value("item_scraped_count", 40)  # some searches had no results: normal
    assert verdict(s.get_stats()).state == "ok"


def test_nothing_at_all_is_degraded_unless_resumed():
    assert verdict(_stats(**{FINAL_REQUESTS: 1}).get_stats()).reason == "yielded nothing"
    resumed = _stats(**{FINAL_REQUESTS: 0, "markwatch/resume_skipped": 30}).get_stats()
    assert verdict(resumed).state == "ok"


def test_time_budget_and_crashes():
    s = _stats(item_scraped_count=10)
    s.set_value("finish_reason", TIME_BUDGET)
    assert (verdict(s.get_stats()).state, verdict(s.get_stats()).reason) == ("degraded", "time budget")
    s.set_value("finish_reason", "closespider_errorcount")
    assert verdict(s.get_stats()).state == "failed"


def test_yield_watch():
    history = [480, 470, 500, 490, 475]
    assert usual_yield(history[:2]) is None  # too little history says nothing
    assert yield_drop(12, history) == "items 12, usual 480 ± 15"
    assert yield_drop(400, history) == ""  # a normal dip
    s = _stats(item_scraped_count=12, **{FINAL_REQUESTS: 5})
    out = verdict(s.get_stats(), history=history)
    assert (out.state, out.reason) == ("degraded", "items 12, usual 480 ± 15")


def test_worst_state():
    assert worst(["ok", "degraded", "ok"]) == "degraded"
    assert worst(["failed", "ok"]) == "failed"
    assert worst([]) == "failed"


def test_a_source_stopped_as_unreachable_says_its_tries_and_host():
    s = _stats(**{FINAL_REQUESTS: 1})
    health.note(s, "unreachable", "connection refused")
    s.set_value("markwatch/stopped", "site unreachable: connection refused (3 tries in a row, 127.0.0.1:9)")
    out = verdict(s.get_stats())
    assert (out.state, out.reason) == ("failed", "site unreachable: connection refused (3 tries in a row, 127.0.0.1:9)")


def test_a_source_stopped_by_a_refusal_with_nothing_read_is_failed():
    s = _stats(**{FINAL_REQUESTS: 3})  # a token granted twice, one search refused after the renewal
    health.note(s, "refused", "HTTP 401")
    s.set_value("markwatch/stopped", "refused: HTTP 401")
    assert verdict(s.get_stats()).state == "failed"
