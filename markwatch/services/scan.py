"""One scan: crawl → screen → store for every source, then the email digests, recorded as a run.

The spiders run in this process on Scrapy's CrawlerProcess (all sources concurrently on one
Twisted reactor). The reactor cannot be restarted, so a process runs at most one scan:
`markwatch scan` is one process per scan, and `markwatch schedule` starts a child process for
each scan it runs.

State lives in ``[scan] state_dir``: ``scan.lock`` (one scan at a time), ``runs.sqlite`` (the run
log), ``fingerprints.sqlite`` (incremental scans) and ``jobs/<source>/`` (Scrapy JOBDIR and the
resume journal). A source's job folder is removed when the source finishes; a killed or stopped
scan leaves it, and the next scan resumes from it without duplicating alerts.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from alerts.extras import require
from crawler import shutdown, storelog
from crawler.outcome import TIME_BUDGET, flood_limit
from crawler.pipelines.stage import STAGE_KEY, STAGES
from crawler.resume import JOURNAL
from crawler.run import LOOPBACK_SETTINGS, SourceStats
from crawler.sources import Source, available_sources, find_source
from markwatch.config import Settings
from markwatch.errors import ConfigError
from markwatch.services.runs import RunLog
from markwatch.services.scanlock import ScanLock

logger = logging.getLogger(__name__)

COUNTS = (
    "pages",
    "refused",
    "items",
    "dropped",
    "screened",
    "hits",
    "alerts_new",
    "alerts_updated",
    "failed_requests",
    "resume_skipped",
)


@dataclass
class ScanReport:
    """What a scan did; ``exit_code`` is 0 only when every source is ``ok`` and the run had no error."""

    run_id: int
    status: str
    sources: list[SourceStats]
    stages: dict[str, float]
    duration: float
    resumed: bool = False
    emails_sent: int = 0
    email_transport: str = ""
    errors: list[str] = field(default_factory=list)
    followup: dict[str, int] = field(default_factory=dict)  # issue 14: checked, resolved, errors, overdue
    log_file: str = ""

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "ok" else 1

    def totals(self) -> dict[str, int]:
        out = {k: sum(int(getattr(s, k)) for s in self.sources) for k in COUNTS}
        out["degraded"] = sum(1 for s in self.sources if s.state == "degraded")
        out["failed"] = sum(1 for s in self.sources if s.state == "failed")
        out["emails_sent"] = self.emails_sent
        out.update({f"followup_{k}": v for k, v in self.followup.items()})
        return out


def resolve_sources(settings: Settings, names: list[str] | None = None) -> list[Source]:
    """`--source` names, else `[scan] sources`, else every available source; ConfigError on a bad one."""
    dirs = [str(d) for d in settings.scan.sources_dirs]
    wanted = list(names or settings.scan.sources)
    if not wanted:
        # Everything available, less the sources whose `${NAME}` secrets are not set (a paid API not bought)
        # and the demo world's (a real config never scans them unless it lists them, as `markwatch init` writes).
        from markwatch.services.starter import is_demo

        found = {n: s for n, s in available_sources(dirs).items() if not s.missing_secrets() and not is_demo(s)}
        if not found:
            raise ConfigError(f"{settings.source}: key 'scan.sources': no sources configured or found")
        return list(found.values())
    seen: dict[str, Source] = {}
    for name in wanted:
        src = find_source(name, dirs)
        if src.name in seen:
            raise ConfigError(f"{settings.source}: key 'scan.sources': source {src.name!r} listed twice")
        seen[src.name] = src
    for src in seen.values():
        src.require_secrets()  # a `${NAME}` not in the environment: one line, exit 2, before the crawl
    return list(seen.values())


def crawl_overrides(settings: Settings) -> dict[str, Any]:
    """Scrapy settings the scan sets on top of the crawler's (they win over a source's own)."""
    sc = settings.scan
    out: dict[str, Any] = dict(LOOPBACK_SETTINGS) if sc.loopback else {}
    out["LOG_LEVEL"] = sc.log_level
    # Tracebacks of expected failures (a site down, a store down) go to the log file, never the terminal.
    log_file = log_file_of(settings)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    out["LOG_FILE"] = str(log_file)
    out["LOG_INSTALL_ROOT_HANDLER"] = False  # the scan installs a rotating handler on that file (_log_handler)
    out["MARKWATCH_MAX_ROWS_PER_PAGE"] = sc.max_rows_per_page
    out["MARKWATCH_MAX_PAGES_PER_HOST"] = sc.max_pages_per_host
    if sc.concurrency:
        out["CONCURRENT_REQUESTS_PER_DOMAIN"] = sc.concurrency
    if sc.delay is not None:
        out["DOWNLOAD_DELAY"] = sc.delay
    if sc.terms_per_mark:
        out["MARKWATCH_TERMS_PER_MARK"] = sc.terms_per_mark
    out["MARKWATCH_MIN_SCORE"] = sc.min_score
    out.update(sc.scrapy)
    return out


def log_file_of(settings: Settings) -> Path:
    """`[scan] log_file`, else `<state_dir>/scan.log`."""
    return settings.scan.log_file or settings.scan.state_dir / "scan.log"


def _stop_at_budget(pairs: list[tuple[Source, Any]], grace: float) -> None:
    """Stop every source still running at `[scan] max_minutes`; each is reported `degraded: time budget`.

    The spiders stop inside the page in hand; whatever has not closed *grace* seconds later is stopped at once.
    """
    from twisted.internet import reactor

    shutdown.close_all([c for _, c in pairs], TIME_BUDGET)
    reactor.callLater(max(grace, 1.0), _stop_now, pairs)  # type: ignore[attr-defined,arg-type]


def _stop_now(pairs: list[tuple[Source, Any]]) -> None:
    from twisted.internet import reactor

    if any(c.crawling for _, c in pairs) and reactor.running:  # type: ignore[attr-defined]
        logger.warning("sources still running after the grace period: stopping at once")
        reactor.crash()  # type: ignore[attr-defined,misc]


def budget_minutes(settings: Settings, trigger: str) -> float | None:
    """`[scan] max_minutes`; a scheduled scan without one gets the scheduler's timeout less a margin.

    The margin leaves the grace period and the digests inside the scheduler's limit, so a scheduled
    scan ends by its own budget (degraded: time budget), not by the scheduler's SIGTERM.
    """
    mm = settings.scan.max_minutes
    if trigger == "schedule":
        limit = max(1.0, (settings.schedule.timeout - 2 * settings.scan.grace_seconds - 300) / 60)
        return min(mm, limit) if mm else limit
    return mm


def _log_handler(settings: Settings, base: Any) -> logging.Handler:
    """scan.log as a RotatingFileHandler (bounded: `[scan] log_max_mb` × (1 + `log_backups`)), Scrapy's format."""
    from logging.handlers import RotatingFileHandler

    from scrapy.utils.log import TopLevelFormatter

    sc = settings.scan
    handler = RotatingFileHandler(
        base.get("LOG_FILE"),
        maxBytes=int(sc.log_max_mb * 1024 * 1024),
        backupCount=sc.log_backups,
        encoding=base.get("LOG_ENCODING") or "utf-8",
    )
    handler.setFormatter(logging.Formatter(fmt=base.get("LOG_FORMAT"), datefmt=base.get("LOG_DATEFORMAT")))
    handler.setLevel(base.get("LOG_LEVEL"))
    if base.getbool("LOG_SHORT_NAMES"):
        handler.addFilter(TopLevelFormatter(["scrapy"]))
    logging.root.setLevel(logging.NOTSET)
    logging.root.addHandler(handler)
    return handler


