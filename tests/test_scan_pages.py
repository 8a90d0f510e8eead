"""A scan's Pages are pages actually read: refusals are counted apart, in every place the scan reports.

Real hostile sites on 127.0.0.1 (crawler/demo/hostile.py), `markwatch scan` in a subprocess.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hostile_support import by_source, hostile_config, last_run, run_scan
from scan_support import ROOT, env

from crawler.demo.hostile import HostileConfig, HostileServer


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"[│┃]", line)]


@pytest.fixture
def site():
    with HostileServer(HostileConfig()) as srv:
        yield srv


def test_refused_answers_are_not_pages(tmp_path, site):
    # ok: 3 pages of rows and an empty 4th; auth: every answer HTTP 401; errbody: HTTP 200 saying "invalid token".
    cfg = hostile_config(tmp_path, {"ok": site.url, "auth": site.url, "errbody": site.url})
    rc, report, err = run_scan(cfg)
    assert rc == 1 and "Traceback" not in err
    got = by_source(report)
    assert (got["hostile-ok"]["pages"], got["hostile-ok"]["refused"]) == (4, 0)
    assert (got["hostile-auth"]["pages"], got["hostile-auth"]["refused"]) == (0, 1)
    assert (got["hostile-errbody"]["pages"], got["hostile-errbody"]["refused"]) == (0, 1)
    assert (report["totals"]["pages"], report["totals"]["refused"]) == (4, 2)
    # The run record and the metrics say the same.
    _, record = last_run(cfg)
    assert (record["totals"]["pages"], record["totals"]["refused"]) == (4, 2)
    metrics = (tmp_path / "var" / "metrics" / "markwatch.prom").read_text(encoding="utf-8")
    assert 'markwatch_source_pages{source="hostile-auth"} 0' in metrics
    assert 'markwatch_source_refused{source="hostile-auth"} 1' in metrics
    assert 'markwatch_source_pages{source="hostile-ok"} 4' in metrics

    # The table a person reads: a Refused column next to Pages, with the same numbers.
    p = subprocess.run(
        [sys.executable, "-m", "markwatch", "scan", "--config", str(cfg)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env=env(COLUMNS="250"),
    )
    assert p.returncode == 1, p.stderr[-2000:]
    lines = p.stdout.splitlines()
    header = next(line for line in lines if "Pages" in line)
    assert header.index("Pages") < header.index("Refused") < header.index("Items")
    cells = {(row := _cells(line))[1]: row for line in lines if "hostile-" in line}
    col = _cells(header)
    pages, refused = col.index("Pages"), col.index("Refused")
    assert (cells["hostile-auth"][pages], cells["hostile-auth"][refused]) == ("0", "1")
    assert (cells["hostile-ok"][pages], cells["hostile-ok"][refused]) == ("4", "0")
