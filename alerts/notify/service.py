"""One notify run from plain parts: marks, notify settings, an alert source, a ledger file, a transport.

Reading the app's configuration, loading the marks file and opening the configured store is the
app's job (``markwatch.services.notify_run``); this layer only needs what it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from alerts.notify.case_updates import CaseUpdateSource
from alerts.notify.ledger import Ledger
from alerts.notify.recipients import recipients_for
from alerts.notify.runner import DigestOptions, Outcome, run_notify
from alerts.notify.source import AlertSource
from alerts.notify.transport import SmtpTransport, Transport

if TYPE_CHECKING:
    from alerts.notify.settings import NotifySettings
    from matcher.marks import Mark


@dataclass
class NotifyReport:
    transport: str
    destination: str  # "host:port" or the outbox folder
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.state in ("failed", "uncertain")]


def destination(transport: Transport) -> str:
    """Where a transport delivers, for the report: "host:port" or the outbox folder."""
    if isinstance(transport, SmtpTransport):
        return f"{transport.settings.host}:{transport.settings.effective_port}"
    return str(getattr(transport, "directory", transport.name))


def send_digests(
    marks: Sequence[Mark],
    source: AlertSource,
    *,
    settings: NotifySettings,
    options: DigestOptions,
    ledger_path: Path,
    transport: Transport,
    dry_run: bool = False,
    now: datetime | None = None,
    case_source: CaseUpdateSource | None = None,
) -> NotifyReport:
    """Send (or, with dry_run, only work out) every pending digest; nothing when notify is disabled."""
    report = NotifyReport(transport.name, destination(transport))
    if not settings.enabled:
        return report
    recipients = recipients_for(marks, settings)
    with Ledger(ledger_path) as ledger:
        report.outcomes = run_notify(
            recipients, source, ledger, transport, options, dry_run=dry_run, now=now, case_source=case_source
        )
    return report
