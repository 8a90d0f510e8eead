"""A scheduled scan that fails on its configuration is recorded like any failed run: runs, metrics, operators' mail."""

from __future__ import annotations

import json
from email import message_from_bytes
from email.policy import default

from scan_support import ROOT, cli, write_config

from markwatch.services import config_failure
from markwatch.services.schedule import run_scheduled_scan


def test_a_scheduled_scan_with_an_unset_secret_is_a_failed_run(tmp_path, monkeypatch):
    for name in ("QCC_APP_KEY", "QCC_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    metrics = tmp_path / "var" / "metrics" / "markwatch.prom"
    cfg = write_config(
        tmp_path,
        "http://127.0.0.1:9",
        ["qcc-search"],
        f'metrics_file = "{metrics}"\n[notify]\noutbox_dir = "{tmp_path}/var/outbox"\noperators = ["ops@example.org"]\n',
    )
    # the [notify] table is written twice by write_config + extra: merge it into one
    text = cfg.read_text("utf-8").replace(f'[notify]\noutbox_dir = "{tmp_path}/var/outbox"\n[scan]', "[scan]", 1)
    cfg.write_text(text, encoding="utf-8")
    rc = run_scheduled_scan(str(cfg), str(ROOT), 120)
    assert rc == 2
    runs = json.loads(cli("runs", "--config", str(cfg), "--format", "json").stdout)
    assert [(r["trigger"], r["status"]) for r in runs] == [("schedule", "failed")]
    err = runs[0]["errors"][0]
    assert err.startswith("configuration error:") and "QCC_APP_KEY is not set" in err and "qcc-search" in err
    prom = metrics.read_text("utf-8")
    assert 'markwatch_scan_state{status="failed"} 2.0' in prom
    mails = list((tmp_path / "var" / "outbox").rglob("*.eml"))
    assert len(mails) == 1
    msg = message_from_bytes(mails[0].read_bytes(), policy=default)
    assert msg["To"] == "ops@example.org" and "failed" in msg["Subject"]
    assert "QCC_APP_KEY is not set" in msg.get_body().get_content()


def test_an_unreadable_config_is_recorded_with_the_settings_the_scheduler_started_with(tmp_path):
    from markwatch.config import load_settings

    cfg = write_config(tmp_path, "http://127.0.0.1:9", ["demo-registry"])
    config_failure.remember_settings(load_settings(cfg))
    cfg.write_text("[scan\nbroken", encoding="utf-8")  # edited into nonsense after the scheduler started
    rc = run_scheduled_scan(str(cfg), str(ROOT), 120)
    assert rc == 2
    cfg2 = write_config(tmp_path / "again", "http://127.0.0.1:9", ["demo-registry"])
    text = cfg2.read_text("utf-8").replace(f"{tmp_path}/again/var/state", f"{tmp_path}/var/state")
    cfg2.write_text(text, encoding="utf-8")
    runs = json.loads(cli("runs", "--config", str(cfg2), "--format", "json").stdout)
    assert [r["status"] for r in runs] == ["failed"]
    assert "configuration unreadable now" in runs[0]["errors"][0]


def test_the_scan_itself_records_it_when_run_by_the_scheduler_but_not_from_a_terminal(tmp_path, monkeypatch):
    for name in ("QCC_APP_KEY", "QCC_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    cfg = write_config(tmp_path, "http://127.0.0.1:9", ["qcc-search"])
    p = cli("scan", "--config", str(cfg), "--no-progress")
    assert p.returncode == 2 and "QCC_APP_KEY" in p.stderr
    assert not (tmp_path / "var" / "state" / "runs.sqlite").exists()  # on a terminal the line is the story
    p = cli("scan", "--config", str(cfg), "--no-progress", "--trigger", "schedule")
    assert p.returncode == 2 and p.stderr.count("error:") == 1
    runs = json.loads(cli("runs", "--config", str(cfg), "--format", "json").stdout)
    assert [(r["trigger"], r["status"]) for r in runs] == [("schedule", "failed")]
