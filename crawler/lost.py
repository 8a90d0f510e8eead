"""Every page that never reached an item is counted, with a reason: nothing is dropped at DEBUG level.

- `LostRedirectMiddleware` (Scrapy's RedirectMiddleware, in its place): a chain past
  REDIRECT_MAX_TIMES ("redirect limit") or one that comes back to a URL it already passed
  ("redirect loop") is a lost page of the source, not a DEBUG line.
- `LostUrlLengthMiddleware` (Scrapy's UrlLengthMiddleware, in its place): a link over
  URLLENGTH_LIMIT is a lost page ("URL too long"), not an INFO line.
- `LostPagesMiddleware` (a spider middleware): a callback that raises (a parser's recursion
  limit, a decode error, anything else) loses that page; it is noted in plain words and the
  traceback goes to the log file once per kind, never per page.
- `FailureLog` (an extension): items dropped by the pipeline and items whose pipeline raised are
  counted per reason; when the source closes, one log line per kind of problem with its count
  (`crawler.health`), instead of one or two lines per item. It also turns Scrapy's own line per
  failed request (`PerRequestLines`: "Gave up retrying", "Error downloading" with its traceback,
  "… larger than download max size", "Ignored response … DOWNLOAD_MAXSIZE") into DEBUG lines: each
  of those failures is already a health note of its source, said in that one summary line.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from scrapy import signals
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import CloseSpider, DropItem, IgnoreRequest
from scrapy.http import Request
from scrapy.spidermiddlewares.urllength import UrlLengthMiddleware
from w3lib.url import canonicalize_url

from crawler import boundedjson, health
from crawler.outcome import FINAL_REQUESTS

logger = logging.getLogger(__name__)


def plain(exc: BaseException) -> str:
    """Why a parser gave up, in our words (never the exception's text: it may quote the page)."""
    if isinstance(exc, RecursionError):
        return "parser recursion limit"
    if isinstance(exc, boundedjson.TooDeep):
        return "nesting depth limit"
    if isinstance(exc, UnicodeError):
        return "decode error"
    if isinstance(exc, LookupError) and "encoding" in str(exc):
        return "unknown encoding"
    if isinstance(exc, MemoryError):
        return "out of memory"
    name = type(exc).__name__
    if "XMLSyntax" in name or "ParserError" in name or "lxml" in type(exc).__module__:
        return "HTML parser error"
    return f"parser error ({name})"


def _where(response: Any) -> str:
    meta = getattr(response, "meta", None) or {}
    return "detail page" if meta.get("leaf") else f"page {meta.get('page', 1)}"


class LostRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirects, with the pages they lose counted as lost (limit or loop)."""

    def process_response(self, request: Request, response: Any, spider: Any = None) -> Any:
        try:
            out = super().process_response(request, response)
        except IgnoreRequest as exc:
            if "max redirections" in str(exc):
                self._lost(request, "redirect limit", f"more than {self.max_redirect_times} redirects")
            raise
        if isinstance(out, Request) and out is not request:
            passed = [*request.meta.get("redirect_urls", []), request.url]
            here = canonicalize_url(out.url)
            if any(canonicalize_url(u) == here for u in passed):
                self._lost(request, "redirect loop", f"redirect loop after {len(passed)} hop(s)")
                raise IgnoreRequest("redirect loop")
        return out

    def _lost(self, request: Request, why: str, detail: str) -> None:
        stats = self.crawler.stats
        stats.inc_value(FINAL_REQUESTS)
        health.note(stats, "lost", f"{detail} ({_where(request)})", why=why)


class LostUrlLengthMiddleware(UrlLengthMiddleware):
    """Scrapy's URL length limit (URLLENGTH_LIMIT), with each link it drops counted as a lost page.

    A site that grows its links page after page (a crawl trap, a session id appended each time) would
    otherwise end the walk silently, at INFO level, and the source would say "ok".
    """

    def get_processed_request(self, request: Request, response: Any) -> Request | None:
        if len(request.url) <= self.maxlength:
            return request
        stats = self.crawler.stats
        stats.inc_value("urllength/request_ignored_count")
        where = _where(response) if response is not None else "a start request"
        health.note(stats, "lost", f"a link over {self.maxlength} characters ({where})", why="URL too long")
        return None


class LostPagesMiddleware:
    """A callback that raises loses its page: counted with a reason, the traceback logged once per kind."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self._logged: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> LostPagesMiddleware:
        return cls(crawler)

    def process_spider_exception(self, response: Any, exception: BaseException, spider: Any = None) -> Any:
        if isinstance(exception, CloseSpider | IgnoreRequest):
            return None  # Scrapy's own control flow
        stats = self.crawler.stats
        if isinstance(exception, boundedjson.Stopped):
            health.note(stats, "cut", f"{_where(response)}: reading stopped (shutdown or time budget)")
            return []
        why = plain(exception)
        health.note(stats, "lost", f"{why} ({_where(response)})", why=why)
        if why not in self._logged:  # the first of each kind with its traceback, in the log file
            self._logged.add(why)
            src = getattr(getattr(self.crawler, "spider", None), "source", None)
            logger.error(
                "source %s: a page was lost (%s); further pages lost the same way are only counted",
                getattr(src, "name", "?"),
                why,
                exc_info=(type(exception), exception, exception.__traceback__),
            )
        return []


# Scrapy's loggers that write a line per failed request, and the lines (each failure is a health note too).
PER_REQUEST = {
    "scrapy.downloadermiddlewares.retry": re.compile(r"^Gave up retrying "),
    "scrapy.core.scraper": re.compile(r"^Error downloading "),
    "scrapy.downloadermiddlewares.robotstxt": re.compile(r"^Error downloading "),  # robots.txt of a dead host
    "scrapy.core.downloader.handlers.http11": re.compile(r"larger than download max size"),
    "scrapy.downloadermiddlewares.httpcompression": re.compile(r"^Ignored response .* exceeded DOWNLOAD_MAXSIZE"),
}


class PerRequestLines(logging.Filter):
    """A logger filter that lowers Scrapy's per-request failure lines to DEBUG (kept in a DEBUG log)."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        super().__init__()
        self.pattern = pattern

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG and self.pattern.search(str(record.msg)):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            record.exc_info = record.exc_text = None  # the traceback of an expected failure: not even in DEBUG
        return True


def quiet_per_request_lines() -> None:
    """Install `PerRequestLines` on Scrapy's loggers, once per process."""
    for name, pattern in PER_REQUEST.items():
        log = logging.getLogger(name)
        if not any(isinstance(f, PerRequestLines) for f in log.filters):
            log.addFilter(PerRequestLines(pattern))


class FailureLog:
    """Dropped and failed items counted per reason; one summary line per kind of problem per source."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self._logged: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> FailureLog:
        ext = cls(crawler)
        quiet_per_request_lines()
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Any = None) -> None:
        why = str(exception).split(":", 1)[0].strip()[:60] if isinstance(exception, DropItem) else ""
        health.note(self.crawler.stats, "dropped", f"item dropped: {why}", why=why or "dropped")

    def item_error(self, item: Any, response: Any, spider: Any = None, failure: Any = None) -> None:
        exc = getattr(failure, "value", None)
        why = f"pipeline error ({type(exc).__name__})" if exc is not None else "pipeline error"
        health.note(self.crawler.stats, "lost", f"item lost: {why}", why=why)

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        name = getattr(getattr(spider, "source", None), "name", getattr(spider, "name", "?"))
        for kind, p in health.problems(stats).items():
            by = p.get("by") or {}
            parts = [f"{n} × {why}" for why, n in sorted(by.items(), key=lambda x: -x[1])]
            detail = (
                "; ".join(parts)
                if parts
                else f"first: {p['first']}"
                + (f", last: {p['last']}" if p["count"] > 1 and p["last"] != p["first"] else "")
            )
            logger.warning("source %s: %s × %d (%s)", name, kind, p["count"], detail)
