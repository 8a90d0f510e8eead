"""Crash-safe resume: a journal of detail pages whose items went all the way through the pipeline.

Scrapy's JOBDIR state is not crash-safe. Its seen-requests file holds requests whose items never
reached the alerts store, and its disk request queues (queuelib) write their bookkeeping (FIFO
``info.json``, the LIFO size header, ``active.json``) only on a clean close: after SIGKILL the next
run reads the killed run's stale records in place of the requests it pushes itself, and the
requests they shadow are never fetched (issue 27: 13 of 32 alerts missing after kill -9 at 1 s).

So the journal is the only state one run hands to the next: each run starts its disk queues empty
(`JournalScheduler`; within a run they keep pending requests out of memory, as in Scrapy). Two kinds
of line are journaled, each only once everything derived from its page was stored:

- a *leaf* request (a detail page): its fingerprint, written by RecordPipeline after its item;
  a later run's duplicate filter skips it;
- a *list* page (a results, index or issue page: any other request with a callback), written by
  `PageJournalMiddleware` once its callback ended, every item it yielded went through the whole
  pipeline and was kept, and nothing went wrong meanwhile (no health note, no stop): its
  fingerprint with the follow-up requests it yielded (next page, detail pages), serialized as
  Scrapy's disk queues serialize them. A later run of the same scan (same source, date and days)
  does not fetch that page again: `JournalScheduler` replays its follow-ups in its place (those
  that are done list pages in turn, those that are done detail pages are skipped by the filter).

A page that does not qualify is simply fetched again next time, as before. The page records are
bounded (`MARKWATCH_RESUME_MAX_FOLLOWUPS` per page, `MARKWATCH_RESUME_JOURNAL_MAX_BYTES` for the
file): past a bound, pages are walked again instead of journaled. The journal is removed with
its JOBDIR when the source finishes (markwatch/services/scan.py).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import pickle
import shutil
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from scrapy import signals
from scrapy.core.scheduler import Scheduler
from scrapy.dupefilters import BaseDupeFilter
from scrapy.http import Request, Response
from scrapy.utils.request import request_from_dict

from crawler import health, shutdown

logger = logging.getLogger(__name__)

JOURNAL = "markwatch-done.log"
PAGE = "P"  # a list page's line: P <scope> <fingerprint> <crc32> <base64 of the pickled follow-ups>
MAX_FOLLOWUPS = 1000
MAX_BYTES = 64 * 1024 * 1024


def resume_scope(spider: Any) -> str:
    """What a list page's follow-ups depend on besides the page: the source, the scan's date and days.

    A page record applies only to a rerun of the same scan: a scan of another day walks its pages again."""
    parts = [
        str(getattr(getattr(spider, "source", None), "name", "") or getattr(spider, "name", "")),
        str(getattr(spider, "date", "")),
        str(getattr(spider, "days", "")),
        str(getattr(spider, "base_url", "")),
    ]
    return hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:12]


def page_line(scope: str, fp: str, followups: list[bytes]) -> str:
    payload = pickle.dumps(followups, protocol=4)
    return f"{PAGE} {scope} {fp} {zlib.crc32(payload):08x} {base64.b64encode(payload).decode('ascii')}"


def parse_page_line(line: str) -> tuple[str, str, list[bytes]] | None:
    """(scope, fingerprint, follow-ups) of a page line; None for a torn or foreign line (a kill mid-write)."""
    parts = line.split(" ")
    if len(parts) != 5 or parts[0] != PAGE:
        return None
    try:
        payload = base64.b64decode(parts[4], validate=True)
        if f"{zlib.crc32(payload):08x}" != parts[3]:
            return None
        followups = pickle.loads(payload)  # noqa: S301 - our own JOBDIR, as Scrapy's disk queues
    except Exception:
        return None
    if not isinstance(followups, list) or not all(isinstance(x, bytes) for x in followups):
        return None
    return parts[1], parts[2], followups


class DoneJournal:
    """Append-only, line-flushed file of request fingerprints; survives SIGKILL up to the last line."""

    def __init__(self, jobdir: str | None) -> None:
        self.path = Path(jobdir) / JOURNAL if jobdir else None
        self._fh: TextIO | None = None

    def load(self) -> set[str]:
        if not self.path or not self.path.exists():
            return set()
        with self.path.open(encoding="ascii", errors="ignore") as fh:
            return {x for line in fh if len(x := line.strip()) >= 16 and " " not in x}

    def pages(self, scope: str) -> dict[str, list[bytes]]:
        """The list pages journaled done by runs of the same scan: fingerprint → serialized follow-ups."""
        out: dict[str, list[bytes]] = {}
        if not self.path or not self.path.exists():
            return out
        with self.path.open(encoding="ascii", errors="ignore") as fh:
            for line in fh:
                if line.startswith(PAGE + " ") and line.endswith("\n"):
                    rec = parse_page_line(line.rstrip("\n"))
                    if rec is not None and rec[0] == scope:
                        out[rec[1]] = rec[2]
        return out

    def size(self) -> int:
        try:
            return self.path.stat().st_size if self.path else 0
        except OSError:
            return 0

    def add(self, fp: str) -> None:
        """Append one line (a leaf's fingerprint or a page line), flushed at once."""
        if not self.path:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="ascii")
        self._fh.write(fp + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno()) if os.environ.get("MARKWATCH_FSYNC") else None

    def close(self) -> None:
        if self._fh:
            self._fh.close()
            self._fh = None


