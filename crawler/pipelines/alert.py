"""Turn hits into alerts in the alerts store, each with its evidence (the page as fetched)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from crawler import storelog
from crawler.items import page_url
from crawler.pipelines.stage import Stage

logger = logging.getLogger(__name__)

_BOOKKEEPING = {"response", "hits", "raw", "alert_ids", "evidence_id", "request_fp", "changed", "identity", "subject"}


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


class AlertPipeline(Stage):
    STAGE = "store"

    def __init__(self, settings, stats) -> None:
        super().__init__(stats)
        self.settings = store_settings(settings)
        self.store = None
        self.evidence = None
        self._capped = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("MARKWATCH_STORE"), crawler.stats)

    def open_spider(self, spider=None):
        if self.settings is not None:
            from alerts import open_evidence, open_store

            if self.settings.urls:  # Elasticsearch: its client's retry chatter is capped while we crawl
                storelog.install()
                self._capped = True
            self.store = open_store(self.settings)
            self.evidence = open_evidence(self.settings)

    def close_spider(self, spider=None):
        for thing in (self.store, self.evidence):
            if thing is not None:
                thing.close()
        if self._capped:
            self._capped = False
            storelog.uninstall()

    def process(self, item):
        hits = item.get("hits") or []
        if not hits or self.store is None:
            return item
        from alerts import alert_from_hit

        resp = item["response"]
        fetched = datetime.fromisoformat(resp["fetched_at"])
        evidence_id = self.evidence.put(
            resp["url"],
            fetched,
            resp["status"],
            resp["headers"],
            resp["body"],
            original_size=resp.get("original_size"),
            size_exact=resp.get("size_exact", True),
        )
        item["evidence_id"] = evidence_id
        subject = item["subject"]
        key = item["identity"]
        url = page_url(item)
        doc = {k: v for k, v in item.items() if k not in _BOOKKEEPING}
        doc["raw"] = item.get("raw")
        now = datetime.now(UTC)
        alerts = [
            alert_from_hit(
                h, subject, source=item["source"], subject_key=key, item=doc, evidence_id=evidence_id, now=now, url=url
            )
            for h in hits
        ]
        result = self.store.upsert(alerts)
        item["alert_ids"] = [a.id for a in alerts]
        self.stats.inc_value("markwatch/alerts_new", result.new)
        self.stats.inc_value("markwatch/alerts_updated", result.updated)
        if result.queued:
            self.stats.inc_value("markwatch/alerts_queued", result.queued)
            storelog.unreachable(
                str(getattr(self.store, "where", "the alerts store")),
                "alerts are kept in the outbox and written when it is back; the digests wait for it",
            )
        return item
