"""The scan's follow-up stage: re-check filed cases (alerts.cases.followup) after the digests.

The follow-up decides in ``alerts.cases.followup``; the looking up happens here, through the
crawler: ``CrawlerLooker`` runs the sources' ``lookup`` sections with ``crawler.spiders.lookup``
(same downloader, secrets, signers, host guard, limits and health watch as a scan) in a child
process, because the reactor of a process runs once.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from alerts.cases.followup import LookupAnswer, LookupTarget
from markwatch.config import Settings

log = logging.getLogger(__name__)


class CrawlerLooker:
    """``alerts.cases.followup.Looker`` over the crawler: one child crawl per round of lookups."""

    def __init__(self, settings: Settings, *, base_url: str | None = None) -> None:
        self.settings = settings
        self.base_url = base_url or settings.scan.base_url
        self.dirs: list[str] = [str(d) for d in settings.scan.sources_dirs]
        self.last_sources: dict[str, dict[str, Any]] = {}

    def sources_for(self, by: str) -> list[str]:
        from crawler.sources import available_sources

        found = available_sources(list[str | Path](self.dirs))
        names = [n for n, s in sorted(found.items()) if s.lookup is not None and s.lookup.by == by]
        wanted = self.settings.cases.lookup_sources
        return [n for n in wanted if n in names] if wanted else names

    def look(self, requests: dict[str, list[LookupTarget]], today: dt.date) -> dict[str, dict[str, LookupAnswer]]:
        from crawler.spiders.lookup import decoded_evidence, run_jobs
        from markwatch.services.scan import crawl_overrides

        if not requests:
            return {}
        job = {
            "lookups": [
                {
                    "source": name,
                    "targets": [
                        {"id": t.id, "uscc": t.uscc, "url": t.url, "key": t.key, "number": t.number} for t in targets
                    ],
                    "base_url": self.base_url,
                    "date": today.isoformat(),
                }
                for name, targets in requests.items()
            ],
            "settings": crawl_overrides(self.settings),
            "sources_dirs": self.dirs,
        }
        res = run_jobs(job, timeout=max(60.0, self.settings.cases.timeout * 20))
        self.last_sources = res.get("sources", {})
        out: dict[str, dict[str, LookupAnswer]] = {}
        for name, targets in requests.items():
            got = res.get("lookups", {}).get(name, {})
            src_state = self.last_sources.get(name, {})
            for t in targets:
                r = got.get(t.id)
                if r is None:
                    why = src_state.get("reason") or "no answer"
                    out.setdefault(name, {})[t.id] = LookupAnswer("failed", str(why))
                    continue
                ev = decoded_evidence(r) or {}
                out.setdefault(name, {})[t.id] = LookupAnswer(
                    state=r["state"],
                    reason=r.get("reason", ""),
                    fields=r.get("fields") or {},
                    url=str(ev.get("url") or r.get("final_url") or ""),
                    status=int(ev.get("status") or 0),
                    headers=ev.get("headers") or {},
                    body=ev.get("body"),
                    fetched_at=ev.get("fetched_at"),
                    gone_by=r.get("gone_by", ""),
                )
        return out


def run_check(settings: Settings, *, base_url: str | None, today: dt.date | None) -> Any:
    """The follow-up now, against the configured stores (``markwatch cases check`` and the scan)."""
    from alerts import open_evidence, open_store
    from alerts.cases.followup import FollowupOptions, run_followup
    from alerts.cases.store import open_case_store

    with open_store(settings) as store:
        evidence = open_evidence(settings)
        try:
            return run_followup(
                store,
                open_case_store(store),
                evidence,
                CrawlerLooker(settings, base_url=base_url),
                FollowupOptions(sources=list(settings.cases.lookup_sources)),
                today=today,
            )
        finally:
            evidence.close()


def after_scan(settings: Settings, *, base_url: str | None, date: str | None, errors: list[str]) -> dict[str, int]:
    """Run the follow-up as of the scan date; a failure is an error of the run, never a crash.

    Returns the counts for the scan's summary and run record (empty when the follow-up is off);
    each failed check is added to ``errors`` with its plain reason.
    """
    if not settings.cases.followup:
        return {}
    try:
        report = run_check(settings, base_url=base_url, today=dt.date.fromisoformat(date) if date else None)
    except Exception as exc:  # noqa: BLE001 - the scan's own work is done and recorded
        errors.append(f"case follow-up failed: {type(exc).__name__}: {exc}")
        return {"checked": 0, "resolved": 0, "errors": 1, "overdue": 0}
    for line in report.lines():
        log.info("%s", line)
    errors.extend(f"case follow-up {o.case_id}: {o.detail}" for o in report.errors)
    if settings.evidence.tsa_url:
        try:
            from alerts import open_evidence
            from markwatch.services.timestamping import stamp_captures

            evidence = open_evidence(settings)
            try:
                counts = stamp_captures(settings, evidence)
            finally:
                evidence.close()
            if counts.get("failed"):
                errors.append(f"time-stamping: {counts['failed']} capture(s) not stamped (see the log)")
        except Exception as exc:  # noqa: BLE001 - the evidence stays hash-only until the next run
            errors.append(f"time-stamping failed: {type(exc).__name__}: {exc}")
    return {
        "checked": report.checked,
        "resolved": len(report.resolved),
        "errors": len(report.errors),
        "overdue": len(report.overdue),
    }
