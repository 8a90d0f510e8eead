"""Data files as rows: CSV (any of the encodings Chinese bureaus use), XLSX and XLS, bounded.

A bureau's daily list of new enterprises is a file linked from an index page: a CSV in GBK with a
title line above the header, an XLSX, a legacy XLS. `read_rows` yields one dict per data row, keyed
by the header's cells as written (企业名称, 统一社会信用代码), streaming so memory stays bounded:

- the format is taken from the bytes (a ZIP is XLSX, an OLE2 file is XLS), not from the link's name;
- XLSX is read by openpyxl in read-only mode, after the ZIP's declared sizes are checked (a zip bomb
  disguised as XLSX is refused before anything is inflated; zipfile never inflates a member past its
  declared size); formulas are never evaluated (their cached value or nothing);
- XLS by python-calamine (the sheet is held in native memory, bounded by the download size limit);
- at most `max_rows` rows (the rest is reported, not read);
- CSV decoded by BOM, declared encoding, UTF-8, else GB18030; broken bytes replaced and counted;
  separated by `delimiter`, else whichever of , tab ; | the header line uses most.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from typing import Any

MAX_UNZIPPED = 256 * 1024 * 1024  # bytes an XLSX may inflate to, all members together
MAX_RATIO = 1000  # a member over 64 MB inflating more than this many times its compressed size is a bomb
MAX_CELL_CHARS = 32_767  # Excel's own cell limit; longer cells are cut
ZERO_WIDTH = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"), None)


class FileProblem(ValueError):
    """A data file that cannot be read safely (kind: malformed or too_large, as crawler.health counts)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def sniff(body: bytes, declared: str | None = None) -> str:
    """csv, xlsx or xls, from the bytes themselves (a link's name or Content-Type may lie)."""
    if body[:4] == b"PK\x03\x04":
        return "xlsx"
    if body[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"
    head = body[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise FileProblem("malformed", "an HTML page where a data file was expected")
    return "csv"


class RowReader:
    """Iterate a data file's rows as dicts; afterwards `truncated` (rows left unread) and `replaced` are set."""

    def __init__(
        self,
        body: bytes,
        *,
        header_row: int = 1,
        skip_rows: int = 0,
        sheet: str | int | None = None,
        max_rows: int = 200_000,
        encoding: str | None = None,
        delimiter: str | None = None,
    ) -> None:
        self.body = body
        self.header_row = header_row
        self.skip_rows = skip_rows
        self.sheet = sheet
        self.max_rows = max_rows
        self.encoding = encoding
        self.delimiter = delimiter  # CSV: None = the one of , ; tab | that the header line uses most
        self.truncated = False
        self.replaced = 0  # characters that could not be decoded (CSV)
        self.format = sniff(body)
        self.header: list[str] = []

    def __iter__(self) -> Iterator[dict[str, Any]]:
        raw = {"xlsx": self._xlsx, "xls": self._xls, "csv": self._csv}[self.format]()
        n = 0
        for i, cells in enumerate(raw, 1):
            if i < self.header_row:
                continue
            if i == self.header_row:
                self.header = _header(cells)
                continue
            if i <= self.header_row + self.skip_rows:
                continue
            values = [_cell(c) for c in cells]
            if not any(values):
                continue
            if n >= self.max_rows:
                self.truncated = True
                break
            n += 1
            yield {h: v for h, v in zip(self.header, values, strict=False) if h}
        if hasattr(raw, "close"):
            raw.close()

    # ---- formats -----------------------------------------------------------
    def _csv(self) -> Iterator[list[Any]]:
        enc = _csv_encoding(self.body, self.encoding)
        _COUNT[0] = 0
        delim = self.delimiter or sniff_delimiter(self.body[:65536].decode(enc, "replace"), self.header_row)
        text = io.TextIOWrapper(io.BytesIO(self.body), encoding=enc, errors="markwatch-count", newline="")
        try:
            for row in csv.reader(text, delimiter=delim):
                self.replaced = _COUNT[0]
                yield row
        except csv.Error as exc:
            raise FileProblem("malformed", f"CSV does not parse: {exc}") from None
        finally:
            self.replaced = _COUNT[0]

    def _xlsx(self) -> Iterator[tuple[Any, ...]]:
        check_zip(self.body)
        import openpyxl

        try:
            wb = openpyxl.load_workbook(io.BytesIO(self.body), read_only=True, data_only=True, keep_links=False)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many types on a broken file
            raise FileProblem("malformed", f"XLSX does not open: {type(exc).__name__}") from None
        try:
            ws = _pick(wb, wb.sheetnames, self.sheet)
            yield from ws.iter_rows(values_only=True)
        finally:
            wb.close()

    def _xls(self) -> Iterator[list[Any]]:
        from python_calamine import CalamineWorkbook

        try:
            wb = CalamineWorkbook.from_filelike(io.BytesIO(self.body))
            names = wb.sheet_names
            name = names[self.sheet] if isinstance(self.sheet, int) else (self.sheet or names[0])
            if name not in names:
                raise FileProblem("malformed", f"no sheet {name!r} (sheets: {', '.join(names)[:200]})")
            ws = wb.get_sheet_by_name(name)
            yield from ws.iter_rows()
        except FileProblem:
            raise
        except Exception as exc:  # noqa: BLE001 - calamine raises its own error types
            raise FileProblem("malformed", f"XLS does not open: {type(exc).__name__}") from None


def _pick(wb: Any, names: list[str], sheet: str | int | None) -> Any:
    if sheet is None:
        return wb[names[0]]
    if isinstance(sheet, int):
        if sheet >= len(names):
            raise FileProblem("malformed", f"no sheet {sheet} (the file has {len(names)})")
        return wb[names[sheet]]
    if sheet not in names:
        raise FileProblem("malformed", f"no sheet {sheet!r} (sheets: {', '.join(names)[:200]})")
    return wb[sheet]


def check_zip(body: bytes, max_unzipped: int = MAX_UNZIPPED) -> None:
    """FileProblem unless the ZIP's members, as declared, inflate to a sane size (checked before any inflating)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile:
        raise FileProblem("malformed", "XLSX is not a readable ZIP") from None
    total = 0
    with zf:
        for info in zf.infolist():
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 64 * 1024 * 1024 and ratio > MAX_RATIO:
                raise FileProblem(
                    "too_large", f"XLSX member {info.filename[:80]!r} inflates {ratio:.0f}× ({info.file_size} bytes)"
                )
        if total > max_unzipped:
            raise FileProblem("too_large", f"XLSX inflates to {total} bytes (limit {max_unzipped})")


DELIMITERS = (",", "\t", ";", "|")


def sniff_delimiter(sample: str, header_row: int = 1) -> str:
    """The separator the header line uses most (a title line above it has none), else a comma."""
    lines = sample.splitlines()
    line = lines[header_row - 1] if len(lines) >= header_row else (lines[0] if lines else "")
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: the earlier (comma first)
    return best if counts[best] else ","


def _csv_encoding(body: bytes, declared: str | None) -> str:
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if declared:
        return declared
    head = body[:65536]
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the sample's end
            return "utf-8"
    return "gb18030"


_COUNT: list[int] = [0]  # characters replaced by the handler below (reset per file; the crawl is single-threaded)


def _count_replace(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _COUNT[0] += exc.end - exc.start
    return "\ufffd", exc.end


codecs.register_error("markwatch-count", _count_replace)


def _header(cells: Any) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, c in enumerate(cells, 1):
        name = " ".join(_cell(c).translate(ZERO_WIDTH).split())
        if not name:
            name = f"col{i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _cell(v: Any) -> str:
    """A cell as text: dates as ISO dates, 100.0 as 100, the rest as written (never a formula's code)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    text = str(v)
    return text[:MAX_CELL_CHARS].strip()


def read_rows(body: bytes, page: Any, encoding: str | None, *, fmt: str | None = None) -> RowReader:
    """The rows of a data file as the source's `pages` says (header_row, skip_rows, sheet, max_rows)."""
    return RowReader(
        body,
        header_row=page.header_row,
        skip_rows=page.skip_rows,
        sheet=page.sheet,
        max_rows=page.max_rows,
        encoding=encoding,
        delimiter=page.delimiter,
    )
