"""The `markwatch cases` contract: open prints the id; list/show/file/close/export/verify; exit codes."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from alerts.evidence import EvidenceStore
from alerts.sqlite_store import SQLiteAlertStore
from markwatch.cli import app

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
USCC = "914201000181BJ1X8M"
run = CliRunner().invoke


@pytest.fixture
def cfg(tmp_path, make_alert):
    marks = tmp_path / "marks.yaml"
    marks.write_text(
        "marks:\n  - name: 一正\n    owner: 吉林一正药业集团有限公司\n    well_known: true\n    classes: [5]\n"
        "    registrations: [{number: '1234567', class: 5}]\n",
        encoding="utf-8",
    )
    toml = tmp_path / "markwatch.toml"
    toml.write_text(
        f'[store]\nsqlite_path = "{tmp_path}/alerts.sqlite"\n[marks]\npath = "{marks}"\n[cases]\ndeadline_days = 20\n',
        encoding="utf-8",
    )
    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    ev = EvidenceStore(tmp_path / "evidence.sqlite")
    eid = ev.put(
        "http://127.0.0.1:1/c/1",
        T0,
        200,
        {"Content-Type": "text/html; charset=utf-8"},
        "<h1>湖北一正药业有限公司</h1>".encode(),
    )
    a = make_alert(
        text="湖北一正药业有限公司", mark="一正", owner="吉林一正药业集团有限公司", item={"uscc": USCC}, evidence_id=eid
    )
    b = make_alert(text="上海九阳电器有限公司", key="other")
    store.upsert([a, b])
    store.review([a.id], "confirmed")
    ev.close()
    store.close()
    return ["--config", str(toml)], a.id, b.id


def test_cli_lifecycle(cfg, tmp_path):
    c, aid, bid = cfg
    r = run(app, ["cases", "open", aid[:10], "--note", "seed", "--who", "li", *c])
    assert r.exit_code == 0, r.output
    case_id = r.output.strip()
    assert case_id.startswith("C-") and len(case_id) == 12
    r = run(app, ["cases", "open", bid, *c])
    assert r.exit_code == 1 and "confirm it first" in r.output
    r = run(app, ["cases", "list", "--format", "json", *c])
    docs = [json.loads(line) for line in r.output.splitlines()]
    assert [d["id"] for d in docs] == [case_id] and docs[0]["authority"]["name"] == "武汉市市场监督管理局"
    r = run(app, ["cases", "file", case_id, "--to", "武汉市市场监督管理局", "--ref", "R-1", *c])
    assert r.exit_code == 0 and "filed" in r.output
    assert json.loads(run(app, ["cases", "show", case_id, "--format", "json", *c]).output)["deadline"]
    r = run(app, ["cases", "file", case_id, "--to", "X", "--deadline", "2026-13-01", *c])
    assert r.exit_code == 2
    r = run(app, ["cases", "show", case_id[:6], *c])
    assert r.exit_code == 0 and "武汉市市场监督管理局" in r.output and "R-1" in r.output
    assert run(app, ["cases", "show", "C-nothere", *c]).exit_code == 1
    if shutil.which("chromium"):
        out = tmp_path / "d.zip"
        r = run(app, ["cases", "export", case_id, "--format", "zip", "--output", str(out), *c])
        assert r.exit_code == 0, r.output
        assert run(app, ["cases", "verify", str(out)]).exit_code == 0
    r = run(app, ["cases", "close", case_id, "--reason", "settled", *c])
    assert r.exit_code == 0 and "closed" in r.output
    r = run(app, ["cases", "file", case_id, "--to", "X", *c])
    assert r.exit_code == 1 and "closed: cannot file" in r.output
    r = run(app, ["cases", "list", "--state", "nope", *c])
    assert r.exit_code == 2


def test_cli_case_changes_are_audited(cfg, tmp_path):
    from alerts.sessions import AuditQuery

    c, aid, bid = cfg
    case_id = run(app, ["cases", "open", aid, "--by", "li<b>", *c]).output.strip()
    assert run(app, ["cases", "file", case_id, "--to", "武汉市市场监督管理局", *c]).exit_code == 0
    assert run(app, ["cases", "resolve", case_id, "--resolution", "renamed", *c]).exit_code == 0
    assert run(app, ["cases", "reopen", case_id, *c]).exit_code == 0
    assert run(app, ["cases", "close", case_id, "--reason", "settled", *c]).exit_code == 0
    assert run(app, ["cases", "close", case_id, "--reason", "again", *c]).exit_code == 1  # refused, audited too
    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    try:
        events = sorted(store.audit_search(AuditQuery(action="case")), key=lambda e: e.at)
    finally:
        store.close()
    assert [(e.detail.split(":")[0], e.ok) for e in events] == [
        ("cli open", True),
        ("cli file", True),
        ("cli resolve", True),
        ("cli reopen", True),
        ("cli close", True),
        ("cli close", False),
    ]
    assert events[0].user == "li<b>" and events[0].targets == [case_id, aid] and events[0].client == "cli"
    assert all(e.user.startswith("cli:") or e.user == "cli" for e in events[1:])
    assert "cannot close" in events[-1].detail


def test_export_language_from_the_owner_or_the_option(cfg, tmp_path):
    c, aid, _ = cfg
    assert (
        run(
            app, ["cases", "export", "C-x", "--format", "zip", "-o", str(tmp_path / "x"), "--language", "fr", *c]
        ).exit_code
        == 2
    )
    if not shutil.which("chromium"):
        pytest.skip("needs chromium")
    marks = tmp_path / "marks.yaml"
    marks.write_text(marks.read_text(encoding="utf-8") + "    notify: [ip@yizheng.example]\n", encoding="utf-8")
    toml = tmp_path / "markwatch.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + '[notify.recipients."ip@yizheng.example"]\nlanguage = "en"\n',
        encoding="utf-8",
    )
    case_id = run(app, ["cases", "open", aid, *c]).output.strip()

    def lang_of(*extra: str) -> str:
        out = tmp_path / f"d{len(extra)}.zip"
        r = run(app, ["cases", "export", case_id, "--format", "zip", "--output", str(out), *extra, *c])
        assert r.exit_code == 0, r.output
        with zipfile.ZipFile(out) as z:
            html = z.read(next(n for n in z.namelist() if n.endswith("dossier.html"))).decode()
        return html.split('<html lang="', 1)[1].split('"', 1)[0]

    assert lang_of() == "en"  # the owner's recipient reads English
    assert lang_of("--language", "zh") == "zh-CN"
