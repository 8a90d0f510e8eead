"""Last step: remember the item's fingerprint and its detail page as done, then shed the evidence bytes.

Runs only after the alert is stored, so a scan killed mid-item screens that item again on resume.
"""

from __future__ import annotations

from crawler.fingerprints import FingerprintDB
from crawler.pipelines.stage import Stage
from crawler.resume import DoneJournal


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
        if self.db and item.get("changed") != "unchanged":
            self.db.record(item["source"], item["identity"], item["fingerprint"])
        if item.get("request_fp"):
            self.journal.add(item["request_fp"])
        item.pop("response", None)
        item.pop("subject", None)  # the matcher's view of the item; not part of what a crawl outputs
        item["hits"] = [h.to_dict() if hasattr(h, "to_dict") else h for h in item.get("hits") or []]
        return item
