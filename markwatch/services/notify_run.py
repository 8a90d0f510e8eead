"""`markwatch notify` and the end of a scan: the app's settings wired into ``alerts.notify``.

The notify library takes plain parts; this module decides them from markwatch.toml (where the
ledger and outbox go, SMTP or outbox, which store) and loads the marks file when not given.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from alerts.notify.case_updates import StoreCaseUpdates
from alerts.notify.runner import DigestOptions
from alerts.notify.service import NotifyReport, destination, send_digests
from alerts.notify.source import AlertSource, StoreSource
from alerts.notify.transport import OutboxTransport, SmtpTransport, Transport
from markwatch.errors import ConfigError

if TYPE_CHECKING:
    from alerts.store import AlertStore
    from markwatch.config import Settings
    from matcher.marks import Mark

__all__ = ["NotifyReport", "build_transport", "ledger_path", "notify", "outbox_dir"]


def ledger_path(settings: Settings) -> Path:
    return settings.notify.ledger_path or settings.store.sqlite_path.with_name("notify.sqlite")


def held_path(settings: Settings) -> Path:
    """Alerts held back from the digests (alerts.held): `<state_dir>/held.sqlite`."""
    return settings.scan.state_dir / "held.sqlite"


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
                "required when notify.transport is 'smtp' (or set MARKWATCH_SMTP_HOST)",
                file=settings.source,
                key="smtp.host",
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
        from matcher.marksfile import load_marks

        marks = load_marks(settings.marks.path)
    transport = transport or build_transport(settings)
    key = settings.review.secret_key
    options = DigestOptions(
        sender=settings.smtp.sender,
        base_url=settings.review.base_url,
        max_items=settings.notify.max_items,
        link_key=key.get_secret_value() if key is not None and settings.notify.links else None,
        page_for=owner_pages(settings),
    )
    if not settings.notify.enabled:
        return NotifyReport(transport.name, destination(transport))
    own_store = None
    if source is None:
        if store is None:
            from alerts import open_store

            store = own_store = open_store(settings)
        source = StoreSource(store)
    from alerts.held import HoldingSource, held_ids

    held = held_ids(held_path(settings))
    if held:  # a source's flood waits for an analyst (`markwatch alerts release`), it is not mailed
        source = HoldingSource(source, held)
    case_source = _case_source(store)
    try:
        return send_digests(
            marks,
            source,
            settings=settings.notify,
            options=options,
            ledger_path=ledger_path(settings),
            transport=transport,
            dry_run=dry_run,
            now=now,
            case_source=case_source,
        )
    finally:
        if own_store is not None:
            own_store.close()


def owner_pages(settings: Settings):
    """The page a brand owner opens for an item: for an enterprise, its source's lookup by credit code
    (the company's own record, not the feed page it was found on) when that URL holds no secret;
    else the item's page."""
    import datetime as dt

    from crawler.sources import SECRET_RE, available_sources

    try:
        found = available_sources([str(d) for d in settings.scan.sources_dirs])
    except Exception:  # noqa: BLE001 - links are a convenience; the digest goes without them
        return None
    today = dt.date.today().isoformat()

    def page(it) -> str | None:
        src = found.get(it.source_kind)
        if it.kind != "enterprise" or not it.uscc or src is None or src.lookup is None or src.lookup.by != "uscc":
            return None
        lk = src.lookup
        if SECRET_RE.search(lk.url + str(lk.params)):
            return None
        from urllib.parse import quote, urlencode

        base = (settings.scan.base_url or src.base_url).rstrip("/")
        url = lk.url.replace("{base}", base).replace("{uscc}", quote(it.uscc)).replace("{date}", today)
        if lk.params:
            params = [(k, v.replace("{uscc}", it.uscc).replace("{date}", today)) for k, v in lk.params.items()]
            url += ("&" if "?" in url else "?") + urlencode(params)
        return url

    return page


def _case_source(store: AlertStore | None) -> StoreCaseUpdates | None:
    """Case updates (issue 14) come from the case store beside the alerts, when there is one."""
    if store is None:
        return None
    from alerts.cases.store import open_case_store

    try:
        return StoreCaseUpdates(open_case_store(store))
    except Exception:  # noqa: BLE001 - a digest without its case section beats no digest
        logging.getLogger(__name__).warning("no case store for the digests", exc_info=True)
        return None
