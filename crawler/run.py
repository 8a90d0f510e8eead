"""Run sources in-process and report per-source figures: the entry point for `markwatch scan`.

    from crawler.run import crawl_sources
    stats = crawl_sources(["demo-registry", "demo-market"], marks="marks.yaml",
                          store=StoreSettings(sqlite_path="var/alerts.sqlite"),
                          fingerprint_db="var/fingerprints.sqlite", jobdir="var/jobs/scan-42")

`crawl_sources` blocks and starts the Twisted reactor, so call it once per
process; inside a running reactor use `schedule_sources(runner, ...)` and
`stats_of(...)` instead. From a shell: `python -m crawler.run --help`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess, CrawlerRunner
from scrapy.settings import Settings

from crawler import health
from crawler.errors import SourceError
from crawler.outcome import verdict
from crawler.sources import Source, find_source
from crawler.spiders.marketplace import MarketplaceSpider
from crawler.spiders.registry import RegistrySpider
from crawler.spiders.trademark import TrademarkSpider
from matcher.fileerrors import FileError

SPIDERS = {"registry": RegistrySpider, "marketplace": MarketplaceSpider, "trademark": TrademarkSpider}

# Fast, impolite settings for loopback only (tests, benchmarks, the demo world).
LOOPBACK_SETTINGS: dict[str, Any] = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "MARKWATCH_RETRY_BACKOFF": 0.05,
    "LOG_LEVEL": "WARNING",
}


@dataclass
class SourceStats:
    """What one source did in one scan; `state` and `reason` are `crawler.outcome.verdict`'s."""

    source: str
    kind: str
    state: str = "ok"  # ok, degraded, failed
    reason: str = ""
    pages: int = 0  # pages read: list and detail pages the spider parsed (not refusals, errors, robots.txt)
    refused: int = 0  # answers that said no (HTTP 401/403/429/451…, an anti-bot page, an error body)
    items: int = 0
    dropped: int = 0
    new_items: int = 0
    updated_items: int = 0
    unchanged_items: int = 0
    screened: int = 0
    hits: int = 0
    alerts_new: int = 0
    alerts_updated: int = 0
    failed_requests: int = 0
    resume_skipped: int = 0
    robots_forbidden: int = 0
    degraded: bool = False
    degraded_reason: str = ""
    finish_reason: str = ""
    elapsed_seconds: float = 0.0


# The spider counts a page once it starts reading it, after the refusal checks (crawler.spiders.base).
PAGE_KEYS = ("markwatch/pages/list", "markwatch/pages/detail")


def pages_read(stats: dict[str, Any]) -> int:
    """Pages actually read: Scrapy's response count would include refusals, failed pages and robots.txt."""
    return sum(int(stats.get(k, 0) or 0) for k in PAGE_KEYS)


def stats_of(source: Source, crawler: Crawler, history: list[int] | None = None) -> SourceStats:
    """One source's figures and verdict; *history* is its item counts in earlier runs (the yield watch)."""
    s = crawler.stats.get_stats() if crawler.stats else {}
    g = lambda k: int(s.get(k, 0) or 0)  # noqa: E731
    out = verdict(s, history=history or [])
    return SourceStats(
        source=source.name,
        kind=source.kind,
        state=out.state,
        reason=out.reason,
        pages=pages_read(s),
        refused=g(health.PREFIX + "refused"),
        items=g("item_scraped_count"),
        dropped=g("item_dropped_count"),
        new_items=g("markwatch/items_new"),
        updated_items=g("markwatch/items_updated"),
        unchanged_items=g("markwatch/items_unchanged"),
        screened=g("markwatch/screened"),
        hits=g("markwatch/hits"),
        alerts_new=g("markwatch/alerts_new"),
        alerts_updated=g("markwatch/alerts_updated"),
        failed_requests=g("markwatch/failed_requests"),
        resume_skipped=g("markwatch/resume_skipped"),
        robots_forbidden=g("robotstxt/forbidden"),
        degraded=out.state != "ok",
        degraded_reason=out.reason,
        finish_reason=str(s.get("finish_reason", "")),
        elapsed_seconds=round(float(s.get("elapsed_time_seconds", 0.0) or 0.0), 3),
    )


