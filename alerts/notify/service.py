"""Wire settings, marks, store, ledger and transport into one notify run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from alerts.notify.ledger import Ledger
from alerts.notify.recipients import recipients_for
from alerts.notify.runner import DigestOptions, Outcome, run_notify
from alerts.notify.source import AlertSource, StoreSource
from alerts.notify.transport import OutboxTransport, SmtpTransport, Transport
from markwatch.errors import ConfigError

if TYPE_CHECKING:
    from alerts.store import AlertStore
    from markwatch.config import Settings
    from matcher.marks import Mark


@dataclass
class NotifyReport:
    transport: str
    destination: str  # "host:port" or the outbox folder
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.state in ("failed", "uncertain")]


def ledger_path(settings: Settings) -> Path:
    return settings.notify.ledger_path or settings.store.sqlite_path.with_name("notify.sqlite")


def outbox_dir(settings: Settings) -> Path:
    return settings.notify.outbox_dir or settings.store.sqlite_path.with_name("mail-outbox")


def build_transport(settings: Settings) -> Transport:
    """SMTP when a host is configured (or demanded), else the .eml outbox folder."""
    kind = settings.notify.transport
    if kind == "auto":
        kind = "smtp" if settings.smtp.host else "outbox"
    if kind == "smtp":
        if not settings.smtp.host:
            raise ConfigError(
                f"{settings.source}: key 'smtp.host': required when notify.transport is 'smtp' "
                "(or set MARKWATCH_SMTP_HOST)"
            )
        return SmtpTransport(settings.smtp)
    return OutboxTransport(outbox_dir(settings))


def notify(
    settings: Settings,
    *,
    dry_run: bool = False,
    marks: Sequence[Mark] | None = None,
    store: AlertStore | None = None,
    source: AlertSource | None = None,
    transport: Transport | None = None,
    now: datetime | None = None,
) -> NotifyReport:
    """Send (or, with dry_run, only work out) every pending digest; the scan calls this at its end."""
    if marks is None:
        from markwatch.marksfile import load_marks

        marks = load_marks(settings.marks.path)
    transport = transport or build_transport(settings)
    if isinstance(transport, SmtpTransport):
        dest = f"{transport.settings.host}:{transport.settings.effective_port}"
    else:
        dest = str(getattr(transport, "directory", transport.name))
    report = NotifyReport(transport.name, dest)
    if not settings.notify.enabled:
        return report
    recipients = recipients_for(marks, settings.notify)
    own_store = None
    if source is None:
        if store is None:
            from alerts import open_store

            store = own_store = open_store(settings)
        source = StoreSource(store)
    options = DigestOptions(
        sender=settings.smtp.sender, base_url=settings.review.base_url, max_items=settings.notify.max_items
    )
    try:
        with Ledger(ledger_path(settings)) as ledger:
            report.outcomes = run_notify(recipients, source, ledger, transport, options, dry_run=dry_run, now=now)
    finally:
        if own_store is not None:
            own_store.close()
    return report
