"""Turn hits into alerts in the alerts store, each with its evidence (the page as fetched).

A write that fails because the store cannot take writes (disk full, a read-only file or index, a
cluster block: `alerts.store_errors.write_failure`) makes the store *down* for the rest of the
process's run, for every source at once: later items do not try it again (each would fail the
same way, some after a timeout). Their alerts go to the outbox when it can be written (and are
written on the next run or by `markwatch alerts flush`); otherwise they are counted as not stored,
and the item is not recorded as seen (`item["kept"]`), so the next scan screens it again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from alerts.store_errors import write_failure
from crawler import health, storelog
from crawler.items import page_url
from crawler.pipelines.stage import Stage

logger = logging.getLogger(__name__)

_BOOKKEEPING = {
    "response",
    "hits",
    "raw",
    "alert_ids",
    "evidence_id",
    "request_fp",
    "changed",
    "identity",
    "subject",
    "kept",
}

# Stores that failed a write in this process: where → why (shared by every source's pipeline).
_DOWN: dict[str, str] = {}


def reset_down() -> None:
    """Forget failed stores (a new scan in the same process, tests)."""
    _DOWN.clear()


def down_stores() -> dict[str, str]:
    """The stores that could not take writes in this run: where → why."""
    return dict(_DOWN)


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

    def __init__(self, settings, stats, *, flood_limit: int = 0, held_db: str | None = None, usual: str = "") -> None:
        super().__init__(stats)
        self.settings = store_settings(settings)
        self.flood_limit = flood_limit  # new alerts past which this source's new alerts are held (0: never)
        self.held_db = held_db
        self.usual = usual
        self._new_ids: list[str] = []
        self._held: Any = None
        self.store = None
        self.evidence = None
        self._capped = False
        self._outbox = None
        self._outbox_failed = ""

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(
            s.get("MARKWATCH_STORE"),
            crawler.stats,
            flood_limit=s.getint("MARKWATCH_FLOOD_LIMIT", 0),
            held_db=s.get("MARKWATCH_HELD_DB"),
            usual=s.get("MARKWATCH_FLOOD_USUAL", ""),
        )

    def _watch_flood(self, item, new_ids: list[str]) -> None:
        """Past the flood limit, this source's new alerts of the run (all of them) are held from the digests."""
        if not self.flood_limit or not self.held_db or not new_ids:
            return
        if self._held is None:
            self._new_ids.extend(new_ids)
            if len(self._new_ids) <= self.flood_limit:
                return
            from alerts.held import HeldAlerts

            self._held = HeldAlerts(self.held_db)
            new_ids, self._new_ids = self._new_ids, []
            logger.error(
                "source %s: more than %d new alerts (usual %s): its new alerts are held from the digests "
                "until an analyst releases them (markwatch alerts release)",
                item["source"],
                self.flood_limit,
                self.usual or "?",
            )
        run = str(self.stats.get_value("start_time") or "")[:19]
        self._held.hold(new_ids, source=item["source"], run=run, reason="flood")
        self.stats.inc_value("markwatch/alerts_held", len(new_ids))

    def open_spider(self, spider=None):
        if self.settings is not None:
            from alerts import open_evidence, open_store

            if self.settings.urls:  # Elasticsearch: its client's retry chatter is capped while we crawl
                storelog.install()
                self._capped = True
            self.store = open_store(self.settings)
            self.evidence = open_evidence(self.settings)

    def close_spider(self, spider=None):
        held = int(self.stats.get_value("markwatch/alerts_held", 0) or 0) if self.stats else 0
        if held:
            self.stats.set_value(
                "markwatch/flood",
                f"flood: {int(self.stats.get_value('markwatch/alerts_new', 0) or 0):,} new alerts, usual {self.usual}; "
                f"{held:,} held from the digests for review (markwatch alerts release)",
            )
        for thing in (self.store, self.evidence, self._outbox, self._held):
            if thing is None:
                continue
            try:
                thing.close()
            except Exception as exc:  # a connection to a full disk may fail to close; the run already says why
                logger.warning("closing %s: %s", type(thing).__name__, exc)
        if self._capped:
            self._capped = False
            storelog.uninstall()

    @property
    def where(self) -> str:
        return str(getattr(self.store, "where", None) or getattr(self.settings, "sqlite_path", "the alerts store"))

    def _went_down(self, why: str) -> None:
        if self.where not in _DOWN:
            _DOWN[self.where] = why
            logger.error(
                "alerts store %s cannot take writes (%s): it is not tried again in this run; "
                "alerts go to the outbox when it can be written",
                storelog.safe(self.where),
                why,
            )

    def _queue(self, item, alerts) -> None:
        """The store is down: the alerts to the outbox if it can be written, else counted as not stored."""
        why = _DOWN.get(self.where, "unavailable")
        if alerts and not self._outbox_failed:
            try:
                outbox = getattr(self.store, "outbox", None) or self._open_outbox()
                queued = outbox.put(alerts)
            except Exception as exc:
                self._outbox_failed = write_failure(exc) or type(exc).__name__
                logger.error(
                    "outbox cannot be written either (%s): alerts of this run are not kept", self._outbox_failed
                )
            else:
                self.stats.inc_value("markwatch/alerts_queued", queued)
                item["kept"] = "queued" if item.get("kept") != "no evidence" else "no evidence"
                return
        if alerts:
            self.stats.inc_value("markwatch/alerts_unstored", len(alerts))
        item["kept"] = "no"
        health.note(
            self.stats, "store", f"alerts store unavailable ({why})", why=f"not stored: store unavailable ({why})"
        )

    def _open_outbox(self):
        if self._outbox is None:
            from alerts.outbox import Outbox

            self._outbox = Outbox(self.settings.outbox_file())
        return self._outbox

    def process(self, item):
        hits = item.get("hits") or []
        if not hits or self.store is None:
            return item
        from alerts import alert_from_hit

        resp = item["response"]
        fetched = datetime.fromisoformat(resp["fetched_at"])
        evidence_id = None
        if self.where not in _DOWN:
            try:
                evidence_id = self.evidence.put(
                    resp["url"],
                    fetched,
                    resp["status"],
                    resp["headers"],
                    resp["body"],
                    original_size=resp.get("original_size"),
                    size_exact=resp.get("size_exact", True),
                )
            except Exception as exc:
                why = write_failure(exc)
                if not why:
                    raise
                self._went_down(f"evidence: {why}")
        if evidence_id is None:
            item["kept"] = "no evidence"  # not recorded as seen: the next scan fetches and keeps the page
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
        item["alert_ids"] = [a.id for a in alerts]
        if self.where in _DOWN:
            self._queue(item, alerts)
            return item
        try:
            result = self.store.upsert(alerts)
        except Exception as exc:
            why = write_failure(exc)
            if not why:
                raise
            self._went_down(why)
            self._queue(item, alerts)
            return item
        self.stats.inc_value("markwatch/alerts_new", result.new)
        self.stats.inc_value("markwatch/alerts_updated", result.updated)
        self._watch_flood(item, list(result.new_ids))
        if result.queued:
            self.stats.inc_value("markwatch/alerts_queued", result.queued)
            # Down for the rest of the run (a block until an operator lifts it, or the cluster gone): later
            # items go straight to the outbox instead of each waiting for the client's retries.
            self._went_down(result.errors[-1] if result.errors else "unreachable")
            storelog.unreachable(
                str(getattr(self.store, "where", "the alerts store")),
                "alerts are kept in the outbox and written when it is back; the digests wait for it",
            )
        return item
