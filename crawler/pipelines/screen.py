"""Screen each new or changed item with the matcher; unchanged items are not screened again."""

from __future__ import annotations

from functools import lru_cache

from crawler.items import Listing
from matcher import Matcher, Subject
from matcher.marksfile import load_marks


@lru_cache(maxsize=4)
def matcher_for(marks_path: str) -> Matcher:
    """One matcher per marks file per process (several sources share it)."""
    return Matcher(load_marks(marks_path))


def subject_of(item) -> Subject:
    if isinstance(item, Listing):
        return Subject(
            text=item.get("title") or "",
            kind="listing",
            seller=item.get("seller"),
            price=item.get("price"),
            category=item.get("category"),
        )
    return Subject(text=item.get("name") or "", kind="enterprise")


class ScreenPipeline:
    def __init__(self, marks_path, stats) -> None:
        self.marks_path = marks_path
        self.stats = stats
        self.matcher: Matcher | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("MARKWATCH_MARKS"), crawler.stats)

    def open_spider(self, spider=None):
        if self.marks_path:
            self.matcher = matcher_for(str(self.marks_path))

    def process_item(self, item, spider=None):
        item["hits"] = []
        if self.matcher is None or item.get("changed") == "unchanged":
            return item
        self.stats.inc_value("markwatch/screened")
        hits = self.matcher.screen(subject_of(item))
        item["hits"] = list(hits)
        if hits:
            self.stats.inc_value("markwatch/hits")
        return item
