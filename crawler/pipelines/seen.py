"""Incremental scans: mark each item new, updated or unchanged against the fingerprint DB."""

from __future__ import annotations

from crawler.fingerprints import FingerprintDB, content_of, fingerprint
from crawler.pipelines.stage import Stage


class SeenPipeline(Stage):
    STAGE = "incremental"

    def __init__(self, path, stats) -> None:
        super().__init__(stats)
        self.path = path
        self.db: FingerprintDB | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("MARKWATCH_FINGERPRINT_DB"), crawler.stats)

    def open_spider(self, spider=None):
        if self.path:
            self.db = FingerprintDB(self.path)

    def close_spider(self, spider=None):
        if self.db:
            self.db.close()

    def process(self, item):
        fields = type(item).CONTENT_FIELDS
        fp = fingerprint(content_of(item, fields))
        item["fingerprint"] = fp
        old = self.db.get(item["source"], item["identity"]) if self.db else None
        if self.db and old is not None and old != fp and old == fingerprint({k: item.get(k) for k in fields}):
            # Recorded before links were made host-free, and the same content: keep it unchanged, store the new form.
            self.db.record(item["source"], item["identity"], fp)
            self.stats.inc_value("markwatch/fingerprints_migrated")
            old = fp
        item["changed"] = "new" if old is None else "unchanged" if old == fp else "updated"
        self.stats.inc_value(f"markwatch/items_{item['changed']}")
        return item