def build_settings(
    *,
    marks: str | Path | None = None,
    store: Any = None,
    fingerprint_db: str | Path | None = None,
    sources_dirs: list[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """The project's settings plus markwatch's, caller overrides winning over a source's own."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    if marks:
        settings.set("MARKWATCH_MARKS", str(marks), priority="cmdline")
    if store is not None:
        settings.set("MARKWATCH_STORE", store, priority="cmdline")
    if fingerprint_db:
        settings.set("MARKWATCH_FINGERPRINT_DB", str(fingerprint_db), priority="cmdline")
    if sources_dirs:
        settings.set("MARKWATCH_SOURCES_DIRS", list(sources_dirs), priority="cmdline")
    for k, v in (overrides or {}).items():
        settings.set(k, v, priority="cmdline")
    return settings


def source_limits(src: Source) -> dict[str, Any]:
    """The Scrapy settings a source's `limits` set (they win over the defaults, not over the caller's)."""
    lim = src.limits
    out: dict[str, Any] = {}
    if lim.max_size is not None:
        out["DOWNLOAD_MAXSIZE"] = lim.max_size
    if lim.warn_size is not None:
        out["DOWNLOAD_WARNSIZE"] = lim.warn_size
    if lim.timeout is not None:
        out["DOWNLOAD_TIMEOUT"] = lim.timeout
    if lim.retries is not None:
        out["RETRY_TIMES"] = lim.retries
    return out


def _resolve(sources, sources_dirs) -> list[Source]:
    out = [s if isinstance(s, Source) else find_source(s, sources_dirs) for s in sources]
    for src in out:
        src.require_secrets()
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise SourceError(f"a source is listed twice: {names}")
    return out


def schedule_sources(
    runner: CrawlerRunner | CrawlerProcess,
    sources: Sequence[str | Source],
    *,
    settings: Settings,
    jobdir: str | Path | None = None,
    base_urls: str | dict[str, str] | None = None,
    date: str | None = None,
    days: int = 1,
    keywords: list[str] | None = None,
    sources_dirs: list[str] | None = None,
) -> list[tuple[Source, Crawler]]:
    """Start one crawler per source on *runner*; each gets its own JOBDIR under *jobdir*."""
    pairs = []
    for src in _resolve(sources, sources_dirs):
        s = settings.copy()
        if jobdir:
            s.set("JOBDIR", str(Path(jobdir) / src.name), priority="cmdline")
        for key, value in source_limits(src).items():
            s.set(key, value, priority="spider")
        # CrawlerProcess installs the reactor through its first crawler; mirror what it does itself.
        init_reactor = isinstance(runner, CrawlerProcess) and not getattr(runner, "_initialized_reactor", True)
        if init_reactor:
            runner._initialized_reactor = True  # type: ignore[union-attr]  # a CrawlerProcess, checked above
        crawler = Crawler(SPIDERS[src.spider], s, init_reactor=init_reactor)
        base = base_urls.get(src.name) if isinstance(base_urls, dict) else base_urls
        runner.crawl(crawler, source=src, base_url=base, date=date, days=days, keywords=keywords)
        pairs.append((src, crawler))
    return pairs


def crawl_sources(
    sources: Sequence[str | Source],
    *,
    marks: str | Path | None = None,
    store: Any = None,
    fingerprint_db: str | Path | None = None,
    jobdir: str | Path | None = None,
    base_urls: str | dict[str, str] | None = None,
    date: str | None = None,
    days: int = 1,
    keywords: list[str] | None = None,
    sources_dirs: list[str] | None = None,
    settings: dict[str, Any] | None = None,
) -> list[SourceStats]:
    """Crawl the sources concurrently to the end and return one SourceStats per source.

    A degraded source (captcha, repeated failures) stops alone; the others go on.
    Blocking; starts the reactor, so once per process.
    """
    resolved = _resolve(sources, sources_dirs)  # a bad source file fails here, before any logging setup
    s = build_settings(
        marks=marks, store=store, fingerprint_db=fingerprint_db, sources_dirs=sources_dirs, overrides=settings
    )
    process = CrawlerProcess(s)
    pairs = schedule_sources(
        process,
        resolved,
        settings=s,
        jobdir=jobdir,
        base_urls=base_urls,
        date=date,
        days=days,
        keywords=keywords,
        sources_dirs=sources_dirs,
    )
    process.start()
    return [stats_of(src, crawler) for src, crawler in pairs]


def _kv(text: str) -> tuple[str, Any]:
    k, _, v = text.partition("=")
    try:
        return k, json.loads(v)
    except ValueError:
        return k, v


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m crawler.run", description="Crawl sources; print per-source stats.")
    ap.add_argument("sources", nargs="+", help="source names or YAML paths")
    ap.add_argument("--marks")
    ap.add_argument("--store", help="alerts SQLite path")
    ap.add_argument("--fingerprint-db")
    ap.add_argument("--jobdir")
    ap.add_argument("--base-url")
    ap.add_argument("--date")
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--keywords", help="comma-separated search terms instead of the marks' variants")
    ap.add_argument("--sources-dir", action="append", default=[])
    ap.add_argument("--loopback", action="store_true", help="no delays: only for the local demo world")
    ap.add_argument("--set", action="append", default=[], type=_kv, help="Scrapy setting NAME=VALUE")
    a = ap.parse_args(argv)
    overrides = dict(LOOPBACK_SETTINGS) if a.loopback else {}
    overrides.update(dict(a.set))
    try:
        stats = crawl_sources(
            a.sources,
            marks=a.marks,
            store=a.store,
            fingerprint_db=a.fingerprint_db,
            jobdir=a.jobdir,
            base_urls=a.base_url,
            date=a.date,
            days=a.days,
            keywords=a.keywords.split(",") if a.keywords else None,
            sources_dirs=a.sources_dir,
            settings=overrides,
        )
    except FileError as exc:  # a source or marks file
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps([asdict(x) for x in stats], ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
