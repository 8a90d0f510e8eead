"""Downloader middlewares: the host guard, retries that back off, and the source-health watch.

- `HostGuardMiddleware` refuses, before connecting, any request to a host the source does not own
  (an off-site redirect or link) and any request to a loopback, private or link-local address
  (also when a host name resolves to one) unless the source's own base URL is such an address.
- `SourceHealthMiddleware` notes every refusal, failure and oversized body in `crawler.health`
  and counts the requests that ended, for the verdict in `crawler.outcome`. A source is also
  stopped early when it serves an anti-bot page (captcha, 403/429) or when requests keep failing
  after their retries (its spider closes with reason "degraded") while other sources go on.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread

from crawler import health
from crawler.extract import text_of
from crawler.outcome import FINAL_REQUESTS

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
            # Imported here: at module level it would install Twisted's default reactor before Scrapy's.
            from twisted.internet import reactor

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
        if _is_robots(request):
            return response
        stats = self.crawler.stats
        if not 300 <= response.status < 400:  # a redirect is not the end of its request
            stats.inc_value(FINAL_REQUESTS)
        if request.meta.get("markwatch_token_step"):
            return response  # the token step notes its own refusal, with the provider's reason (crawler.tokens)
        if response.status in REFUSED_STATUSES:
            health.note(stats, "refused", f"HTTP {response.status}")
        reason = self._antibot(response)
        if reason:
            stats.inc_value("markwatch/antibot_pages")
            if response.status not in REFUSED_STATUSES:
                health.note(stats, "refused", "anti-bot page")
            self._degrade(reason)
            raise IgnoreRequest(reason)
        if response.status >= 500:
            health.note(stats, "failed", f"HTTP {response.status}")
            self._failed(f"HTTP {response.status} at {response.url}")
        elif response.status == 404 and request.meta.get(MAY_BE_UNPUBLISHED):
            pass  # a day's file not out yet: the spider decides (published_by)
        elif response.status >= 400 and response.status not in REFUSED_STATUSES:
            health.note(stats, "failed", f"HTTP {response.status}")
        elif response.status < 400:
            self.failures = 0
        return response

    def process_exception(self, request, exception, spider=None):
        if _is_robots(request):
            return None
        stats = self.crawler.stats
        limit = request.meta.get("download_maxsize", self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        too_large = _too_large(exception, int(limit or 0))
        if too_large:
            stats.inc_value(FINAL_REQUESTS)
            health.note(stats, "too_large", too_large)
            return None
        if isinstance(exception, IgnoreRequest):
            return None  # refused on purpose (host guard, robots.txt, anti-bot): noted where it was refused
        stats.inc_value(FINAL_REQUESTS)
        health.note(stats, "unreachable", _plain(exception))
        self._failed(f"{type(exception).__name__} at {request.url}")
        return None

    def _failed(self, what: str) -> None:
        self.failures += 1
        self.crawler.stats.inc_value("markwatch/failed_requests")
        src = self._source()
        limit = src.max_failures if src else 8
        if self.failures >= limit:
            self._degrade(f"{self.failures} requests in a row failed after retries (last: {what})")


# The site answered but said no: authentication, permission, method, rate limit, legal.
REFUSED_STATUSES = frozenset({401, 403, 405, 407, 429, 451})
MAY_BE_UNPUBLISHED = "markwatch_may_be_unpublished"  # request meta: a 404 may mean "today's file is not out yet"


def _is_robots(request: Request) -> bool:
    return urlsplit(request.url).path == "/robots.txt"


_SIZES = re.compile(r"(Expected to receive|Received) (\d+) bytes which is larger than download max size \((\d+)\)")
_DECOMPRESSED = re.compile(r"exceeded DOWNLOAD_MAXSIZE \((\d+) B\) during decompression")


def _too_large(exc: BaseException, limit: int = 0) -> str:
    """'body over the size limit …' when *exc* is Scrapy's size cut (raw or decompressed), else ''.

    With the sizes Scrapy names: the size the site declared, or "more than N bytes" where reading
    stopped at the limit (nothing past it was read, so nothing more is known). A body without a
    declared length is cut by cancelling its download, which Scrapy reports as a bare
    DownloadCancelledError (its HTTP/1.1 handler cancels a download for nothing else); *limit* is
    the request's DOWNLOAD_MAXSIZE then.
    """
    text = str(exc)
    if type(exc).__name__ == "DownloadCancelledError" and not text.strip() and limit > 0:
        return f"body over the size limit (more than {limit} bytes; reading stopped)"
    if m := _SIZES.search(text):
        declared, size, limit = m.group(1) == "Expected to receive", int(m.group(2)), int(m.group(3))
        if declared:
            return f"body over the size limit ({size} bytes declared, limit {limit})"
        return f"body over the size limit (more than {limit} bytes; reading stopped)"
    if m := _DECOMPRESSED.search(text):
        return f"body over the size limit after decompression (more than {m.group(1)} bytes; reading stopped)"
    if "DOWNLOAD_MAXSIZE" in text or "download max size" in text or "larger than download max size" in text:
        return "body over the size limit" + (" after decompression" if "decompress" in text.lower() else "")
    if type(exc).__name__ == "DownloadCancelledError" and "size" in text:
        return "body over the size limit"
    return ""


_PLAIN = {
    "DownloadConnectionRefusedError": "connection refused",
    "CannotResolveHostError": "DNS lookup failed",
    "DownloadTimeoutError": "timed out",
    "DownloadFailedError": "download failed",
    "ResponseDataLossError": "answer cut off",
    "ConnectionRefusedError": "connection refused",
    "DNSLookupError": "DNS lookup failed",
    "TimeoutError": "timed out",
    "TCPTimedOutError": "timed out",
    "ConnectError": "cannot connect",
    "ConnectionLost": "connection lost",
    "ResponseNeverReceived": "connection lost before an answer",
    "ResponseFailed": "answer cut off",
    "NoRouteError": "no route to host",
    "SSLError": "TLS handshake failed",
}


def _plain(exc: BaseException) -> str:
    """An exception in plain words for the reason line (its type, never its text: that may hold a URL with a key)."""
    name = type(exc).__name__
    if name in ("ResponseNeverReceived", "ResponseFailed"):
        inner = [type(getattr(r, "value", r)).__name__ for r in getattr(exc, "reasons", [])]
        for n in inner:
            if n in _PLAIN and n not in ("ResponseNeverReceived", "ResponseFailed"):
                return _PLAIN[n]
    return _PLAIN.get(name, name)


def host_key(url: str) -> str:
    """host:port of a URL, lowercased, with the scheme's default port spelled out."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{host}:{port}"


