"""The review site and the CLI in Chinese, in Asia/Shanghai time, with one meaning for dates, CSV and
the audit log (issue 24). Runs on both stores (the ``store`` fixture)."""

from __future__ import annotations

import base64
import csv
import getpass
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_support import PASSWORD, alert, company_alerts, settings

from alerts.store import AlertQuery
from markwatch.web import create_app

LATE = datetime(2026, 12, 6, 17, 30, tzinfo=UTC)  # 2026-12-07 01:30 in Asia/Shanghai


def basic(user: str = "li", password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def sign_in(client, user: str = "li") -> str:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 200, r.text[:500]
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', r.text).group(1)


@pytest.fixture
def site(store, tmp_path):
    alerts = company_alerts() + [alert("宁波九阳电器有限公司", now=LATE, source="demo-registry")]
    store.upsert(alerts)
    s = settings(tmp_path, language="zh_CN", languages={"wang": "en"})
    app = create_app(s, store=store)
    with TestClient(app) as c:
        c.alerts = alerts  # type: ignore[attr-defined]
        c.store = store  # type: ignore[attr-defined]
        yield c


def test_queue_in_chinese_with_facets_sorting_and_local_days(site):
    sign_in(site)
    page = site.get("/alerts", params={"sort": "-score"})
    html = page.text
    assert '<html lang="zh-CN">' in html and "队列" in html and "导出 CSV" in html and "Queue" not in html
    assert "登记机关" in html and "行政区划" in html and "可能性" in html  # facets, named in Chinese
    assert re.search(r'data-facet="region" data-value="310115"><span class="v">310115 上海市 浦东新区</span>', html)
    assert re.search(r'data-facet="authority" data-value="深圳市市场监督管理局">.*?<span class="n">1</span>', html)
    # The alert fetched at 17:30 UTC on the 6th is shown on the 7th (Asia/Shanghai).
    row = re.search(r'<tr data-id="[0-9a-f]+"[^>]*>(?:(?!</tr>).)*宁波(?:(?!</tr>).)*</tr>', html, re.S)
    assert row and "2026-12-07" in row.group(0) and "2026-12-06" not in row.group(0)
    # Sortable headers: by score (descending) now, so the header links to the reverse.
    assert re.search(r'<a href="/alerts\?sort=score" class="sort" id="sort-score"[^>]*>分数 ▼</a>', html)
    # A facet link combines with the filter in force and is bookmarkable.
    link, n = re.search(
        r'href="/alerts\?([^"]+)" data-facet="band" data-value="high"><span class="v">[^<]+</span> <span class="n">(\d+)<',
        html,
    ).groups()
    page = site.get("/alerts?" + link.replace("&amp;", "&"))
    assert "band=high" in link and "sort=-score" in link
    assert page.text.count('class="row"') == int(n) == site.store.search(AlertQuery(bands=["high"])).total > 0
    assert 'class="chip"' in page.text  # the facet in force, removable


def test_analyst_language_and_the_switch(site):
    sign_in(site, "wang")  # [review.languages] wang = "en"
    assert '<html lang="en">' in site.get("/alerts").text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', site.get("/alerts").text).group(1)
    r = site.post("/settings/language", data={"lang": "zh_CN", "next": "/overview", "csrf_token": token})
    assert r.status_code == 200 and '<html lang="zh-CN">' in r.text and "概览" in r.text
    assert "每日新增预警" in r.text and "中国标准时间" in r.text


def test_a_day_filter_means_the_local_day_everywhere(site, tmp_path):
    sign_in(site)
    late = site.alerts[-1]
    for day, found in (("2026-12-07", True), ("2026-12-06", False)):
        params = {"since": day, "until": day, "date_field": "first_seen"}
        api = site.get("/api/alerts", params=params).json()
        assert (late.id in {a["id"] for a in api["items"]}) is found, day
        page = site.get("/alerts", params=params)
        assert (late.id in page.text) is found, day
        rows = list(csv.reader(io.StringIO(site.get("/alerts.csv", params=params).text.lstrip("\ufeff"))))
        assert (late.id in {r[0] for r in rows[1:]}) is found, day
    counts = site.get("/api/counts").json()["by_day"]
    assert counts.get("2026-12-07") == 1 and "2026-12-06" not in counts
    page = site.get(f"/alerts/{late.id}")
    assert re.search(r'id="first-seen">2026-12-07 01:30 中国标准时间<', page.text)


def test_csv_in_chinese_and_basic_auth_for_scripts(site):
    r = site.get("/alerts.csv", follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]  # a browser without a session
    assert site.get("/alerts.csv", headers=basic(password="wrong")).status_code == 401
    r = site.get("/alerts.csv", params={"kind": "enterprise"}, headers=basic())
    assert r.status_code == 200 and r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    first = next(row for row in rows if row["名称或标题"] == "深圳九阳厨具有限公司")
    assert first["统一社会信用代码"].startswith("91440300") and first["登记机关"] == "深圳市市场监督管理局"
    assert first["理由"] == "字号包含商标；行业相同" and first["状态"] == "新预警" and first["可能性"].endswith("%")
    assert first["首次发现"].endswith("+08:00")
    events = site.store.audit_search(__import__("alerts.sessions", fromlist=["AuditQuery"]).AuditQuery(action="export"))
    assert events and events[0].user == "li" and "alerts.csv" in events[0].detail


def test_entity_page_related_and_group_case(site):
    sign_in(site)
    first = site.alerts[0]
    page = site.get(f"/alerts/{first.id}")
    assert "关联主体" in page.text and "法定代表人" in page.text and "王建国" in page.text
    key = re.search(r'href="/entity\?key=([^"]+)"', page.text).group(1)
    page = site.get(f"/entity?key={key}")
    assert page.status_code == 200
    html = page.text
    assert 'id="entity-uscc">91310115' in html and "上海市浦东新区市场监督管理局" in html
    for name in ("深圳九阳厨具有限公司", "杭州九阳小家电科技有限公司", "苏州九阳电器销售有限公司"):
        assert name in html
    assert "广州九阳五金有限公司" not in html  # shares nothing
    assert re.search(r"<b>住所</b> 上海市浦东新区川沙路100号", html)
    assert re.search(r"<b>电话 / 邮箱</b> 02158110001", html)
    assert 'id="open-group-case"' in html and "对整组立案（含 3 个关联主体）" in html
    assert site.get("/entity?key=uscc:91000000000000000X").status_code == 404


def test_reviews_in_place_and_the_audit_page(site):
    token = sign_in(site)
    a = site.alerts[1]
    r = site.post(
        f"/api/alerts/{a.id}/review",
        json={"status": "confirmed", "note": "与王建国名下企业同址"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 200
    site.post("/logout", data={"csrf_token": token})
    sign_in(site, "boss")
    page = site.get("/admin/audit", params={"who": "li", "action": "review"})
    assert page.status_code == 200 and "审计日志" in page.text
    row = re.search(r'<tr class="event a-review">(.*?)</tr>', page.text, re.S).group(1)
    assert f'href="/alerts/{a.id}"' in row and "深圳九阳厨具有限公司 · 九阳" in row and "与王建国名下企业同址" in row
    today = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert "a-review" in site.get("/admin/audit", params={"since": today, "until": today}).text
    assert "a-review" not in site.get("/admin/audit", params={"until": "2026-01-01"}).text
    export = site.get("/admin/audit.csv", params={"action": "review"})
    assert export.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert (
        rows[0][0] == "时间" and rows[1][1] == "review" and rows[1][2] == "li" and rows[1][7] == "与王建国名下企业同址"
    )


def _cli_config(tmp_path: Path, store) -> Path:
    if hasattr(store, "client"):
        url = store.client.transport.node_pool.get().base_url
        store_cfg = f'urls = ["{url}"]\nindex_prefix = "{store.prefix}"\nreplicas = 0\nrefresh = true\n'
        store_cfg += f'outbox_path = "{tmp_path / "cli-outbox.sqlite"}"\n'
    else:
        store_cfg = f'sqlite_path = "{store.path}"\n'
    cfg = tmp_path / "markwatch.toml"
    cfg.write_text(f'[store]\n{store_cfg}\n[review]\ntimezone = "Asia/Shanghai"\n', encoding="utf-8")
    return cfg


def test_cli_reviews_exports_and_dates_like_the_site(site, tmp_path):
    from markwatch.cli import app

    store = site.store
    cfg = str(_cli_config(tmp_path, store))
    runner = CliRunner(env={"COLUMNS": "80"})
    late = site.alerts[-1]
    r = runner.invoke(
        app,
        ["alerts", "search", "--since", "2026-12-07", "--until", "2026-12-07", "--date-field", "first_seen", "-c", cfg],
    )
    assert r.exit_code == 0, r.output
    assert late.id[:8] in r.output and "共 1 条预警" in r.output  # until includes its (local) day
    r = runner.invoke(app, ["alerts", "search", "--size", "50", "-c", cfg])
    lines = r.output.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    for a in site.alerts:
        assert sum(a.id[:8] in line for line in lines) == 1  # each short id whole, on one line
    r = runner.invoke(app, ["alerts", "review", late.id[:10], "-s", "dismissed", "-n", "同名不同业", "-c", cfg])
    assert r.exit_code == 0 and "1 条预警已设为“已排除”" in r.output
    r = runner.invoke(app, ["alerts", "review", site.alerts[0].id, "-s", "confirmed", "--by", "zhao", "-c", cfg])
    assert r.exit_code == 0
    out = tmp_path / "x.csv"
    r = runner.invoke(app, ["alerts", "export", "--format", "csv", "-o", str(out), "-c", cfg])
    assert r.exit_code == 0 and out.read_bytes().startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8").lstrip("\ufeff"))))
    assert {"统一社会信用代码", "登记机关", "可能性", "理由"} <= set(rows[0])
    r = runner.invoke(app, ["audit", "--format", "json", "-c", cfg])
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(e["action"], e["user"], e["client"]) for e in events[:3]] == [
        ("export", getpass.getuser(), "cli"),
        ("review", "zhao", "cli"),
        ("review", getpass.getuser(), "cli"),
    ]
    assert events[2]["note"] == "同名不同业" and events[2]["targets"] == [late.id]
    got = store.search(AlertQuery(ids=[late.id])).items[0]
    assert got.status == "dismissed" and got.history[-1].who == getpass.getuser()