def _crawl(
    settings: Settings,
    sources: list[Source],
    *,
    jobdir: Path | None,
    base_url: str | None,
    date: str | None,
    run_key: str,
    on_start: Callable[[list], None] | None,
    max_minutes: float | None = None,
    floods: dict[str, tuple[int, str]] | None = None,
) -> list[tuple[Source, Any]]:
    """Run every source to its end on one CrawlerProcess; returns (source, crawler) pairs.

    SIGTERM/SIGINT (crawler.shutdown): the first stops the crawl within `[scan] grace_seconds`,
    the second at once; the time budget stops it the same way.
    """
    from scrapy.crawler import CrawlerProcess

    from crawler.run import build_settings, schedule_sources
    from markwatch.services.distributed import redis_settings

    sc = settings.scan
    base = build_settings(
        marks=settings.marks.path,
        store=settings.store,
        fingerprint_db=sc.fingerprint_db(),
        sources_dirs=[str(d) for d in sc.sources_dirs],
        overrides=crawl_overrides(settings),
    )
    from crawler.pipelines.alert import reset_down
    from markwatch.services.notify_run import held_path

    reset_down()
    base.set("MARKWATCH_HELD_DB", str(held_path(settings)), priority="cmdline")
    process = CrawlerProcess(base)
    handler = _log_handler(settings, base)
    pairs = []
    for src in sources:
        s = base.copy()
        if settings.queue.backend == "redis":
            for k, v in redis_settings(settings.queue, run_key, src.name).items():
                s.set(k, v, priority="cmdline")
        limit, usual = (floods or {}).get(src.name, (0, ""))
        if limit:
            s.set("MARKWATCH_FLOOD_LIMIT", limit, priority="cmdline")
            s.set("MARKWATCH_FLOOD_USUAL", usual, priority="cmdline")
        pairs += schedule_sources(
            process, [src], settings=s, jobdir=jobdir, base_urls=base_url, date=date, days=sc.days
        )
    if on_start:
        on_start(pairs)
    from twisted.internet import reactor

    if max_minutes:
        # Any: twisted declares callLater on a zope interface, which mypy reads without the instance.
        cast(Any, reactor).callLater(max_minutes * 60, _stop_at_budget, pairs, sc.grace_seconds)
    stop = shutdown.SignalStop([c for _, c in pairs], grace=sc.grace_seconds)
    stop.install()
    try:
        process.start(install_signal_handlers=False)
    finally:
        stop.uninstall()
        handler.flush()
        _stop_thread_pool(reactor)
    return pairs


