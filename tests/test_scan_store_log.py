"""Elasticsearch down for a whole scan: scan.log says so once, plainly, and the client's retries do not flood it.

A real client against a closed port on 127.0.0.1 (nothing listens there: every request is refused),
next to a real hostile-world site, through `markwatch scan` in a subprocess.
"""

from __future__ import annotations

from hostile_support import by_source, hostile_config, run_scan

from crawler.demo.hostile import HostileConfig, HostileServer, closed_port


def test_store_down_is_said_once_and_retries_are_capped(tmp_path):
    es = f"http://127.0.0.1:{closed_port()}"
    with HostileServer(HostileConfig()) as site:
        cfg = hostile_config(tmp_path, {"ok": site.url}, extra=f'urls = ["{es}"]\nretries = 2\ntimeout = 2')
        rc, report, err = run_scan(cfg)
    assert rc == 1 and "Traceback" not in err, err[-2000:]
    ok = by_source(report)["hostile-ok"]
    assert ok["hits"] == 30 and ok["alerts_new"] == 0  # every hit went to the outbox
    assert any(e.startswith("store unavailable, 30 alerts queued") for e in report["errors"]), report["errors"]

    log = (tmp_path / "var" / "state" / "scan.log").read_text(encoding="utf-8")
    lines = log.splitlines()
    # Said once, plainly, with where.
    plain = [line for line in lines if "alerts store unreachable" in line]
    assert len(plain) == 1, plain
    assert es in plain[0] and "outbox" in plain[0]
    # The first error is kept, with its traceback; its repeats are not.
    retries = [line for line in lines if "Retrying request after failure" in line]
    assert len(retries) == 1, len(retries)
    assert "ConnectionRefusedError" in log or "Connection refused" in log
    timeouts = [line for line in lines if "has failed for" in line and "in a row" in line]
    assert len(timeouts) <= 1
    dropped = [line for line in lines if "repeated retry/connection message(s) not logged" in line]
    # the store is unavailable for the run after its first failed write, so few retries happen at all
    assert len(dropped) == 1 and int(dropped[0].split("client: ")[1].split()[0]) >= 1
    # Bounded: far fewer lines than one per retry per alert (30 alerts × 3 attempts before the fix).
    client = [line for line in lines if "elastic_transport" in line]
    assert len(client) <= 6, client
