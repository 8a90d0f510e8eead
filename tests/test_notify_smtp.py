"""Delivery through a real SMTP server (aiosmtpd on 127.0.0.1): TLS, AUTH, refusals, once-only."""

from __future__ import annotations

from pathlib import Path

import pytest
from notify_support import T0, Handler, SmtpServer, add_alert, free_port, marks, self_signed, settings_for

from alerts.notify.ledger import Ledger
from alerts.sqlite_store import SQLiteAlertStore
from markwatch.services.notify_run import ledger_path, notify

USERS = {"mw": "s3cret pässword"}


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def store(tmp_path):
    s = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    yield s
    s.close()


def smtp_conf(server: SmtpServer, cert, **kw) -> dict:
    conf = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "starttls",
        "user": "mw",
        "password": USERS["mw"],
        "ca_file": str(cert[0]),
    }
    conf.update(kw)
    return conf


def run(tmp_path, store, server=None, cert=None, **kw):
    smtp = kw.pop("smtp", None)
    if smtp is None and server is not None:
        smtp = smtp_conf(server, cert)
    settings = settings_for(tmp_path, smtp=smtp, notify=kw.pop("notify", None))
    return notify(settings, marks=marks(), store=store, **kw)


def ledger(tmp_path) -> Ledger:
    return Ledger(ledger_path(settings_for(tmp_path)))


def ids_in(received) -> list[str]:
    """Alert ids linked from the text part of each received message."""
    out = []
    for r in received:
        text = r.message.get_body(("plain",)).get_content()
        out += [ln.split("/alerts/")[1].strip() for ln in text.splitlines() if "Review: " in ln]
    return out


def test_digest_over_starttls_with_auth_parsed_back(tmp_path, store, cert):
    hostile = "一正<script>alert(1)</script>药业\r\nBcc: x@evil.example"
    a1 = add_alert(store, "一正", "通化一正药业有限公司", score=0.93, url="https://qcc.example/f?id=1&t=2")
    a2 = add_alert(store, "一正", hostile, score=0.81)
    j1 = add_alert(store, "九阳", "九阳电器旗舰店", score=0.75, kind="listing", source="taobao")
    add_alert(store, "九阳", "九阳某某", score=0.65)  # below 九阳's threshold 0.7
    h = Handler()
    with SmtpServer(h, cert=cert, users=USERS) as srv:
        report = run(tmp_path, store, srv, cert)
    assert sorted(o.state for o in report.outcomes) == ["sent"] * 3
    assert len(h.received) == 3  # one digest per address; watch@ gets both marks in one
    for r in h.received:
        assert r.tls and r.login == "mw"
        assert r.mail_from == "alerts@markwatch.example"

    (owner,) = h.to("ip@yizheng.example")
    msg = owner.message
    assert msg["Subject"] == "[markwatch] 2 new suspected imitations of 一正"
    assert msg["To"] == "ip@yizheng.example" and msg["Bcc"] is None
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert f"https://review.example/alerts/{a1}" in text and f'href="https://review.example/alerts/{a2}"' in html
    assert 'href="https://qcc.example/f?id=1&amp;t=2"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "0.93" in text and "2025-03-01 16:00 Asia/Shanghai" in text and "contains the mark" in text

    (agency,) = h.to("WATCH@agency.example") or h.to("watch@agency.example")
    assert agency.message["Subject"] == "[markwatch] 3 new suspected imitations of 一正, 九阳"
    assert sorted(ids_in([agency])) == sorted([a1, a2, j1])
    assert h.to("ip@liby.example") == []  # no alerts for 立白: no mail

    assert store.get(a1).notified_at is not None
    # a second run has nothing to send
    h2 = Handler()
    with SmtpServer(h2, cert=cert, users=USERS) as srv:
        assert run(tmp_path, store, srv, cert).outcomes == []
    assert h2.received == []


def test_wrong_password_leaves_alerts_pending_with_error(tmp_path, store, cert):
    a1 = add_alert(store, "立白", "立白日化用品厂")
    h = Handler()
    with SmtpServer(h, cert=cert, users=USERS) as srv:
        report = run(tmp_path, store, smtp=smtp_conf(srv, cert, password="wrong"))
        assert [o.state for o in report.outcomes] == ["failed"]
        assert "login refused" in report.outcomes[0].error
        with ledger(tmp_path) as led:
            row = led.delivery(a1, "ip@liby.example")
            assert row["state"] == "pending" and "535" in row["last_error"]
        report = run(tmp_path, store, srv, cert)
    assert [o.state for o in report.outcomes] == ["sent"]
    assert ids_in(h.received) == [a1]


def test_starttls_missing_means_no_send_in_clear(tmp_path, store, cert):
    add_alert(store, "立白", "立白日化用品厂")
    h = Handler()
    with SmtpServer(h) as srv:  # plain server, no STARTTLS offered
        report = run(tmp_path, store, smtp=smtp_conf(srv, cert))
    assert report.outcomes[0].state == "failed" and "STARTTLS" in report.outcomes[0].error
    assert h.received == []


def test_untrusted_certificate_is_refused(tmp_path, store, cert):
    add_alert(store, "立白", "立白日化用品厂")
    h = Handler()
    with SmtpServer(h, cert=cert, users=USERS) as srv:
        report = run(tmp_path, store, smtp=smtp_conf(srv, cert, ca_file=None))
    assert report.outcomes[0].state == "failed" and "CERTIFICATE_VERIFY_FAILED" in report.outcomes[0].error
    assert h.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls(tmp_path, store, cert):
    a1 = add_alert(store, "立白", "立白日化用品厂")
    h = Handler()
    with SmtpServer(h, cert=cert, users=USERS, implicit_tls=True) as srv:
        report = run(tmp_path, store, smtp=smtp_conf(srv, cert, security="tls"))
    assert [(o.state, o.error) for o in report.outcomes] == [("sent", "")]
    assert h.received[0].tls and ids_in(h.received) == [a1]


