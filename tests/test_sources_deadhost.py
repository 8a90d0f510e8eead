"""Dead hosts: what counts as "no connection at all", and `max_failures` honoured attempt by attempt."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler
from twisted.internet import error
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

from crawler.failfast import FailFastMiddleware, connection_failure


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (error.ConnectionRefusedError(), "connection refused"),
        (error.DNSLookupError("registry.example"), "DNS lookup failed"),
        (error.NoRouteError(), "no route to host"),
        (error.TCPTimedOutError(), "connection timed out"),
        (ResponseNeverReceived([Failure(error.ConnectionRefusedError())]), "connection refused"),
        (error.ConnectionLost(), ""),  # the host answered, then dropped: an ordinary failure, retried
        (ValueError("x"), ""),
    ],
)
def test_connection_failures_by_kind(exc, kind):
    assert connection_failure(exc) == kind


def _middleware(max_failures: int):
    stats = MemoryStatsCollector(get_crawler())
    source = SimpleNamespace(name="dead-src", max_failures=max_failures)
    crawler = SimpleNamespace(stats=stats, engine=None, spider=SimpleNamespace(source=source))
    return crawler, FailFastMiddleware(crawler)


@pytest.mark.parametrize("limit", [1, 3, 5])
def test_max_failures_consecutive_attempts_then_stopped_and_nothing_more_sent(limit, caplog):
    crawler, mw = _middleware(limit)
    req = Request("http://127.0.0.1:9/search?q=%E4%B8%80%E6%AD%A3")
    caplog.set_level(logging.WARNING, logger="crawler.failfast")
    for _ in range(limit - 1):
        assert mw.process_exception(req, error.ConnectionRefusedError()) is None  # the retry goes on
    with pytest.raises(IgnoreRequest):
        mw.process_exception(req, error.ConnectionRefusedError())
    stopped = crawler.stats.get_value("markwatch/stopped")
    assert stopped == f"site unreachable: connection refused ({limit} tries in a row, 127.0.0.1:9)"
    assert len(caplog.records) == 1  # one line for the kind, not one per try
    with pytest.raises(IgnoreRequest):  # the next queued request is dropped, never sent
        mw.process_request(Request("http://127.0.0.1:9/search?q=x"))
    assert crawler.stats.get_value("markwatch/requests_not_sent") == 1


def test_an_answer_resets_the_count():
    crawler, mw = _middleware(3)
    req = Request("http://127.0.0.1:9/")
    mw.process_exception(req, error.ConnectionRefusedError())
    mw.process_exception(req, error.ConnectionRefusedError())
    mw.process_response(req, SimpleNamespace(status=200))
    assert mw.process_exception(req, error.ConnectionRefusedError()) is None
    assert not crawler.stats.get_value("markwatch/stopped")
