"""`markwatch alerts …` against a real SQLite store (and one unreachable Elasticsearch)."""

from __future__ import annotations

import csv
import io
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
import typer
from typer.testing import CliRunner

from alerts.evidence import EvidenceStore
from alerts.sqlite_store import SQLiteAlertStore
from markwatch.cli import alerts as cmd_alerts

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def app():
    a = typer.Typer()
    cmd_alerts.register(a)

    @a.callback()
    def _root() -> None:
        """markwatch (test root)."""

    return a


@pytest.fixture
def env(tmp_path, make_alert, monkeypatch):
    """A config file, a store with three alerts (one with evidence) and a runner."""
    for var in [v for v in list(__import__("os").environ) if v.startswith("MARKWATCH_")]:
        monkeypatch.delenv(var)
    db = tmp_path / "var" / "alerts.sqlite"
    cfg = tmp_path / "markwatch.toml"
    cfg.write_text(f'[store]\nsqlite_path = "{db}"\n', encoding="utf-8")
    ev = EvidenceStore(db.with_name("evidence.sqlite"))
    eid = ev.put("https://shop.example/item/1", T0, 200, {"Content-Type": "text/html"}, "<html>九阳</html>".encode())
    ev.close()
    alerts = [
        make_alert("上海九阳电器有限公司", score=0.91, evidence_id=eid),
        make_alert(
            "九阳豆浆机\u202e包邮 <b>[red]x[/red]</b>",
            kind="listing",
            source="taobao",
            score=0.72,
            now=T0 + timedelta(days=1),
        ),
        make_alert("=cmd|' /C calc'!A0 立白", mark="立白", owner="立白科技集团有限公司", score=0.6),
    ]
    store = SQLiteAlertStore(db)
    store.upsert(alerts)
    store.close()
    return {
        "cfg": str(cfg),
        "alerts": alerts,
        "db": db,
        "runner": CliRunner(env={"COLUMNS": "200", "MARKWATCH_LANG": "en"}),
    }


def run(app, env, *args):
    return env["runner"].invoke(app, ["alerts", *args, "--config", env["cfg"]])


def test_search_table_json_csv(app, env):
    r = run(app, env, "search", "--mark", "九阳")
    assert r.exit_code == 0, r.output
    assert "2 alert(s)" in r.output and "上海九阳电器有限公司" in r.output
    assert "⟨U+202E⟩" in r.output  # the bidi override is shown, not obeyed
    r = run(app, env, "search", "--kind", "listing", "--format", "json")
    data = json.loads(r.stdout)
    assert data["total"] == 1 and data["items"][0]["source"] == "taobao"
    r = run(app, env, "search", "--format", "csv", "--sort", "score")
    rows = list(csv.DictReader(io.StringIO(r.stdout.lstrip("\ufeff"))))
    assert [row["mark"] for row in rows] == ["立白", "九阳", "九阳"]
    assert rows[0]["text"].startswith("'=cmd")  # a spreadsheet will not run it
    r = run(app, env, "search", "-q", "豆浆机", "--since", "2026-03-02", "--format", "json")
    assert json.loads(r.stdout)["total"] == 1


def test_show_review_history(app, env):
    a = env["alerts"][0]
    r = run(app, env, "show", a.id[:12])  # the table's short id works
    assert r.exit_code == 0, r.output
    assert "verified" in r.output and "https://shop.example/item/1" in r.output
    assert "contains_mark" in r.output and "no review yet" in r.output
    ids = [x.id for x in env["alerts"][:2]]
    r = run(app, env, "review", *ids, "--status", "confirmed", "--note", "同款商标 logo", "--who", "li")
    assert r.exit_code == 0 and "2 alert(s) set to Confirmed" in r.output
    r = run(app, env, "show", a.id, "--format", "json")
    doc = json.loads(r.stdout)
    assert doc["status"] == "confirmed"
    assert doc["history"][0]["who"] == "li" and doc["history"][0]["note"] == "同款商标 logo"
    assert doc["evidence"]["url"] == "https://shop.example/item/1"


def test_export_and_counts(app, env, tmp_path):
    out = tmp_path / "out.jsonl"
    r = run(app, env, "export", "--min-score", "0.7", "-o", str(out))
    assert r.exit_code == 0, r.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["score"] for x in lines] == [0.91, 0.72]
    r = run(app, env, "counts", "--format", "json")
    assert json.loads(r.stdout)["by_mark"] == {"九阳": 2, "立白": 1}


def test_csv_export_has_the_page_url(app, env, tmp_path, make_alert):
    store = SQLiteAlertStore(env["db"])
    hostile = make_alert("深圳九阳科技有限公司", key="k2").model_copy(update={"url": '=HYPERLINK("http://x")'})
    plain = make_alert("广州九阳有限公司", key="k3").model_copy(update={"url": "https://reg.example/c/9"})
    store.upsert([hostile, plain])
    store.close()
    out = tmp_path / "out.csv"
    r = run(app, env, "export", "--format", "csv", "-o", str(out))
    assert r.exit_code == 0, r.output
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8").lstrip("\ufeff")))}
    assert rows[plain.id]["url"] == "https://reg.example/c/9"
    assert rows[hostile.id]["url"].startswith("'=")  # defused like every other cell
    assert rows[env["alerts"][0].id]["url"] == ""  # no page URL kept on it


def test_errors_are_one_line(app, env, tmp_path):
    r = run(app, env, "show", "0" * 32)
    assert r.exit_code == 1 and r.stderr.strip() == f"error: no alert with id {'0' * 32!r}"
    r = run(app, env, "review", env["alerts"][0].id, "nope" * 3, "--status", "dismissed")
    assert r.exit_code == 1 and "no alert with id" in r.stderr
    assert json.loads(run(app, env, "show", env["alerts"][0].id, "-f", "json").stdout)["status"] == "new"
    r = run(app, env, "review", env["alerts"][0].id, "--status", "deleted")
    assert r.exit_code == 2

    bad = tmp_path / "bad.toml"
    bad.write_text('[store]\nsqlite_path = "x.sqlite"\ntimeout = "soon"\n', encoding="utf-8")
    r = env["runner"].invoke(app, ["alerts", "search", "--config", str(bad)])
    assert r.exit_code == 2
    assert r.stderr.strip().startswith(f"error: {bad}:3: key 'store.timeout'")

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    down = tmp_path / "down.toml"
    down.write_text(
        f'[store]\nurls = ["http://127.0.0.1:{port}"]\nretries = 0\ntimeout = 2\nsqlite_path = "{tmp_path}/d.sqlite"\n',
        encoding="utf-8",
    )
    r = env["runner"].invoke(app, ["alerts", "search", "--config", str(down)])
    assert r.exit_code == 1
    assert len(r.stderr.strip().splitlines()) == 1
    assert f"cannot reach Elasticsearch at http://127.0.0.1:{port}" in r.stderr
