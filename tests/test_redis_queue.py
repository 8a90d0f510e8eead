"""Scale-out: two scan workers (two "machines": own state and store) share one request queue in a real
redis-server. Each page is fetched once across both, both do part of the work, no alert is lost."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections import Counter

import pytest
from conftest import unavailable
from crawler_fixtures import start_server
from scan_support import ROOT, TODAY, alert_ids, env, scan_json, write_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    """A fresh redis-server on loopback; skipped locally without one, a failure in CI (conftest's policy)."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server not installed (scripts/test-deps installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        proc.terminate()
        unavailable(f"redis-server did not answer on 127.0.0.1:{port}")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)


def test_two_workers_share_one_queue(tmp_path, redis_url):
    import redis

    srv = start_server(fail_every=0, slow_every=0, listings=300)
    queue = f'[queue]\nbackend = "redis"\nredis_url = "{redis_url}"\nkey_prefix = "mwtest"\nidle_grace = 5\n'
    try:
        rc, ref = scan_json(write_config(tmp_path / "ref", srv.url, ["demo-market-browse"]))
        assert rc == 0
        before = Counter(srv.state.hits)
        # A per-request delay keeps the queue from draining before the second worker has started.
        cfgs = [
            write_config(tmp_path / f"w{i}", srv.url, ["demo-market-browse"], f"delay = 0.1\n{queue}") for i in (1, 2)
        ]
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "markwatch", "scan", "--config", str(c), "--date", TODAY, "--json"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env(),
            )
            for c in cfgs
        ]
        outs = [p.communicate(timeout=180) for p in procs]
        hits = Counter(srv.state.hits)
        hits.subtract(before)
    finally:
        srv.stop()
    import json

    reports = []
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
        reports.append(json.loads(out)["sources"][0])
    items = [r["items"] for r in reports]
    assert sum(items) == 300 and min(items) > 0, items  # split between the workers, none twice
    item_pages = {k: v for k, v in hits.items() if k.startswith("/market/item/")}
    assert len(item_pages) == 300 and set(item_pages.values()) == {1}  # every page fetched exactly once
    got = alert_ids(tmp_path / "w1" / "var" / "alerts.sqlite") + alert_ids(tmp_path / "w2" / "var" / "alerts.sqlite")
    ref_ids = alert_ids(tmp_path / "ref" / "var" / "alerts.sqlite")
    assert sorted(got) == sorted(ref_ids) and len(ref_ids) == ref["totals"]["alerts_new"] > 0
    client = redis.Redis.from_url(redis_url)
    keys = sorted(k.decode() for k in client.keys("mwtest:*"))
    assert keys == [f"mwtest:{TODAY}:demo-market-browse:dupefilter"]  # the queue is drained, the seen-set kept
    assert 0 < client.ttl(keys[0]) <= 7 * 86400
    client.close()


def test_unreachable_queue_is_one_line(tmp_path):
    cfg = write_config(
        tmp_path,
        "http://127.0.0.1:9",
        ["demo-market-browse"],
        f'[queue]\nbackend = "redis"\nredis_url = "redis://:secret@127.0.0.1:{free_port()}/0"\n',
    )
    from scan_support import scan

    p = scan(cfg)
    assert p.returncode == 1 and "cannot reach the shared queue" in p.stderr
    assert "secret" not in p.stderr and p.stderr.strip().count("\n") == 0