def _stop_thread_pool(reactor: Any) -> None:
    """Stop the reactor's thread pool (Scrapy's DNS lookups) after a stop at once.

    `reactor.crash()` skips the shutdown triggers, among them the one that stops the pool; its
    threads are not daemons, so the process would print its report, close its run record and then
    never exit (a scheduled scan ended by its budget hung until the scheduler killed it).
    """
    pool = getattr(reactor, "threadpool", None)
    if pool is not None and pool.started:
        pool.stop()


def _stages_of(crawlers: list[Any]) -> dict[str, float]:
    out = dict.fromkeys(STAGES, 0.0)
    for c in crawlers:
        for st in STAGES:
            out[st] += float(c.stats.get_value(STAGE_KEY + st, 0.0) or 0.0) if c.stats else 0.0
    return out


def _status(stats: list[SourceStats], errors: list[str]) -> str:
    """The run's state: failed when no source gave anything usable, degraded when any source or step is not ok."""
    if shutdown.interrupted() or any(s.finish_reason == "shutdown" for s in stats):
        return "interrupted"
    if not stats or all(s.state == "failed" for s in stats):
        return "failed"
    if errors or any(s.state != "ok" for s in stats):
        return "degraded"
    return "ok"


def _with_stored_exceptions(settings: Settings, marks: list) -> Settings:
    """Settings whose marks file carries the analysts' active exceptions (``markwatch.services.exclusions``).

    A store that cannot be read must not stop the scan: it runs on the configured marks, loudly.
    """
    from alerts import open_store
    from alerts.errors import AlertsError
    from markwatch.services.exclusions import effective_marks_file

    try:
        with open_store(settings) as store:
            active = store.exception_list(active_only=True)
    except (AlertsError, OSError) as exc:
        logger.warning("stored exceptions not applied (store unavailable: %s)", exc)
        return settings
    path = effective_marks_file(settings.marks.path, marks, active, settings.scan.state_dir)
    if path == settings.marks.path:
        return settings
    return settings.model_copy(update={"marks": settings.marks.model_copy(update={"path": path})})


