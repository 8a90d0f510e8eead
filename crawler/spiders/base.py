"""The one generic spider behind `registry` and `marketplace`: everything site-specific is in the source file.

Arguments (`-a name=value`):
  source     name of a source, or path to its YAML file (required)
  marks      marks file for search terms (default: setting MARKWATCH_MARKS)
  keywords   comma-separated search terms, instead of those from the marks
  date       feed day, YYYY-MM-DD (default today); days=N walks N days back from it
  base_url   replaces {base} in the source's URL templates
  sources_dirs  folders with your own source files, separated by ':' (~/.config/markwatch/sources is always read)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import scrapy
from parsel import Selector
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.http import Request, Response

from crawler import extract, health, shutdown, signers
from crawler.items import item_class, key_from_url
from crawler.middlewares import MAY_BE_UNPUBLISHED, REFUSED_STATUSES
from crawler.sources import FILE_FORMATS, Source, find_source

URL_FIELDS = {"url", "seller_url"}
ROW_REF = re.compile(r"\{row\.([^{}]+)\}")
MAX_TERMS_RECORDED = 500
_ERROR_KEYS = ("error", "errors", "error_code", "errcode", "errmsg", "error_msg", "fault", "error_response")


def _error_body(data: Any) -> bool:
    """An API's 'no' dressed as HTTP 200 when the source declares no `error:`: {"error": ...},
    {"success": false}, {"status": "error"}."""
    if not isinstance(data, dict):
        return False
    if any(data.get(k) not in (None, "", 0, "0", [], {}) for k in _ERROR_KEYS):
        return True
    return data.get("success") is False or str(data.get("status", "")).lower() in ("error", "fail", "failed")


def partial_size(response: Response) -> dict[str, Any]:
    """For a body Scrapy kept only part of (data loss allowed, a download stopped): the page's size.

    The declared Content-Length when it says more than arrived, else "more than" what arrived.
    Nothing beyond what arrived is read. {} for a whole body.
    """
    if not {"dataloss", "download_stopped"} & set(response.flags or ()):
        return {}
    got = len(response.body)
    try:
        declared = int(response.headers.get(b"Content-Length") or -1)
    except ValueError:
        declared = -1
    if declared > got:
        return {"original_size": declared, "size_exact": True}
    return {"original_size": got, "size_exact": False}  # "more than `got` bytes"


async def _wait(d, timeout: float) -> None:
    """Wait for Deferred *d*, at most *timeout* seconds (the first answer of a keyed source)."""
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet import reactor

    timer = reactor.callLater(timeout, lambda: d.called or d.callback(None))  # type: ignore[arg-type]
    await maybe_deferred_to_future(d)
    if timer.active():  # type: ignore[misc]
        timer.cancel()  # type: ignore[misc]


def search_keywords(marks_path: str | Path, limit: int | None = None, *, ranked: bool = False) -> list[str]:
    """Every mark's search terms (the matcher's variants), deduplicated, in marks-file order.

    *ranked*: the variants an imitator is likeliest to register first (financial numerals,
    homophones, look-alikes, traditional forms), *limit* per mark: for search APIs that match
    substrings and charge per call, where 壹正 and 依正 must be asked for by name.
    """
    from crawler.marks import marks_for
    from matcher import search_terms
    from matcher.variants import ranked_terms

    out: dict[str, None] = {}
    for mark in marks_for(marks_path):  # the process's one parsed copy, shared with the screen stage
        terms = ranked_terms(mark, limit or 30) if ranked else search_terms(mark)
        for t in terms[:limit] if limit else terms:
            if t and t.strip():
                out[t.strip()] = None
    return list(out)


class SourceSpider(scrapy.Spider):
    """Walks a source's result pages (search, feed or browse) and, when asked, its detail pages."""

    kind = ""  # "registry" or "marketplace", set by subclasses
    proxy: str | None  # set in from_crawler: the source's, else MARKWATCH_PROXY

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
            raise NotConfigured(f"{self.name}: pass -a source=NAME (`markwatch sources list` shows them)")
        if isinstance(sources_dirs, str):  # `scrapy crawl … -a sources_dirs=DIR1:DIR2`
            sources_dirs = [d for d in sources_dirs.split(os.pathsep) if d]
        self.source: Source = source if isinstance(source, Source) else find_source(source, sources_dirs)
        if self.source.spider != self.name:
            raise NotConfigured(
                f"source {self.source.name!r} is a {self.source.kind} source: "
                f"run it with `scrapy crawl {self.source.spider}`"
            )
        self.source.require_secrets()
        if self.source.sign is not None:
            signers.signer(self.source.sign.signer, file=self.source.path)  # a bad signer fails now, not per page
        self.secret_values = signers.secret_values({n for _, n in self.source.secret_refs()})
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
            if src.render == "browser":
                from crawler.browser import browser_settings

                for k, v in browser_settings(s).items():
                    s.set(k, v, priority="spider")
        if spider.marks_path and not s.frozen:
            s.set("MARKWATCH_MARKS", spider.marks_path, priority="cmdline")
        spider.marks_path = spider.marks_path or s.get("MARKWATCH_MARKS")
        spider.proxy = src.proxy or s.get("MARKWATCH_PROXY") or None
        if spider.secret_values:
            signers.guard_logs(spider.secret_values)
        return spider

    # ---- requests --------------------------------------------------------
    def _fill(self, template: str, point: dict, page: int, *, quoted: bool = True) -> str:
        """A URL/param/body template with this request's values; `${NAME}` stays for SecretsMiddleware."""
        size = self.source.pages.page_size
        enc = self.source.query_encoding or "utf-8"
        q = (lambda x: quote(x, safe="", encoding=enc, errors="replace")) if quoted else (lambda x: x)
        return (
            template.replace("{base}", self.base_url)
            .replace("{keyword}", q(point.get("keyword", "")))
            .replace("{date}", point.get("date", ""))
            .replace("{issue}", q(str(point.get("issue", ""))))
            .replace("{page}", str(page))
            .replace("{offset}", str((page - 1) * size))
            .replace("{size}", str(size))
            .replace("{cursor}", q(str(point.get("cursor") or "")))
        )

    def _url(self, keyword: str = "", date: str = "", page: int = 1) -> str:
        return self._page_request_parts({"keyword": keyword, "date": date}, page)[0]

    def _page_request_parts(self, point: dict, page: int) -> tuple[str, bytes | None, dict[str, str]]:
        """(url, body, extra headers) of a results page."""
        spec = self.source.pages
        enc = self.source.query_encoding or "utf-8"

        def fill(v: Any) -> Any:
            if isinstance(v, str):
                out = self._fill(v, point, page, quoted=False)
                return int(out) if v in ("{page}", "{offset}", "{size}") else out
            if isinstance(v, dict):
                return {k: fill(x) for k, x in v.items()}
            if isinstance(v, list):
                return [fill(x) for x in v]
            return v

        def flat(v: Any) -> str:
            """A parameter's value: text as is, a mapping or list as compact JSON (JD's 360buy_param_json)."""
            return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, separators=(",", ":"))

        url = self._fill(spec.url, point, page)
        if spec.params:
            filled = [(k, flat(fill(v)) if not isinstance(v, str) else fill(v)) for k, v in spec.params.items()]
            url += ("&" if "?" in url else "?") + urlencode(
                [(k, str(v)) for k, v in filled], safe="${}", encoding=enc, errors="replace"
            )
        if spec.method != "POST" or spec.body is None:
            return url, None, {}
        if isinstance(spec.body, str):
            return url, self._fill(spec.body, point, page, quoted=False).encode(enc, errors="replace"), {}
        body = fill(spec.body)
        if spec.body_format == "form":
            form = urlencode(
                [(k, flat(v) if not isinstance(v, int) else str(v)) for k, v in body.items()],
                safe="${}",
                encoding=enc,
                errors="replace",
            )
            ctype = "application/x-www-form-urlencoded" + (f"; charset={enc}" if enc != "utf-8" else "")
            return url, form.encode("ascii"), {"Content-Type": ctype}
        return url, json.dumps(body, ensure_ascii=False).encode("utf-8"), {"Content-Type": "application/json"}

    def _request(self, url: str, callback, meta: dict, *, body: bytes | None = None, **kw) -> Request:
        meta = {**meta, "source": self.source.name, "handle_httpstatus_list": list(REFUSED_STATUSES)}
        if self.source.pages.published_by and callback in (self.parse_page, self.parse_file):
            meta["handle_httpstatus_list"].append(404)  # the day's file not out yet: see _unpublished
            meta[MAY_BE_UNPUBLISHED] = True
        if self.proxy:
            meta["proxy"] = self.proxy
        if self.source.render == "browser":
            from crawler.browser import browser_meta

            meta.update(browser_meta(self.source))
        headers = dict(self.source.headers)
        headers.update(kw.pop("headers", None) or {})
        if body is not None:
            kw.setdefault("method", "POST")
        elif self.source.pages.method == "POST" and callback == self.parse_page:
            kw.setdefault("method", "POST")
        return Request(url, callback=callback, meta=meta, headers=headers or None, body=body, **kw)

    def _page_request(self, point: dict, page: int) -> Request:
        url, body, headers = self._page_request_parts(point, page)
        if url.startswith("/"):  # a local data file
            url = Path(url).resolve().as_uri()
        return self._request(url, self.parse_page, {**point, "page": page}, body=body, headers=headers)

    def keywords(self) -> list[str]:
        if self.keywords_arg:
            return [k.strip() for k in self.keywords_arg if k.strip()]
        if not self.marks_path:
            return list(dict.fromkeys(self.source.keywords))
        from crawler import terms

        return terms.plan(self.source, self.marks_path, self._terms_cap())[0]  # what `sources check --terms` shows

    def _terms_cap(self) -> int:
        return self.settings.getint("MARKWATCH_TERMS_PER_MARK") if self.settings else 0

    def term_budget(self) -> int:
        """Terms per mark: the source's `max_terms` (or its default), capped by `[scan] terms_per_mark`.

        Keyed or keyless, the terms are the ranked ones (docs/sources.md "Search terms")."""
        from crawler import terms

        return terms.budget(self.source, self._terms_cap())

    def start_points(self) -> Iterable[dict]:
        mode = self.source.mode
        if mode == "search":
            terms = self.keywords()
            self.crawler.stats.set_value("markwatch/search_terms", len(terms))
            self.crawler.stats.set_value("markwatch/search_terms_used", terms[:MAX_TERMS_RECORDED])
            for kw in terms:
                yield {"keyword": kw}
        elif mode == "feed":
            for i in range(self.days):
                yield {"date": (self.date - dt.timedelta(days=i)).isoformat()}
        else:
            yield {}

    async def start(self) -> AsyncIterator[Any]:
        """Every start point's first page. A keyed source (secrets, signer, token) sends its first request
        alone and the others only once it was answered and not refused, so a wrong key costs one call."""
        if self.source.issues is not None:  # a gazette: its issue list first (parse_issues)
            url = self.source.issues.url.replace("{base}", self.base_url)
            yield self._request(url, self.parse_issues, {"issues": True})
            return
        points = iter(self.start_points())
        first = next(points, None)
        if first is None:
            return
        if not self._probe_first():
            yield self._page_request(first, 1)
            for point in points:
                yield self._page_request(point, 1)
            return
        from twisted.internet import defer

        self._first_answer: Any = defer.Deferred()
        yield self._page_request(first, 1).replace(errback=self._first_failed)
        await _wait(self._first_answer, timeout=float(self.settings.getfloat("DOWNLOAD_TIMEOUT", 30)) * 6)
        if self.crawler.stats.get_value("markwatch/degraded"):
            return
        for point in points:
            yield self._page_request(point, 1)

    def _probe_first(self) -> bool:
        src = self.source
        return bool(src.sign or src.token or src.secret_refs())

    def _answered(self) -> None:
        d = getattr(self, "_first_answer", None)
        if d is not None and not d.called:
            d.callback(None)

    def _first_failed(self, failure) -> None:
        self._answered()

    def issue_window(self) -> tuple[dt.date, dt.date]:
        """The announcement dates a gazette scan covers: the scan's date and the `days - 1` before it."""
        return self.date - dt.timedelta(days=self.days - 1), self.date

    def parse_issues(self, response: Response):
        """The gazette's issue list: one feed of pages per issue announced in the scan's window."""
        from alerts.deadlines import parse_announced

        why = self.refusal(response)
        if why:
            self._refused(response, why)
        spec = self.source.issues
        assert spec is not None
        stats = self.crawler.stats
        try:
            doc = extract.data(response, "json", None, self.source.encoding)
        except extract.Malformed as exc:
            health.note(stats, "malformed", f"{exc} on the issue list")
            return
        issues = extract.jmes(spec.rows, doc)
        if not isinstance(issues, list) or not issues:
            health.note(stats, "empty", f"issue list: `{spec.rows}` matched nothing")
            return
        first, last = self.issue_window()
        chosen = []
        for entry in issues:
            number, day = extract.jmes(spec.number, entry), parse_announced(extract.jmes(spec.date, entry))
            if number in (None, "") or day is None:
                stats.inc_value("markwatch/issues_unreadable")
                continue
            if first <= day <= last:
                chosen.append({"issue": str(number), "date": day.isoformat()})
        stats.set_value("markwatch/issues", [p["issue"] for p in chosen])
        if not chosen:
            stats.set_value("markwatch/no_issue", f"no issue announced {first.isoformat()} … {last.isoformat()}")
        for point in chosen:
            yield self._page_request(point, 1)

    # ---- refusals --------------------------------------------------------
    def _where(self, response: Response) -> str:
        kind = "detail page" if response.meta.get("leaf") else f"page {response.meta.get('page', 1)}"
        kw = response.meta.get("keyword")
        return f"{kind}, term {kw!r}" if kw else kind

    def refusal(self, response: Response) -> str | None:
        """Why this response is a refusal (not a page of results), or None. Never quotes the body."""
        if response.status in REFUSED_STATUSES:
            why = f"HTTP {response.status}"
            challenge = response.headers.get(b"WWW-Authenticate")
            if response.status == 401 and challenge:
                text = signers.redact(" ".join(challenge.decode("latin-1").split())[:120], self.secret_values)
                why += f" (WWW-Authenticate: {text})"
            return why
        err = self.source.error
        if err is None:
            return None
        if err.markers:
            head = extract.text_of(response, self.source.encoding)[:65536]
            hit = next((m for m in err.markers if m in head), None)
            if hit:
                return f"error marker {hit!r}"
        if err.json_ is None and err.exists is None:
            return None
        try:
            doc = self._error_doc(response)
        except extract.Malformed:
            return None  # counted as malformed by the page parser
        if err.exists is not None:
            found = extract.jmes(err.exists, doc)
            if found not in (None, "", [], {}, False):
                return self._provider_says(f"{err.exists}", doc, found if isinstance(found, dict) else None)
        if err.json_ is not None:
            status = extract.jmes(err.json_, doc)
            status = "" if status is None else str(status)
            if err.ok and status not in err.ok and status not in err.empty:
                text = f"status {status[:40]!r}" if status else f"no {err.json_}"
                return self._provider_says(text, doc, None)
        return None

    def _error_doc(self, response: Response) -> Any:
        fmt = "jsonp" if self.source.pages.format == "jsonp" else "json"
        return extract.data(response, fmt, None, self.source.encoding)

    def _provider_says(self, what: str, doc: Any, obj: dict | None) -> str:
        """'error_response: code 25: Invalid signature (isv.invalid-signature)': the provider's own code and message."""
        err = self.source.error
        assert err is not None
        code = extract.jmes(err.code, doc) if err.code else None
        msg = extract.jmes(err.message, doc) if err.message else None
        if obj is not None:  # an error object: its usual keys when the file names none
            if code is None:
                code = next(
                    (obj[k] for k in ("code", "error_code", "errcode", "err_code") if obj.get(k) not in (None, "")),
                    None,
                )
            if msg is None:
                msg = next(
                    (obj[k] for k in ("msg", "error_msg", "message", "zh_desc", "errmsg", "en_desc") if obj.get(k)),
                    None,
                )
            sub = next((obj[k] for k in ("sub_msg", "sub_code") if obj.get(k)), None)
            if sub and isinstance(msg, str) and str(sub) not in msg:
                msg = f"{msg} ({sub})"
        text = what
        if code not in (None, ""):
            text += f": code {str(code)[:40]!r}"
        if isinstance(msg, (str, int)) and str(msg).strip():
            text += f": {signers.redact(' '.join(str(msg).split())[:120], self.secret_values)}"
        return text

    def _declared_empty(self, response: Response) -> bool:
        err = self.source.error
        if err is None or err.json_ is None or not err.empty:
            return False
        try:
            doc = self._error_doc(response)
        except extract.Malformed:
            return False
        return str(extract.jmes(err.json_, doc)) in err.empty

    def _refused(self, response: Response, why: str, *, where: bool = True) -> None:
        """Count a refusal and stop the source: the next request would be refused the same way.

        A refusing HTTP status was already noted by SourceHealthMiddleware, so it is not noted twice."""
        stats = self.crawler.stats
        detail = f"{why} ({self._where(response)})" if where else why
        if response.status not in REFUSED_STATUSES:
            health.note(stats, "refused", detail)
        stats.inc_value("markwatch/pages/refused")
        if not stats.get_value("markwatch/degraded"):
            stats.set_value("markwatch/degraded", True)
            stats.set_value("markwatch/degraded_reason", f"refused: {detail}")
        self.logger.error("source %s refused: %s; stopping it", self.source.name, detail)
        stats.set_value("markwatch/stopped", f"refused: {detail}")
        self._answered()
        raise CloseSpider("degraded")

    # ---- parsing ---------------------------------------------------------
    def _evidence(self, response: Response, body: bytes | None = None) -> dict:
        whole = body is None
        body = response.body if body is None else body
        for v in self.secret_values:  # a site that echoes a key (after decompression, which came later)
            body = body.replace(v.encode("utf-8"), signers.REDACTED.encode())
        out = {
            "url": response.url,
            "status": response.status,
            "headers": {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()},
            "body": body,
            "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        if whole:
            out.update(partial_size(response))
        return out

    def _item(self, values: dict, response: Response, *, row: dict | None = None):
        item = self.item_cls()
        for k, v in values.items():
            if k in URL_FIELDS and isinstance(v, str):
                v = response.urljoin(v.strip())
            elif k == "images" and isinstance(v, list):
                v = [response.urljoin(x) for x in v]
            item[k] = v
        item["source"] = self.source.name
        item.setdefault("url", response.url)
        if self.source.kind == "trademark" and response.meta.get("issue"):
            item.setdefault("announcement", response.meta["issue"])
            item.setdefault("announced", response.meta.get("date"))
        ident = self.source.identity
        if ident is not None and ident.url is not None and not item.get("key"):
            key = key_from_url(ident.url, item["url"])
            if key:
                item["key"] = key
        # A data file's row: its own cells are the evidence, not the whole file again for every row.
        ev = self._evidence(response, None if row is None else json.dumps(row, ensure_ascii=False).encode("utf-8"))
        item["fetched_at"] = ev["fetched_at"]
        item["response"] = ev
        if response.meta.get("leaf") and response.request is not None:
            item["request_fp"] = self.crawler.request_fingerprinter.fingerprint(response.request).hex()
        return item

    def _max_rows(self) -> int:
        return self.settings.getint("MARKWATCH_MAX_ROWS_PER_PAGE", extract.MAX_ROWS) or extract.MAX_ROWS

    def _cut(self, response: Response, total: int, kept: int, exact: bool = True) -> None:
        """Say that a page was read only up to the row limit: "page 1: 10,000,000 rows, read 50,000 (limit)"."""
        more = "" if exact else "more than "
        health.note(self.crawler.stats, "cut", f"{self._where(response)}: {more}{total:,} rows, read {kept:,} (limit)")

    def page_rows(self, response: Response) -> tuple[list, Any]:
        """(rows, the page's JSON document or None); notes a malformed, rowless or cut page."""
        spec = self.source.pages
        stats = self.crawler.stats
        cap = self._max_rows()
        if spec.data_format != "json":
            if spec.data_format == "xml":
                try:
                    extract.xml_root(response, spec, self.source.encoding) if spec.inner is None else None
                    if spec.inner is not None:
                        extract.inner_document(response, spec, self.source.encoding)
                except extract.Malformed as exc:
                    health.note(stats, "malformed", f"{exc} on {self._where(response)}")
                    return [], None
            rows = extract.rows(response, spec, self.source.encoding)
            if not rows and self.source.mode != "search" and response.meta.get("page", 1) == 1:
                health.note(stats, "empty", f"selector `{spec.rows}` matched nothing")
            if len(rows) > cap:
                self._cut(response, len(rows), cap)
                rows = rows[:cap]
            return rows, None
        try:
            doc = extract.data(
                response,
                spec.format,
                spec.script,
                self.source.encoding,
                page=spec,
                max_items=cap,
                should_stop=lambda: bool(shutdown.stopping(self.crawler)),
            )
            for cut in extract.cuts(response)[:1]:
                self._cut(response, cut.total, cut.kept, cut.exact)
        except extract.Malformed as exc:
            if not self._refused_outer(response):
                health.note(stats, "malformed", f"{exc} on {self._where(response)}")
            return [], None
        found = extract.jmes(spec.rows, doc) if spec.rows else doc
        if not found and self.source.error is None and _error_body(doc):
            self._refused(response, f"error body (HTTP {response.status})", where=False)
        if not isinstance(found, list):
            if not self._declared_empty(response) and response.meta.get("page", 1) == 1:
                health.note(stats, "empty", f"selector `{spec.rows}` matched nothing")
            return [], doc
        return found, doc

    def _refused_outer(self, response: Response) -> bool:
        """An inner document missing because the outer one is an error body (when no `error:` says so)."""
        if self.source.error is not None or self.source.pages.inner is None:
            return False
        try:
            outer = self._error_doc(response)
        except extract.Malformed:
            return False
        if _error_body(outer):
            self._refused(response, f"error body (HTTP {response.status})", where=False)
        return False

    def parse_page(self, response: Response):
        self._answered()
        if self._unpublished(response):
            return
        why = self.refusal(response)
        if why:
            self._refused(response, why)
        page_spec = self.source.pages
        if page_spec.files is not None:
            yield from self._index_page(response)
            return
        if page_spec.format in FILE_FORMATS:
            yield from self.parse_file(response)
            return
        rows, doc = self.page_rows(response)
        self.crawler.stats.inc_value("markwatch/pages/list")
        detail = self.source.detail
        id_spec = self.source.identity.field() if self.source.identity else None
        empty = 0
        for i, row in enumerate(rows):
            if not i % 100 and shutdown.stopping(self.crawler):  # a signal or the time budget: stop inside the page
                health.note(
                    self.crawler.stats, "cut", f"{self._where(response)}: {len(rows):,} rows, read {i:,} (stopped)"
                )
                return
            values = extract.fields(row, page_spec.fields)
            if id_spec is not None and (key := extract.value(row, id_spec)) not in (None, "", []):
                values["key"] = str(key)
            link = None
            if page_spec.detail:
                link = extract.value(row, page_spec.detail)
                if isinstance(link, list):
                    link = link[0] if link else None
            elif detail is not None and detail.url:
                link = self._detail_url(detail.url, row)
            if not values and not link:  # no field and no link (a header row, filler): not an item; counted
                empty += 1
                continue
            if link:
                yield self._request(
                    response.urljoin(str(link).strip()),
                    self.parse_detail,
                    {
                        "partial": values,
                        "leaf": True,
                        **{k: response.meta[k] for k in ("issue", "date") if k in response.meta},
                    },
                )
            elif page_spec.detail or (detail is not None and detail.url):
                self.crawler.stats.inc_value("markwatch/rows_without_link")
            else:
                yield self._item(values, response)
        if empty:  # a table's header row, or filler: not a failure (a page cut at the row limit says so itself)
            self.crawler.stats.inc_value("markwatch/rows_without_fields", empty)
        yield from self._next_page(response, rows, doc)

    # ---- data files (docs/sources.md "Data files") -------------------------
    def _index_page(self, response: Response):
        """An index page: request the day's data files it links to; none yet may be expected (published_by)."""
        from crawler import datafiles_index

        self.crawler.stats.inc_value("markwatch/pages/list")
        links = datafiles_index.links_for_day(response, self.source, response.meta.get("date", ""))
        if not links:
            older = datafiles_index.next_index_page(response, self.source)  # the day may be on page 2
            if older is not None:
                yield self._request(older[0], self.parse_page, {**self._point(response), "page": older[1]})
                return
            self._no_file(response, "no link to the day's file on the index page")
            return
        for url in links:
            yield self._request(url, self.parse_file, {**self._point(response), "page": 1, "file": True})

    def _point(self, response: Response) -> dict:
        return {k: response.meta[k] for k in ("keyword", "date") if k in response.meta}

    def _unpublished(self, response: Response) -> bool:
        """A day's file answered 404 where `published_by` says it may not be out yet."""
        if response.status != 404:
            return False
        self._no_file(response, f"HTTP 404 at {response.url}")
        return True

    def _no_file(self, response: Response, what: str) -> None:
        from crawler import datafiles_index

        day = response.meta.get("date", "")
        note = datafiles_index.not_yet(self.source.pages.published_by, self.source.pages.timezone, day)
        stats = self.crawler.stats
        if note:
            stats.set_value("markwatch/not_published", f"{day}: {note}")
            self.logger.info("source %s: the file for %s is not published yet (%s)", self.source.name, day, note)
        else:
            due = self.source.pages.published_by
            health.note(stats, "empty", f"{what} for {day}" + (f" (due by {due})" if due else ""))

    def parse_file(self, response: Response):
        """One data file (CSV, XLSX, XLS), streamed: one item per row, bounded by pages.max_rows."""
        from crawler import datafiles

        if self._unpublished(response):
            return
        why = self.refusal(response)
        if why:
            self._refused(response, why)
        spec = self.source.pages
        stats = self.crawler.stats
        stats.inc_value("markwatch/pages/list")
        try:
            reader = datafiles.read_rows(response.body, spec, self.source.encoding)
            n = 0
            for row in reader:
                n += 1
                values = extract.fields(row, spec.fields)
                yield self._item(values, response, row=row)
        except datafiles.FileProblem as exc:
            health.note(stats, exc.kind, f"{exc} ({response.url})")
            return
        if reader.truncated:
            health.note(stats, "too_large", f"more than {spec.max_rows} rows in {response.url}; the rest not read")
        if reader.replaced:
            health.note(stats, "malformed", f"{reader.replaced} undecodable characters in {response.url}")
        if n == 0:
            health.note(stats, "empty", f"no data rows in {response.url}")

    def _detail_url(self, template: str, row: Any) -> str | None:
        """detail.url with {base} and each {row.X} (JMESPath on the row); None when a value is missing."""
        missing = False

        def sub(m: re.Match) -> str:
            nonlocal missing
            v = extract.jmes(m.group(1), row) if not isinstance(row, Selector) else None
            if v is None or v == "":
                missing = True
                return ""
            return quote(str(v), safe="")

        url = ROW_REF.sub(sub, template.replace("{base}", self.base_url))
        return None if missing else url

    def _next_page(self, response: Response, rows: list, doc: Any = None):
        spec = self.source.pages
        page = response.meta.get("page", 1)
        if not rows:
            self._short_of_total(response, doc, page)
            return
        if page >= spec.max_pages:
            return
        point = {k: response.meta[k] for k in ("keyword", "date", "issue") if k in response.meta}
        if spec.next is not None:
            root = (
                doc
                if spec.data_format == "json"
                else extract.rows(response, spec.model_copy(update={"rows": None}), self.source.encoding)[0]
            )
            link = extract.value(root, spec.next)
            if isinstance(link, list):
                link = link[0] if link else None
            if link:
                yield self._request(response.urljoin(str(link).strip()), self.parse_page, {**point, "page": page + 1})
            return
        if spec.cursor:
            token = extract.jmes(spec.cursor, doc)
            if token in (None, "", False):
                return
            yield self._page_request({**point, "cursor": str(token)}, page + 1)
            return
        templates = spec.url + str(spec.params) + str(spec.body or "")
        if "{page}" not in templates and "{offset}" not in templates:
            return
        if spec.has_more:
            data = doc if doc is not None else extract.page_json(response, self.source.encoding)
            if not extract.jmes(spec.has_more, data):
                return
        if spec.total and spec.page_size:
            total = extract.jmes(spec.total, doc)
            try:
                if int(total) <= page * spec.page_size:
                    return
            except (TypeError, ValueError):
                pass
        yield self._page_request(point, page + 1)

    def _short_of_total(self, response: Response, doc: Any, page: int) -> None:
        """A page with no rows although the source's own total says more come (50 reported, 10 read):
        the rest were lost, and the source does not end ok."""
        spec = self.source.pages
        if not (spec.total and spec.page_size and doc is not None):
            return
        try:
            total = int(extract.jmes(spec.total, doc))
        except (TypeError, ValueError):
            return
        read = (page - 1) * spec.page_size
        if total > read:
            health.note(
                self.crawler.stats,
                "lost",
                f"{self._where(response)}: the source reports {total:,} rows, the page after {read:,} came back empty",
                why="empty page before the reported total",
            )

    def parse_detail(self, response: Response):
        why = self.refusal(response)
        if why:
            self._refused(response, why)
        self.crawler.stats.inc_value("markwatch/pages/detail")
        spec = self.source.detail
        specs = spec.fields if spec else {}
        values = dict(response.meta.get("partial") or {})
        if spec is not None and spec.data_format == "json":
            try:
                root = extract.data(response, "json", spec.script, self.source.encoding)
            except extract.Malformed as exc:
                health.note(self.crawler.stats, "malformed", f"{exc} ({self._where(response)})")
                root = None
        else:
            root = extract.rows(
                response,
                self.source.pages.model_copy(update={"rows": None, "format": "html", "script": None}),
                self.source.encoding,
            )[0]
        found = extract.fields(root, specs) if root is not None else {}
        if specs and not found and root is not None:
            health.note(self.crawler.stats, "empty", f"no detail field matched ({self._where(response)})")
        values.update(found)
        values.pop("url", None)
        yield self._item(values, response)
