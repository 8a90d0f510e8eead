"""`markwatch audit`: the review site's audit log, read from both stores through the real CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from test_alerts_calibration import config_for
from typer.testing import CliRunner

from alerts.sessions import AuditEvent
from markwatch.cli import app

T = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _seed(store) -> None:
    store.audit_add(AuditEvent(at=T, action="sign_in", user="li", client="127.0.0.1"))
    store.audit_add(AuditEvent(at=T + timedelta(hours=1), action="sign_in_failed", user="wang", ok=False))
    store.audit_add(
        AuditEvent(
            at=T + timedelta(days=1),
            action="review",
            user="li\u202e",
            client="127.0.0.1",
            targets=["a" * 32, "b" * 32, "c" * 32, "d" * 32],
            detail="dismissed: [red]同名不同业[/red]",
        )
    )


def test_audit_lists_filters_and_escapes(store, tmp_path, monkeypatch):
    _seed(store)
    cfg = config_for(store, tmp_path, monkeypatch)
    runner = CliRunner(env={"COLUMNS": "220", "MARKWATCH_LANG": "en"})

    r = runner.invoke(app, ["audit", "--format", "json", "-c", cfg])
    assert r.exit_code == 0, r.output
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert [e["action"] for e in events] == ["review", "sign_in_failed", "sign_in"]  # newest first

    r = runner.invoke(app, ["audit", "--format", "json", "--action", "sign_in_failed", "-c", cfg])
    assert [json.loads(line)["user"] for line in r.stdout.splitlines()] == ["wang"]
    r = runner.invoke(app, ["audit", "--format", "json", "--since", "2026-03-02", "-c", cfg])
    assert [json.loads(line)["action"] for line in r.stdout.splitlines()] == ["review"]
    r = runner.invoke(app, ["audit", "--format", "json", "--limit", "1", "-c", cfg])
    assert len(r.stdout.splitlines()) == 1

    r = runner.invoke(app, ["audit", "-c", cfg])
    assert r.exit_code == 0, r.output
    assert "3 audit event(s)" in r.output and "(+1)" in r.output and "NO" in r.output
    assert "⟨U+202E⟩" in r.output and "[red]同名不同业[/red]" in r.output  # shown, neither obeyed nor styled


def test_audit_refuses_bad_options_plainly(tmp_path, monkeypatch):
    from alerts.sqlite_store import SQLiteAlertStore

    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    cfg = config_for(store, tmp_path, monkeypatch)
    store.close()
    runner = CliRunner()
    for args in (["--action", "delete"], ["--since", "yesterday"], ["--format", "xml"], ["--limit", "0"]):
        r = runner.invoke(app, ["audit", *args, "-c", cfg])
        assert r.exit_code == 2 and "Traceback" not in r.output, (args, r.output)