def test_server_refuses_then_recovers_each_alert_exactly_once(tmp_path, store, cert):
    first = [add_alert(store, "一正", f"一正制药{i}厂", score=0.9 - i / 100) for i in range(3)]
    h = Handler(data_reply="451 4.3.0 Try again later")
    with SmtpServer(h, cert=cert, users=USERS) as srv:
        report = run(tmp_path, store, srv, cert)
        assert {o.state for o in report.outcomes} == {"failed"}
        assert h.received == []
        with ledger(tmp_path) as led:
            for aid in first:
                row = led.delivery(aid, "ip@yizheng.example")
                assert row["state"] == "pending" and row["last_error"].startswith("message refused: 451")
        assert store.get(first[0]).notified_at is None
        late = add_alert(store, "一正", "一正新药业")  # arrives while the server is refusing
        h.data_reply = None
        report = run(tmp_path, store, srv, cert)
        assert {o.state for o in report.outcomes} == {"sent"}
        run(tmp_path, store, srv, cert)  # and nothing more afterwards
    for addr in ("ip@yizheng.example", "watch@agency.example"):
        got = h.to(addr)
        assert len(got) == 1
        assert sorted(ids_in(got)) == sorted([*first, late])
    with ledger(tmp_path) as led:
        row = led.delivery(first[0], "ip@yizheng.example")
        assert row["state"] == "sent" and row["attempts"] == 2 and row["last_error"] is None


def test_unreachable_server_then_up(tmp_path, store, cert):
    a1 = add_alert(store, "立白", "立白日化用品厂")
    port = free_port()
    settings_smtp = {
        "host": "127.0.0.1",
        "port": port,
        "security": "starttls",
        "user": "mw",
        "password": USERS["mw"],
        "ca_file": str(cert[0]),
    }
    report = run(tmp_path, store, smtp=settings_smtp)
    assert report.outcomes[0].state == "failed" and "Connection refused" in report.outcomes[0].error
    with ledger(tmp_path) as led:
        assert led.delivery(a1, "ip@liby.example")["state"] == "pending"
    h = Handler()
    with SmtpServer(h, cert=cert, users=USERS, port=port):
        report = run(tmp_path, store, smtp=settings_smtp)
    assert [o.state for o in report.outcomes] == ["sent"] and ids_in(h.received) == [a1]


def test_rejected_recipient_does_not_block_others(tmp_path, store, cert):
    y = add_alert(store, "一正", "一正制药厂")
    liby = add_alert(store, "立白", "立白日化用品厂")
    h = Handler(rcpt_replies={"ip@yizheng.example": "550 5.1.1 No such user"})
    with SmtpServer(h, cert=cert, users=USERS) as srv:
        report = run(tmp_path, store, srv, cert)
        states = {o.recipient: o.state for o in report.outcomes}
        assert states == {
            "ip@yizheng.example": "failed",
            "watch@agency.example": "sent",
            "ip@liby.example": "sent",
        }
        assert ids_in(h.to("ip@liby.example")) == [liby]
        with ledger(tmp_path) as led:
            assert "550 5.1.1 No such user" in led.delivery(y, "ip@yizheng.example")["last_error"]
            assert led.delivery(y, "watch@agency.example")["state"] == "sent"
        h.rcpt_replies.clear()
        report = run(tmp_path, store, srv, cert)
    assert [(o.recipient, o.state) for o in report.outcomes] == [("ip@yizheng.example", "sent")]
    assert ids_in(h.to("ip@yizheng.example")) == [y]
    assert len(h.received) == 3


def test_only_new_alerts_in_the_next_digest(tmp_path, store, cert):
    a = add_alert(store, "立白", "立白日化用品厂")
    h = Handler()
    with SmtpServer(h, cert=cert, users=USERS) as srv:
        run(tmp_path, store, srv, cert)
        b = add_alert(store, "立白", "立白洗涤剂公司")
        add_alert(store, "立白", "立白日化用品厂", at=T0.replace(day=2))  # a seen again: not news
        run(tmp_path, store, srv, cert)
    assert [ids_in([r]) for r in h.received] == [[a], [b]]


def test_owner_preferences_min_score_and_statuses(tmp_path, store, cert):
    low = add_alert(store, "一正", "一正低分", score=0.7)
    high = add_alert(store, "一正", "一正高分", score=0.97)
    conf = add_alert(store, "一正", "一正已确认", score=0.8)
    store.review([conf], "confirmed", who="analyst")
    prefs = {
        "recipients": {
            "IP@yizheng.example": {"min_score": 0.95},
            "watch@agency.example": {"statuses": ["confirmed"]},
        }
    }
    h = Handler()
    with SmtpServer(h, cert=cert, users=USERS) as srv:
        run(tmp_path, store, srv, cert, notify=prefs)
    assert ids_in(h.to("ip@yizheng.example")) == [high]
    assert ids_in(h.to("watch@agency.example")) == [conf]
    assert low not in ids_in(h.received)


def test_dry_run_sends_and_records_nothing(tmp_path, store, cert):
    add_alert(store, "立白", "立白日化用品厂")
    h = Handler()
    with SmtpServer(h, cert=cert, users=USERS) as srv:
        report = run(tmp_path, store, srv, cert, dry_run=True)
        assert [(o.recipient, o.state, o.alerts) for o in report.outcomes] == [("ip@liby.example", "would-send", 1)]
        assert h.received == []
        assert [o.state for o in run(tmp_path, store, srv, cert).outcomes] == ["sent"]
