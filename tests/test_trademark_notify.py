"""Trademark alerts in the brand owner's digest, and the opposition-deadline reminders 30 and 7 days
before an unhandled deadline: through a real SMTP server (aiosmtpd on 127.0.0.1), once each, also
when the server was down on the day, after a restart and after a run killed mid-delivery."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from notify_support import KILLABLE_RUN, Handler, SmtpServer, add_alert, free_port, write_config

from alerts.deadlines import opposition_deadline, reminder_key
from alerts.model import alert_from_hit
from alerts.notify.ledger import Ledger
from alerts.sqlite_store import SQLiteAlertStore
from markwatch.services.notify_run import ledger_path, notify
from matcher.types import Hit, Reason, Subject

OWNER = "ip@yizheng.example"
AGENCY = "watch@agency.example"


@pytest.fixture
def store(tmp_path):
    s = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    yield s
    s.close()


def add_tm(store, mark: str, text: str, number: str, announced: str, classes=(5,), at=None) -> str:
    """A trademark alert as the gazette scan stores it (alert_from_hit + upsert)."""
    hit = Hit(mark, f"{mark} owner", 0.92, (0, len(text)), text, (Reason("homophone", "读音相同", "same sound"),))
    subject = Subject(
        text, kind="trademark", classes=tuple(classes), number=number, applicant="某某商贸有限公司", announced=announced
    )
    alert = alert_from_hit(
        hit,
        subject,
        source="cnipa-gazette",
        subject_key=f"tm:{number}",
        item={"number": number, "announcement": "1963"},
        evidence_id=None,
        now=at or dt.datetime(2026, 1, 20, tzinfo=dt.UTC),
    )
    store.upsert([alert])
    return alert.id


def _settings(tmp_path, port: int):
    from notify_support import settings_for

    (tmp_path / "marks.yaml").write_text(
        "marks:\n  - name: 一正\n    owner: 吉林一正药业集团有限公司\n    classes: [5]\n"
        f"    notify: [{OWNER}, {AGENCY}]\n",
        encoding="utf-8",
    )
    return settings_for(tmp_path, smtp={"host": "127.0.0.1", "port": port, "security": "none"})


def run(tmp_path, store, port: int, day: dt.date):
    from matcher.marksfile import load_marks

    settings = _settings(tmp_path, port)
    now = dt.datetime.combine(day, dt.time(1, 0), tzinfo=dt.UTC)  # 09:00 in Shanghai
    return notify(settings, marks=load_marks(settings.marks.path), store=store, now=now)


def text_of(received) -> str:
    return received.message.get_body(("plain",)).get_content()


def reminder_lines(received, number: str) -> list[str]:
    """The reminder lines about application *number* in the received messages' text parts."""
    out = []
    for r in received:
        text = text_of(r)
        if "== Opposition deadline reminders ==" not in text:
            continue
        section = text.split("== Opposition deadline reminders ==", 1)[1].split("\n== ", 1)[0]
        out += [ln for ln in section.splitlines() if f"No. {number}," in ln]
    return out


def test_digest_lists_trademark_alerts_in_their_own_section_by_deadline(tmp_path, store):
    far = add_tm(store, "一正", "壹正", "71000001", "2026-01-15")  # deadline 2026-04-15
    near = add_tm(store, "一正", "一正堂", "71000002", "2025-12-30")  # 2026-03-30
    none = add_tm(store, "一正", "壹正堂", "71000003", "")  # a provider row: no announcement date
    firm = add_alert(store, "一正", "一正制药有限公司")
    assert opposition_deadline("2025-12-30").deadline == dt.date(2026, 3, 30)
    h = Handler()
    with SmtpServer(h) as srv:
        report = run(tmp_path, store, srv.port, dt.date(2026, 2, 1))
    assert {o.state for o in report.outcomes} == {"sent"}
    got = h.to(OWNER)
    assert len(got) == 1
    text = text_of(got[0])
    section = text.split("== Trademark applications (by opposition deadline) (3) ==", 1)[1].split("\n== ", 1)[0]
    order = [ln for ln in section.splitlines() if ln[:2] in ("1.", "2.", "3.")]
    assert order == [
        "1. 一正堂  [57 days left, deadline 2026-03-30]",
        "2. 壹正  [73 days left, deadline 2026-04-15]",
        "3. 壹正堂  [no deadline (announcement date unknown)]",
    ]
    assert "No. 71000002, class 5, suspected imitation of 一正" in section
    assert "announced in issue 1963, 2025-12-30" in section
    assert "opposition at CNIPA, by 2026-03-30" in section
    # the enterprise name stays in the mark's own section, not among the applications
    assert "一正制药有限公司" in text.split("== 一正 (1) ==", 1)[1]
    assert "一正制药有限公司" not in section
    html = got[0].message.get_body(("html",)).get_content()
    assert "Trademark applications (by opposition deadline)" in html
    assert html.index("一正堂") < html.index("壹正</strong>")
    assert "57 days left" in html
    with Ledger(ledger_path(_settings(tmp_path, 25))) as led:
        assert all(led.delivery(a, OWNER)["state"] == "sent" for a in (far, near, none, firm))


