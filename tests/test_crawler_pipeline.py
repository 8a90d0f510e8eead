"""One pipeline chain for `scrapy crawl` and `markwatch scan`: timed stages, min_score in the screen
stage, per-item values computed once, span and page URL kept on the alert, the marks file read once."""

from __future__ import annotations

import importlib
import json
import shutil
import sqlite3

from crawler_fixtures import MARKS, feed_arg, read_feed, run_crawl, start_server
from scrapy.settings import Settings

from crawler import marks as marks_cache
from crawler.items import Listing
from crawler.pipelines.normalize import NormalizePipeline
from crawler.pipelines.screen import ScreenPipeline
from crawler.pipelines.stage import STAGE_KEY, STAGES, Stage
from crawler.spiders.base import search_keywords

SOURCES = ["demo-registry-api", "demo-market-api"]


def test_every_item_pipeline_is_a_timed_stage_and_the_scan_keeps_the_chain():
    from markwatch.config import Settings as MarkwatchSettings
    from markwatch.services.scan import crawl_overrides

    chain = Settings()
    chain.setmodule("crawler.settings")
    pipelines = chain.getdict("ITEM_PIPELINES")
    assert len(pipelines) == 6
    for path in pipelines:
        module, _, name = path.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, Stage) and cls.STAGE in STAGES, path
    overrides = crawl_overrides(MarkwatchSettings())
    assert "ITEM_PIPELINES" not in overrides  # the scan runs the crawler's own chain
    assert overrides["MARKWATCH_MIN_SCORE"] == 0.0


class _Stats:
    def __init__(self):
        self.values: dict[str, float] = {}

    def inc_value(self, key, count=1, start=0):
        self.values[key] = self.values.get(key, start) + count


def _screened(title: str, min_score: float) -> tuple[list, dict]:
    stats = _Stats()
    item = NormalizePipeline(stats).process_item(Listing(title=title, url="http://shop.example/i/1", source="s"))
    item["changed"] = "new"
    screen = ScreenPipeline(str(MARKS), stats, min_score)
    screen.open_spider()
    return screen.process_item(item)["hits"], stats.values


def test_screen_stage_drops_hits_under_min_score_and_counts_them():
    title = "丸阳豆浆机 李寧运动鞋"  # a look-alike of one mark (under 0.95), another mark in traditional script
    hits, stats = _screened(title, 0.0)
    assert sorted(h.mark for h in hits) == ["九阳", "李宁"] and stats["markwatch/hits"] == 1
    assert stats[STAGE_KEY + "screen"] > 0 and "markwatch/hits_below_min_score" not in stats
    kept, stats = _screened(title, 0.95)
    assert kept == [h for h in hits if h.score >= 0.95] and [h.mark for h in kept] == ["李宁"]
    assert stats["markwatch/hits_below_min_score"] == 1 and stats["markwatch/hits"] == 1
    none, stats = _screened("丸阳豆浆机", 0.95)
    assert none == [] and stats["markwatch/hits_below_min_score"] == 1
    assert "markwatch/hits" not in stats and stats["markwatch/screened"] == 1


def test_marks_file_is_read_once_per_process_until_it_changes(tmp_path):
    path = tmp_path / "marks.yaml"
    shutil.copy(MARKS, path)
    before = marks_cache.reads()
    marks = marks_cache.marks_for(path)
    terms = search_keywords(path, 1)  # what a spider asks for
    screen = ScreenPipeline(str(path), None)
    screen.open_spider()  # what the screen stage asks for
    assert terms and screen.matcher is marks_cache.matcher_for(str(path))
    assert marks_cache.marks_for(str(path)) is marks
    assert marks_cache.reads() - before == 1
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\n# edited\n", encoding="utf-8")  # size changes, so the stamp does
    again = marks_cache.marks_for(path)
    assert again is not marks and [m.name for m in again] == [m.name for m in marks]
    assert marks_cache.matcher_for(path) is not screen.matcher
    assert marks_cache.reads() - before == 2


def _alerts(path) -> list[dict]:
    db = sqlite3.connect(path)
    try:
        return [
            {**json.loads(doc), "_cols": (s, e, u)}
            for doc, s, e, u in db.execute("SELECT doc, span_start, span_end, url FROM alerts")
        ]
    finally:
        db.close()


def test_scrapy_crawl_applies_min_score_and_stores_span_and_page_url(tmp_path):
    srv = start_server(fail_every=0, slow_every=0, companies=300, listings=200)
    try:
        out_all, out_min = tmp_path / "all" / "items.jsonl", tmp_path / "min" / "items.jsonl"
        out_all.parent.mkdir()
        run_crawl(SOURCES, srv.url, out_all.parent, "--set", feed_arg(out_all))
        every = read_feed(out_all)
        scores = sorted({h["score"] for i in every for h in i["hits"]})
        assert len(scores) > 1
        floor = scores[len(scores) // 2]  # some hits under it, some not
        out_min.parent.mkdir()
        run_crawl(SOURCES, srv.url, out_min.parent, "--set", feed_arg(out_min), "--set", f"MARKWATCH_MIN_SCORE={floor}")
        floored = read_feed(out_min)
    finally:
        srv.stop()
    assert all("identity" in i and "subject" not in i and "response" not in i for i in every)
    by_id = {(i["source"], i["identity"]): i for i in every}
    assert len(by_id) == len(every) == len(floored)
    for item in floored:
        expect = [h for h in by_id[(item["source"], item["identity"])]["hits"] if h["score"] >= floor]
        assert item["hits"] == expect
    assert 0 < sum(len(i["hits"]) for i in floored) < sum(len(i["hits"]) for i in every)
    assert len(_alerts(tmp_path / "min" / "alerts.sqlite")) == sum(len(i["hits"]) for i in floored)
    alerts = _alerts(tmp_path / "all" / "alerts.sqlite")
    assert len(alerts) == sum(len(i["hits"]) for i in every)
    items = {i["identity"]: i for i in every}
    for a in alerts:
        start, end, url = a["_cols"]
        assert (a["span_start"], a["span_end"], a["url"]) == (start, end, url)
        assert a["subject"]["text"][start:end] == a["matched"]
        item = items[a["subject_key"]]
        assert url == item["url"] and url.startswith(srv.url)
        hit = next(h for h in item["hits"] if h["mark"] == a["mark"])
        assert [start, end] == hit["span"]
        assert "identity" not in a["item"] and "subject" not in a["item"]
