"""What a scan shows: live counts per source while it runs, a summary table when it ends.

Source names and degradation reasons come from files and sites, so every cell is a rich ``Text``
(no markup is interpreted) with control and zero-width characters made visible.
"""

from __future__ import annotations

import threading
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from crawler import health
from crawler.run import PAGE_KEYS
from markwatch.cli.alerts import visible
from markwatch.services.scan import ScanReport

_LIVE: list[tuple[str, str | tuple[str, ...]]] = [
    ("Pages", PAGE_KEYS),
    ("Refused", (health.PREFIX + "refused",)),
    ("Items", "item_scraped_count"),
    ("Hits", "markwatch/hits"),
    ("New alerts", "markwatch/alerts_new"),
    ("Failed", "markwatch/failed_requests"),
]


def _count(stats: dict[str, Any], keys: str | tuple[str, ...]) -> int:
    """One live cell: a stat, or the sum of several (pages read are list plus detail pages)."""
    return sum(int(stats.get(k, 0) or 0) for k in ((keys,) if isinstance(keys, str) else keys))


class LiveCounts:
    """A renderable that reads each crawler's stats when rich refreshes (from rich's own thread)."""

    def __init__(self) -> None:
        self.pairs: list[tuple[Any, Any]] = []

    def __rich__(self) -> Table:
        table = Table(title="Scanning…", title_justify="left")
        table.add_column("Source")
        for name, _ in _LIVE:
            table.add_column(name, justify="right")
        table.add_column("State")
        for src, crawler in list(self.pairs):
            stats = crawler.stats.get_stats() if crawler.stats else {}
            state = (
                "degraded"
                if stats.get("markwatch/degraded")
                else stats.get("finish_reason") or ("running" if stats else "starting")
            )
            table.add_row(Text(visible(src.name)), *(str(_count(stats, k)) for _, k in _LIVE), Text(str(state)))
        return table


class Progress:
    """Live per-source counts on a terminal; nothing when output is a file or a pipe."""

    def __init__(self, console: Console, enabled: bool = True) -> None:
        self.console = console
        self.view = LiveCounts()
        self.live: Live | None = None
        self.enabled = enabled and console.is_terminal
        self._lock = threading.Lock()

    def on_start(self, pairs: list) -> None:
        self.view.pairs = pairs
        if self.enabled:
            self.live = Live(self.view, console=self.console, refresh_per_second=4, transient=True)
            self.live.start()

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


_STATE_STYLE = {"ok": "green", "degraded": "yellow", "failed": "red"}


def _status_cell(s) -> Text:
    """The source's verdict (crawler.outcome) with its reason, escaped and bounded."""
    text = s.state if not s.reason else f"{s.state}: {s.reason}"
    return Text(visible(text, 160), style=_STATE_STYLE.get(s.state, "red"))


def summary(report: ScanReport) -> Group:
    """The end-of-scan table (one row per source and a total) and the lines under it."""
    table = Table(
        title=Text(f"Scan #{report.run_id}: {report.status}" + (" (resumed)" if report.resumed else "")),
        title_justify="left",
        show_footer=True,
    )
    tot = report.totals()
    cols = [
        ("Pages", "pages"),
        ("Refused", "refused"),
        ("Items", "items"),
        ("Screened", "screened"),
        ("Hits", "hits"),
        ("New", "alerts_new"),
        ("Updated", "alerts_updated"),
        ("Errors", "failed_requests"),
    ]
    table.add_column("Source", footer="total", no_wrap=True)
    table.add_column("Status", footer=f"{tot['degraded']} degraded, {tot['failed']} failed")
    for title, key in cols:
        table.add_column(title, justify="right", footer=str(tot[key]))
    table.add_column("Time", justify="right", footer=f"{report.duration:.1f} s")
    for s in report.sources:
        table.add_row(
            Text(visible(s.source)),
            _status_cell(s),
            *(str(getattr(s, k)) for _, k in cols),
            f"{s.elapsed_seconds:.1f} s",
        )
    lines: list[Any] = [table]
    mail = f"Emails: {report.emails_sent} digest(s) sent"
    if report.email_transport:
        mail += f" via {report.email_transport}"
    lines.append(Text(visible(mail)))
    if report.followup:
        f = report.followup
        lines.append(
            Text(
                f"Follow-up: {f.get('checked', 0)} case(s) checked, {f.get('resolved', 0)} resolved, "
                f"{f.get('errors', 0)} error(s), {f.get('overdue', 0)} overdue"
            )
        )
    if any(s.resume_skipped for s in report.sources):
        lines.append(Text(f"Resumed: {sum(s.resume_skipped for s in report.sources)} finished pages not fetched again"))
    st = report.stages
    order = ["setup", "crawl", "parse", "incremental", "screen", "store", "record", "notify"]
    lines.append(
        Text(
            "Stages: "
            + ", ".join(f"{k} {st.get(k, 0.0):.1f} s" for k in order)
            + f" (total {st.get('total', report.duration):.1f} s)"
        )
    )
    for err in report.errors:
        lines.append(Text(visible("error: " + err, 500), style="red"))
    if report.status != "ok" and report.log_file:
        lines.append(Text(visible(f"Details in the log file: {report.log_file}", 500)))
    return Group(*lines)