def test_reminders_30_and_7_days_before_once_each(tmp_path, store):
    aid = add_tm(store, "一正", "壹正", "72000001", "2026-01-15")  # deadline 2026-04-15
    deadline = dt.date(2026, 4, 15)
    h = Handler()
    with SmtpServer(h) as srv:
        run(tmp_path, store, srv.port, deadline - dt.timedelta(days=60))  # the alert itself
        for left in (31, 30, 30, 29, 20, 8, 7, 7, 6, 1, 0, -1):
            run(tmp_path, store, srv.port, deadline - dt.timedelta(days=left))
    for addr in (OWNER, AGENCY):
        got = h.to(addr)
        lines = reminder_lines(got, "72000001")
        assert len(got) == 3, [m.message["Subject"] for m in got]  # the alert, then one reminder each
        assert len(lines) == 2
        assert lines[0].startswith("- 30 days left (deadline 2026-04-15)")
        assert lines[1].startswith("- 7 days left (deadline 2026-04-15)")
        assert got[1].message["Subject"] == (
            "[markwatch] Opposition deadline reminder: 1 application, the nearest in 30 days"
        )
    with Ledger(ledger_path(_settings(tmp_path, 25))) as led:
        for days in (30, 7):
            row = led.case_update(reminder_key(aid, days), OWNER)
            assert row["state"] == "sent" and row["attempts"] == 1


def test_a_new_alert_already_within_30_days_is_told_once_and_its_reminder_settled(tmp_path, store):
    aid = add_tm(store, "一正", "壹正", "72000002", "2026-01-15")  # deadline 2026-04-15
    deadline = dt.date(2026, 4, 15)
    h = Handler()
    with SmtpServer(h) as srv:
        run(tmp_path, store, srv.port, deadline - dt.timedelta(days=20))  # first told 20 days before
        run(tmp_path, store, srv.port, deadline - dt.timedelta(days=19))
    got = h.to(OWNER)
    assert len(got) == 1
    text = text_of(got[0])
    assert text.count("壹正") == 1, text  # in the trademark section, not a second time as a reminder
    assert reminder_lines(got, "72000002") == []
    assert "20 days left, deadline 2026-04-15" in text
    with Ledger(ledger_path(_settings(tmp_path, 25))) as led:
        assert led.case_update(reminder_key(aid, 30), OWNER)["state"] == "sent"


def test_reminder_delayed_while_the_server_is_down_never_dropped(tmp_path, store):
    aid = add_tm(store, "一正", "壹正", "73000001", "2026-01-15")
    deadline = dt.date(2026, 4, 15)
    port = free_port()
    h = Handler()
    with SmtpServer(h, port=port):
        run(tmp_path, store, port, deadline - dt.timedelta(days=45))
    # the server is down on the 30th and the 29th day before: the reminder waits
    for left in (30, 29):
        report = run(tmp_path, store, port, deadline - dt.timedelta(days=left))
        assert {o.state for o in report.outcomes} == {"failed"}
        assert all(o.reminders == 1 for o in report.outcomes)
    with Ledger(ledger_path(_settings(tmp_path, 25))) as led:
        row = led.case_update(reminder_key(aid, 30), OWNER)
        assert row["state"] == "pending" and "refused" in row["last_error"].lower()
    with SmtpServer(h, port=port):
        run(tmp_path, store, port, deadline - dt.timedelta(days=28))  # up again: sent late, once
        run(tmp_path, store, port, deadline - dt.timedelta(days=27))
        # a server refusal on the 7th day, then the next day's run sends it
        h.data_reply = "451 4.3.0 Try again later"
        run(tmp_path, store, port, deadline - dt.timedelta(days=7))
        h.data_reply = None
        run(tmp_path, store, port, deadline - dt.timedelta(days=6))
        run(tmp_path, store, port, deadline - dt.timedelta(days=5))
    for addr in (OWNER, AGENCY):
        lines = reminder_lines(h.to(addr), "73000001")
        assert [ln.split(" (")[0] for ln in lines] == ["- 28 days left", "- 6 days left"]
        assert "30-day reminder" in text_of(h.to(addr)[1]) and "7-day reminder" in text_of(h.to(addr)[2])


def test_runs_missed_until_both_are_due_tell_the_owner_once_and_settle_both(tmp_path, store):
    aid = add_tm(store, "一正", "壹正", "74000001", "2026-01-15")
    deadline = dt.date(2026, 4, 15)
    h = Handler()
    with SmtpServer(h) as srv:
        run(tmp_path, store, srv.port, deadline - dt.timedelta(days=60))  # the alert itself
        run(tmp_path, store, srv.port, deadline - dt.timedelta(days=5))  # no run since: 5 days left
        run(tmp_path, store, srv.port, deadline - dt.timedelta(days=4))
    got = h.to(OWNER)
    assert len(got) == 2  # the alert, then one reminder line settling both the 30- and the 7-day one
    lines = reminder_lines(got, "74000001")
    assert len(lines) == 1 and lines[0].startswith("- 5 days left")
    with Ledger(ledger_path(_settings(tmp_path, 25))) as led:
        assert led.case_update(reminder_key(aid, 30), OWNER)["state"] == "sent"
        assert led.case_update(reminder_key(aid, 7), OWNER)["state"] == "sent"


