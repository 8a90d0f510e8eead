"""The commands around entities and exceptions, through Typer and the review site, on a real store.

`markwatch alerts migrate` (twice), `alerts review --never-flag`, `exceptions list/add/revoke`,
`alerts rescreen` (dry run and --apply) against a real marks file, and the site's "never flag this
word again" box and Exceptions page with CSRF and hostile text.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
import typer
from conftest import T0
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_support import PASSWORD, settings

from alerts.sqlite_store import SQLiteAlertStore
from alerts.store import AlertQuery
from markwatch.cli import alerts as cmd_alerts
from markwatch.cli import exceptions as cmd_exceptions
from markwatch.services.exclusions import effective_marks_file, with_exceptions
from matcher.marksfile import load_marks

MARKS = """marks:
  - name: 九阳
    owner: 九阳股份有限公司
    classes: [7, 11]
    industries: [电器, 家电, 小家电, 厨具]
  - name: 老干妈
    owner: 贵州南明老干妈风味食品有限责任公司
    classes: [29, 30]
    industries: [食品, 调味品]
"""


@pytest.fixture
def app():
    a = typer.Typer()
    cmd_alerts.register(a)
    cmd_exceptions.register(a)

    @a.callback()
    def _root() -> None:
        """markwatch (test root)."""

    return a


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in [v for v in list(__import__("os").environ) if v.startswith("MARKWATCH_")]:
        monkeypatch.delenv(var)
    db = tmp_path / "var" / "alerts.sqlite"
    marks = tmp_path / "marks.yaml"
    marks.write_text(MARKS, encoding="utf-8")
    cfg = tmp_path / "markwatch.toml"
    cfg.write_text(f'[store]\nsqlite_path = "{db}"\n[marks]\npath = "{marks}"\n', encoding="utf-8")
    return {"cfg": str(cfg), "db": db, "marks": marks, "runner": CliRunner(env={"MARKWATCH_LANG": "en"})}


def _flat(result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def _legacy(alert):
    legacy = hashlib.sha256(f"{alert.source}\x1f{alert.subject_key}\x1f{alert.mark}".encode()).hexdigest()[:32]
    return alert.model_copy(update={"id": legacy, "entity": "", "sightings": []})


def test_migrate_command_merges_and_a_second_run_changes_nothing(app, env, make_alert):
    store = SQLiteAlertStore(env["db"])
    a = _legacy(make_alert("上海九阳电器有限公司", source="gsxt"))
    b = _legacy(make_alert("上海九阳电器有限公司", source="qcc", now=T0 + timedelta(hours=1)))
    store._replace([a, b], [])
    store.review([b.id], "dismissed", "not them", who="li")
    store.close()
    run = env["runner"].invoke
    r = run(app, ["alerts", "migrate", "--dry-run", "-c", env["cfg"]])
    assert r.exit_code == 0, r.output
    assert "2 alert(s) before, 1 after" in _flat(r) and "would be" in _flat(r)
    r = run(app, ["alerts", "migrate", "-c", env["cfg"]])
    assert "2 alert(s) before, 1 after" in _flat(r) and "2 old id(s) were removed" in _flat(r), r.output
    r = run(app, ["alerts", "migrate", "-c", env["cfg"]])
    assert "1 alert(s) before, 1 after" in _flat(r) and "0 alert(s) were rewritten, 0 old id(s)" in _flat(r)
    store = SQLiteAlertStore(env["db"])
    [only] = list(store.export(AlertQuery()))
    assert only.status == "dismissed" and sorted(only.sources) == ["gsxt", "qcc"]
    store.close()


def test_never_flag_exceptions_list_and_revoke(app, env, make_alert):
    store = SQLiteAlertStore(env["db"])
    a = make_alert("北京市老干部活动中心", mark="老干妈", owner="贵州老干妈")
    store.upsert([a])
    store.close()
    run = env["runner"].invoke
    r = run(app, ["alerts", "review", a.id, "-s", "confirmed", "--never-flag", "老干部", "-c", env["cfg"]])
    assert r.exit_code != 0 and "goes with --status dismissed" in _flat(r)
    r = run(
        app,
        [
            "alerts",
            "review",
            a.id[:12],
            "-s",
            "dismissed",
            "--never-flag",
            "老干部",
            "-n",
            "not 老干妈",
            "--who",
            "li",
            "-c",
            env["cfg"],
        ],
    )
    assert r.exit_code == 0, r.output
    exc_id = re.search(r"Exception (x[0-9a-f]+)", r.output).group(1)
    r = run(app, ["exceptions", "add", "\u200b\u202e", "-c", env["cfg"]])
    assert r.exit_code != 0  # nothing visible: refused
    r = run(app, ["exceptions", "add", "中心", "--why", "common word", "--who", "wang", "-c", env["cfg"]])
    assert r.exit_code == 0 and "every mark" in _flat(r)
    r = run(app, ["exceptions", "list", "--format", "json", "-c", env["cfg"]])
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert [(x["mark"], x["word"], x["who"]) for x in rows] == [(None, "中心", "wang"), ("老干妈", "老干部", "li")]
    assert rows[1]["why"] == "not 老干妈" and rows[1]["alert_id"] == a.id
    r = run(app, ["exceptions", "revoke", exc_id, "--why", "oops", "-c", env["cfg"]])
    assert r.exit_code == 0 and "revoked" in _flat(r)
    r = run(app, ["exceptions", "list", "--format", "json", "-c", env["cfg"]])
    assert [json.loads(line)["word"] for line in r.output.splitlines()] == ["中心"]
    r = run(app, ["exceptions", "list", "--all", "-c", env["cfg"]])
    assert "2 exception(s)" in _flat(r)
    r = run(app, ["exceptions", "revoke", "x00", "-c", env["cfg"]])
    assert r.exit_code == 1


def test_stored_exceptions_become_the_marks_exclude_lists(env, tmp_path, make_alert):
    from alerts.exceptions import MarkException

    marks = load_marks(env["marks"])
    assert effective_marks_file(env["marks"], marks, [], tmp_path / "state") == env["marks"]
    excs = [
        MarkException(mark="老干妈", word="老干部", who="li", at=T0),
        MarkException(word="中心", who="li", at=T0 + timedelta(seconds=1)),
        MarkException(mark="九阳", word="九阳光", who="li", at=T0).model_copy(update={"revoked_at": T0}),
    ]
    path = effective_marks_file(env["marks"], marks, excs, tmp_path / "state")
    assert path != env["marks"] and env["marks"].read_text(encoding="utf-8") == MARKS  # never edited
    got = {m.name: m.exclude for m in load_marks(path)}
    assert got == {"九阳": ["中心"], "老干妈": ["老干部", "中心"]}
    assert with_exceptions(marks, excs)[0].model_dump(exclude={"exclude"}) == marks[0].model_dump(exclude={"exclude"})


def test_rescreen_reports_then_closes_what_no_longer_matches(app, env, make_alert):
    from matcher import Matcher
    from matcher.types import Subject

    matcher = Matcher(load_marks(env["marks"]))
    still = "上海九阳电器有限公司"
    assert any(h.mark == "九阳" for h in matcher.screen(Subject(text=still)))
    gone = make_alert("上海九州电器有限公司", source="gsxt")  # stored by an older, looser rule
    keep = make_alert(still, source="gsxt")
    done = make_alert("杭州九州小家电有限公司", source="gsxt")
    store = SQLiteAlertStore(env["db"])
    store.upsert([gone, keep, done])
    store.review([done.id], "confirmed", "", who="li")
    store.close()
    run = env["runner"].invoke
    r = run(app, ["alerts", "rescreen", "-c", env["cfg"]])
    assert r.exit_code == 0, r.output
    assert "2 open alert(s) re-judged; 1 would close, 1 still match." in _flat(r) and gone.id[:12] in r.output
    store = SQLiteAlertStore(env["db"])
    assert store.get(gone.id).status == "new"  # a dry run
    store.close()
    r = run(app, ["alerts", "rescreen", "--apply", "--who", "li", "-c", env["cfg"]])
    assert "1 closed" in _flat(r), r.output
    store = SQLiteAlertStore(env["db"])
    g = store.get(gone.id)
    assert g.status == "dismissed" and g.history[-1].note == "rescreened: no longer matches"
    assert store.get(keep.id).status == "new" and store.get(done.id).status == "confirmed"
    store.close()
    r = run(app, ["alerts", "rescreen", "-c", env["cfg"]])
    assert "1 open alert(s) re-judged; 0 would close" in _flat(r)


def _signed_in(client) -> str:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": "li", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 200
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', r.text).group(1)


def test_review_site_never_flag_and_exceptions_page(store, tmp_path, make_alert):
    from alerts.evidence import EvidenceStore
    from markwatch.web import create_app

    hostile = "<b>老干部</b>"
    a = make_alert("北京市老干部活动中心", mark="老干妈", owner="贵州老干妈")
    b = make_alert("北京市老干部活动中心", mark="老干妈", owner="贵州老干妈", source="qcc", now=T0 + timedelta(hours=1))
    store.upsert([a, b])
    evidence = EvidenceStore(tmp_path / "evidence.sqlite")
    app = create_app(settings(tmp_path), store=store, evidence=evidence)
    with TestClient(app) as c:
        csrf = _signed_in(c)
        page = c.get(f"/alerts/{a.id}")
        assert 'id="never"' in page.text and page.text.count('class="sighting"') == 2
        # Without the CSRF token nothing happens.
        r = c.post(f"/alerts/{a.id}/review", data={"status": "dismissed", "never": "1", "never_word": "老干部"})
        assert r.status_code == 403 and store.exception_list() == []
        r = c.post(
            f"/alerts/{a.id}/review",
            data={"status": "dismissed", "never": "1", "never_word": hostile, "note": "不是老干妈", "csrf_token": csrf},
        )
        assert r.status_code == 200
        [e] = store.exception_list()
        assert (e.mark, e.word, e.who, e.alert_id) == ("老干妈", hostile, "li", a.id)
        assert store.get(a.id).status == "dismissed"
        page = c.get("/exceptions")
        assert "&lt;b&gt;老干部&lt;/b&gt;" in page.text and "<b>老干部</b>" not in page.text
        r = c.post(f"/exceptions/{e.id}/revoke", data={"why": "x"})
        assert r.status_code == 403 and store.exception_list(active_only=True)
        r = c.post(f"/exceptions/{e.id}/revoke", data={"why": "x", "csrf_token": csrf})
        assert r.status_code == 200 and store.exception_list(active_only=True) == []
        assert "revoked" in c.get("/exceptions?all=1").text
    evidence.close()


def test_a_scan_builds_its_matcher_from_the_marks_and_the_active_exceptions(env, tmp_path):
    from alerts.exceptions import MarkException
    from markwatch.config import load_settings
    from markwatch.services.scan import _with_stored_exceptions

    settings = load_settings(env["cfg"])
    marks = load_marks(settings.marks.path)
    assert _with_stored_exceptions(settings, marks) is settings  # no exception: the file as configured
    store = SQLiteAlertStore(env["db"])
    e = store.exception_add(MarkException(mark="老干妈", word="老干部", who="li", at=T0))
    store.close()
    got = _with_stored_exceptions(settings, marks)
    assert got.marks.path == settings.scan.state_dir / "marks.effective.yaml"
    assert {m.name: m.exclude for m in load_marks(got.marks.path)} == {"九阳": [], "老干妈": ["老干部"]}
    store = SQLiteAlertStore(env["db"])
    store.exception_revoke(e.id, "li")
    store.close()
    assert _with_stored_exceptions(settings, marks) is settings  # revoked: flagged again from the next scan
