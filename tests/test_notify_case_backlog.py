"""A new digest address hears of recent case updates, not the whole backlog; `markwatch notify` counts them.

Real SQLite alerts and case stores, the real notify ledger, a real SMTP server (aiosmtpd on 127.0.0.1).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import typer
from notify_support import MARKS_YAML, Handler, SmtpServer, add_alert, settings_for
from typer.testing import CliRunner

from alerts.cases.service import file_case, open_case, resolve_case
from alerts.cases.store import open_case_store
from alerts.notify.case_updates import NEW_ADDRESS_WINDOW
from alerts.notify.ledger import Ledger
from alerts.sqlite_store import SQLiteAlertStore
from markwatch.cli import notify as cmd_notify
from markwatch.services.notify_run import ledger_path, notify
from matcher.marksfile import parse_marks

LIBY = "ip@liby.example"
LATE = "late@liby.example"  # added 30 days after the case was resolved
SOON = "soon@liby.example"  # added 3 days after


def _marks(*extra: str):
    text = MARKS_YAML.replace("notify: [ip@liby.example]", f"notify: [{', '.join([LIBY, *extra])}]")
    return parse_marks(text, "marks.yaml")


def _resolved_case(store) -> str:
    aid = add_alert(store, "立白", "立白日化用品厂")
    store.review([aid], "confirmed")
    cases = open_case_store(store)
    case = open_case(store, cases, [aid])
    file_case(cases, case.id, to="上海市市场监督管理局")
    resolve_case(cases, case.id, resolution="renamed")
    return case.id


@dataclass
class Mail:
    store: SQLiteAlertStore
    handler: Handler
    settings: Any
    now: dt.datetime

    def run(self, *extra: str, days: int = 0):
        """One notify run *days* after the test began, with *extra* addresses on 立白."""
        return notify(self.settings, marks=_marks(*extra), store=self.store, now=self.now + dt.timedelta(days=days))


@pytest.fixture
def mail(tmp_path) -> Iterator[Mail]:
    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    h = Handler()
    try:
        with SmtpServer(h) as srv:
            settings = settings_for(tmp_path, smtp={"host": "127.0.0.1", "port": srv.port, "security": "none"})
            yield Mail(store, h, settings, dt.datetime.now(dt.UTC))
    finally:
        store.close()


def test_a_new_address_starts_near_when_it_was_added(mail):
    case_id = _resolved_case(mail.store)
    assert [(o.recipient, o.cases, o.state) for o in mail.run().outcomes] == [(LIBY, 1, "sent")]
    # Three days later one address is added, a month later another: only the first hears of it.
    soon = mail.run(SOON, days=3)
    assert [(o.recipient, o.cases, o.state) for o in soon.outcomes] == [(SOON, 1, "sent")]
    assert mail.run(SOON, LATE, days=30).outcomes == []
    # The late address stays where it was first seen: a later run does not bring the backlog back.
    assert mail.run(SOON, LATE, days=31).outcomes == []
    assert [r.rcpt_tos for r in mail.handler.received] == [[LIBY], [SOON]]
    assert all(case_id in r.message.get_body(("plain",)).get_content() for r in mail.handler.received)
    with Ledger(ledger_path(mail.settings)) as led:
        assert led.recipient_since(LATE, mail.now) == mail.now + dt.timedelta(days=30)
        assert led.recipient_since(SOON, mail.now) == mail.now + dt.timedelta(days=3)
    assert dt.timedelta(days=3) < NEW_ADDRESS_WINDOW < dt.timedelta(days=30)  # the two sides of the window


def test_an_address_known_before_the_ledger_kept_dates_counts_from_its_first_message(mail):
    add_alert(mail.store, "立白", "立白厂")
    mail.run()  # the alert digest
    con = sqlite3.connect(ledger_path(mail.settings))  # a ledger from before the dates were kept
    con.execute("DELETE FROM recipients")
    con.commit()
    con.close()
    _resolved_case(mail.store)
    later = mail.run(days=60)
    # Its first message is the start: the resolution since then is news for it however late the run.
    assert [(o.recipient, o.alerts, o.cases) for o in later.outcomes] == [(LIBY, 0, 1)]


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    cmd_notify.register(app)
    app.command("noop", hidden=True)(lambda: None)
    return app


def test_notify_table_counts_case_updates_and_failures(app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("MARKWATCH_CONFIG", "MARKWATCH_SMTP_HOST", "MARKWATCH_SMTP_PORT", "MARKWATCH_SMTP_SECURITY"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "marks.yaml").write_text(
        MARKS_YAML.replace("notify: [ip@liby.example]", f"notify: [{LIBY}, {SOON}]"), encoding="utf-8"
    )
    store = SQLiteAlertStore(tmp_path / "var" / "alerts.sqlite")
    try:
        _resolved_case(store)
        add_alert(store, "立白", "立白厂")
    finally:
        store.close()
    h = Handler(rcpt_replies={SOON: "550 5.1.1 no such user"})
    with SmtpServer(h) as srv:
        (tmp_path / "markwatch.toml").write_text(
            '[store]\nsqlite_path = "var/alerts.sqlite"\n[marks]\npath = "marks.yaml"\n'
            '[review]\nbase_url = "https://review.example"\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {srv.port}\nsecurity = "none"\n'
            'sender = "markwatch <alerts@markwatch.example>"\ntimeout = 5\n',
            encoding="utf-8",
        )
        res = CliRunner().invoke(app, ["notify"], env={"COLUMNS": "200"})
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    header = next(line for line in lines if "Recipient" in line)
    assert "Case updates" in header
    cells = {}
    for line in lines:
        parts = [c.strip() for c in re.split(r"[│┃]", line)]
        if len(parts) > 4 and parts[1] in (LIBY, SOON):
            cells[parts[1]] = parts[2:5]
    assert cells[LIBY] == ["1", "1", "sent"]
    assert cells[SOON] == ["1", "1", "failed"]
    footer = next(line for line in lines if "2 digest(s)" in line)
    assert re.search(r"│\s*2\s*│\s*2\s*│\s*1 failed, 1 sent", footer), footer
