"""Downloader middlewares: retries that back off, and the source-health watch that degrades a source.

A source is *degraded* when it serves an anti-bot page (captcha, 403/429) or
when requests keep failing after their retries; it is then stopped cleanly
(its spider closes with reason "degraded") while other sources go on.
"""

from __future__ import annotations

import logging

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

from crawler.extract import text_of

logger = logging.getLogger(__name__)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, but each retry of a request waits twice as long as the one before."""

    def __init__(self, settings, *args, **kwargs):
        super().__init__(settings, *args, **kwargs)
        self.backoff = settings.getfloat("MARKWATCH_RETRY_BACKOFF", 1.0)
        self.backoff_max = settings.getfloat("MARKWATCH_RETRY_BACKOFF_MAX", 30.0)

    async def _wait(self, result):
        if isinstance(result, Request) and self.backoff > 0:
            tries = result.meta.get("retry_times", 1)
            delay = min(self.backoff_max, self.backoff * 2 ** (tries - 1))
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return result

    async def process_response(self, request, response, spider=None):
        return await self._wait(super().process_response(request, response))

    async def process_exception(self, request, exception, spider=None):
        return await self._wait(super().process_exception(request, exception))


class SourceHealthMiddleware:
    """Watch every final response of a source; on a captcha or too many failures, degrade and stop it."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.failures = 0
        self.degraded = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _source(self):
        return getattr(self.crawler.spider, "source", None)

    def _degrade(self, reason: str) -> None:
        if self.degraded:
            return
        self.degraded = True
        stats = self.crawler.stats
        stats.set_value("markwatch/degraded", True)
        stats.set_value("markwatch/degraded_reason", reason)
        src = self._source()
        logger.error("source %s degraded: %s; stopping it", getattr(src, "name", "?"), reason)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="degraded"))

    def _antibot(self, response: Response) -> str | None:
        src = self._source()
        if src is None:
            return None
        rules = src.antibot
        if response.status in rules.statuses:
            return f"blocked: HTTP {response.status} at {response.url}"
        if any(s in response.url for s in rules.url_contains):
            return f"anti-bot redirect to {response.url}"
        if isinstance(response, TextResponse) and response.status == 200 and rules.markers:
            head = text_of(response, src.encoding)[:4096]
            hit = next((m for m in rules.markers if m in head), None)
            if hit:
                return f"anti-bot page ({hit!r}) at {response.url}"
        return None

    def process_response(self, request, response, spider=None):
        if request.url.endswith("/robots.txt"):
            return response
        reason = self._antibot(response)
        if reason:
            self.crawler.stats.inc_value("markwatch/antibot_pages")
            self._degrade(reason)
            raise IgnoreRequest(reason)
        if response.status >= 500:
            self._failed(f"HTTP {response.status} at {response.url}")
        elif response.status < 400:
            self.failures = 0
        return response

    def process_exception(self, request, exception, spider=None):
        if not isinstance(exception, IgnoreRequest):
            self._failed(f"{type(exception).__name__} at {request.url}")

    def _failed(self, what: str) -> None:
        self.failures += 1
        self.crawler.stats.inc_value("markwatch/failed_requests")
        src = self._source()
        limit = src.max_failures if src else 8
        if self.failures >= limit:
            self._degrade(f"{self.failures} requests in a row failed after retries (last: {what})")
