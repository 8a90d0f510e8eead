"""The delivery ledger on its own: run lock, state changes, interrupted messages."""

from __future__ import annotations

import pytest
from notify_support import Handler, SmtpServer, add_alert, marks, settings_for

from alerts.notify.ledger import Ledger, LedgerBusy
from alerts.sqlite_store import SQLiteAlertStore
from markwatch.services.notify_run import ledger_path, notify


def test_second_concurrent_run_is_refused(tmp_path):
    with Ledger(tmp_path / "n.sqlite") as a, Ledger(tmp_path / "n.sqlite") as b:
        a.lock()
        with pytest.raises(LedgerBusy, match="in progress"):
            b.lock()
        a.unlock()
        b.lock()  # free again once the first run ends


def test_states_and_release(tmp_path):
    with Ledger(tmp_path / "n.sqlite") as led:
        led.begin("<m1@x>", "a@x", "s@x", ("1", "2"), b"raw")
        assert led.held_ids("a@x") == {"1", "2"} and led.sent_ids("a@x") == set()
        led.failed("<m1@x>", "451 later")
        assert led.held_ids("a@x") == set()
        assert led.delivery("1", "a@x") == {
            "state": "pending",
            "message_id": "<m1@x>",
            "attempts": 1,
            "last_error": "451 later",
            "sent_at": None,
        }
        led.begin("<m1@x>", "a@x", "s@x", ("1", "2"), b"raw")  # same content, same id: reused
        led.sent("<m1@x>")
        assert led.sent_ids("a@x") == {"1", "2"} and led.sent_ids("b@x") == set()
        assert led.delivery("1", "a@x")["attempts"] == 2
        assert led.summary() == {"sent": 2}


def test_interrupted_message_is_only_ever_resent_as_is(tmp_path):
    """A refusal of the re-send keeps it held: re-rendering could duplicate the first copy."""
    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    a = add_alert(store, "立白", "立白日化厂")
    settings = settings_for(tmp_path)
    with Ledger(ledger_path(settings)) as led:
        led.begin(
            "<old@markwatch.example>",
            "ip@liby.example",
            "alerts@markwatch.example",
            (a,),
            b"Subject: old\r\nMessage-ID: <old@markwatch.example>\r\n\r\nbody\r\n",
        )
    h = Handler(data_reply="451 4.3.0 later")
    with SmtpServer(h) as srv:
        smtp = {"host": "127.0.0.1", "port": srv.port, "security": "none"}
        s = settings_for(tmp_path, smtp=smtp)
        report = notify(s, marks=marks(), store=store)
        assert [(o.state, o.retry) for o in report.outcomes] == [("uncertain", True)]  # no fresh digest for `a`
        h.data_reply = None
        report = notify(s, marks=marks(), store=store)
        assert [(o.state, o.retry) for o in report.outcomes] == [("sent", True)]
        assert notify(s, marks=marks(), store=store).outcomes == []
    assert [r.message["Subject"] for r in h.received] == ["old"]
    store.close()
