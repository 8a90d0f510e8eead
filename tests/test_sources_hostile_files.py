"""A bureau's daily files turned hostile, end to end through `markwatch scan`: a zip bomb behind an .xlsx
link, an HTML error page named .xlsx, a CSV with broken GBK bytes, a file over max_rows. Each is a named
problem in the source's state, never a traceback, and the good rows still come through."""

from __future__ import annotations

import pytest
from platform_replay import PlatformServer, bureau_csv
from test_sources_datafiles import _sheet_zip
from test_sources_platforms import run
from test_sources_shapes import DAILY

DAY = "2026-12-06"


def _bomb() -> bytes:
    head = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    )
    blank = b" " * (1 << 20)
    return _sheet_zip(iter([head, *([blank] * 400), b"</sheetData></worksheet>"]))  # 400 MB of blanks, ~0.4 MB


@pytest.fixture()
def server():
    with PlatformServer() as srv:
        yield srv


def test_hostile_daily_files_are_named_problems_and_the_good_rows_stay(tmp_path, server):
    broken = bureau_csv()[:-2] + b"\xff\xfe\x81\r\n"
    server.days[DAY] = {
        "（CSV）": (f"/u/cms/{DAY.replace('-', '')}/ok.csv", broken),
        "（Excel）": (f"/u/cms/{DAY.replace('-', '')}/bomb.xlsx", _bomb()),
        "（附件）": (f"/u/cms/{DAY.replace('-', '')}/err.xlsx", b"<!DOCTYPE html><html><body>404</body></html>"),
    }
    p, src, alerts = run(tmp_path, server.url, "bureau-daily", DAILY, "--date", DAY)
    assert "Traceback" not in p.stderr and p.stdout.startswith("{"), p.stderr[-2000:]
    assert src["state"] == "degraded" and src["items"] >= 3, src
    problems = src["reason"] + " " + str(src.get("health") or src)
    assert "inflates" in problems or "too_large" in problems, src
    names = {a["item"]["name"] for a in alerts}
    assert "湖北壹正药业有限公司" in names


def test_more_rows_than_max_rows_is_said(tmp_path, server):
    rows = [
        (f"杭州壹正{i}号贸易有限公司", "91330100MA2XXXXX0X", "张三", DAY, "杭州市市场监督管理局") for i in range(300)
    ]
    server.days[DAY] = {"（CSV）": (f"/u/cms/{DAY.replace('-', '')}/big.csv", bureau_csv(rows))}
    text = DAILY.replace("  header_row: 2\n", "  header_row: 2\n  max_rows: 100\n")
    p, src, _ = run(tmp_path, server.url, "bureau-daily", text, "--date", DAY)
    assert src["items"] == 100 and src["state"] == "degraded", src
    assert "100" in src["reason"] and "rows" in src["reason"], src["reason"]
