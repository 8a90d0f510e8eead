"""The scan's follow-up stage: re-check filed cases (alerts.cases.followup) after the digests."""

from __future__ import annotations

import datetime as dt
import logging

from markwatch.config import Settings

log = logging.getLogger(__name__)


def after_scan(settings: Settings, *, base_url: str | None, date: str | None, errors: list[str]) -> dict[str, int]:
    """Run the follow-up as of the scan date; a failure is an error of the run, never a crash.

    Returns the counts for the scan's summary and run record (empty when the follow-up is off);
    each failed check is added to ``errors`` with its plain reason.
    """
    if not settings.cases.followup:
        return {}
    from alerts import open_evidence, open_store
    from alerts.cases.followup import FollowupOptions, run_followup
    from alerts.cases.store import open_case_store

    try:
        with open_store(settings) as store:
            evidence = open_evidence(settings)
            try:
                report = run_followup(
                    store,
                    open_case_store(store),
                    evidence,
                    FollowupOptions.from_settings(settings, base_url=base_url),
                    today=dt.date.fromisoformat(date) if date else None,
                )
            finally:
                evidence.close()
    except Exception as exc:  # noqa: BLE001 - the scan's own work is done and recorded
        errors.append(f"case follow-up failed: {type(exc).__name__}: {exc}")
        return {"checked": 0, "resolved": 0, "errors": 1, "overdue": 0}
    for line in report.lines():
        log.info("%s", line)
    errors.extend(f"case follow-up {o.case_id}: {o.detail}" for o in report.errors)
    return {
        "checked": report.checked,
        "resolved": len(report.resolved),
        "errors": len(report.errors),
        "overdue": len(report.overdue),
    }
