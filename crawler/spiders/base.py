"""The one generic spider behind `registry` and `marketplace`: everything site-specific is in the source file.

Arguments (`-a name=value`):
  source     name of a source, or path to its YAML file (required)
  marks      marks file for search terms (default: setting MARKWATCH_MARKS)
  keywords   comma-separated search terms, instead of those from the marks
  date       feed day, YYYY-MM-DD (default today); days=N walks N days back from it
  base_url   replaces {base} in the source's URL templates
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response

from crawler import extract, health
from crawler.items import item_class, key_from_url
from crawler.sources import Source, find_source

URL_FIELDS = {"url", "seller_url"}
_ERROR_KEYS = ("error", "errors", "error_code", "errcode", "errmsg", "error_msg", "fault")


def _error_body(data: Any) -> bool:
    """An API's 'no' dressed as HTTP 200: {"error": ...}, {"success": false}, {"status": "error"}."""
    if not isinstance(data, dict):
        return False
    if any(data.get(k) not in (None, "", 0, "0", [], {}) for k in _ERROR_KEYS):
        return True
    return data.get("success") is False or str(data.get("status", "")).lower() in ("error", "fail", "failed")


def search_keywords(marks_path: str | Path, limit: int | None = None) -> list[str]:
    """Every mark's search terms (the matcher's variants), deduplicated, in marks-file order."""
    from crawler.marks import marks_for
    from matcher import search_terms

    out: dict[str, None] = {}
    for mark in marks_for(marks_path):  # the process's one parsed copy, shared with the screen stage
        terms = search_terms(mark)
        for t in terms[:limit] if limit else terms:
            if t and t.strip():
                out[t.strip()] = None
    return list(out)