def run_scan(
    settings: Settings,
    *,
    sources: list[str] | None = None,
    base_url: str | None = None,
    date: str | None = None,
    trigger: str = "cli",
    run_key: str | None = None,
    on_start: Callable[[list], None] | None = None,
) -> ScanReport:
    """Scan, notify and record. Raises ConfigError (exit 2) or ScanBusy (another scan holds the lock)."""
    from crawler.marks import marks_for

    t0 = time.perf_counter()
    # Read once: the spiders (search terms) and the screen stage get this same copy from crawler.marks.
    marks = marks_for(settings.marks.path)
    settings = _with_stored_exceptions(settings, marks)
    marks = marks_for(settings.marks.path)
    srcs = resolve_sources(settings, sources)
    if any(s.render == "browser" for s in srcs):  # a missing extra is one line now, not a failed crawl later
        require("scrapy_playwright", "browser", "render: browser")
    if settings.scan.notify and settings.notify.enabled:
        from markwatch.services.notify_run import build_transport

        build_transport(settings)  # a bad [smtp]/[notify] combination fails before the crawl, not after
    if date:
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            raise ConfigError(f"--date {date!r}: not a date (YYYY-MM-DD)") from None
    base_url = base_url or settings.scan.base_url
    run_key = run_key or settings.queue.run_key or (date or dt.date.today().isoformat())
    state = settings.scan.state_dir
    redis_mode = settings.queue.backend == "redis"
    if redis_mode:
        from markwatch.services.distributed import check_redis

        check_redis(settings.queue)
    lock = ScanLock(state)
    lock.acquire()
    try:
        with storelog.capped(), RunLog(state / "runs.sqlite") as log:
            log.mark_killed()
            jobdir = None if redis_mode else state / "jobs"
            resumed = jobdir is not None and any((jobdir / s.name / JOURNAL).exists() for s in srcs)
            history = {s.name: log.yield_history(s.name) for s in srcs}
            sc = settings.scan
            floods = {
                s.name: flood_limit(log.alerts_history(s.name), factor=sc.flood_factor, minimum=sc.flood_min)
                for s in srcs
            }
            run_id = log.start([s.name for s in srcs], trigger, resumed)
            report = ScanReport(run_id, "running", [], {}, 0.0, resumed, log_file=str(log_file_of(settings)))
            errors: list[str] = []
            try:
                _scan_body(
                    settings,
                    srcs,
                    report,
                    errors,
                    t0=t0,
                    jobdir=jobdir,
                    base_url=base_url,
                    date=date,
                    run_key=run_key,
                    on_start=on_start,
                    history=history,
                    floods=floods,
                    marks=marks,
                    max_minutes=budget_minutes(settings, trigger),
                )
            except Exception as exc:  # whatever broke after the crawl, the run is recorded and the report printed
                logger.error("scan step failed", exc_info=True)
                errors.append(f"scan step failed: {type(exc).__name__}: {str(exc)[:200]}")
            report.errors = errors
            report.status = "failed" if not report.sources else _status(report.sources, errors)
            report.duration = time.perf_counter() - t0
            report.stages["total"] = round(report.duration, 3)
            try:
                log.finish(
                    run_id,
                    report.status,
                    totals=report.totals(),
                    per_source=[asdict(s) for s in report.sources],
                    stages=report.stages,
                    errors=errors,
                    duration=report.duration,
                )
            except sqlite3.Error as exc:  # the run log's disk is full: the report still says what happened
                logger.error("run record not closed: %s", exc)
                errors.append(f"run record not written ({exc}); the next scan marks it killed")
            try:
                _after_run(settings, log, report)
            except Exception as exc:
                errors.append(f"after-run step failed: {type(exc).__name__}: {str(exc)[:200]}")
            return report
    finally:
        lock.release()


