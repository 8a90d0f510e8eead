"""Scrapy settings for markwatch's crawler. Defaults are polite; tests and benchmarks override them.

markwatch's own settings (all optional):
  MARKWATCH_MARKS             marks file; search terms come from it and the matcher screens against it
  MARKWATCH_STORE             alerts store settings (dict or markwatch.config.StoreSettings); none = no alerts
  MARKWATCH_FINGERPRINT_DB    SQLite file of content fingerprints for incremental scans; none = screen everything
  MARKWATCH_SOURCES_DIRS      user folders with extra source files (crawler.run; `scrapy crawl`: -a sources_dirs=)
  MARKWATCH_TERMS_PER_MARK    cap on search variants per mark (0 = all the matcher gives)
  MARKWATCH_MIN_SCORE         hits scoring below this are dropped by the screen stage (0 = keep all)
  MARKWATCH_PROXY             proxy URL for every request (a source's own `proxy` wins)
  MARKWATCH_CHROMIUM          the browser for `render: browser` sources (default: found on PATH)
  MARKWATCH_RETRY_BACKOFF     first retry waits this long (s), doubling each time, capped by ..._MAX
  MARKWATCH_MAX_ROWS_PER_PAGE entries read of any one array of a page; the rest is counted and reported
  MARKWATCH_MAX_PAGES_PER_HOST  crawl-trap guard: requests per host per scan before the source is stopped
  MARKWATCH_TRAP_REPEATS      crawl-trap guard: a URL whose path repeats a segment this often is refused
  MARKWATCH_FLOOD_LIMIT       new alerts of this source past which they are held (set by the scan from history)
  MARKWATCH_HELD_DB           the SQLite file of held alerts (alerts.held)
  MARKWATCH_RESUME_PAGES      journal list pages done with their follow-ups, replayed on resume (default on)
  MARKWATCH_RESUME_MAX_FOLLOWUPS  a list page yielding more requests than this is walked again instead
  MARKWATCH_RESUME_JOURNAL_MAX_BYTES  past this size of the resume journal, list pages are walked again

A source file may set its own `limits` (max_size, warn_size, timeout, retries) and `allowed_hosts`;
crawler.run applies them per crawler on top of these defaults.
"""

BOT_NAME = "markwatch"

SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "markwatch/0.1 (+brand-protection crawler; contact: see project README)"
ROBOTSTXT_OBEY = True

# Politeness: a source's rate_limit sets the per-site delay and concurrency; AutoThrottle adapts from there.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30

# Hostile sites: a body over DOWNLOAD_MAXSIZE (also after gzip/brotli/zstd decompression, which
# Scrapy's HttpCompressionMiddleware bounds by the same setting) ends that one response as a
# recorded `too_large` problem; memory stays bounded. Scrapy's defaults (1 GB / 32 MB) are too big.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
MARKWATCH_RETRY_BACKOFF = 1.0
MARKWATCH_RETRY_BACKOFF_MAX = 30.0

DOWNLOADER_MIDDLEWARES = {
    # Before robots.txt (100): an off-site or private host is refused before anything is fetched.
    "crawler.middlewares.HostGuardMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    # Outside the retries: sees every attempt, stops a dead host after max_failures, drops a stopped source's requests.
    "crawler.failfast.FailFastMiddleware": 560,
    # The token step (crawler.tokens): a token fetched through the crawler, sent with each request, renewed on 401.
    "crawler.tokens.TokenMiddleware": 940,
    "crawler.middlewares.SourceHealthMiddleware": 540,
    "crawler.signers.SecretsMiddleware": 950,  # last before the network: fills ${NAME}, signs, then undoes it
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.BoundedDecompressionMiddleware": 590,
    "crawler.trap.TrapGuardMiddleware": 60,
    # Redirect limits and loops lose a page: counted with a reason (crawler.lost), not a DEBUG line.
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.lost.LostRedirectMiddleware": 600,
}

# A callback that raises (recursion limit, decode error) loses its page: counted, never silent.
SPIDER_MIDDLEWARES = {
    "crawler.lost.LostPagesMiddleware": 950,
    # A link over URLLENGTH_LIMIT is a lost page of the source with a reason, not an INFO line.
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "crawler.lost.LostUrlLengthMiddleware": 800,
    # Next to the engine, after every other middleware: a list page whose items are all stored is journaled
    # done with its follow-up requests, and a resumed scan replays them instead of fetching it (crawler.resume).
    "crawler.resume.PageJournalMiddleware": 10,
}
EXTENSIONS = {"crawler.lost.FailureLog": 500}

MARKWATCH_MAX_ROWS_PER_PAGE = 50_000
MARKWATCH_MAX_PAGES_PER_HOST = 20_000
MARKWATCH_TRAP_REPEATS = 3

DUPEFILTER_CLASS = "crawler.resume.ResumableDupeFilter"
# Disk queues that start empty in every run: Scrapy's are not safe against kill -9 (crawler.resume);
# list pages journaled done by PageJournalMiddleware are replayed from the journal, not fetched again.
SCHEDULER = "crawler.resume.JournalScheduler"
MARKWATCH_RESUME_PAGES = True
MARKWATCH_RESUME_MAX_FOLLOWUPS = 1000
MARKWATCH_RESUME_JOURNAL_MAX_BYTES = 64 * 1024 * 1024

# validate → normalise → (incremental check) → screen → alert → record; `scrapy crawl` and
# `markwatch scan` both run exactly these, each timed as a stage (crawler.pipelines.stage).
ITEM_PIPELINES = {
    "crawler.pipelines.validate.ValidatePipeline": 100,
    "crawler.pipelines.normalize.NormalizePipeline": 200,
    "crawler.pipelines.seen.SeenPipeline": 250,
    "crawler.pipelines.screen.ScreenPipeline": 300,
    "crawler.pipelines.alert.AlertPipeline": 400,
    "crawler.pipelines.record.RecordPipeline": 900,
}

MARKWATCH_MIN_SCORE = 0.0

LOG_LEVEL = "INFO"
# Items carry their page as evidence: log lines name an item, they never print it.
LOG_FORMATTER = "crawler.logformat.QuietLogFormatter"
FEED_EXPORT_ENCODING = "utf-8"
TELNETCONSOLE_ENABLED = False

# Scrapy 2.19's remote-control port is not needed; keep the crawler from listening on anything.
REMOTE_CONTROL_ENABLED = False
