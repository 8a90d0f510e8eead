"""One notify run: recover interrupted messages, then one digest per recipient.

The order of writes is what makes delivery once-only; see `alerts.notify.ledger`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from alerts.notify import case_updates as cu
from alerts.notify import reminders as rm
from alerts.notify.ledger import Ledger
from alerts.notify.model import DigestItem, Recipient
from alerts.notify.render import render_digest
from alerts.notify.sanitize import header_text
from alerts.notify.source import AlertSource
from alerts.notify.transport import DeliveryError, ServerUnavailable, Transport

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What happened to one message in this run."""

    recipient: str
    alerts: int
    state: str  # sent, failed, uncertain, would-send, would-resend
    subject: str = ""
    message_id: str = ""
    error: str = ""
    retry: bool = False  # a re-send of a message from an interrupted run
    preview: str = ""  # dry run: the plain-text part
    cases: int = 0  # case updates in the digest (alerts.notify.case_updates)
    reminders: int = 0  # opposition-deadline reminders in the digest (alerts.notify.reminders)


@dataclass
class DigestOptions:
    sender: str
    base_url: str
    max_items: int = 50
    link_key: str | None = None  # [review] secret_key: signs read-only links (alerts.notify.links); none = no links
    page_for: Callable[[DigestItem], str | None] | None = None  # the entity's own page (markwatch wires it)


def _collect(source: AlertSource, recipients: Sequence[Recipient]) -> dict[str, list[DigestItem]]:
    """Query each mark once with the loosest filter any of its recipients needs."""
    floors: dict[str, float] = {}
    statuses: dict[str, set[str]] = {}
    for r in recipients:
        for m in r.marks:
            floors[m] = min(floors.get(m, 1.0), r.min_score.get(m, 0.0))
            statuses.setdefault(m, set()).update(r.statuses)
    return {m: source.candidates(m, floors[m], statuses[m]) for m in floors}


def pending_for(recipient: Recipient, candidates: dict[str, list[DigestItem]], ledger: Ledger) -> list[DigestItem]:
    done = ledger.sent_ids(recipient.address.lower()) | ledger.held_ids(recipient.address.lower())
    out = []
    seen: set[str] = set()
    for m in recipient.marks:
        floor = recipient.min_score.get(m, 0.0)
        for it in candidates.get(m, []):
            if (
                it.alert_id not in done
                and it.alert_id not in seen
                and it.score >= floor
                and it.status in recipient.statuses
            ):
                seen.add(it.alert_id)
                out.append(it)
    return out


