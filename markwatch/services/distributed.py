"""Scale-out switch: `[queue] backend = "redis"` makes every scan a worker on one shared request queue.

scrapy-redis's scheduler and duplicate filter replace Scrapy's local ones. The keys are per source
and per *run key* (default: the scan date), so the workers that cron starts on several machines on
the same night share one queue and one seen-set per source: each request is fetched by one worker,
and a worker that starts late picks up what the others queued. Nothing is flushed when a worker
finishes (another may still be working); the keys expire ``expire_days`` after the last scan.
"""

from __future__ import annotations

import re
from typing import Any

from alerts.extras import require
from markwatch.config import QueueSettings

SCHEDULER = "scrapy_redis.scheduler.Scheduler"
DUPEFILTER = "scrapy_redis.dupefilter.RFPDupeFilter"


def queue_keys(queue: QueueSettings, run_key: str, source: str) -> dict[str, str]:
    base = f"{queue.key_prefix}:{run_key}:{source}"
    return {"requests": f"{base}:requests", "dupefilter": f"{base}:dupefilter"}


def redis_settings(queue: QueueSettings, run_key: str, source: str) -> dict[str, Any]:
    """Scrapy settings that put one source's crawl on the shared Redis queue."""
    keys = queue_keys(queue, run_key, source)
    return {
        "SCHEDULER": SCHEDULER,
        "DUPEFILTER_CLASS": DUPEFILTER,
        "SCHEDULER_PERSIST": True,  # never flush: other workers may still be using the queue
        "SCHEDULER_FLUSH_ON_START": False,
        "SCHEDULER_QUEUE_KEY": keys["requests"],
        "SCHEDULER_DUPEFILTER_KEY": keys["dupefilter"],
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
        "REDIS_URL": queue.redis_url,
        "EXTENSIONS": {"markwatch.services.distributed.WaitForPeers": 500},
        "MARKWATCH_QUEUE_IDLE_GRACE": queue.idle_grace,
    }


class WaitForPeers:
    """Keep an idle worker open while the shared queue may still fill.

    A worker that joins while the others are between pages finds the queue
    empty for a moment; Scrapy would close it at once. It stays while the queue
    has requests, and for `idle_grace` seconds after it last had work.
    """

    def __init__(self, crawler: Any) -> None:
        import time

        from scrapy import signals

        self.crawler = crawler
        self.grace = float(crawler.settings.getfloat("MARKWATCH_QUEUE_IDLE_GRACE", 20.0))
        self._clock = time.monotonic
        self.idle_since: float | None = None
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(self.request_scheduled, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler: Any) -> WaitForPeers:
        return cls(crawler)

    def request_scheduled(self, *args: Any, **kwargs: Any) -> None:
        self.idle_since = None

    def spider_idle(self, spider: Any) -> None:
        from scrapy.exceptions import DontCloseSpider

        scheduler = getattr(self.crawler.engine, "scheduler", None)
        if scheduler is not None and len(scheduler) > 0:
            self.idle_since = None
            raise DontCloseSpider
        now = self._clock()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.grace:
            raise DontCloseSpider


def expire_keys(queue: QueueSettings, run_key: str, sources: list[str]) -> None:
    """Let a night's queue and seen-set go after `expire_days` (a rerun within that time resumes)."""
    import redis

    client = redis.Redis.from_url(queue.redis_url, socket_timeout=10)
    try:
        for src in sources:
            for key in queue_keys(queue, run_key, src).values():
                client.expire(key, queue.expire_days * 86400)
    finally:
        client.close()


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"//[^@/]*@", "//***@", url)


def check_redis(queue: QueueSettings) -> None:
    """Fail early, in one line, when the shared queue cannot be reached (or its extra is not installed)."""
    require("scrapy_redis", "redis", '[queue] backend = "redis"')
    import redis

    client = redis.Redis.from_url(queue.redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ConnectionError(f"cannot reach the shared queue at {redact(queue.redis_url)}: {exc}") from None
    finally:
        client.close()