def test_handled_deadlines_get_no_reminder(tmp_path, store):
    from alerts.cases.service import file_case, open_case
    from alerts.cases.store import open_case_store

    filed = add_tm(store, "一正", "壹正", "75000001", "2026-01-15")
    dismissed = add_tm(store, "一正", "一正堂", "75000002", "2026-01-15")
    still_open = add_tm(store, "一正", "壹正堂", "75000003", "2026-01-15")
    store.review([filed], "confirmed", who="analyst")
    store.review([dismissed], "dismissed", note="the applicant is a licensee", who="analyst")
    cases = open_case_store(store)
    case = open_case(store, cases, [filed])
    file_case(cases, case.id, to="国家知识产权局商标局", ref="YY2026000001")
    h = Handler()
    with SmtpServer(h) as srv:
        run(tmp_path, store, srv.port, dt.date(2026, 1, 20))  # the alerts themselves
        run(tmp_path, store, srv.port, dt.date(2026, 3, 20))
    text = text_of(h.to(OWNER)[-1])
    assert reminder_lines(h.to(OWNER), "75000003")
    assert not reminder_lines(h.to(OWNER), "75000001") and not reminder_lines(h.to(OWNER), "75000002")
    assert "75000001" not in text.split("== Opposition deadline reminders ==")[1].split("\n== ")[0]
    assert still_open


@pytest.mark.slow
def test_reminder_in_a_run_killed_after_delivery_is_resent_identically_not_twice(tmp_path):
    """SIGKILL right after the server took the reminder, before the ledger said so: the next run
    re-sends the same bytes (same Message-ID, which receivers drop as a duplicate); no new one."""
    today = dt.datetime.now(dt.UTC).date()
    # announced so that the deadline is 10..25 days away: the 30-day reminder is due today
    announced = today - dt.timedelta(days=75)
    left = (opposition_deadline(announced).deadline - today).days
    assert 7 < left <= 30
    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    aid = add_tm(store, "一正", "壹正", "76000001", announced.isoformat(), at=dt.datetime.now(dt.UTC))
    with Ledger(tmp_path / "notify.sqlite") as led:  # the alert itself went out earlier
        led.begin("<old@markwatch.example>", OWNER, "x", (aid,), b"x")
        led.sent("<old@markwatch.example>")
        led.begin("<old2@markwatch.example>", AGENCY, "x", (aid,), b"x")
        led.sent("<old2@markwatch.example>")
    store.close()
    h = Handler()
    with SmtpServer(h) as srv:
        cfg = write_config(tmp_path, {"host": "127.0.0.1", "port": srv.port, "security": "none"})
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        p = subprocess.run([sys.executable, "-c", KILLABLE_RUN, str(cfg), OWNER], env=env, capture_output=True)
        assert p.returncode == -9, p.stderr[-2000:]
        first = [r.raw for r in h.to(OWNER)]
        p = subprocess.run([sys.executable, "-c", KILLABLE_RUN, str(cfg)], env=env, capture_output=True)
        assert p.returncode == 0, p.stderr[-2000:]
        p = subprocess.run([sys.executable, "-c", KILLABLE_RUN, str(cfg)], env=env, capture_output=True)
        assert p.returncode == 0, p.stderr[-2000:]
    owner = h.to(OWNER)
    assert len(first) == 1 and len(owner) == 2 and owner[1].raw == first[0]  # the identical re-send
    assert len(reminder_lines(h.to(AGENCY), "76000001")) == 1
    with Ledger(tmp_path / "notify.sqlite") as led:
        assert led.case_update(reminder_key(aid, 30), OWNER)["state"] == "sent"


def test_an_opposition_not_filed_by_its_deadline_is_told_once(tmp_path, store):
    from alerts.cases.service import open_case
    from alerts.cases.store import open_case_store

    aid = add_tm(store, "一正", "壹正", "77000001", "2026-01-15")  # deadline 2026-04-15
    store.review([aid], "confirmed", who="ana")
    case = open_case(store, open_case_store(store), [aid], who="ana")
    h = Handler()
    with SmtpServer(h) as srv:
        run(tmp_path, store, srv.port, dt.date(2026, 4, 15))  # the last day: the 7-day reminder, nothing missed
        run(tmp_path, store, srv.port, dt.date(2026, 4, 16))
        run(tmp_path, store, srv.port, dt.date(2026, 4, 17))
    texts = [text_of(m) for m in h.to(OWNER)]
    missed = [t for t in texts if "Opposition deadline passed without an opposition: 壹正" in t]
    assert len(missed) == 1 and f"(case {case.id}, marks 一正)" in missed[0] and "Deadline: 2026-04-15" in missed[0]
    assert "Opposition deadline passed" not in texts[0]