def run_notify(
    recipients: Sequence[Recipient],
    source: AlertSource,
    ledger: Ledger,
    transport: Transport,
    options: DigestOptions,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    case_source: cu.CaseUpdateSource | None = None,
) -> list[Outcome]:
    """Send every pending digest once; never raises for one recipient's failure."""
    now = now or datetime.now(UTC)
    outcomes: list[Outcome] = []
    if not dry_run:
        ledger.lock()
    down: str | None = None
    resent: list[tuple[Sequence[str], str]] = []  # recorded after _collect (see below)
    try:
        # 1. Messages whose earlier attempt had an unknown outcome go again, byte for byte.
        for pm in ledger.interrupted():
            held = len(ledger.case_keys_of(pm.message_id))
            out = Outcome(
                pm.recipient, len(pm.alert_ids), "would-resend", message_id=pm.message_id, retry=True, cases=held
            )
            outcomes.append(out)
            if dry_run:
                continue
            if transport.already_delivered(pm.recipient, pm.message_id):
                ledger.sent(pm.message_id)
                out.state = "sent"
                continue
            if down:
                ledger.uncertain(pm.message_id, down)
                out.state, out.error = "uncertain", down
                continue
            ledger.retrying(pm.message_id)
            try:
                transport.deliver(pm.sender, pm.recipient, pm.message_id, pm.raw)
            except DeliveryError as exc:
                # Only ever re-sent as is: the first attempt may have arrived.
                ledger.uncertain(pm.message_id, str(exc))
                out.state, out.error = "uncertain", str(exc)
                if isinstance(exc, ServerUnavailable):
                    down = str(exc)
                continue
            resent.append((pm.alert_ids, ledger.sent(pm.message_id)))
            out.state = "sent"

        # 2. One fresh digest per recipient with everything not yet sent (or held above).
        candidates = _collect(source, recipients)
        # The source learns which alerts were never notified while collecting, so re-sent messages
        # are recorded only now: recorded before, their alerts kept an empty notified_at for good.
        for ids, at in resent:
            _record_notified(source, ids, at)
        resent.clear()
        updates = _case_updates(case_source, now)
        deadlines = _deadline_items(source, recipients, now)
        for r in recipients:
            key = r.address.lower()
            items = pending_for(r, candidates, ledger)
            since = ledger.recipient_since(key, now, record=not dry_run)
            done = ledger.case_keys_done(key)
            cases = cu.for_recipient(r, updates, done, since) if updates else []
            today = local_date(now, r.timezone)
            reminders = rm.for_recipient(r, deadlines, done, today) if deadlines else []
            if not items and not cases and not reminders:
                continue
            try:
                rendered = render_digest(
                    r.address,
                    items,
                    sender=options.sender,
                    base_url=options.base_url,
                    max_items=options.max_items,
                    now=now,
                    language=r.language,
                    case_updates=cases,
                    reminders=reminders,
                    timezone=r.timezone,
                    link_for=_link_for(options, r),
                    page_for=options.page_for,
                    attach_csv=r.csv,
                )
                raw = rendered.as_bytes()
            except Exception as exc:  # a rendering bug must not cost the other owners their digest
                log.exception("cannot render the digest for %s", r.address)
                outcomes.append(Outcome(r.address, len(items), "failed", error=f"render: {exc}"))
                continue
            out = Outcome(
                r.address,
                len(items),
                "would-send",
                rendered.subject,
                rendered.message_id,
                cases=len(cases),
                reminders=len(reminders),
            )
            outcomes.append(out)
            if dry_run:
                body = rendered.message.get_body(("plain",))
                out.preview = body.get_content() if body is not None else ""
                continue
            ledger.begin(
                rendered.message_id, key, header_text(options.sender, 300), rendered.alert_ids, raw, rendered.case_keys
            )
            if down:
                ledger.failed(rendered.message_id, down)
                out.state, out.error = "failed", down
                continue
            try:
                transport.deliver(options.sender, r.address, rendered.message_id, raw)
            except DeliveryError as exc:
                if exc.definite:
                    ledger.failed(rendered.message_id, str(exc))
                    out.state = "failed"
                else:
                    ledger.uncertain(rendered.message_id, str(exc))
                    out.state = "uncertain"
                out.error = str(exc)
                if isinstance(exc, ServerUnavailable):
                    down = str(exc)
                continue
            at = ledger.sent(rendered.message_id)
            out.state = "sent"
            _record_notified(source, rendered.alert_ids, at)
    finally:
        transport.close()
        if not dry_run:
            ledger.unlock()
    return outcomes


def _link_for(options: DigestOptions, r: Recipient) -> Callable[[DigestItem], str | None] | None:
    """Signed read-only links for this address, or None (no key configured, or the owner wants none)."""
    if not options.link_key or not r.links:
        return None
    from alerts.notify.links import make_token, shared_url

    key = options.link_key
    return lambda it: shared_url(options.base_url, make_token(key, it.alert_id, r.address))


def _case_updates(case_source: cu.CaseUpdateSource | None, now: datetime) -> list[cu.CaseUpdate]:
    """All current case updates; a broken case store costs the digest its case section, not the alerts."""
    if case_source is None:
        return []
    try:
        return case_source.updates(now.date())
    except Exception:
        log.warning("could not read case updates for the digests", exc_info=True)
        return []


def local_date(now: datetime, timezone: str) -> date:
    """The recipient's date (deadlines are days in China; a reminder is due by the owner's calendar)."""
    from zoneinfo import ZoneInfo

    try:
        return now.astimezone(ZoneInfo(timezone)).date()
    except (KeyError, ValueError):
        return now.astimezone(UTC).date()


def _deadline_items(source: AlertSource, recipients: Sequence[Recipient], now: datetime) -> list[DigestItem]:
    """Open trademark deadlines within the reminders' horizon; a failure costs the reminders of this
    run (they stay due and go with the next), never the digests."""
    read = getattr(source, "deadlines", None)
    if read is None or not recipients:
        return []
    marks = sorted({m for r in recipients for m in r.marks})
    today = now.astimezone(UTC).date()
    try:
        # A day either side: recipients' dates differ from UTC's by less than that.
        return list(read(marks, today - timedelta(days=1), today + timedelta(days=rm.HORIZON + 1)))
    except Exception:
        log.warning("could not read the open trademark deadlines for the reminders", exc_info=True)
        return []


def _record_notified(source: AlertSource, ids: Sequence[str], at: str) -> None:
    try:
        source.mark_notified(ids, datetime.fromisoformat(at))
    except Exception:  # the ledger already holds the truth; the store's field is informational
        log.warning("could not record notified_at in the alerts store", exc_info=True)
