"""The crawler's item pipelines, timed per stage, so a scan can say where its time went.

Each class is the crawler's own pipeline with ``process_item`` timed into the crawler stats
(``markwatch/seconds/<stage>``). The scan swaps them in through ITEM_PIPELINES; the crawl itself
(download, parse, wait) is the scan's wall time minus these. The screen stage also drops hits
below ``[scan] min_score`` before they reach the store.
"""

from __future__ import annotations

import time

from crawler.pipelines.alert import AlertPipeline
from crawler.pipelines.normalize import NormalizePipeline
from crawler.pipelines.record import RecordPipeline
from crawler.pipelines.screen import ScreenPipeline
from crawler.pipelines.seen import SeenPipeline
from crawler.pipelines.validate import ValidatePipeline

STAGE_KEY = "markwatch/seconds/"


def _timed(base: type, stage: str) -> type:
    def from_crawler(cls, crawler):
        make = getattr(base, "from_crawler", None)
        obj = make.__func__(cls, crawler) if make else cls()
        obj._mw_stats = crawler.stats
        obj._mw_settings = crawler.settings
        return obj

    def process_item(self, item, spider=None):
        t = time.perf_counter()
        try:
            return base.process_item(self, item, spider)
        finally:
            self._mw_stats.inc_value(STAGE_KEY + stage, time.perf_counter() - t)

    ns = {
        "from_crawler": classmethod(from_crawler),
        "process_item": process_item,
        "__doc__": f"{base.__name__}, timed as stage {stage!r}.",
        "__module__": __name__,
    }
    return type("Timed" + base.__name__, (base,), ns)


TimedValidatePipeline = _timed(ValidatePipeline, "parse")
TimedNormalizePipeline = _timed(NormalizePipeline, "parse")
TimedSeenPipeline = _timed(SeenPipeline, "incremental")
TimedAlertPipeline = _timed(AlertPipeline, "store")
TimedRecordPipeline = _timed(RecordPipeline, "record")


class TimedScreenPipeline(_timed(ScreenPipeline, "screen")):
    """Screening, timed; hits under [scan] min_score are dropped here (counted as filtered)."""

    def process_item(self, item, spider=None):
        item = super().process_item(item, spider)
        floor = self._mw_settings.getfloat("MARKWATCH_MIN_SCORE", 0.0)
        hits = item.get("hits") or []
        if floor and hits:
            kept = [h for h in hits if h.score >= floor]
            if len(kept) < len(hits):
                self._mw_stats.inc_value("markwatch/hits_below_min_score", len(hits) - len(kept))
                if not kept:
                    self._mw_stats.inc_value("markwatch/hits", -1)
            item["hits"] = kept
        return item


ITEM_PIPELINES = {
    f"{__name__}.TimedValidatePipeline": 100,
    f"{__name__}.TimedNormalizePipeline": 200,
    f"{__name__}.TimedSeenPipeline": 250,
    f"{__name__}.TimedScreenPipeline": 300,
    f"{__name__}.TimedAlertPipeline": 400,
    f"{__name__}.TimedRecordPipeline": 900,
}

STAGES = ("parse", "incremental", "screen", "store", "record")
