"""Turn hits into alerts in the alerts store, each with its evidence (the page as fetched)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from crawler.items import identity
from crawler.pipelines.screen import subject_of

logger = logging.getLogger(__name__)

_BOOKKEEPING = {"response", "hits", "raw", "alert_ids", "evidence_id", "request_fp", "changed"}


def store_settings(value):
    """MARKWATCH_STORE as given: StoreSettings, a dict of its fields, or a path to the SQLite file."""
    if value is None or value == "":
        return None
    from alerts.settings import StoreSettings

    if isinstance(value, StoreSettings):
        return value
    if isinstance(value, dict):
        return StoreSettings.model_validate(value)
    return StoreSettings(sqlite_path=str(value))


class AlertPipeline:
    def __init__(self, settings, stats) -> None:
        self.settings = store_settings(settings)
        self.stats = stats
        self.store = None
        self.evidence = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("MARKWATCH_STORE"), crawler.stats)

    def open_spider(self, spider=None):
        if self.settings is not None:
            from alerts import open_evidence, open_store

            self.store = open_store(self.settings)
            self.evidence = open_evidence(self.settings)

    def close_spider(self, spider=None):
        for thing in (self.store, self.evidence):
            if thing is not None:
                thing.close()

    def process_item(self, item, spider=None):
        hits = item.get("hits") or []
        if not hits or self.store is None:
            return item
        from alerts import alert_from_hit

        resp = item["response"]
        fetched = datetime.fromisoformat(resp["fetched_at"])
        evidence_id = self.evidence.put(resp["url"], fetched, resp["status"], resp["headers"], resp["body"])
        item["evidence_id"] = evidence_id
        subject = subject_of(item)
        key = identity(item)
        doc = {k: v for k, v in item.items() if k not in _BOOKKEEPING}
        doc["raw"] = item.get("raw")
        now = datetime.now(UTC)
        alerts = [
            alert_from_hit(
                h, subject, source=item["source"], subject_key=key, item=doc, evidence_id=evidence_id, now=now
            )
            for h in hits
        ]
        result = self.store.upsert(alerts)
        item["alert_ids"] = [a.id for a in alerts]
        self.stats.inc_value("markwatch/alerts_new", result.new)
        self.stats.inc_value("markwatch/alerts_updated", result.updated)
        if result.queued:
            self.stats.inc_value("markwatch/alerts_queued", result.queued)
        return item
