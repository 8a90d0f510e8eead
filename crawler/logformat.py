"""Scrapy's log lines without the item (imported by the log setup, before the reactor: no reactor import here)."""

from __future__ import annotations

import logging

from scrapy.logformatter import LogFormatter


class QuietLogFormatter(LogFormatter):
    """Scrapy's log lines without the item: an item holds its whole page (a 400 MB body once)."""

    @staticmethod
    def _short(item) -> str:
        try:
            src, url = item.get("source", "?"), item.get("url", "?")
        except AttributeError:
            return type(item).__name__
        return f"{type(item).__name__}(source={str(src)[:80]!r}, url={str(url)[:200]!r})"

    def scraped(self, item, response, spider):
        out = super().scraped(item, response, spider)
        out["args"] = {**out["args"], "item": self._short(item)}
        return out

    def dropped(self, item, exception, response, spider=None):
        # Counted per reason and said once per source when it closes (crawler.lost.FailureLog).
        out = super().dropped(item, exception, response, spider)
        out["args"] = {**out["args"], "item": self._short(item), "exception": str(exception)[:300]}
        out["level"] = logging.DEBUG
        return out

    def item_error(self, item, exception, response, spider=None):
        # The first error of each kind keeps its traceback; the rest are counted (crawler.lost.FailureLog).
        out = super().item_error(item, exception, response, spider)
        out["args"] = {**out["args"], "item": self._short(item)}
        seen = self.__dict__.setdefault("_errors_seen", set())
        kind = type(exception).__name__
        if kind in seen:
            out["level"] = logging.DEBUG
        seen.add(kind)
        return out
