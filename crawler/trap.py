"""The crawl-trap guard: a site that makes pages up as it is walked is stopped, not followed all night.

Two rules, both on by default (settings in crawler/settings.py):

- pages per host per scan (``MARKWATCH_MAX_PAGES_PER_HOST``, 20,000): the request past it stops
  the source (``degraded: crawl trap: …``); what it read so far is kept;
- URL-pattern repetition (``MARKWATCH_TRAP_REPEATS``, 3): a URL whose path repeats one segment
  (or one pair of segments) that many times, ``/a/b/a/b/a/b/…``, is refused before it is fetched
  and counted.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import deferred_from_coro

from crawler import health
from crawler.outcome import FINAL_REQUESTS

logger = logging.getLogger(__name__)

MAX_SEGMENTS = 32


def repeated(path: str, limit: int) -> str:
    """'segment `a` ×3' when a path repeats one segment or pair of segments *limit* times in a row, else ''."""
    segs = [s for s in path.split("/") if s]
    if len(segs) > MAX_SEGMENTS:
        return f"{len(segs)} path segments"
    if limit < 2:
        return ""
    for width in (1, 2, 3):
        for start in range(width):
            run = 1
            for i in range(start + width, len(segs) - width + 1, width):
                if segs[i : i + width] == segs[i - width : i]:
                    run += 1
                    if run >= limit:
                        return f"path repeats `{'/'.join(segs[i : i + width])[:40]}` {run} times"
                else:
                    run = 1
    return ""


class TrapGuardMiddleware:
    """Count requests per host; refuse repeating URL patterns; stop the source past the per-host limit."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        s = crawler.settings
        self.max_pages = s.getint("MARKWATCH_MAX_PAGES_PER_HOST", 20_000)
        self.repeats = s.getint("MARKWATCH_TRAP_REPEATS", 3)
        self.per_host: Counter[str] = Counter()
        self.tripped = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> TrapGuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Any, spider: Any = None) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https") or parts.path == "/robots.txt":
            return None
        stats = self.crawler.stats
        why = repeated(parts.path, self.repeats)
        if why:
            stats.inc_value(FINAL_REQUESTS)
            health.note(stats, "trap", f"crawl trap: {why}", why="URL pattern repeats")
            raise IgnoreRequest(f"crawl trap: {why}")
        if request.meta.get("redirect_urls"):
            return None  # a redirect hop is the same page
        host = (parts.hostname or "").lower()
        self.per_host[host] += 1
        if self.max_pages and self.per_host[host] > self.max_pages:
            stats.inc_value(FINAL_REQUESTS)
            stats.inc_value("markwatch/trap_refused")  # the reason is the source's degraded reason, said once
            if not self.tripped:
                self.tripped = True
                reason = f"crawl trap: more than {self.max_pages:,} pages from {host} (limit)"
                stats.set_value("markwatch/degraded", True)
                stats.set_value("markwatch/degraded_reason", reason)
                src = getattr(getattr(self.crawler, "spider", None), "source", None)
                logger.error("source %s: %s; stopping it", getattr(src, "name", "?"), reason)
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="degraded"))
            raise IgnoreRequest("crawl trap: pages per host")
        return None
