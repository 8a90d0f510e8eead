"""The follow-up's one way to the network: look entities up again through the crawler, like a scan.

A source file's ``lookup:`` section (crawler/sources.py, "lookup mode") says how to look one
entity up: by credit code (a registry or data API: 企查查 ``ECIV4/GetBasicDetailsByName``, 天眼查
``ic/baseinfo/normal``) or by the item itself (a marketplace's item page), and what "gone" looks
like there (statuses, a page marker such as 宝贝不存在, a redirect to a search page, an API error
code). ``LookupSpider`` runs those requests through the same Scrapy downloader and middlewares as
scans: ``${NAME}`` secrets and signers (SecretsMiddleware), the host guard (also for every redirect,
which the spider follows itself so a Location elsewhere is refused before connecting), size
limits, retries with back-off, robots.txt, politeness and the source-health watch.

``TimestampSpider`` sends RFC 3161 time-stamp queries the same way (a TSA is not a crawled site,
but it is a request leaving the machine: host guard, size limit, timeouts).

The reactor runs once per process, and the follow-up runs inside processes whose reactor already
ran (the scan) or must not run (the review site). ``run_jobs`` therefore runs the crawl in a child
process (``python -m crawler.spiders.lookup``, JSON on stdin and stdout) and returns plain dicts:
one result per target, ``state`` one of ``found``, ``gone``, ``not_found``, ``refused``,
``failed``, with a reason in plain words and the answer as evidence (secrets redacted).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from crawler import extract
from crawler.middlewares import _plain, _too_large
from crawler.sources import LookupSpec, Source, find_source
from crawler.spiders.base import SourceSpider

MAX_HOPS = 5
MARKER_WINDOW = 256 * 1024  # characters of a page searched for a "gone" marker
REDIRECTS = (301, 302, 303, 307, 308)
RESULT_STATES = ("found", "gone", "not_found", "refused", "failed")


def _result(state: str, reason: str = "", **kw: Any) -> dict[str, Any]:
    return {"state": state, "reason": reason, **kw}


class LookupSpider(SourceSpider):
    """One request (plus redirects) per target, read with the source's ``lookup`` section.

    ``targets``: dicts with ``id`` and ``uscc`` (by credit code) or ``url`` / ``key`` (by item).
    Results land in ``self.results`` (id → dict), never in item pipelines.
    """

    name = "lookup"

    def __init__(
        self,
        source: str | Source | None = None,
        targets: list[dict[str, Any]] | None = None,
        date: str | None = None,
        base_url: str | None = None,
        sources_dirs: list[str] | None = None,
        **kw: Any,
    ) -> None:
        dirs: list[str | Path] | None = list(sources_dirs) if sources_dirs else None
        src = source if isinstance(source, Source) else find_source(str(source), dirs)
        if src.lookup is None:
            raise ValueError(f"source {src.name!r} has no lookup section")
        lk = src.lookup
        # The lookup endpoint's own refusal rule, when it has one, replaces the pages' rule.
        update: dict[str, Any] = {"error": lk.error} if lk.error is not None else {}
        base = (base_url or src.base_url).rstrip("/")
        host = urlsplit(lk.url.replace("{base}", base)).netloc
        if host and "{" not in host:
            update["allowed_hosts"] = [*src.allowed_hosts, host]
        if update:
            src = src.model_copy(update=update)
        super().__init__(source=src, date=date, base_url=base_url, name=src.spider, **kw)
        self.lookup: LookupSpec = lk
        self.targets = list(targets or [])
        self.results: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    def _closed(self, spider, reason: str) -> None:
        why = str(self.crawler.stats.get_value("markwatch/degraded_reason") or "") or f"crawl ended ({reason})"
        for t in self.targets:
            self.results.setdefault(str(t["id"]), _result("failed", f"not looked up: {why}"))

    # ---- requests --------------------------------------------------------
    def _fill(self, template: str, target: dict[str, Any], *, quoted: bool = True) -> str:  # type: ignore[override]
        q = (lambda x: quote(x, safe="")) if quoted else (lambda x: x)
        out = (
            template.replace("{base}", self.base_url)
            .replace("{uscc}", q(str(target.get("uscc") or "")))
            .replace("{key}", q(str(target.get("key") or "")))
            .replace("{number}", q(str(target.get("number") or "")))
            .replace("{date}", self.date.isoformat())
        )
        return out.replace("{url}", str(target.get("url") or ""))

    def lookup_url(self, target: dict[str, Any]) -> str:
        url = self._fill(self.lookup.url, target)
        if self.lookup.params:
            filled = [(k, self._fill(v, target, quoted=False)) for k, v in self.lookup.params.items()]
            url += ("&" if "?" in url else "?") + urlencode(filled, safe="${}")
        return url

    def _lookup_request(self, url: str, target: dict[str, Any], hops: list[str]) -> Request:
        meta = {"target": target, "lookup_hops": hops, "dont_redirect": True, "handle_httpstatus_all": True}
        if hops:
            meta["redirect_urls"] = list(hops)  # the host guard words its refusal as a redirect
        req = self._request(url, self.parse_lookup, meta, errback=self.lookup_failed, dont_filter=True)
        req.meta["handle_httpstatus_all"] = True
        return req

    async def start(self) -> AsyncIterator[Any]:
        for t in self.targets:
            tid = str(t["id"])
            if self.lookup.by == "uscc" and not t.get("uscc"):
                self.results[tid] = _result("failed", "no credit code to look up")
                continue
            if self.lookup.by == "number" and not t.get("number"):
                self.results[tid] = _result("failed", "no application number to look up")
                continue
            if self.lookup.by == "item" and not (t.get("url") or t.get("key")):
                self.results[tid] = _result("failed", "no item URL or identity to look up")
                continue
            url = self.lookup_url(t)
            if urlsplit(url).scheme not in ("http", "https"):
                self.results[tid] = _result("failed", f"not an http(s) URL: {url[:200]!r}")
                continue
            yield self._lookup_request(url, t, [])

    # ---- answers ---------------------------------------------------------
    def _done(self, response: Response | None, target: dict[str, Any], state: str, reason: str, **kw: Any) -> None:
        out = _result(state, reason, **kw)
        if response is not None:
            ev = self._evidence(response)
            out["evidence"] = {**ev, "body": base64.b64encode(ev["body"]).decode("ascii")}
            out["final_url"] = response.url
        self.results[str(target["id"])] = out

    def lookup_failed(self, failure) -> None:
        req = failure.request
        target = req.meta["target"]
        exc = failure.value
        limit = int(req.meta.get("download_maxsize") or self.crawler.settings.getint("DOWNLOAD_MAXSIZE") or 0)
        if isinstance(exc, IgnoreRequest):
            why = str(exc) or "request refused by the crawler"
            state = "refused"
        else:
            why = _too_large(exc, limit) or _plain(exc)
            state = "failed"
        where = urlsplit(req.url).netloc
        self.results[str(target["id"])] = _result(state, f"{why} ({where})")

    def _gone_redirect(self, location: str) -> str | None:
        return next((r for r in self.lookup.gone.redirect_to if re.search(r, location)), None)

    def parse_lookup(self, response: Response):
        target = response.meta["target"]
        gone = self.lookup.gone
        status = response.status
        if status in REDIRECTS:
            loc = (response.headers.get(b"Location") or b"").decode("latin-1").strip()
            if not loc:
                return self._done(response, target, "failed", f"HTTP {status} without a Location")
            absolute = response.urljoin(loc)
            if self._gone_redirect(absolute):
                return self._done(response, target, "gone", f"redirected to {absolute[:200]}", gone_by="redirect")
            hops = [*response.meta.get("lookup_hops", []), response.url]
            if len(hops) > MAX_HOPS:
                return self._done(response, target, "failed", f"more than {MAX_HOPS} redirects")
            yield self._lookup_request(absolute, target, hops)
            return
        if status in gone.statuses:
            return self._done(response, target, "gone", f"HTTP {status}", gone_by="status")
        err = self.source.error
        if err is not None and err.json_ is not None and gone.codes:
            try:
                code = extract.jmes(err.json_, extract.data(response, "json", None, self.source.encoding))
            except extract.Malformed:
                code = None
            if code is not None and str(code) in gone.codes:
                return self._done(response, target, "gone", f"status {str(code)[:40]!r}", gone_by="code")
        why = self.refusal(response)
        if why:
            return self._done(None, target, "refused", why)
        if status >= 400:
            return self._done(None, target, "failed", f"HTTP {status}")
        if gone.markers:
            head = extract.text_of(response, self.source.encoding)[:MARKER_WINDOW]
            hit = next((m for m in gone.markers if m in head), None)
            if hit:
                return self._done(response, target, "gone", f"page says {hit!r}", gone_by="marker")
        if self._declared_empty(response):
            return self._done(response, target, "not_found", "the source has no such entity")
        lk = self.lookup
        try:
            if lk.data_format == "json":
                root: Any = extract.data(response, "json", lk.script, self.source.encoding)
            else:
                spec = self.source.pages.model_copy(update={"rows": None, "format": "html", "script": None})
                root = extract.rows(response, spec, self.source.encoding)[0]
        except (extract.Malformed, IndexError) as exc:
            return self._done(response, target, "failed", f"answer not readable: {str(exc)[:120]}")
        values = extract.fields(root, lk.fields)
        if lk.found is not None:
            present = extract.value(root, lk.found)
            if present in (None, "", [], {}):
                return self._done(response, target, "not_found", "the answer holds no such entity", fields=values)
        elif lk.by == "uscc" and not values.get("name"):
            return self._done(response, target, "not_found", "the answer holds no name for this code", fields=values)
        return self._done(response, target, "found", "", fields=_plain_values(values))


def _plain_values(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe field values (strings, lists of strings)."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, list):
            out[k] = [x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in v]
        elif v is None or isinstance(v, str | int | float | bool):
            out[k] = v
        else:
            out[k] = json.dumps(v, ensure_ascii=False)
    return out


class TimestampSpider(scrapy.Spider):
    """POST RFC 3161 time-stamp queries (DER) to a TSA through the crawler's downloader and guards."""

    name = "timestamp"

    def __init__(self, tsa_url: str = "", queries: list[dict[str, Any]] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.base_url = tsa_url
        self.queries = list(queries or [])
        self.results: dict[str, dict[str, Any]] = {}

    async def start(self) -> AsyncIterator[Any]:
        for q in self.queries:
            yield Request(
                self.base_url,
                method="POST",
                body=base64.b64decode(q["query"]),
                headers={"Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"},
                callback=self.parse_reply,
                errback=self.failed,
                dont_filter=True,
                meta={"qid": q["id"], "dont_obey_robotstxt": True, "handle_httpstatus_all": True},
            )

    def parse_reply(self, response: Response):
        qid = response.meta["qid"]
        if response.status != 200:
            self.results[qid] = _result("failed", f"TSA answered HTTP {response.status}")
            return
        self.results[qid] = _result("found", reply=base64.b64encode(response.body).decode("ascii"))

    def failed(self, failure) -> None:
        qid = failure.request.meta["qid"]
        exc = failure.value
        why = str(exc) if isinstance(exc, IgnoreRequest) else (_too_large(exc) or _plain(exc))
        self.results[qid] = _result("refused" if isinstance(exc, IgnoreRequest) else "failed", f"TSA: {why}")


# ---- running -----------------------------------------------------------------------------------------


def crawl_jobs(job: dict[str, Any]) -> dict[str, Any]:
    """Run every lookup and time-stamp job of *job* in this process (starts the reactor) and return the results.

    ``job``: ``{"lookups": [{"source", "targets", "base_url"?, "date"?}], "timestamps": {"tsa_url",
    "queries"}?, "settings": {...}, "sources_dirs": [...]}``. Result: ``{"lookups": {source: {id:
    result}}, "timestamps": {id: result}, "sources": {source: {"state", "reason"}}}``.
    """
    from scrapy.crawler import Crawler, CrawlerProcess

    from crawler.run import build_settings, source_limits

    overrides = {"ITEM_PIPELINES": {}, "LOG_LEVEL": "ERROR", **(job.get("settings") or {})}
    dirs = job.get("sources_dirs") or None
    settings = build_settings(sources_dirs=dirs, overrides=overrides)
    process = CrawlerProcess(settings)
    first = True
    runs: list[tuple[str, Crawler]] = []
    errors: dict[str, dict[str, Any]] = {}
    for lk in job.get("lookups") or []:
        name = str(lk["source"])
        try:
            src = find_source(name, dirs)
            src.require_secrets()
        except Exception as exc:  # noqa: BLE001 - one bad source file costs its own targets only
            errors[name] = {"state": "failed", "reason": str(exc)[:300]}
            continue
        s = settings.copy()
        for k, v in source_limits(src).items():
            s.set(k, v, priority="spider")
        crawler = Crawler(LookupSpider, s, init_reactor=first)
        process._initialized_reactor = True  # type: ignore[attr-defined]
        first = False
        process.crawl(crawler, source=src, targets=lk["targets"], date=lk.get("date"), base_url=lk.get("base_url"))
        runs.append((name, crawler))
    ts = job.get("timestamps")
    ts_crawler = None
    if ts and ts.get("queries"):
        s = settings.copy()
        s.set("DOWNLOAD_MAXSIZE", 1024 * 1024, priority="cmdline")
        s.set("ROBOTSTXT_OBEY", False, priority="cmdline")
        ts_crawler = Crawler(TimestampSpider, s, init_reactor=first)
        process._initialized_reactor = True  # type: ignore[attr-defined]
        first = False
        process.crawl(ts_crawler, tsa_url=ts["tsa_url"], queries=ts["queries"])
    if runs or ts_crawler is not None:
        process.start()
    out: dict[str, Any] = {"lookups": {}, "timestamps": {}, "sources": dict(errors)}
    for name, crawler in runs:
        spider = crawler.spider
        results = getattr(spider, "results", {})
        out["lookups"][name] = results
        out["sources"][name] = lookup_state(results)
    if ts_crawler is not None:
        out["timestamps"] = getattr(ts_crawler.spider, "results", {})
    return out


def lookup_state(results: dict[str, dict[str, Any]]) -> dict[str, str]:
    """A lookup crawl's own verdict: failed when no target got an answer, degraded when some did not."""
    bad = [r for r in results.values() if r.get("state") in ("refused", "failed")]
    if not results or not bad:
        return {"state": "ok", "reason": ""}
    first = str(bad[0].get("reason") or bad[0].get("state"))
    if len(bad) == len(results):
        return {"state": "failed", "reason": first}
    return {"state": "degraded", "reason": f"{len(bad)} of {len(results)} lookups failed: {first}"}


def run_jobs(job: dict[str, Any], *, timeout: float = 600.0) -> dict[str, Any]:
    """``crawl_jobs`` in a child process (the reactor runs once per process); never raises for a crawl problem.

    A child that fails or overruns gives every target a ``failed`` result with the reason.
    """
    env = dict(os.environ)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "crawler.spiders.lookup"],
            input=json.dumps(job, ensure_ascii=False).encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
            env=env,
        )
        if proc.returncode == 0:
            return json.loads(proc.stdout.decode("utf-8"))
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        why = f"lookup crawl failed (exit {proc.returncode}): {tail[0][:300]}"
    except subprocess.TimeoutExpired:
        why = f"lookup crawl took longer than {timeout:.0f} s"
    except (OSError, ValueError) as exc:
        why = f"lookup crawl failed: {type(exc).__name__}"
    fail = _result("failed", why)
    return {
        "lookups": {lk["source"]: {str(t["id"]): dict(fail) for t in lk["targets"]} for lk in job.get("lookups") or []},
        "timestamps": {q["id"]: dict(fail) for q in (job.get("timestamps") or {}).get("queries", [])},
        "sources": {lk["source"]: {"state": "failed", "reason": why} for lk in job.get("lookups") or []},
    }


def decoded_evidence(result: dict[str, Any]) -> dict[str, Any] | None:
    """A result's evidence with its body as bytes and its time as a datetime (None when there is none)."""
    ev = result.get("evidence")
    if not ev:
        return None
    return {
        **ev,
        "body": base64.b64decode(ev["body"]),
        "fetched_at": dt.datetime.fromisoformat(ev["fetched_at"]),
    }


def main() -> int:
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    out = crawl_jobs(job)
    sys.stdout.write(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
