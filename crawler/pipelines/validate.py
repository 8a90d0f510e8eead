"""Drop items missing their key field (counted, never a crash); check credit codes."""

from __future__ import annotations

from scrapy.exceptions import DropItem

from crawler import uscc
from crawler.items import Registration
from crawler.text import clean


class ValidatePipeline:
    def __init__(self, stats) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item, spider=None):
        for key in type(item).KEY_FIELDS:
            if not clean(item.get(key), limit=200):
                self.stats.inc_value(f"markwatch/dropped/missing_{key}")
                self.stats.inc_value("markwatch/dropped")
                raise DropItem(f"missing {key}: {item.get('url')}")
        if isinstance(item, Registration):
            code = clean(item.get("uscc"), limit=40).replace(" ", "").upper()
            item["uscc_valid"] = uscc.is_valid(code)
            if code and not item["uscc_valid"]:
                self.stats.inc_value("markwatch/uscc_invalid")
        return item
