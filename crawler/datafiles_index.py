"""An index page's links to the day's data files, and whether a missing file is simply not out yet.

Bureaus name their daily files however they like (`新设立企业名单（12月7日）.xlsx`, `/u/cms/2026/1207/
a81f.csv`), so a source says which links to consider (`pages.files.links`) and a regular expression
that the day's link matches in its text or its href (`match`, with `{date:%m月%d日}`-style
placeholders for the day in any format). `published_by` says when the day's file is due; before
then, no file is an expected outcome, not a degraded source.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from parsel import Selector
from scrapy.http import Response

from crawler import extract
from crawler.sources import Source

_DAY = re.compile(r"\{date(?::([^{}]+))?\}")
_EXT = {"csv": (".csv", ".txt"), "xlsx": (".xlsx", ".xlsm"), "xls": (".xls", ".et")}


def day_pattern(template: str, day: str) -> str:
    """*template* with each {date} / {date:FORMAT} replaced by the day, regex-escaped (non-padded %-d allowed)."""
    if not day:
        return template
    d = dt.date.fromisoformat(day)

    def sub(m: re.Match) -> str:
        fmt = m.group(1) or "%Y-%m-%d"
        fmt = fmt.replace("%-m", str(d.month)).replace("%-d", str(d.day))
        return re.escape(d.strftime(fmt))

    return _DAY.sub(sub, template)


def links_for_day(response: Response, source: Source, day: str) -> list[str]:
    """Absolute URLs of the day's files, in page order, at most `max_files`."""
    spec = source.pages.files
    assert spec is not None
    sel = Selector(text=extract.text_of(response, source.encoding), type="html", base_url=response.url)
    found = sel.xpath(spec.links) if spec.links.startswith(("/", "(")) else sel.css(spec.links)
    pattern = re.compile(day_pattern(spec.match, day)) if spec.match else None
    out: list[str] = []
    for a in found:
        href = (a.attrib.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        text = " ".join(" ".join(a.xpath(".//text()").getall()).split())
        url = response.urljoin(href)
        name = unquote(urlsplit(url).path).lower()
        if pattern is not None and not (pattern.search(text) or pattern.search(unquote(href))):
            continue
        if not any(name.endswith(_EXT[f]) for f in spec.formats) and pattern is None:
            continue
        if url not in out:
            out.append(url)
        if len(out) >= spec.max_files:
            break
    return out


def next_index_page(response: Response, source: Source) -> tuple[str, int] | None:
    """(URL, page number) of the index's next page (`pages.next`), within `max_pages`; None on the last one.

    Indexes list the newest days first: a day a week old may be on page 2 or 3."""
    spec = source.pages
    page = int(response.meta.get("page", 1))
    if spec.next is None or page >= spec.max_pages:
        return None
    sel = Selector(text=extract.text_of(response, source.encoding), type="html", base_url=response.url)
    link = extract.value(sel, spec.next)
    if isinstance(link, list):
        link = link[0] if link else None
    if not link or not str(link).strip():
        return None
    return response.urljoin(str(link).strip()), page + 1


_WHEN = re.compile(r"(?:(\d+)d\s*)?(\d{1,2}):(\d{2})")


def due(published_by: str, zone: str, day: str) -> dt.datetime:
    m = _WHEN.fullmatch(published_by.strip())
    assert m is not None  # validated when the file was read
    days, hh, mm = int(m.group(1) or 0), int(m.group(2)), int(m.group(3))
    d = dt.date.fromisoformat(day) + dt.timedelta(days=days)
    return dt.datetime.combine(d, dt.time(hh, mm), tzinfo=ZoneInfo(zone))


def not_yet(published_by: str | None, zone: str, day: str, now: dt.datetime | None = None) -> str:
    """'due by 2026-12-07 18:00 Asia/Shanghai' when the day's file may simply not be out yet, else ''."""
    if not published_by or not day:
        return ""
    when = due(published_by, zone, day)
    now = now or dt.datetime.now(dt.UTC)
    if now < when:
        return f"due by {when:%Y-%m-%d %H:%M} {zone}"
    return ""
