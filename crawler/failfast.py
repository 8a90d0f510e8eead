"""Stop a source at once when it cannot work: a host that does not answer, or an API that said no.

`FailFastMiddleware` (a downloader middleware just outside the retry middleware, so it sees every
attempt) counts consecutive connection-level failures — refused, DNS lookup failed, no route,
connect timeout — and after the source's `max_failures` (default 3) stops the source: one log line
per kind of failure, no retry ladder of minutes. Once a source is stopped (refused, degraded, dead
host), any request of it still on its way to the network is dropped here instead of being sent.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import deferred_from_coro

from crawler import health
from crawler.outcome import FINAL_REQUESTS

logger = logging.getLogger(__name__)

# Exceptions meaning "no connection at all" (by class name: Twisted's and Scrapy's own, across versions).
CONNECTION_FAILURES = {
    "ConnectionRefusedError": "connection refused",
    "DownloadConnectionRefusedError": "connection refused",
    "DNSLookupError": "DNS lookup failed",
    "CannotResolveHostError": "DNS lookup failed",
    "NoRouteError": "no route to host",
    "TCPTimedOutError": "connection timed out",
    "ConnectError": "cannot connect",
    "ConnectingCancelledError": "connection timed out",
}


def connection_failure(exc: BaseException) -> str:
    """The kind of connection failure *exc* is, in plain words, or '' for anything else."""
    for cls in type(exc).__mro__:
        if cls.__name__ in CONNECTION_FAILURES:
            return CONNECTION_FAILURES[cls.__name__]
    for r in getattr(exc, "reasons", []) or []:
        inner = getattr(r, "value", r)
        if isinstance(inner, BaseException) and (kind := connection_failure(inner)):
            return kind
    return ""


STOPPED = "markwatch/stopped"  # stats key: why the source was stopped (nothing more is sent)


def stop(crawler, reason: str) -> None:
    """Stop the source: degraded with *reason* (the first reason wins), nothing more sent, spider closed."""
    stats = crawler.stats
    if stats.get_value(STOPPED):
        return
    stats.set_value(STOPPED, reason)
    if not stats.get_value("markwatch/degraded"):
        stats.set_value("markwatch/degraded", True)
        stats.set_value("markwatch/degraded_reason", reason)
    if crawler.engine is not None:
        deferred_from_coro(crawler.engine.close_spider_async(reason="degraded"))


class FailFastMiddleware:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.in_a_row = 0
        self.logged: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _limit(self) -> int:
        src = getattr(self.crawler.spider, "source", None)
        return int(getattr(src, "max_failures", 3) or 3)

    def process_request(self, request, spider=None):
        stopped = self.crawler.stats.get_value(STOPPED) or (
            self.crawler.stats.get_value("markwatch/degraded") and not request.meta.get("markwatch_token_step")
        )
        if stopped:
            self.crawler.stats.inc_value("markwatch/requests_not_sent")
            raise IgnoreRequest("source stopped")
        return None

    def process_response(self, request, response, spider=None):
        self.in_a_row = 0
        return response

    def process_exception(self, request, exception, spider=None):
        kind = connection_failure(exception)
        if not kind:
            return None
        self.in_a_row += 1
        host = request.url.split("/")[2] if "//" in request.url else request.url
        if kind not in self.logged:
            self.logged.add(kind)
            src = getattr(getattr(self.crawler.spider, "source", None), "name", "?")
            logger.warning("source %s: %s (%s); further ones are counted, not logged", src, kind, host)
        if self.in_a_row < self._limit():
            return None  # the retry middleware tries again
        stats = self.crawler.stats
        stats.inc_value(FINAL_REQUESTS)
        health.note(stats, "unreachable", kind)
        stop(self.crawler, f"site unreachable: {kind} ({self.in_a_row} tries in a row, {host})")
        raise IgnoreRequest(kind)
