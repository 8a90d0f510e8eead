"""The data-file readers against hostile files, with bounded memory (crawler/datafiles.py)."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from platform_replay import bureau_csv, bureau_xlsx

from crawler import datafiles
from crawler.datafiles_index import day_pattern, not_yet


def rows(body: bytes, **kw) -> tuple[list[dict], datafiles.RowReader]:
    r = datafiles.RowReader(body, **kw)
    return list(r), r


def test_gbk_csv_with_a_title_line_and_cjk_columns():
    got, r = rows(bureau_csv(), header_row=2)
    assert r.format == "csv" and len(got) == 4 and r.replaced == 0
    assert got[0]["企业名称"] == "湖北壹正药业有限公司" and got[0]["统一社会信用代码"] == "91420100MA4KXXXX0X"


def test_xlsx_formulas_are_never_evaluated():
    got, r = rows(bureau_xlsx(), header_row=2)
    assert r.format == "xlsx" and [g["企业名称"] for g in got][:2] == ["湖北壹正药业有限公司", "广州伊正制药有限公司"]
    assert all("HYPERLINK" not in v and "evil" not in v for g in got for v in g.values())
    assert got[0]["序号"] == "1" and got[0]["成立日期"] == "2026-12-06"


def test_broken_encoding_is_counted_not_fatal():
    body = "企业名称,统一社会信用代码\n湖北壹正药业有限公司,91420100MA4KXXXX0X\n".encode("gbk") + b"\xff\xfe\x81,x\n"
    got, r = rows(body, encoding="gbk")
    assert got[0]["企业名称"] == "湖北壹正药业有限公司" and r.replaced >= 1


def _sheet_zip(sheet_xml_chunks, *, compress=zipfile.ZIP_DEFLATED) -> bytes:
    """A minimal XLSX whose one sheet is streamed from *sheet_xml_chunks* (bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as z:
        z.writestr(
            "[Content_Types].xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                "</Types>"
            ),
        )
        z.writestr(
            "_rels/.rels",
            (
                '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                "</Relationships>"
            ),
        )
        z.writestr(
            "xl/workbook.xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                '<sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>'
            ),
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            (
                '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                "</Relationships>"
            ),
        )
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            for chunk in sheet_xml_chunks:
                f.write(chunk)
    return buf.getvalue()


def _million_rows():
    yield b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    yield '<row r="1"><c r="A1" t="inlineStr"><is><t>企业名称</t></is></c></row>'.encode()
    row = '<row><c t="inlineStr"><is><t>杭州某某贸易有限公司</t></is></c></row>'.encode()
    for _ in range(1000):
        yield row * 1000
    yield b"</sheetData></worksheet>"


def test_a_million_rows_stop_at_max_rows_in_bounded_memory():
    body = _sheet_zip(_million_rows())
    tracemalloc.start()
    try:
        n = 0
        r = datafiles.RowReader(body, max_rows=50_000)
        for _ in r:
            n += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert n == 50_000 and r.truncated
    # Bounded by the declared inflated size (datafiles.MAX_UNZIPPED), never by the row count: openpyxl's
    # read-only reader holds at most about one inflated sheet (78 MB here), not a million row objects.
    assert peak < 160 * 1024 * 1024, peak


def test_a_million_csv_rows_in_bounded_memory():
    body = ("企业名称\n" + "杭州某某贸易有限公司\n" * 1_000_000).encode("utf-8")
    tracemalloc.start()
    try:
        r = datafiles.RowReader(body, max_rows=1_000_000)
        n = sum(1 for _ in r)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert n == 1_000_000 and not r.truncated
    assert peak < len(body) * 4, peak  # the decoded text of the whole file is never held at once


def test_zip_bomb_disguised_as_xlsx_is_refused_before_inflating():
    def zeros():
        yield b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        chunk = b" " * (1 << 20)
        for _ in range(1024):  # 1 GiB of blanks, a few MB compressed
            yield chunk
        yield b"</sheetData></worksheet>"

    body = _sheet_zip(zeros())
    assert len(body) < 8 * 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(datafiles.FileProblem) as e:
            list(datafiles.RowReader(body))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert e.value.kind == "too_large" and "inflates" in str(e.value)
    assert peak < 32 * 1024 * 1024, peak


def test_html_error_page_named_xlsx_and_a_broken_zip():
    with pytest.raises(datafiles.FileProblem, match="HTML page"):
        list(datafiles.RowReader(b"<!DOCTYPE html><html><body>404</body></html>"))
    with pytest.raises(datafiles.FileProblem) as e:
        list(datafiles.RowReader(b"PK\x03\x04" + b"\x00" * 100))
    assert e.value.kind == "malformed"


def test_xls_via_calamine():
    pytest.importorskip("python_calamine")
    with pytest.raises(datafiles.FileProblem) as e:  # an OLE2 header with nothing behind it
        list(datafiles.RowReader(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600))
    assert e.value.kind == "malformed"


def test_day_patterns_and_published_by():
    import datetime as dt
    import re

    assert re.search(day_pattern("{date:%-m月%-d日}新设立", "2026-12-06"), "12月6日新设立企业名单")
    assert re.search(day_pattern("{date:%Y%m%d}", "2026-12-06"), "/u/cms/20261206/a.csv")
    before = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    after = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert "due by 2026-12-07 09:00" in not_yet("1d 09:00", "Asia/Shanghai", "2026-12-06", before)
    assert not_yet("1d 09:00", "Asia/Shanghai", "2026-12-06", after) == ""


@pytest.mark.parametrize("sep", [",", "\t", ";", "|"])
def test_csv_separators_are_found_on_the_header_line(sep):
    body = (
        "广东省新设立企业名单（2026年12月6日）\n"
        + sep.join(["企业名称", "统一社会信用代码", "地址"])
        + "\n"
        + sep.join(["广州伊正制药有限公司", "91440101MA5CXXXX2B", "广州市天河区, 体育西路"])
        + "\n"
    ).encode("gbk")
    got, _ = rows(body, header_row=2)
    if sep == ",":  # a comma inside an unquoted cell splits it: written that way, the file is broken
        assert got[0]["企业名称"] == "广州伊正制药有限公司"
    else:
        assert got == [
            {
                "企业名称": "广州伊正制药有限公司",
                "统一社会信用代码": "91440101MA5CXXXX2B",
                "地址": "广州市天河区, 体育西路",
            }
        ]
    assert datafiles.RowReader(body, header_row=2, delimiter=";").delimiter == ";"
