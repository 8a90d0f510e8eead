"""Last step: remember the item's fingerprint and its detail page as done, then shed the evidence bytes.

Runs only after the alert is stored, so a scan killed mid-item screens that item again on resume. An
item whose alerts or evidence the store could not keep (`item["kept"]`, crawler.pipelines.alert) is
not remembered: the next scan screens it again. A fingerprint or journal that cannot be written
(a full disk) costs a re-screen next time, never the item: it is counted, not raised.
"""

from __future__ import annotations

import logging

from alerts.store_errors import write_failure
from crawler import health
from crawler.fingerprints import FingerprintDB
from crawler.pipelines.stage import Stage
from crawler.resume import DoneJournal

logger = logging.getLogger(__name__)


class RecordPipeline(Stage):
    STAGE = "record"

    def __init__(self, db_path, jobdir, stats=None) -> None:
        super().__init__(stats)
        self.db_path = db_path
        self.journal = DoneJournal(jobdir)
        self.db: FingerprintDB | None = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(s.get("MARKWATCH_FINGERPRINT_DB"), s.get("JOBDIR"), crawler.stats)

    def open_spider(self, spider=None):
        if self.db_path:
            self.db = FingerprintDB(self.db_path)

    def close_spider(self, spider=None):
        if self.db:
            self.db.close()
        self.journal.close()

    def process(self, item):
        if item.get("kept") not in ("no", "no evidence"):
            try:
                if self.db and item.get("changed") != "unchanged":
                    self.db.record(item["source"], item["identity"], item["fingerprint"])
                if item.get("request_fp"):
                    self.journal.add(item["request_fp"])
            except Exception as exc:
                why = write_failure(exc)
                if not why:
                    raise
                if not self.stats.get_value("markwatch/record_failed"):
                    logger.error("fingerprints or resume journal not written (%s): these items are screened again", why)
                self.stats.inc_value("markwatch/record_failed")
                health.note(self.stats, "store", f"not recorded ({why})", why=f"not recorded as seen ({why})")
        item.pop("response", None)
        item.pop("subject", None)  # the matcher's view of the item; not part of what a crawl outputs
        item["hits"] = [h.to_dict() if hasattr(h, "to_dict") else h for h in item.get("hits") or []]
        return item
