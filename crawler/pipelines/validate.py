"""Drop items missing their key field (counted, never a crash). Credit codes are checked once cleaned (normalise)."""

from __future__ import annotations

from scrapy.exceptions import DropItem

from crawler.pipelines.stage import Stage
from crawler.text import clean


class ValidatePipeline(Stage):
    STAGE = "parse"

    def process(self, item):
        for key in type(item).KEY_FIELDS:
            if not clean(item.get(key), limit=200):
                self.stats.inc_value(f"markwatch/dropped/missing_{key}")
                self.stats.inc_value("markwatch/dropped")
                raise DropItem(f"missing {key}: {item.get('url')}")
        return item
