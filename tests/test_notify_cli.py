"""`markwatch notify` end to end: the .eml outbox default, --dry-run, env overrides, bad config."""

from __future__ import annotations

import email
from email import policy

import pytest
import typer
from notify_support import MARKS_YAML, Handler, SmtpServer, add_alert
from typer.testing import CliRunner

from alerts.sqlite_store import SQLiteAlertStore
from markwatch.cli import notify as cmd_notify

HOSTILE = "一正<img src=x onerror=alert(1)>药业\r\nBcc: x@evil.example"


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    cmd_notify.register(app)
    app.command("noop", hidden=True)(lambda: None)  # keep `notify` a named subcommand
    return app


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("MARKWATCH_CONFIG", "MARKWATCH_SMTP_HOST", "MARKWATCH_SMTP_PORT", "MARKWATCH_SMTP_SECURITY"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "marks.yaml").write_text(MARKS_YAML, encoding="utf-8")
    (tmp_path / "markwatch.toml").write_text(
        '[store]\nsqlite_path = "var/alerts.sqlite"\n[marks]\npath = "marks.yaml"\n'
        '[review]\nbase_url = "https://review.example"\n'
        '[smtp]\nsender = "markwatch <alerts@markwatch.example>"\ntimeout = 5\n',
        encoding="utf-8",
    )
    store = SQLiteAlertStore(tmp_path / "var" / "alerts.sqlite")
    ids = [
        add_alert(store, "立白", HOSTILE, url="https://shop.example/i?x=1&y=2"),
        add_alert(store, "立白", "立白厂"),
    ]
    yield tmp_path, store, ids
    store.close()


def test_default_writes_eml_files_once(app, world):
    tmp, store, ids = world
    runner = CliRunner()
    res = runner.invoke(app, ["notify"])
    assert res.exit_code == 0, res.output
    assert "outbox" in res.output and "ip@liby.example" in res.output and "sent" in res.output
    (eml,) = (tmp / "var" / "mail-outbox").glob("*.eml")
    assert eml.name.startswith("ip@liby.example--")
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"] == "ip@liby.example" and msg["Bcc"] is None
    assert msg["Subject"] == "[markwatch] 发现 2 个疑似仿冒“立白”的名称或商品"  # [notify] language = "zh" by default
    html = msg.get_body(("html",)).get_content()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert 'href="https://shop.example/i?x=1&amp;y=2"' in html
    for aid in ids:
        assert f"https://review.example/alerts/{aid}" in msg.get_body(("plain",)).get_content()
    again = runner.invoke(app, ["notify"])
    assert again.exit_code == 0 and "Nothing to send" in again.output
    assert len(list((tmp / "var" / "mail-outbox").glob("*.eml"))) == 1


def test_dry_run_shows_and_writes_nothing(app, world):
    tmp, store, ids = world
    res = CliRunner().invoke(app, ["notify", "--dry-run", "--show"])
    assert res.exit_code == 0, res.output
    assert "would-send" in res.output and "[markwatch] 发现 2 个疑似仿冒“立白”的名称或商品" in res.output
    assert f"https://review.example/alerts/{ids[0]}" in res.output
    assert not (tmp / "var" / "mail-outbox").exists()
    assert "would-send" in CliRunner().invoke(app, ["notify", "--dry-run"]).output


def test_environment_overrides_select_smtp(app, world, monkeypatch):
    tmp, store, ids = world
    h = Handler()
    with SmtpServer(h) as srv:
        monkeypatch.setenv("MARKWATCH_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("MARKWATCH_SMTP_PORT", str(srv.port))
        monkeypatch.setenv("MARKWATCH_SMTP_SECURITY", "none")
        res = CliRunner().invoke(app, ["notify"])
    assert res.exit_code == 0, res.output
    assert f"smtp: 127.0.0.1:{srv.port}" in res.output
    assert [r.rcpt_tos for r in h.received] == [["ip@liby.example"]]
    assert not (tmp / "var" / "mail-outbox").exists()


def test_undeliverable_exits_1_and_keeps_pending(app, world, monkeypatch):
    tmp, store, ids = world
    h = Handler(data_reply="554 5.7.1 Rejected")
    with SmtpServer(h) as srv:
        monkeypatch.setenv("MARKWATCH_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("MARKWATCH_SMTP_PORT", str(srv.port))
        monkeypatch.setenv("MARKWATCH_SMTP_SECURITY", "none")
        res = CliRunner().invoke(app, ["notify"])
        assert res.exit_code == 1
        assert "554 5.7.1 Rejected" in res.output and "stay pending" in res.output
        h.data_reply = None
        assert CliRunner().invoke(app, ["notify"]).exit_code == 0
    assert len(h.received) == 1


def test_bad_config_is_one_line_exit_2(app, world):
    tmp, _, _ = world
    cfg = tmp / "markwatch.toml"
    cfg.write_text(cfg.read_text() + 'port = "not a port"\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["notify"])
    assert res.exit_code == 2
    assert res.output.strip().startswith("error: markwatch.toml:10: key 'smtp.port'")
    assert len(res.output.strip().splitlines()) == 1


def test_smtp_transport_without_host_is_config_error(app, world):
    tmp, _, _ = world
    cfg = tmp / "markwatch.toml"
    cfg.write_text(cfg.read_text() + '[notify]\ntransport = "smtp"\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["notify"])
    assert res.exit_code == 2 and "smtp.host" in res.output
