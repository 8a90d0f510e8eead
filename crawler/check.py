"""`markwatch sources check`: fetch one page of a source exactly as a scan would, and say what it extracts.

Like `scrapy parse`: the same spider, request building, secrets, signing, browser rendering and
refusal rules as a scan, but one page, no pipelines (nothing stored, nothing screened), and a report
of each row's fields — the value, or why it is empty — the next page it would follow, and the
refusal or problem if any. Values are the site's raw text: whoever prints them escapes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from parsel import Selector
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.http import Request, Response

from crawler import extract, health
from crawler.signers import PLACEHOLDER
from crawler.sources import FieldSpec, Source

MAX_ROWS = 50
MAX_VALUE = 300


@dataclass
class FieldResult:
    name: str
    value: Any = None
    why_empty: str = ""


@dataclass
class CheckReport:
    """What one page gave: rows and fields, the next page, and what went wrong."""

    source: str
    request: str = ""  # method and URL as queued (`${NAME}` placeholders, never the values)
    status: int | None = None
    url: str = ""
    rows: list[list[FieldResult]] = field(default_factory=list)
    row_count: int = 0
    detail_links: list[str] = field(default_factory=list)
    next_pages: list[str] = field(default_factory=list)
    refused: str = ""
    problems: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str = ""


def _shown(url: str) -> str:
    """A queued URL with its `${NAME}` placeholders written back as in the source file."""
    return PLACEHOLDER.sub(lambda m: "${" + m.group(1) + "}", url)


def _why(spec: FieldSpec, row: Any) -> str:
    if spec.json_ is not None:
        if isinstance(row, Selector):
            return f"json {spec.json_!r} on an HTML row (use css/xpath, or pages.script)"
        return f"json {spec.json_!r} found no value in this row"
    what = f"css {spec.css!r}" if spec.css else f"xpath {spec.xpath!r}"
    if not isinstance(row, Selector):
        return f"{what} on a JSON row (use json: …)"
    return f"{what} matched nothing in this row"


def _short(v: Any) -> Any:
    if isinstance(v, str) and len(v) > MAX_VALUE:
        return v[:MAX_VALUE] + "…"
    if isinstance(v, list):
        return [_short(x) for x in v[:10]]
    return v


class CheckMixin:
    """Mixed into a source's spider: one page, a report instead of items."""

    check_point: dict
    check_page_no: int
    report: CheckReport
    # The spider's own (crawler.spiders.base.SourceSpider), which this is mixed into.
    source: Source
    refusal: Callable[[Response], str | None]
    page_rows: Callable[[Response], tuple[list, Any]]
    _detail_url: Callable[[str, Any], str | None]
    _next_page: Callable[..., Iterable[Any]]

    async def start(self):
        req = self._page_request(self.check_point, self.check_page_no)
        self.report.request = f"{req.method} {_shown(req.url)}"
        yield req.replace(errback=self.check_failed, dont_filter=True)

    def check_failed(self, failure) -> None:
        resp = getattr(failure.value, "response", None)
        if resp is not None:
            self.report.status, self.report.url = resp.status, _shown(resp.url)
            self.report.error = f"HTTP {resp.status}"
        else:
            self.report.error = failure.type.__name__ if failure.type else "request failed"

    def parse_page(self, response: Response):
        rep = self.report
        rep.status, rep.url = response.status, _shown(response.url)
        why = self.refusal(response)
        if why:
            rep.refused = why
            return
        rows, doc = self.page_rows(response)
        rep.row_count = len(rows)
        spec = self.source.pages
        for row in rows[:MAX_ROWS]:
            out = []
            for name, fspec in spec.fields.items():
                v = extract.value(row, fspec)
                if v is None or v == "" or v == []:
                    out.append(FieldResult(name, None, _why(fspec, row)))
                else:
                    out.append(FieldResult(name, _short(v)))
            rep.rows.append(out)
            link = None
            if spec.detail:
                link = extract.value(row, spec.detail)
                link = link[0] if isinstance(link, list) and link else link
            elif self.source.detail and self.source.detail.url:
                link = self._detail_url(self.source.detail.url, row)
            if link:
                rep.detail_links.append(response.urljoin(str(link).strip()))
        for req in self._next_page(response, rows, doc):
            if isinstance(req, Request):
                rep.next_pages.append(f"{req.method} {_shown(req.url)}")
        return


def check_source(
    source: Source,
    *,
    keyword: str | None = None,
    page: int = 1,
    date: str | None = None,
    base_url: str | None = None,
    settings: dict[str, Any] | None = None,
) -> CheckReport:
    """Fetch page *page* of *source* (for *keyword*, or *date* for a feed) and report. Starts the reactor."""
    from crawler.run import SPIDERS, build_settings

    source.require_secrets()
    base = SPIDERS[source.spider]
    cls: Any = type(f"Check{base.__name__}", (CheckMixin, base), {})
    report = CheckReport(source=source.name)
    overrides = {"ITEM_PIPELINES": {}, "LOG_LEVEL": "ERROR", "DOWNLOAD_DELAY": 0, "MARKWATCH_RETRY_BACKOFF": 0.2}
    overrides.update(settings or {})
    s = build_settings(overrides=overrides)
    process = CrawlerProcess(s)
    crawler = Crawler(cls, s, init_reactor=True)
    process._initialized_reactor = True
    if source.mode == "search":
        point = {"keyword": keyword or (source.keywords[0] if source.keywords else "")}
    elif source.mode == "feed":
        import datetime as dt

        point = {"date": date or dt.date.today().isoformat()}
    else:
        point = {}
    cls.check_point = point
    cls.check_page_no = page
    cls.report = report
    process.crawl(crawler, source=source, base_url=base_url)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    report.problems = health.problems(stats)
    if stats.get("markwatch/degraded_reason") and not report.refused:
        report.refused = str(stats["markwatch/degraded_reason"])
    return report