def _scan_body(
    settings: Settings,
    srcs: list[Source],
    report: ScanReport,
    errors: list[str],
    *,
    t0: float,
    jobdir: Path | None,
    base_url: str | None,
    date: str | None,
    run_key: str,
    on_start: Callable[[list], None] | None,
    history: dict[str, list[int]],
    floods: dict[str, tuple[int, str]],
    marks: list,
    max_minutes: float | None,
) -> None:
    """Crawl, then the digests, the case follow-up and the job folders; fills *report* and *errors* as it goes."""
    from crawler.marks import matcher_for
    from crawler.pipelines.alert import down_stores
    from crawler.run import stats_of

    redis_mode = settings.queue.backend == "redis"
    stages: dict[str, float] = report.stages
    t = time.perf_counter()
    matcher_for(str(settings.marks.path))  # build once, timed apart from the crawl
    stages["setup"] = (time.perf_counter() - t) + (t - t0)
    stats: list[SourceStats] = []
    pairs: list[tuple[Source, Any]] = []
    t = time.perf_counter()
    try:
        pairs = _crawl(
            settings,
            srcs,
            jobdir=jobdir,
            base_url=base_url,
            date=date,
            run_key=run_key,
            on_start=on_start,
            max_minutes=max_minutes,
            floods=floods,
        )
        stats = [stats_of(src, c, history.get(src.name)) for src, c in pairs]
        pipeline = _stages_of([c for _, c in pairs])
    except Exception as exc:  # a crawl that cannot run at all is a failed run, recorded as such
        logger.error("crawl failed", exc_info=True)
        errors.append(f"crawl failed: {type(exc).__name__}: {exc}")
        pipeline = dict.fromkeys(STAGES, 0.0)
    report.sources = stats
    crawl_wall = time.perf_counter() - t
    stages["crawl"] = max(0.0, crawl_wall - sum(pipeline.values()))
    stages.update(pipeline)
    report.stages = {k: round(v, 3) for k, v in stages.items()}
    if shutdown.interrupted():
        errors.append(
            f"interrupted by {shutdown.interrupted()}"
            + (" (stopped at once)" if shutdown.stopped_at_once() else "")
            + "; the next scan resumes it"
        )
    down = down_stores()
    unstored = sum(_stat(c, "markwatch/alerts_unstored") for _, c in pairs)
    queued = sum(_queued(c) for _, c in pairs)
    for where, why in down.items():
        if why == "unreachable" and queued and not unstored:
            continue  # said by the outbox line below ("store unavailable, N alerts queued; …")
        line = f"alerts store {storelog.safe(where)} unavailable: {why}"
        if unstored:
            line += f"; {unstored} alert(s) not stored (their items are screened again next scan)"
        errors.append(line)
    if redis_mode and stats:
        from markwatch.services.distributed import expire_keys

        try:
            expire_keys(settings.queue, run_key, [s.name for s in srcs])
        except Exception as exc:  # the scan's work is done; only the cleanup hint failed
            errors.append(f"queue expiry not set: {exc}")
    t = time.perf_counter()
    if settings.scan.notify and stats and not shutdown.stopped_at_once():
        if unstored:
            errors.append("digests not sent: the alerts store could not take this run's alerts")
        else:
            _notify(settings, marks, report, errors, queued=queued)
    stages["notify"] = time.perf_counter() - t
    # Re-check filed cases (markwatch/services/scan_followup.py); with the store down they wait for the next
    # run, which the store error already says.
    if stats and not down and not shutdown.interrupted() and not any(e.startswith("store unavailable") for e in errors):
        from markwatch.services.scan_followup import after_scan

        report.followup = after_scan(settings, base_url=base_url, date=date, errors=errors)
    if jobdir:
        for s in stats:
            if s.finish_reason == "finished":
                shutil.rmtree(jobdir / s.source, ignore_errors=True)
    report.stages = {k: round(v, 3) for k, v in stages.items()}


