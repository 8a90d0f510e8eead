"""SMTP killed mid-send: the next run re-sends the interrupted digest and every alert ends with notified_at."""

from __future__ import annotations

import threading

import pytest
from notify_support import Handler, SmtpServer, add_alert, marks, self_signed, settings_for

from alerts.notify.ledger import Ledger
from alerts.sqlite_store import SQLiteAlertStore
from markwatch.services.notify_run import ledger_path, notify

USERS = {"mw": "pw"}


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"))


class DiesOnData(Handler):
    """Takes the message for *victim*, then drops the connection before answering: the server died."""

    def __init__(self, victim: str) -> None:
        super().__init__()
        self.victim = victim
        self.died = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.victim in envelope.rcpt_tos and not self.died.is_set():
            self.died.set()
            server.transport.abort()
            return None
        return await super().handle_DATA(server, session, envelope)


def test_smtp_killed_mid_send_every_alert_gets_notified_at(tmp_path, cert):
    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    ids = [add_alert(store, "一正", f"一正制药{i}厂") for i in range(2)]
    ids += [add_alert(store, "九阳", f"九阳电器{i}厂") for i in range(2)]
    ids += [add_alert(store, "立白", "立白日化厂")]
    h = DiesOnData("ip@liby.example")  # the only owner of 立白: nobody else marks its alert
    srv = SmtpServer(h, cert=cert, users=USERS)
    conf = {"host": "127.0.0.1", "port": srv.port, "user": "mw", "password": "pw", "ca_file": str(cert[0])}
    settings = settings_for(tmp_path, smtp=conf)
    with srv:
        first = notify(settings, marks=marks(), store=store)
    assert h.died.is_set()
    states = {o.recipient: o.state for o in first.outcomes}
    assert states == {
        "ip@yizheng.example": "sent",
        "watch@agency.example": "sent",
        "legal@joyoung.example": "sent",
        "ip@liby.example": "uncertain",
    }
    with Ledger(ledger_path(settings)) as led:
        assert [pm.recipient for pm in led.interrupted()] == ["ip@liby.example"]

    h2 = Handler()
    with SmtpServer(h2, cert=cert, users=USERS, port=srv.port):
        again = notify(settings, marks=marks(), store=store)
        assert [(o.recipient, o.state, o.retry) for o in again.outcomes] == [("ip@liby.example", "sent", True)]
        assert notify(settings, marks=marks(), store=store).outcomes == []
    received = h.received + h2.received
    per_address = {}
    for r in received:
        for a in r.rcpt_tos:
            per_address[a] = per_address.get(a, 0) + 1
    # liby got its digest once, from the new server (the dead one never answered); nobody twice.
    assert per_address == {
        "ip@yizheng.example": 1,
        "watch@agency.example": 1,
        "legal@joyoung.example": 1,
        "ip@liby.example": 1,
    }
    for alert_id in ids:
        alert = store.get(alert_id)
        assert alert.notified_at is not None, alert_id
    store.close()
