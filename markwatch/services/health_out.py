"""Telling the people who run markwatch how the last scan went: a Prometheus textfile and an email.

Brand owners get digests of alerts; operators need something else: "the nightly scan went blind".
`write_metrics` writes node-exporter's textfile-collector format with prometheus_client's
``write_to_textfile`` (temp file + rename in the same folder, so the collector never reads half a
file); `email_operators` sends one short plain-text message per degraded or failed run through the
configured transport.
"""

from __future__ import annotations

import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Gauge, generate_latest, write_to_textfile

from alerts.present import plain as visible

if TYPE_CHECKING:
    from markwatch.config import Settings
    from markwatch.services.runs import RunLog
    from markwatch.services.scan import ScanReport

STATE_VALUE = {"ok": 0, "degraded": 1, "failed": 2, "interrupted": 1}


def _label(value: str) -> str:
    """A label value bounded (prometheus_client escapes it)."""
    return value[:200]


def _registry(report: ScanReport, now: float | None = None) -> CollectorRegistry:
    """The run as gauges in a registry of their own (state 0 ok, 1 degraded, 2 failed)."""
    reg = CollectorRegistry(auto_describe=True)

    def gauge(name: str, help_: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, help_, labels, registry=reg)

    gauge(
        "markwatch_scan_state", "State of the last scan: 0 ok, 1 degraded or interrupted, 2 failed.", ("status",)
    ).labels(status=_label(report.status)).set(STATE_VALUE.get(report.status, 2))
    gauge("markwatch_scan_last_run_timestamp_seconds", "When the last scan ended (Unix time).").set(
        round(time.time() if now is None else now)
    )
    gauge("markwatch_scan_duration_seconds", "How long the last scan took.").set(round(report.duration, 3))
    gauge("markwatch_scan_run_id", "Number of the last scan in the run log.").set(report.run_id)
    state = gauge(
        "markwatch_source_state", "State of each source in the last scan: 0 ok, 1 degraded, 2 failed.", ("source",)
    )
    for s in report.sources:
        state.labels(source=_label(s.source)).set(STATE_VALUE.get(s.state, 2))
    for name, key, help_ in (
        ("markwatch_source_items", "items", "Items the source yielded in the last scan."),
        ("markwatch_source_pages", "pages", "Pages read from the source in the last scan (refusals not counted)."),
        ("markwatch_source_refused", "refused", "Refusals (401/403/429, anti-bot) in the last scan."),
        ("markwatch_source_alerts_new", "alerts_new", "New alerts from the source in the last scan."),
    ):
        g = gauge(name, help_, ("source",))
        for s in report.sources:
            g.labels(source=_label(s.source)).set(int(getattr(s, key)))
    gauge("markwatch_scan_emails_sent", "Digests sent at the end of the last scan.").set(report.emails_sent)
    return reg


def metrics_text(report: ScanReport, now: float | None = None) -> str:
    """The run in node-exporter's textfile format (prometheus_client's exposition)."""
    return generate_latest(_registry(report, now)).decode("utf-8")


def write_metrics(path: Path, report: ScanReport) -> None:
    """Write the textfile with prometheus_client's ``write_to_textfile``: a temp file in the same
    folder renamed over the old one, so the collector never reads half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), _registry(report))


def operator_message(settings: Settings, log: RunLog, report: ScanReport) -> EmailMessage:
    """One short plain-text message: which sources, why, since when, and where the log is."""
    bad = [s for s in report.sources if s.state != "ok"]
    msg = EmailMessage()
    msg["From"] = settings.smtp.sender
    msg["To"] = ", ".join(settings.notify.operators)
    msg["Subject"] = f"markwatch scan #{report.run_id}: {report.status}" + (
        f" ({len(bad)} of {len(report.sources)} sources)" if bad else ""
    )
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid("markwatch-ops")
    lines = [f"Scan #{report.run_id} ended {report.status} after {report.duration:.0f} s.", ""]
    for s in bad:
        since = log.since(s.source, s.state)
        when = f" (not ok since {since})" if since else ""
        lines.append(visible(f"- {s.source}: {s.state}: {s.reason}{when}", 400))
    for err in report.errors:
        lines.append(visible(f"- run: {err}", 400))
    lines += ["", f"Details: `markwatch runs`; log file: {report.log_file}"]
    msg.set_content("\n".join(lines) + "\n")
    return msg


def email_operators(settings: Settings, log: RunLog, report: ScanReport) -> None:
    """Send the operators' message through the digests' transport (SMTP or the .eml outbox)."""
    from markwatch.services.notify_run import build_transport

    msg = operator_message(settings, log, report)
    raw = msg.as_bytes()
    transport = build_transport(settings)
    try:
        for address in settings.notify.operators:
            transport.deliver(settings.smtp.sender, address, str(msg["Message-ID"]), raw)
    finally:
        transport.close()
