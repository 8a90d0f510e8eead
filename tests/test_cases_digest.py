"""Case updates in the digests, through a real SMTP server (aiosmtpd on 127.0.0.1), on both stores:
a resolved case is listed once, never again, and exactly once across an SMTP failure and resend;
a deadline passed without change is listed once; hostile names are escaped."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from notify_support import Handler, SmtpServer, add_alert, marks, settings_for

from alerts.cases.service import file_case, open_case, resolve_case
from alerts.cases.store import open_case_store
from alerts.notify.ledger import Ledger
from markwatch.services.notify_run import ledger_path, notify

LIBY = "ip@liby.example"
HOSTILE = "立白<script>alert(1)</script>\u202e日化\r\nBcc: x@evil.example厂"


def _conf(srv: SmtpServer) -> dict:
    return {"host": "127.0.0.1", "port": srv.port, "security": "none"}


def _run(tmp_path, store, srv, *, language="en", now=None):
    settings = settings_for(tmp_path, smtp=_conf(srv), notify={"language": language})
    return notify(settings, marks=marks(), store=store, now=now)


def _text(received) -> str:
    return received.message.get_body(("plain",)).get_content()


def _html(received) -> str:
    return received.message.get_body(("html",)).get_content()


def _case(store, aid: str, *, deadline: dt.date | None = None):
    """Confirm the alert (already told as new) and open and file a case on it."""
    store.review([aid], "confirmed")
    cases = open_case_store(store)
    case = open_case(store, cases, [aid])
    return cases, file_case(cases, case.id, to="上海市市场监督管理局", deadline=deadline)


@dataclass
class DropBeforeReply(Handler):
    """Closes the connection after the message data, before any reply: the client cannot know."""

    drops: int = 1

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.drops:
            self.drops -= 1
            server.transport.close()
            return "250 2.0.0 never seen by the client"
        return await super().handle_DATA(server, session, envelope)


def test_resolved_case_listed_once_then_never_again(tmp_path, store):
    h = Handler()
    with SmtpServer(h) as srv:
        aid = add_alert(store, "立白", HOSTILE)
        first = _run(tmp_path, store, srv)  # the alert itself
        assert [(o.recipient, o.alerts, o.cases, o.state) for o in first.outcomes] == [(LIBY, 1, 0, "sent")]
        cases, case = _case(store, aid)
        assert _run(tmp_path, store, srv).outcomes == []  # filed, deadline ahead: not news
        assert "Case updates" not in _text(h.received[0])
        resolve_case(cases, case.id, resolution="renamed", data={"after_name": "立白<img src=x onerror=alert(1)>新名"})
        second = _run(tmp_path, store, srv)
        assert [(o.recipient, o.alerts, o.cases, o.state) for o in second.outcomes] == [(LIBY, 0, 1, "sent")]
        third = _run(tmp_path, store, srv)
        assert third.outcomes == []
    assert len(h.received) == 2
    msg = h.received[1]
    assert msg.message["Subject"] == "[markwatch] 1 case update"
    text, html = _text(msg), _html(msg)
    assert text.count("Resolved: ") == 1 and f"/cases/{case.id}" in text and "Outcome: renamed" in text
    assert "markwatch found" not in text  # no alerts in this digest: no alerts paragraph
    # Hostile entity name: no markup, no bidi override, no header injection.
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "(now: 立白<img src=x onerror=alert(1)>新名)" in text and "<img" not in html and "&lt;img" in html
    assert "\u202e" not in text and "\u202e" not in html
    assert msg.message["Bcc"] is None
    with Ledger(ledger_path(settings_for(tmp_path))) as led:
        key = f"resolved:{case.id}:{cases.get(case.id).events[-1].at.isoformat()}"
        row = led.case_update(key, LIBY)
        assert row is not None and row["state"] == "sent" and row["attempts"] == 1


def test_resend_after_smtp_failures_lists_the_case_exactly_once(tmp_path, store):
    h = DropBeforeReply(drops=1)
    with SmtpServer(h) as srv:
        aid = add_alert(store, "立白", "立白日化用品厂")
        _run(tmp_path, store, srv)  # connection dropped mid-send: the outcome is unknown
        assert h.received == []
        cases, case = _case(store, aid)
        with Ledger(ledger_path(settings_for(tmp_path))) as led:
            (pm,) = led.interrupted()
        resolve_case(cases, case.id, resolution="deregistered")
        h.data_reply = "451 4.3.0 Try again later"  # a definite refusal of the next new digest
        report = _run(tmp_path, store, srv)
        states = sorted((o.retry, o.state, o.cases) for o in report.outcomes)
        # The interrupted one is re-sent as is and stays uncertain; the case digest is refused.
        assert states == [(False, "failed", 1), (True, "uncertain", 0)]
        h.data_reply = None
        report = _run(tmp_path, store, srv)
        assert sorted((o.retry, o.state, o.cases) for o in report.outcomes) == [(False, "sent", 1), (True, "sent", 0)]
        assert _run(tmp_path, store, srv).outcomes == []
    assert len(h.received) == 2
    assert h.received[0].message["Message-ID"] == pm.message_id  # the alert digest, byte for byte
    listed = [r for r in h.received if "Resolved: " in _text(r)]
    assert len(listed) == 1 and _text(listed[0]).count(case.id) >= 1
    with Ledger(ledger_path(settings_for(tmp_path))) as led:
        key = f"resolved:{case.id}:{cases.get(case.id).events[-1].at.isoformat()}"
        row = led.case_update(key, LIBY)
        assert row["state"] == "sent" and row["attempts"] == 2


def test_deadline_passed_without_change_listed_once_in_chinese(tmp_path, store):
    h = Handler()
    today = dt.datetime.now(dt.UTC)
    with SmtpServer(h) as srv:
        aid = add_alert(store, "立白", "立白洗涤剂公司")
        _run(tmp_path, store, srv, language="zh")
        cases, case = _case(store, aid, deadline=today.date() - dt.timedelta(days=1))
        _run(tmp_path, store, srv, language="zh")
        _run(tmp_path, store, srv, language="zh")
        # A new deadline that passes too is a new update.
        current = cases.get(case.id)
        cases.save(current.model_copy(update={"deadline": today.date()}), current.updated_at)
        _run(tmp_path, store, srv, language="zh", now=today + dt.timedelta(days=1))
    assert len(h.received) == 3
    assert "发现 1 个疑似仿冒" in h.received[0].message["Subject"]
    for got in h.received[1:]:
        text = _text(got)
        assert got.message["Subject"] == "[markwatch] 1 项案件进展"
        assert "案件进展" in text and text.count("期限已过仍未改变") == 1 and case.id in text
    assert today.date().isoformat() in _text(h.received[2])


@pytest.mark.parametrize("language", ["en"])
def test_dry_run_shows_the_case_section_and_records_nothing(tmp_path, store, language):
    h = Handler()
    with SmtpServer(h) as srv:
        cases, case = _case(store, add_alert(store, "立白", "立白日化用品厂"))
        resolve_case(cases, case.id, resolution="renamed")
        settings = settings_for(tmp_path, smtp=_conf(srv), notify={"language": language})
        report = notify(settings, marks=marks(), store=store, dry_run=True)
        assert [(o.alerts, o.cases) for o in report.outcomes] == [(0, 1)]
        assert "Case updates" in report.outcomes[0].preview
        report = _run(tmp_path, store, srv)
        assert [(o.alerts, o.cases) for o in report.outcomes] == [(0, 1)]
    assert len(h.received) == 1