class SourceSpider(scrapy.Spider):
    """Walks a source's result pages (search, feed or browse) and, when asked, its detail pages."""

    kind = ""  # "registry" or "marketplace", set by subclasses

    def __init__(
        self,
        source: str | Source | None = None,
        marks: str | None = None,
        keywords: str | list[str] | None = None,
        date: str | None = None,
        days: str | int = 1,
        base_url: str | None = None,
        sources_dirs: list[str] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        if source is None:
            raise NotConfigured(f"{self.name}: pass -a source=NAME (see `markwatch sources` or crawler/sources/)")
        self.source: Source = source if isinstance(source, Source) else find_source(source, sources_dirs)
        if self.source.spider != self.name:
            raise NotConfigured(
                f"source {self.source.name!r} is a {self.source.kind} source: "
                f"run it with `scrapy crawl {self.source.spider}`"
            )
        self.marks_path = marks
        self.keywords_arg = keywords.split(",") if isinstance(keywords, str) else keywords
        self.date = dt.date.fromisoformat(date) if date else dt.date.today()
        self.days = max(1, int(days))
        self.base_url = (base_url or self.source.base_url).rstrip("/")
        self.item_cls = item_class(self.source.kind)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        src = spider.source
        s = crawler.settings
        # The source's politeness applies unless the command line / caller overrides it.
        if not s.frozen:
            s.set("DOWNLOAD_DELAY", src.rate_limit.delay, priority="spider")
            s.set("CONCURRENT_REQUESTS_PER_DOMAIN", src.rate_limit.concurrency, priority="spider")
            if src.user_agent:
                s.set("USER_AGENT", src.user_agent, priority="spider")
        if spider.marks_path and not s.frozen:
            s.set("MARKWATCH_MARKS", spider.marks_path, priority="cmdline")
        spider.marks_path = spider.marks_path or s.get("MARKWATCH_MARKS")
        spider.proxy = src.proxy or s.get("MARKWATCH_PROXY") or None
        return spider

    # ---- requests --------------------------------------------------------
    def _url(self, keyword: str = "", date: str = "", page: int = 1) -> str:
        return (
            self.source.pages.url.replace("{base}", self.base_url)
            .replace("{keyword}", quote(keyword))
            .replace("{date}", date)
            .replace("{page}", str(page))
        )

    def _request(self, url: str, callback, meta: dict, **kw) -> Request:
        meta = {**meta, "source": self.source.name}
        if self.proxy:
            meta["proxy"] = self.proxy
        return Request(url, callback=callback, meta=meta, headers=self.source.headers or None, **kw)

    def keywords(self) -> list[str]:
        if self.keywords_arg:
            return [k.strip() for k in self.keywords_arg if k.strip()]
        terms: dict[str, None] = dict.fromkeys(self.source.keywords)
        if self.marks_path:
            limit = self.settings.getint("MARKWATCH_TERMS_PER_MARK") or None
            terms.update(dict.fromkeys(search_keywords(self.marks_path, limit)))
        return list(terms)

    def start_points(self) -> Iterable[dict]:
        mode = self.source.mode
        if mode == "search":
            for kw in self.keywords():
                yield {"keyword": kw}
        elif mode == "feed":
            for i in range(self.days):
                yield {"date": (self.date - dt.timedelta(days=i)).isoformat()}
        else:
            yield {}

    async def start(self) -> AsyncIterator[Any]:
        for point in self.start_points():
            url = self._url(point.get("keyword", ""), point.get("date", ""), 1)
            if url.startswith("/"):  # a local data file
                url = Path(url).resolve().as_uri()
            yield self._request(url, self.parse_page, {**point, "page": 1})

    # ---- parsing ---------------------------------------------------------
    def _evidence(self, response: Response) -> dict:
        return {
            "url": response.url,
            "status": response.status,
            "headers": {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()},
            "body": response.body,
            "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }

    def _item(self, values: dict, response: Response):
        item = self.item_cls()
        for k, v in values.items():
            if k in URL_FIELDS and isinstance(v, str):
                v = response.urljoin(v.strip())
            elif k == "images" and isinstance(v, list):
                v = [response.urljoin(x) for x in v]
            item[k] = v
        item["source"] = self.source.name
        item.setdefault("url", response.url)
        ident = self.source.identity
        if ident is not None and ident.url is not None and not item.get("key"):
            key = key_from_url(ident.url, item["url"])
            if key:
                item["key"] = key
        ev = self._evidence(response)
        item["fetched_at"] = ev["fetched_at"]
        item["response"] = ev
        if response.meta.get("leaf"):
            item["request_fp"] = self.crawler.request_fingerprinter.fingerprint(response.request).hex()
        return item

    def parse_page(self, response: Response):
        page_spec = self.source.pages
        rows = extract.rows(response, page_spec, self.source.encoding)
        self.crawler.stats.inc_value("markwatch/pages/list")
        if not rows:
            self._no_rows(response)
        for row in rows:
            values = extract.fields(row, page_spec.fields)
            id_spec = self.source.identity.field() if self.source.identity else None
            if id_spec is not None and (key := extract.value(row, id_spec)) not in (None, "", []):
                values["key"] = str(key)
            link = extract.value(row, page_spec.detail) if page_spec.detail else None
            if isinstance(link, list):
                link = link[0] if link else None
            if page_spec.detail and link:
                yield self._request(
                    response.urljoin(str(link).strip()), self.parse_detail, {"partial": values, "leaf": True}
                )
            elif page_spec.detail:
                self.crawler.stats.inc_value("markwatch/rows_without_link")
            else:
                yield self._item(values, response)
        yield from self._next_page(response, rows)

    def _no_rows(self, response: Response) -> None:
        """Say why a results page held no rows: malformed data, an error body, or a selector matching nothing."""
        spec = self.source.pages
        page = response.meta.get("page", 1)
        stats = self.crawler.stats
        if spec.format == "json":
            data = extract.page_json(response, self.source.encoding)
            if data is None and response.body.strip():
                health.note(stats, "malformed", f"malformed JSON on page {page}")
                return
            if _error_body(data):
                health.note(stats, "refused", f"error body (HTTP {response.status})")
                return
        if page == 1:  # a later page without rows is the normal end of the pages
            what = f"`{spec.rows}`" if spec.rows else "the page"
            health.note(stats, "empty", f"selector {what} matched nothing")

    def _next_page(self, response: Response, rows: list):
        spec = self.source.pages
        page = response.meta.get("page", 1)
        if page >= spec.max_pages or not rows:
            return
        meta = {k: response.meta[k] for k in ("keyword", "date") if k in response.meta}
        if spec.next is not None:
            root = (
                extract.page_json(response, self.source.encoding)
                if spec.format == "json"
                else extract.rows(response, spec.model_copy(update={"rows": None}), self.source.encoding)[0]
            )
            link = extract.value(root, spec.next)
            if isinstance(link, list):
                link = link[0] if link else None
            if link:
                yield self._request(response.urljoin(str(link).strip()), self.parse_page, {**meta, "page": page + 1})
            return
        if "{page}" not in spec.url:
            return
        if spec.has_more:
            data = extract.page_json(response, self.source.encoding)
            if not extract.jmes(spec.has_more, data):
                return
        url = self._url(meta.get("keyword", ""), meta.get("date", ""), page + 1)
        yield self._request(url, self.parse_page, {**meta, "page": page + 1})

    def parse_detail(self, response: Response):
        self.crawler.stats.inc_value("markwatch/pages/detail")
        html = extract.rows(
            response, self.source.pages.model_copy(update={"rows": None, "format": "html"}), self.source.encoding
        )[0]
        values = dict(response.meta.get("partial") or {})
        values.update(extract.fields(html, self.source.detail.fields if self.source.detail else {}))
        values.pop("url", None)
        yield self._item(values, response)