class ResumableDupeFilter(BaseDupeFilter):
    """In-memory duplicate filter for one run, plus the done journal of earlier runs in the same JOBDIR."""

    def __init__(self, jobdir: str | None, fingerprinter, stats=None) -> None:
        self.fingerprinter = fingerprinter
        self.seen: set[bytes] = set()
        self.done = DoneJournal(jobdir).load()
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("JOBDIR"), crawler.request_fingerprinter, crawler.stats)

    def request_seen(self, request: Request) -> bool:
        fp = self.fingerprinter.fingerprint(request)
        if request.meta.get("leaf") and fp.hex() in self.done:
            if self.stats:
                self.stats.inc_value("markwatch/resume_skipped")
            return True
        if fp in self.seen:
            return True
        self.seen.add(fp)
        return False


class JournalScheduler(Scheduler):
    """Scrapy's scheduler whose disk queues (JOBDIR) start empty in every run (the journal is the resume state).

    The ``requests.queue`` folder an earlier run left (killed, stopped or interrupted) is removed
    unread: after a kill its records are stale and would shadow the requests this run pushes; after
    a clean stop they are requests the list pages give again.

    A list page journaled done by an earlier run of the same scan (`PageJournalMiddleware`) is not
    queued again: the follow-up requests it yielded are queued in its place, as if it had been
    fetched and parsed again. Start requests are always queued: a run's first pages open its session
    (cookies, a keyed source's probe) and the pages after them are replayed.
    """

    def _dqdir(self, jobdir: str | None) -> str | None:
        if jobdir:
            shutil.rmtree(Path(jobdir, "requests.queue"), ignore_errors=True)
        return super()._dqdir(jobdir)

    def open(self, spider: Any) -> Any:
        out = super().open(spider)
        jobdir = self.crawler.settings.get("JOBDIR") if self.crawler else None
        self.done_pages: dict[str, list[bytes]] = DoneJournal(jobdir).pages(resume_scope(spider)) if jobdir else {}
        self.replayed: set[str] = set()
        if self.done_pages and self.stats is not None:
            self.stats.set_value("markwatch/resume_pages_journaled", len(self.done_pages))
        return out

    def _page_fp(self, request: Request) -> str:
        assert self.crawler is not None
        return self.crawler.request_fingerprinter.fingerprint(request).hex()

    def enqueue_request(self, request: Request) -> bool:
        pages: dict[str, list[bytes]] = getattr(self, "done_pages", None) or {}
        if not (pages or getattr(self, "replayed", None)) or request.dont_filter:
            return super().enqueue_request(request)
        if request.meta.get("leaf") or request.meta.get("is_start_request"):
            return super().enqueue_request(request)
        fp = self._page_fp(request)
        if fp in self.replayed:
            return False  # replayed from the journal already: a duplicate, as the filter would say
        if fp not in pages:
            return super().enqueue_request(request)
        self._replay(fp)
        return True

    def _replay(self, first: str) -> None:
        """Queue the follow-ups of done page *first*; those that are done pages too, theirs (no recursion)."""
        stack = [first]
        while stack:
            fp = stack.pop()
            followups = self.done_pages.pop(fp, None)
            self.replayed.add(fp)
            if followups is None:
                continue
            if self.stats is not None:
                self.stats.inc_value("markwatch/resume_skipped")
                self.stats.inc_value("markwatch/resume_pages_skipped")
            for raw in followups:
                try:
                    req = request_from_dict(pickle.loads(raw), spider=self.spider)  # noqa: S301 - our JOBDIR
                except Exception as exc:  # a callback renamed since: cannot happen within one scan
                    logger.error("resume journal: a follow-up request could not be read back (%s)", exc)
                    raise
                if not req.dont_filter and not req.meta.get("leaf") and not req.meta.get("is_start_request"):
                    cfp = self._page_fp(req)
                    if cfp in self.replayed:
                        continue
                    if cfp in self.done_pages:
                        stack.append(cfp)
                        continue
                super().enqueue_request(req)


@dataclass
class _Page:
    response: Response
    fp: str
    notes: int
    followups: list[bytes] = field(default_factory=list)
    items: int = 0
    finished: int = 0
    ended: bool = False
    ok: bool = True


def _notes(stats: Any) -> int:
    """How many health notes (any kind) the source has so far: a page during which one was made is not journaled."""
    return sum(int(stats.get_value(health.PREFIX + k, 0) or 0) for k in health.KINDS) if stats else 0


