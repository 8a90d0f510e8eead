"""Screen each new or changed item with the matcher; unchanged items are not screened again.

Hits under ``MARKWATCH_MIN_SCORE`` (``[scan] min_score``; default 0, keep all) are dropped here,
before they reach the store, and counted as ``markwatch/hits_below_min_score``.
"""

from __future__ import annotations

from crawler import marks
from crawler.pipelines.stage import Stage
from matcher import Matcher


class ScreenPipeline(Stage):
    STAGE = "screen"

    def __init__(self, marks_path, stats, min_score: float = 0.0) -> None:
        super().__init__(stats)
        self.marks_path = marks_path
        self.min_score = min_score
        self.matcher: Matcher | None = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(s.get("MARKWATCH_MARKS"), crawler.stats, s.getfloat("MARKWATCH_MIN_SCORE", 0.0))

    def open_spider(self, spider=None):
        if self.marks_path:
            self.matcher = marks.matcher_for(str(self.marks_path))

    def close_spider(self, spider=None):
        if self.stats is not None:  # how often this process read a marks file (once per scan or crawl)
            self.stats.set_value("markwatch/marks_file_reads", marks.reads())

    def process(self, item):
        item["hits"] = []
        if self.matcher is None or item.get("changed") == "unchanged":
            return item
        self.stats.inc_value("markwatch/screened")
        hits = list(self.matcher.screen(item["subject"]))
        if self.min_score and hits:
            kept = [h for h in hits if h.score >= self.min_score]
            if len(kept) < len(hits):
                self.stats.inc_value("markwatch/hits_below_min_score", len(hits) - len(kept))
            hits = kept
        item["hits"] = hits
        if hits:
            self.stats.inc_value("markwatch/hits")
        return item
