"""The health notes are the contract between the crawler's parts and the scan's verdict."""

from __future__ import annotations

import pytest
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler import health


def _stats() -> MemoryStatsCollector:
    return MemoryStatsCollector(get_crawler())


def test_notes_count_and_keep_first_and_last_detail():
    stats = _stats()
    health.note(stats, "refused", "HTTP 401 on page 1")
    health.note(stats, "refused", "HTTP 401 on page 2")
    health.note(stats, "malformed", "truncated JSON\r\non page 3")
    got = health.problems(stats.get_stats())
    assert got == {
        "refused": {"count": 2, "first": "HTTP 401 on page 1", "last": "HTTP 401 on page 2"},
        "malformed": {"count": 1, "first": "truncated JSON on page 3", "last": "truncated JSON on page 3"},
    }


def test_details_are_bounded_and_unknown_kinds_refused():
    stats = _stats()
    health.note(stats, "empty", "x" * 10_000)
    assert len(health.problems(stats.get_stats())["empty"]["last"]) == health.MAX_DETAIL
    with pytest.raises(ValueError):
        health.note(stats, "fine", "")
    assert health.problems({}) == {}