def _private(ip: str) -> bool:
    try:
        addr = ipaddress.ip_address(ip.split("%")[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return (
        addr.is_loopback
        or addr.is_private
        or addr.is_link_local
        or addr.is_reserved
        or addr.is_unspecified
        or addr.is_multicast
    )


def _resolve(host: str) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})
    except OSError:
        return []  # let the download fail as unreachable, the way it would without the guard


class HostGuardMiddleware:
    """Refuse requests to hosts the source does not own, and to private addresses, before connecting.

    A source owns the hosts of its URLs after `{base}` substitution plus its `allowed_hosts`.
    Addresses are checked for IP literals and for the addresses a name resolves to (in a thread,
    cached per host for the crawl); a name that resolves differently at connect time (DNS
    rebinding) is outside what a check before connecting can see: see docs/production.md.
    """

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self._owned: set[str] | None = None
        self._private_ok = False
        self._addrs: dict[str, list[str]] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def _setup(self) -> None:
        spider = self.crawler.spider
        src = getattr(spider, "source", None)
        base = str(getattr(spider, "base_url", "") or getattr(src, "base_url", "") or "")
        urls = [base] if base else []
        if src is not None:
            urls.append(src.pages.url.replace("{base}", base))
            if getattr(src, "token", None) is not None:
                urls.append(src.token.url.replace("{base}", base))
        owned = {host_key(u) for u in urls if urlsplit(u).scheme in ("http", "https")}
        for h in getattr(src, "allowed_hosts", None) or []:
            owned.add(host_key(h if "://" in h else f"http://{h}"))
            if "://" not in h and ":" not in h:
                owned.add(host_key(f"https://{h}"))
        base_host = urlsplit(base).hostname or ""
        if not base_host:
            self._private_ok = False
        elif _is_ip(base_host) or base_host == "localhost":
            self._private_ok = base_host == "localhost" or _private(base_host)
        else:  # resolved in a thread: the reactor must not wait for DNS
            addrs = await maybe_deferred_to_future(deferToThread(_resolve, base_host))
            self._private_ok = any(_private(a) for a in addrs)
        self._owned = owned  # last: a request arriving meanwhile runs the setup too, never a half-made one

    def _refuse(self, kind: str, detail: str, log_url: str) -> None:
        health.note(self.crawler.stats, kind, detail)
        self.crawler.stats.inc_value(FINAL_REQUESTS)
        logger.info("refused %s: %s", log_url, detail)
        raise IgnoreRequest(detail)

    async def process_request(self, request, spider=None):
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            return None  # file:// data sources and the like are the operator's own files
        if self._owned is None:
            await self._setup()
        host = (parts.hostname or "").lower()
        key = host_key(request.url)
        redirected = bool(request.meta.get("redirect_urls"))
        if self._owned and key not in self._owned:
            what = "redirect" if redirected else "link"
            self._refuse("offsite", f"{what} to another host ({host})", request.url)
        if self._private_ok:
            return None
        addrs = [host] if _is_ip(host) else self._addrs.get(host)
        if addrs is None:
            addrs = self._addrs[host] = await maybe_deferred_to_future(deferToThread(_resolve, host))
        if host == "localhost" or any(_private(a) for a in addrs):
            self._refuse("offsite", f"private or loopback address ({host})", request.url)
        return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class BoundedDecompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's decompression, which stops at DOWNLOAD_MAXSIZE (a gzip or brotli bomb), noting the cut.

    Scrapy raises IgnoreRequest from process_response there, which no other middleware's
    process_exception sees; this is where the source learns that one of its pages was too large.
    """

    @classmethod
    def from_crawler(cls, crawler):
        mw = super().from_crawler(crawler)
        mw._mw_crawler = crawler
        return mw

    def process_response(self, request, response, spider=None):
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:
            stats = self._mw_crawler.stats
            if not _is_robots(request):
                stats.inc_value(FINAL_REQUESTS)
            health.note(stats, "too_large", _too_large(exc) or "body over the size limit after decompression")
            raise
