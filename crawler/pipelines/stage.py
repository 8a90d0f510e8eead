"""The one base of every item pipeline: its job in ``process``, timed into the crawler stats.

Each pipeline names its stage (``STAGE``); ``process_item`` adds the seconds spent to
``markwatch/seconds/<stage>``, so `scrapy crawl` and `markwatch scan` run the same classes and a
scan can say where its time went (the crawl itself is the wall time minus these).
"""

from __future__ import annotations

import time
from typing import Any

STAGE_KEY = "markwatch/seconds/"
STAGES = ("parse", "incremental", "screen", "store", "record")


class Stage:
    """An item pipeline timed as stage ``STAGE``; subclasses implement ``process(item)``."""

    STAGE = ""

    def __init__(self, stats: Any = None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process(self, item):
        raise NotImplementedError

    def process_item(self, item, spider=None):
        t = time.perf_counter()
        try:
            return self.process(item)
        finally:
            if self.stats is not None:
                self.stats.inc_value(STAGE_KEY + self.STAGE, time.perf_counter() - t)
