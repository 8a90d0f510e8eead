"""`markwatch sources check`: fetch one page of a source exactly as a scan would, and say what it extracts.

Like `scrapy parse`: the same spider, request building, secrets, signing, token step, browser
rendering and refusal rules as a scan, but one page, no pipelines (nothing stored, nothing screened),
and a report of the request exactly as it went out (method, URL, body and headers, each secret value
masked), each row's fields — the value, or why it is empty —, one detail page followed (or, for an
index page of data files, the first file read), the next page it would follow, and the refusal or
problem if any. Values are the site's raw text: whoever prints them escapes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from parsel import Selector
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.http import Request, Response

from crawler import extract, health
from crawler.signers import PLACEHOLDER, SENT_META
from crawler.sources import FILE_FORMATS, FieldSpec, Source

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
    sent: dict[str, Any] = field(default_factory=dict)  # method, url, body, headers as sent, secrets as ***
    status: int | None = None
    url: str = ""
    rows: list[list[FieldResult]] = field(default_factory=list)
    row_count: int = 0
    detail_links: list[str] = field(default_factory=list)
    next_pages: list[str] = field(default_factory=list)
    refused: str = ""
    problems: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str = ""
    file_links: list[str] = field(default_factory=list)  # an index page's links to the day's data files
    not_published: str = ""  # the day's file is not out yet, and not due yet (published_by)
    detail: DetailReport | None = None  # the first row's detail page (or the first data file), followed


@dataclass
class DetailReport:
    """The one detail page (or data file) `sources check` follows: as sent, what it answered, its fields."""

    url: str
    sent: dict[str, Any] = field(default_factory=dict)
    status: int | None = None
    fields: list[FieldResult] = field(default_factory=list)
    rows: list[list[FieldResult]] = field(default_factory=list)  # a data file's first rows
    row_count: int = 0
    refused: str = ""
    error: str = ""


def _shown(url: str) -> str:
    """A queued URL with its `${NAME}` placeholders written back as in the source file."""
    return PLACEHOLDER.sub(lambda m: "${" + m.group(1) + "}", url)


def _why(spec: FieldSpec, row: Any) -> str:
    if spec.column is not None:
        if isinstance(row, dict):
            cols = ", ".join(list(row)[:12])
            return f"column {spec.column!r} is empty in this row or not in the header (columns: {cols})"
        return f"column {spec.column!r} on a page that is not a data file"
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
    _request: Callable[..., Request]

    async def start(self):
        req = self._page_request(self.check_point, self.check_page_no)
        self.report.request = f"{req.method} {_shown(req.url)}"
        yield req.replace(errback=self.check_failed, dont_filter=True)

    def check_failed(self, failure) -> None:
        req = getattr(failure, "request", None)
        if req is not None and SENT_META in req.meta:
            self.report.sent = req.meta[SENT_META]
        resp = getattr(failure.value, "response", None)
        if resp is not None:
            self.report.status, self.report.url = resp.status, _shown(resp.url)
            self.report.error = f"HTTP {resp.status}"
        else:
            self.report.error = _failure_text(failure)

    def parse_page(self, response: Response):
        rep = self.report
        rep.status, rep.url = response.status, _shown(response.url)
        rep.sent = response.request.meta.get(SENT_META, {}) if response.request is not None else {}
        if self._not_out_yet(response):
            return
        why = self.refusal(response)
        if why:
            rep.refused = why
            return
        spec = self.source.pages
        if spec.files is not None:
            yield from self._check_index(response)
            return
        if spec.format in FILE_FORMATS:
            rep.rows, rep.row_count, err = _file_rows(response, self.source)
            rep.error = rep.error or err
            return
        rows, doc = self.page_rows(response)
        rep.row_count = len(rows)
        for row in rows[:MAX_ROWS]:
            rep.rows.append(_field_results(row, spec.fields))
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
        if rep.detail_links:  # follow one, as the scan would, and show what its fields read there
            url = rep.detail_links[0]
            rep.detail = DetailReport(url=_shown(url))
            yield self._request(url, self.check_detail, {"leaf": True}).replace(
                errback=self.check_detail_failed, dont_filter=True
            )

    def _not_out_yet(self, response: Response) -> bool:
        from crawler import datafiles_index

        if response.status != 404 or not self.source.pages.published_by:
            return False
        day = self.check_point.get("date", "")
        note = datafiles_index.not_yet(self.source.pages.published_by, self.source.pages.timezone, day)
        if note:
            self.report.not_published = f"{day}: not published yet ({note})"
        else:
            self.report.error = f"HTTP 404 for {day} (due by {self.source.pages.published_by})"
        return True

    def _check_index(self, response: Response):
        from crawler import datafiles_index

        rep = self.report
        day = self.check_point.get("date", "")
        rep.file_links = [_shown(u) for u in datafiles_index.links_for_day(response, self.source, day)]
        if not rep.file_links:
            pub = self.source.pages.published_by
            note = datafiles_index.not_yet(pub, self.source.pages.timezone, day) if pub else ""
            if note:
                rep.not_published = f"{day}: not published yet ({note})"
            else:
                rep.error = f"no link to the file of {day} on the index page"
            return
        url = datafiles_index.links_for_day(response, self.source, day)[0]
        rep.detail = DetailReport(url=_shown(url))
        yield self._request(url, self.check_file, {"page": 1, "file": True, **self.check_point}).replace(
            errback=self.check_detail_failed, dont_filter=True
        )

    def _detail_answer(self, response: Response) -> DetailReport | None:
        det = self.report.detail
        if det is None:
            return None
        det.status = response.status
        det.sent = response.request.meta.get(SENT_META, {}) if response.request is not None else {}
        det.refused = self.refusal(response) or ""
        return det

    def check_file(self, response: Response) -> None:
        det = self._detail_answer(response)
        if det is None or det.refused:
            return
        det.rows, det.row_count, det.error = _file_rows(response, self.source)

    def check_detail(self, response: Response) -> None:
        det = self._detail_answer(response)
        if det is None or det.refused:
            return
        spec = self.source.detail
        specs = spec.fields if spec else {}
        if spec is not None and spec.data_format == "json":
            try:
                root: Any = extract.data(response, "json", spec.script, self.source.encoding)
            except extract.Malformed as exc:
                det.error = str(exc)
                return
        else:
            page = self.source.pages.model_copy(update={"rows": None, "format": "html", "script": None})
            root = extract.rows(response, page, self.source.encoding)[0]
        det.fields = _field_results(root, specs)

    def check_detail_failed(self, failure) -> None:
        det = self.report.detail
        if det is None:
            return
        req = getattr(failure, "request", None)
        if req is not None and SENT_META in req.meta:
            det.sent = req.meta[SENT_META]
        resp = getattr(failure.value, "response", None)
        if resp is not None:
            det.status, det.error = resp.status, f"HTTP {resp.status}"
        else:
            det.error = _failure_text(failure)


def _failure_text(failure) -> str:
    from crawler.failfast import connection_failure

    kind = connection_failure(failure.value) if failure.value is not None else ""
    if kind:
        return kind
    msg = " ".join(str(failure.value).split())[:200] if failure.value is not None else ""
    name = failure.type.__name__ if failure.type else "request failed"
    return f"{name}: {msg}" if msg else name


def _field_results(row: Any, specs: dict[str, FieldSpec]) -> list[FieldResult]:
    out = []
    for name, fspec in specs.items():
        v = extract.value(row, fspec)
        if v is None or v == "" or v == []:
            out.append(FieldResult(name, None, _why(fspec, row)))
        else:
            out.append(FieldResult(name, _short(v)))
    return out


def _file_rows(response: Response, source: Source) -> tuple[list[list[FieldResult]], int, str]:
    """A data file's first rows as the scan reads them (the count stops at MAX_ROWS + 1)."""
    from crawler import datafiles

    out: list[list[FieldResult]] = []
    n = 0
    try:
        reader = datafiles.read_rows(response.body, source.pages, source.encoding)
        for row in reader:
            n += 1
            if n <= MAX_ROWS:
                out.append(_field_results(row, source.pages.fields))
            else:
                break
    except datafiles.FileProblem as exc:
        return out, n, str(exc)
    note = f"{reader.replaced} undecodable characters" if reader.replaced else ""
    return out, n, note


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
    reason = str(stats.get("markwatch/degraded_reason") or "")
    if reason and not report.refused:
        if reason.startswith("refused: "):
            report.refused = reason.removeprefix("refused: ")
        elif not report.error:
            report.error = reason
    if stats.get("markwatch/not_published") and not report.not_published:
        report.not_published = str(stats["markwatch/not_published"])
    return report
