"""A notify run killed with SIGKILL half-way: the next run finishes the job, nothing twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from notify_support import (
    KILLABLE_RUN,
    Handler,
    SmtpServer,
    add_alert,
    marks,
    self_signed,
    settings_for,
    write_config,
)

from alerts.notify.ledger import Ledger
from alerts.sqlite_store import SQLiteAlertStore
from markwatch.services.notify_run import ledger_path, notify

REPO = Path(__file__).resolve().parents[1]
USERS = {"mw": "pw"}
ADDRESSES = ("ip@yizheng.example", "watch@agency.example", "legal@joyoung.example", "ip@liby.example")


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def world(tmp_path):
    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    ids = {
        "一正": [add_alert(store, "一正", f"一正制药{i}厂") for i in range(2)],
        "九阳": [add_alert(store, "九阳", f"九阳电器{i}厂") for i in range(2)],
        "立白": [add_alert(store, "立白", "立白日化厂")],
    }
    yield store, ids
    store.close()


def expected(ids) -> dict[str, list[str]]:
    return {
        "ip@yizheng.example": sorted(ids["一正"]),
        "watch@agency.example": sorted(ids["一正"] + ids["九阳"]),
        "legal@joyoung.example": sorted(ids["九阳"]),
        "ip@liby.example": sorted(ids["立白"]),
    }


def ids_in(received) -> list[str]:
    out = []
    for r in received:
        text = r.message.get_body(("plain",)).get_content()
        out += [ln.split("/alerts/")[1].strip() for ln in text.splitlines() if "Review: " in ln]
    return sorted(out)


def start(config: Path, kill_after: str | None = None) -> subprocess.Popen:
    script = config.parent / "killable_run.py"
    script.write_text(KILLABLE_RUN, encoding="utf-8")
    args = [sys.executable, str(script), str(config)] + ([kill_after] if kill_after else [])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(args, cwd=config.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def smtp_conf(srv, cert) -> dict:
    return {"host": "127.0.0.1", "port": srv.port, "user": "mw", "password": "pw", "ca_file": str(cert[0])}


def test_killed_mid_transaction_each_alert_delivered_exactly_once(tmp_path, world, cert):
    """Killed while the server holds the RCPT of the 2nd address: that message never arrived."""
    store, ids = world
    h = Handler(stall_rcpt="watch@agency.example")
    with SmtpServer(h, cert=cert, users=USERS) as srv:
        proc = start(write_config(tmp_path, smtp_conf(srv, cert)))
        try:
            assert h.stalled.wait(30), proc.communicate(timeout=5)
        finally:
            proc.kill()
            proc.wait(10)
        h.release.set()
        assert [r.rcpt_tos for r in h.received] == [["ip@yizheng.example"]]
        with Ledger(ledger_path(settings_for(tmp_path))) as led:
            (interrupted,) = led.interrupted()
            assert interrupted.recipient == "watch@agency.example"

        settings = settings_for(tmp_path, smtp=smtp_conf(srv, cert))
        report = notify(settings, marks=marks(), store=store)
        assert [(o.recipient, o.state, o.retry) for o in report.outcomes] == [
            ("watch@agency.example", "sent", True),
            ("legal@joyoung.example", "sent", False),
            ("ip@liby.example", "sent", False),
        ]
        assert notify(settings, marks=marks(), store=store).outcomes == []
    for addr, want in expected(ids).items():
        got = h.to(addr)
        assert len(got) == 1, addr
        assert ids_in(got) == want
    (retried,) = h.to("watch@agency.example")
    assert retried.message["Message-ID"] == interrupted.message_id
    assert retried.raw.replace(b"\r\n", b"\n").rstrip() == interrupted.raw.replace(b"\r\n", b"\n").rstrip()


def test_killed_after_server_accepted_resends_identical_message(tmp_path, world, cert):
    """The one window that can duplicate: accepted, then killed before the ledger write.
    The re-send is byte-identical with the same Message-ID; nobody else gets anything twice."""
    store, ids = world
    h = Handler()
    with SmtpServer(h, cert=cert, users=USERS) as srv:
        proc = start(write_config(tmp_path, smtp_conf(srv, cert)), kill_after="watch@agency.example")
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == -9, err.decode()
        assert [r.rcpt_tos for r in h.received] == [["ip@yizheng.example"], ["watch@agency.example"]]
        settings = settings_for(tmp_path, smtp=smtp_conf(srv, cert))
        notify(settings, marks=marks(), store=store)
        assert notify(settings, marks=marks(), store=store).outcomes == []
    first, again = h.to("watch@agency.example")
    assert first.message["Message-ID"] == again.message["Message-ID"]
    assert first.raw == again.raw
    for addr, want in expected(ids).items():
        got = h.to(addr)
        assert ids_in(got[:1]) == want
        assert len({r.message["Message-ID"] for r in got}) == 1, addr


def test_outbox_killed_after_write_is_exactly_once(tmp_path, world):
    store, ids = world
    proc = start(write_config(tmp_path), kill_after="watch@agency.example")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -9, err.decode()
    outbox = tmp_path / "mail-outbox"
    assert len(list(outbox.glob("*.eml"))) == 2
    report = notify(settings_for(tmp_path), marks=marks(), store=store)
    assert [(o.recipient, o.state, o.retry) for o in report.outcomes] == [
        ("watch@agency.example", "sent", True),
        ("legal@joyoung.example", "sent", False),
        ("ip@liby.example", "sent", False),
    ]
    files = sorted(outbox.glob("*.eml"))
    assert [f.name.split("--")[0] for f in files] == sorted(ADDRESSES)
    assert not list(outbox.glob(".tmp-*"))
    assert notify(settings_for(tmp_path), marks=marks(), store=store).outcomes == []
