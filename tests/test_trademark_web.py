"""The opposition clock where analysts work: the review site's queue and alert page, and `markwatch
alerts list`, show each trademark alert's deadline and the days left, and sort by it."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from fastapi.testclient import TestClient
from test_trademark_notify import add_tm
from web_support import PASSWORD, settings

from alerts.deadlines import opposition_deadline, today_in
from alerts.sqlite_store import SQLiteAlertStore
from markwatch.web import create_app


@pytest.fixture
def seeded(tmp_path):
    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    today = today_in()
    near = today - dt.timedelta(days=80)  # about ten days left
    far = today - dt.timedelta(days=20)  # about seventy
    ids = {
        "far": add_tm(store, "一正", "壹正", "91000001", far.isoformat()),
        "near": add_tm(store, "一正", "一正堂", "91000002", near.isoformat()),
        "none": add_tm(store, "一正", "壹正堂", "91000003", ""),
    }
    left = {k: (opposition_deadline(d).deadline - today).days for k, d in (("near", near), ("far", far))}
    yield store, ids, left
    store.close()


def _signed_in(client) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": "li", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 200


def test_queue_sorted_by_deadline_with_days_left_and_the_alert_page(tmp_path, seeded):
    store, ids, left = seeded
    app = create_app(settings(tmp_path), store=store)
    with TestClient(app) as client:
        _signed_in(client)
        page = client.get("/alerts", params={"sort": "deadline", "status": "new"})
        assert page.status_code == 200
        html = page.text
        rows = re.findall(r'<tr data-id="([0-9a-f]+)"', html)
        assert rows == [ids["near"], ids["far"], ids["none"]]
        assert 'id="sort-deadline"' in html and "Deadline" in html
        assert f"{left['near']} days left" in html and f"{left['far']} days left" in html
        assert "Opposition deadline, nearest first" in html
        assert "No. 91000002" in html and "Class 5" in html
        one = client.get(f"/alerts/{ids['near']}")
        assert one.status_code == 200
        d = opposition_deadline(today_in() - dt.timedelta(days=80))
        assert (
            f'<dd id="deadline">{d.deadline.isoformat()} · <b id="days-left">{left["near"]} days left</b>' in one.text
        )
        assert 'id="tm-number">91000002<' in one.text
        none = client.get(f"/alerts/{ids['none']}")
        assert "None: no announcement date seen yet" in none.text
        zh = client.get("/alerts", params={"sort": "deadline", "lang": "zh_CN"})
        assert zh.status_code == 200


def test_cli_list_sorts_by_deadline_and_filters_what_is_due(tmp_path, seeded):
    from typer.testing import CliRunner

    from markwatch.cli import app

    store, ids, left = seeded
    cfg = tmp_path / "markwatch.toml"
    cfg.write_text(
        f'[store]\nsqlite_path = "{tmp_path / "alerts.sqlite"}"\n[review]\nlanguage = "en"\n', encoding="utf-8"
    )
    runner = CliRunner()
    r = runner.invoke(app, ["alerts", "list", "-c", str(cfg), "--sort", "deadline", "-f", "json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert [a["id"] for a in got["items"]] == [ids["near"], ids["far"], ids["none"]]
    r = runner.invoke(app, ["alerts", "list", "-c", str(cfg), "--due-within", "30", "-f", "json"])
    assert [a["id"] for a in json.loads(r.output)["items"]] == [ids["near"]]
    r = runner.invoke(app, ["alerts", "list", "-c", str(cfg), "--sort", "deadline"], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    assert f" {left['near']}d" in r.output and f" {left['far']}d" in r.output
    r = runner.invoke(app, ["alerts", "show", "-c", str(cfg), ids["near"]], env={"COLUMNS": "160"})
    assert f"({left['near']} days left)" in r.output and "No. 91000002, class 5" in r.output


def test_opposition_case_pages_show_the_deadline_to_oppose(tmp_path, seeded):
    from alerts.cases.service import open_case
    from alerts.cases.store import open_case_store

    store, ids, left = seeded
    store.review([ids["near"]], "confirmed", who="li")
    case = open_case(store, open_case_store(store), [ids["near"]], who="li", grounds=["tml-15"])
    assert case.kind == "opposition" and case.opposition_deadline is not None
    app = create_app(settings(tmp_path), store=store)
    with TestClient(app) as client:
        _signed_in(client)
        listing = client.get("/cases")
        assert listing.status_code == 200
        assert f"{case.opposition_deadline.isoformat()} · {left['near']} days left" in listing.text
        assert "商标异议" in listing.text
        page = client.get(f"/cases/{case.id}")
        assert page.status_code == 200
        assert 'id="tm-number">91000002<' in page.text
        assert f"{case.opposition_deadline.isoformat()}</b> · {left['near']} days left" in page.text
        assert "tml-15" in page.text and "Trademark application" in page.text