class PageJournalMiddleware:
    """Journal a list page as done once its items are all stored, with the follow-up requests it yielded.

    A spider middleware near the engine (it sees what the other middlewares let through): it counts
    the items a list page's callback yields and keeps its requests serialized as they come out;
    the item signals say when each item has been through the whole pipeline. When the callback has
    ended and the last item is through, the page is journaled (crawler.resume module doc) — unless an
    item was not kept, dropped or failed, the callback raised, a health note was made meanwhile, the
    scan is stopping, the page yielded nothing, or a bound is reached: then it is fetched again on
    resume, as every page was before. Start pages and pages that set a cookie are never journaled:
    the session they open must be opened again by the resumed run.
    """

    def __init__(self, crawler: Any) -> None:
        s = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.journal = DoneJournal(s.get("JOBDIR"))
        self.enabled = bool(s.get("JOBDIR")) and s.getbool("MARKWATCH_RESUME_PAGES", True)
        self.max_followups = s.getint("MARKWATCH_RESUME_MAX_FOLLOWUPS", MAX_FOLLOWUPS)
        self.max_bytes = s.getint("MARKWATCH_RESUME_JOURNAL_MAX_BYTES", MAX_BYTES)
        self.pages: dict[int, _Page] = {}
        self.full = False
        self.written = 0
        self.scope = ""

    @classmethod
    def from_crawler(cls, crawler: Any) -> PageJournalMiddleware:
        mw = cls(crawler)
        if mw.enabled:
            crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
            crawler.signals.connect(mw.item_scraped, signal=signals.item_scraped)
            crawler.signals.connect(mw.item_failed, signal=signals.item_dropped)
            crawler.signals.connect(mw.item_failed, signal=signals.item_error)
            crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_opened(self, spider: Any = None) -> None:
        self.scope = resume_scope(spider or self.crawler.spider)
        self.written = self.journal.size()

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        self.journal.close()

    # ---- the callback's output ------------------------------------------
    def _start(self, response: Response) -> _Page | None:
        req = response.request
        if not self.enabled or req is None or req.meta.get("leaf") or self.full:
            return None
        if req.meta.get("is_start_request") or response.headers.getlist(b"Set-Cookie"):
            return None  # fetched again on resume: a start page opens the session and the source's start logic
        fp = self.crawler.request_fingerprinter.fingerprint(req).hex()
        page = _Page(response, fp, _notes(self.stats))
        self.pages[id(response)] = page
        return page

    def _out(self, page: _Page | None, x: Any) -> None:
        if page is None or not page.ok:
            return
        if isinstance(x, Request):
            if len(page.followups) >= self.max_followups:
                page.ok = False  # too many to keep: walked again on resume
                self.stats.inc_value("markwatch/resume_pages_too_many_followups")
                return
            try:  # serialized now, before the downloader adds cookies or signatures to the request
                page.followups.append(pickle.dumps(x.to_dict(spider=self.crawler.spider), protocol=4))
            except Exception:
                page.ok = False  # a request that cannot be serialized (Scrapy keeps such in memory too)
        elif x is not None:
            page.items += 1

    def process_spider_output(self, response: Response, result: Iterable[Any], spider: Any = None) -> Iterator[Any]:
        page = self._start(response)
        try:
            for x in result:
                self._out(page, x)
                yield x
        except BaseException:
            self._fail(page)
            raise
        self._ended(page)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any], spider: Any = None
    ) -> AsyncIterator[Any]:
        page = self._start(response)
        try:
            async for x in result:
                self._out(page, x)
                yield x
        except BaseException:
            self._fail(page)
            raise
        self._ended(page)

    def _fail(self, page: _Page | None) -> None:
        if page is not None:
            page.ok = False
            self.pages.pop(id(page.response), None)

    def _ended(self, page: _Page | None) -> None:
        if page is not None:
            page.ended = True
            self._maybe_done(page)

    # ---- the items' fate ------------------------------------------------
    def item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        page = self.pages.get(id(response))
        if page is None or page.response is not response:
            return
        page.finished += 1
        try:
            kept = item.get("kept")
        except Exception:
            kept = None
        if kept in ("no", "no evidence"):
            page.ok = False
        self._maybe_done(page)

    def item_failed(self, item: Any, response: Any = None, spider: Any = None, **kw: Any) -> None:
        page = self.pages.get(id(response))
        if page is None or page.response is not response:
            return
        page.finished += 1
        page.ok = False
        self._maybe_done(page)

    def _maybe_done(self, page: _Page) -> None:
        if not page.ended or page.finished < page.items:
            return
        self.pages.pop(id(page.response), None)
        if not page.ok or not (page.items or page.followups) or self.full:
            return
        if shutdown.stopping(self.crawler) or _notes(self.stats) != page.notes:
            return
        line = page_line(self.scope, page.fp, page.followups)
        if self.written + len(line) + 1 > self.max_bytes:
            self.full = True
            self.stats.set_value("markwatch/resume_journal_full", self.max_bytes)
            logger.info("resume journal at its bound (%d bytes): further list pages are walked again", self.max_bytes)
            return
        try:
            self.journal.add(line)
        except OSError as exc:  # a full disk: the page is fetched again on resume, nothing else is lost
            logger.warning("resume journal not written (%s): list pages are walked again on resume", exc)
            self.full = True
            return
        self.written += len(line) + 1
        self.stats.inc_value("markwatch/resume_pages_recorded")