def _stat(crawler: Any, key: str) -> int:
    return int(crawler.stats.get_value(key, 0) or 0) if crawler.stats else 0


def _queued(crawler: Any) -> int:
    return int(crawler.stats.get_value("markwatch/alerts_queued", 0) or 0) if crawler.stats else 0


def _after_run(settings: Settings, log: RunLog, report: ScanReport) -> None:
    """Monitoring: the Prometheus textfile and the operators' email. Neither may fail the scan."""
    import logging

    from markwatch.services.health_out import email_operators, write_metrics

    logger = logging.getLogger(__name__)
    if settings.scan.metrics_file:
        try:
            write_metrics(settings.scan.metrics_file, report)
        except OSError as exc:
            report.errors.append(f"metrics file not written: {exc}")
            logger.warning("metrics file %s not written: %s", settings.scan.metrics_file, exc)
    if report.status != "ok" and settings.notify.operators and settings.notify.enabled:
        try:
            email_operators(settings, log, report)
        except Exception as exc:  # the operators' mail is a courtesy on top of the run log
            report.errors.append(f"operators not emailed: {type(exc).__name__}: {exc}")
            logger.warning("operators not emailed", exc_info=True)


def _notify(settings: Settings, marks: list, report: ScanReport, errors: list[str], queued: int = 0) -> None:
    """Send the digests; a delivery problem (or a store that is down) is an error of the run, not a crash.

    With Elasticsearch down the crawl kept its alerts in the durable outbox; the digests of what the
    store holds wait for it (the next scan or `markwatch alerts flush` drains the outbox first).
    """
    import logging

    from alerts.errors import StoreUnavailable
    from alerts.notify.ledger import LedgerBusy
    from markwatch.services.notify_run import notify

    if queued:
        try:
            flushed = _flush_outbox(settings)
        except Exception as exc:  # the outbox itself cannot be read: the alerts wait in it
            logging.getLogger(__name__).warning("outbox not flushed: %s", exc)
            flushed = None
        if flushed is not None:
            queued = flushed
    if queued:
        errors.append(f"store unavailable, {queued} alerts queued; digests wait for the next run")
        return
    try:
        result = notify(settings, marks=marks)
    except StoreUnavailable as exc:  # the store went down after the crawl: nothing queued, nothing readable
        logging.getLogger(__name__).warning("digests not sent: %s", exc)
        errors.append("store unavailable; digests wait for the next run")
        return
    except (LedgerBusy, OSError) as exc:
        errors.append(f"email digests not sent: {exc}")
        return
    except Exception as exc:  # e.g. the ledger's disk is full: the run says so, the traceback goes to the log
        logging.getLogger(__name__).error("digests not sent", exc_info=True)
        from alerts.store_errors import write_failure

        errors.append(f"email digests not sent: {write_failure(exc) or type(exc).__name__}: {str(exc)[:200]}")
        return
    report.email_transport = f"{result.transport}: {result.destination}"
    report.emails_sent = sum(1 for o in result.outcomes if o.state == "sent")
    for o in result.failed:
        errors.append(f"digest to {o.recipient} not delivered: {o.error}")


def _flush_outbox(settings: Settings) -> int | None:
    """Try once to write the store's outbox; the alerts still queued (0 when it drained), None if no outbox."""
    import logging

    from alerts import open_store
    from alerts.errors import AlertsError

    try:
        store = open_store(settings)
    except AlertsError:
        return None
    try:
        if not hasattr(store, "flush_outbox"):
            from alerts.outbox import drain

            return drain(store, settings.store.outbox_file())
        if not hasattr(store, "outbox_size"):
            return None
        try:
            store.flush_outbox()
        except AlertsError as exc:
            logging.getLogger(__name__).warning("outbox not flushed: %s", exc)
        return int(store.outbox_size())
    finally:
        store.close()
