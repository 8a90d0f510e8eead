"""`markwatch sources list` and `sources check`, and a broken source file that blocks nothing else."""

from __future__ import annotations

import json

import pytest
from scan_support import cli
from sources_replay import ENV, ReplayServer
from test_sources_api import config, scan


@pytest.fixture()
def replay():
    with ReplayServer() as srv:
        yield srv


BROKEN = "name: my-broken\nkind: registry\npages:\n  url: '{base}/x?q={keyword}'\n  max_page: 3\n"
TYPO_SOURCE = """
name: tyc-typo
kind: registry
mode: search
pages:
  url: "{base}/services/open/search/2.0?word={keyword}&pageNum={page}&pageSize=20"
  format: json
  rows: result.items
  fields:
    name: {json: name}
    uscc: {json: credit_code}
  total: result.total
  page_size: 20
headers: {Authorization: "${TYC_TOKEN}"}
error: {json: error_code, ok: ["0"], empty: ["300000"], message: reason}
"""


def test_list_shows_kinds_secrets_and_broken_files(tmp_path, replay):
    cfg = config(tmp_path, replay.url, ["qcc-search"])
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    p = cli("sources", "list", "--config", str(cfg), "--json", TYC_TOKEN="x")
    assert p.returncode == 0, p.stderr
    rows = {r["name"]: r for r in json.loads(p.stdout)}
    assert rows["qcc-search"]["secrets"] == "missing QCC_APP_KEY, QCC_SECRET_KEY"
    assert rows["tyc-search"]["secrets"] == "set" and rows["demo-registry"]["secrets"] == "-"
    assert rows["qcc-search"]["kind"] == "registry" and rows["qcc-search"]["mode"] == "search"
    assert "broken.yaml:5" in rows["my-broken"]["broken"] and "pages.max_page" in rows["my-broken"]["broken"]
    table = cli("sources", "list", "--config", str(cfg), TYC_TOKEN="x")
    assert "BROKEN" in table.stdout and "demo-market-state" in table.stdout


def test_a_broken_file_blocks_only_itself(tmp_path, replay):
    cfg = config(tmp_path, replay.url, ["tyc-search"])
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    p, rep = scan(cfg, **ENV)
    assert p.returncode == 0 and rep["sources"][0]["items"] > 0
    p2, _ = scan(cfg, "--source", "my-broken", **ENV)
    lines = [x for x in p2.stderr.splitlines() if x.strip()]
    assert p2.returncode == 2 and len(lines) == 1 and "broken.yaml:5" in lines[0] and "unknown key" in lines[0]


def test_check_prints_rows_fields_and_next_page(tmp_path, replay):
    cfg = config(tmp_path, replay.url, [])
    p = cli("sources", "check", "tyc-search", "--keyword", "一正", "--config", str(cfg), **ENV)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "rows: 20" in out and "name: 成都一正第0分公司" in out and "uscc: 91510100MA6000XXX6F" in out
    assert "next page: GET " in out and "pageNum=2" in out
    assert ENV["TYC_TOKEN"] not in out + p.stderr
    last = cli("sources", "check", "tyc-search", "-k", "一正", "--page", "3", "--config", str(cfg), "--json", **ENV)
    rep = json.loads(last.stdout)
    assert rep["row_count"] == 6 and rep["next_pages"] == []  # total 46: page 3 is the last


def test_check_says_why_a_field_is_empty(tmp_path, replay):
    cfg = config(tmp_path, replay.url, [])
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "typo.yaml").write_text(TYPO_SOURCE, encoding="utf-8")
    p = cli("sources", "check", "tyc-typo", "-k", "壹正", "--config", str(cfg), **ENV)
    assert p.returncode == 0
    assert "name: 湖北壹正药业有限公司" in p.stdout
    assert "uscc: (empty: json 'credit_code' found no value in this row)" in p.stdout


def test_check_refused_and_no_rows_exit_1(tmp_path, replay):
    cfg = config(tmp_path, replay.url, [])
    p = cli("sources", "check", "tyc-search", "-k", "一正", "--config", str(cfg), **{**ENV, "TYC_TOKEN": "bad"})
    assert p.returncode == 1 and "REFUSED: status '300006': token无效" in p.stdout
    none = cli("sources", "check", "tyc-search", "-k", "没有这家", "--config", str(cfg), **ENV)
    assert none.returncode == 1 and "rows: 0" in none.stdout and "REFUSED" not in none.stdout
    unset = cli("sources", "check", "tyc-search", "-k", "一正", "--config", str(cfg))
    assert unset.returncode == 2 and "TYC_TOKEN" in unset.stderr
