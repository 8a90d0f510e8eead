"""The commented starter file that `markwatch init` writes: every key, its default, what it does.

Keys are commented out, so the file means "all defaults" until a line is uncommented.
tests/test_config_init.py checks that the file, and the file with every key uncommented, validate.
`markwatch init` writes `[scan] sources` out: the real sources whose secrets are set, each other one
named with every variable it misses (`choose_sources`); the demo world's only with `--demo`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STARTER = """\
# markwatch.toml — markwatch's configuration. Found by --config, else $MARKWATCH_CONFIG,
# else ./markwatch.toml. Every key can be overridden by MARKWATCH_<SECTION>_<KEY>
# (lists comma-separated), e.g. MARKWATCH_SMTP_HOST=smtp.example.com.
# Relative paths are relative to the folder markwatch runs in. Defaults are shown.

[marks]
# path = "marks.yaml"                       # the protected marks (see markwatch/demo/marks.yaml)

[scan]
# sources = []                              # source names or YAML paths; [] = every available source
# sources_dirs = []                         # folders with your own source files (docs/sources.md)
# base_url = "https://…"                    # replaces {base} in every source (mirrors, tests)
# state_dir = "var/markwatch/state"         # lock, runs.sqlite, fingerprints, resume journals
# days = 1                                  # feed sources walk this many days back from the scan date
# terms_per_mark = 0                        # cap on search variants per mark (0 = all)
# min_score = 0.0                           # hits below this score are not stored
# loopback = false                          # no delays: only for the demo world on this machine
# concurrency = 2                           # requests in flight per site (default: each source's own)
# delay = 1.0                               # seconds between requests per site (default: each source's own)
# log_level = "WARNING"                     # DEBUG, INFO, WARNING, ERROR
# log_file = "var/markwatch/scan.log"       # default: stderr
# notify = true                             # send the email digests at the end of each scan
# scrapy = {}                               # extra Scrapy settings, e.g. {HTTPCACHE_ENABLED = true}

[store]
# sqlite_path = "var/markwatch/alerts.sqlite"   # embedded store; evidence.sqlite goes next to it
# urls = []                                 # Elasticsearch nodes, e.g. ["https://es1:9200"]; set = use ES
# api_key = "…"                             # or username / password
# username = "markwatch"
# password = "…"
# ca_certs = "/etc/markwatch/ca.pem"
# verify_certs = true
# timeout = 10.0
# retries = 3
# index_prefix = "markwatch"
# replicas = 1

[smtp]
# host = "smtp.example.com"                 # unset = write .eml files to the outbox folder
# port = 587                                # default by security: 587 starttls, 465 tls, 25 none
# security = "starttls"                     # starttls, tls, none
# user = "markwatch@example.com"
# password = "…"                            # better: MARKWATCH_SMTP_PASSWORD in the environment
# sender = "markwatch <markwatch@localhost>"
# timeout = 30.0
# verify = true

[notify]
# enabled = true
# transport = "auto"                        # auto (smtp when a host is set), smtp, outbox
# outbox_dir = "var/markwatch/mail-outbox"  # default: mail-outbox/ next to the alerts database
# max_items = 50                            # alerts listed in full per digest
# min_score = 0.6                           # when neither the mark nor the owner sets a threshold
# statuses = ["new"]
# [notify.recipients."ip@brand.example"]    # per-address preferences
# min_score = 0.85

[review]
# base_url = "http://127.0.0.1:8000"        # where `markwatch serve` is reachable; links in emails

[schedule]
# cron = "0 2 * * *"                        # minute hour day month weekday (a 6th leading field = seconds)
# timezone = "Asia/Shanghai"                # the cron's time zone
# misfire_grace_time = 3600                 # a run missed by up to this many seconds still runs (once)
# jobstore = "var/markwatch/schedule.sqlite"
# timeout = 21600                           # stop a scan still running after this many seconds

[queue]
# backend = "local"                         # local, or redis: workers on several machines share one queue
# redis_url = "redis://127.0.0.1:6379/0"
# key_prefix = "markwatch"
# run_key = "2025-06-30"                    # default: the scan date, so one night's workers meet
# expire_days = 7
# idle_grace = 20        # seconds an idle worker waits for requests from the others
"""


SOURCES_LINE = "# sources = []                              # source names or YAML paths; [] = every available source\n"


@dataclass
class SourceChoice:
    """What `markwatch init` puts in `[scan] sources`: the usable sources, and why the others are left out."""

    chosen: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "qcc-search skipped: QCC_APP_KEY, QCC_SECRET_KEY not set"
    broken: list[str] = field(default_factory=list)  # a source file that does not read, as its one-line error


def is_demo(src: Any) -> bool:
    """A source of the demo world (shipped `demo-*`, served on this machine): never scanned unless asked for."""
    return str(src.name).startswith("demo-")


def choose_sources(*, demo: bool = False, env: Mapping[str, str] | None = None) -> SourceChoice:
    """Every real source whose secrets are set (and the demo world's only with *demo*); each other one named
    with all of its missing variables at once."""
    from crawler.sources import scan_source_files

    good, broken = scan_source_files()
    out = SourceChoice(broken=[str(e) for _, e in sorted(broken.items())])
    for name, src in sorted(good.items(), key=lambda kv: (not is_demo(kv[1]), kv[0]) if demo else kv[0]):
        if is_demo(src) and not demo:
            continue
        missing = sorted(dict.fromkeys(n for _, n in src.missing_secrets(env)))
        if missing:
            out.skipped.append(f"{name} skipped: {', '.join(missing)} not set")
        elif src.render == "browser" and not _has_browser():
            out.skipped.append(f"{name} skipped: render: browser needs pip install 'markwatch[browser]'")
        else:
            out.chosen.append(name)
    return out


def _has_browser() -> bool:
    import importlib.util

    return importlib.util.find_spec("scrapy_playwright") is not None


def starter_text(choice: SourceChoice | None = None, *, demo: bool = False) -> str:
    """STARTER with `[scan] sources` written out as *choice* says (None: the commented default)."""
    if choice is None:
        return STARTER
    lines = []
    if choice.chosen:
        lines.append(f"sources = {json.dumps(choice.chosen, ensure_ascii=False)}\n")
        lines.append("#   by `markwatch init`: the sources whose secrets were set; to add one, set its variables:\n")
    else:
        lines.append(SOURCES_LINE)
        lines.append("#   no usable source yet: set the variables below, then list the sources here\n")
    lines += [f"#   {s}\n" for s in choice.skipped]
    lines += [f"#   broken source file: {b}\n" for b in choice.broken]
    if not demo:
        lines.append(
            "#   the demo world's sources (demo-…) only with `markwatch init --demo` or `markwatch scan --demo`\n"
        )
    text = STARTER
    if demo:
        from markwatch.demo.world import DEMO_CONFIG

        marks = DEMO_CONFIG.parent / "marks.yaml"
        text = text.replace('# path = "marks.yaml"', f"path = {json.dumps(str(marks))}", 1)
        text = text.replace("# loopback = false", "loopback = true  ", 1)
    return text.replace(SOURCES_LINE, "".join(lines), 1)
