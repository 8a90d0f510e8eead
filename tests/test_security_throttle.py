"""Attacks on the sign-in throttle: locking an analyst out, bypassing it with X-Forwarded-For,
and flooding its memory. Live uvicorn servers where the client address matters."""

from __future__ import annotations

import base64
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from web_support import PASSWORD, live_server, sample_alerts, settings

from alerts import open_evidence, open_store
from markwatch.web import create_app
from markwatch.web.security import Throttle


@pytest.fixture
def app(tmp_path):
    s = settings(tmp_path)
    store, evidence = open_store(s), open_evidence(s)
    store.upsert(sample_alerts(evidence))
    yield create_app(s, store=store, evidence=evidence)
    store.close()
    evidence.close()


def form_login(c, user="li", password=PASSWORD, headers=None):
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login", headers=headers).text).group(1)
    return c.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_guessing_from_one_client_does_not_lock_the_analyst_out(app):
    attacker = TestClient(app, client=("203.0.113.66", 40000))
    codes = [form_login(attacker, password=f"guess {i}").status_code for i in range(12)]
    assert codes[:5] == [401] * 5 and 429 in codes  # backoff after 5 failures
    assert attacker.get("/api/alerts", headers=basic("li", "guess")).status_code == 429
    # the analyst, on their own computer, signs in at once (form and API)
    analyst = TestClient(app, client=("198.51.100.7", 40001))
    assert form_login(analyst).status_code == 303
    assert (
        TestClient(app, client=("198.51.100.8", 1)).get("/api/alerts", headers=basic("li", PASSWORD)).status_code == 200
    )
    # even the right password waits on the failing client: it is backoff, with Retry-After
    r = form_login(attacker)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_backoff_doubles_and_then_lets_one_try_through():
    t = Throttle(free_pair=2, free_client=100, base=1.0, cap=8.0)
    for i in range(2):
        t.failed("li", "c", now=100.0 + i)
    assert t.wait("li", "c", now=101.0) == 0  # two free failures
    t.failed("li", "c", now=102.0)
    assert t.wait("li", "c", now=102.0) == pytest.approx(1.0)
    assert t.wait("li", "c", now=103.5) == 0
    t.failed("li", "c", now=103.5)
    assert t.wait("li", "c", now=103.5) == pytest.approx(2.0)
    for k in range(10):
        t.failed("li", "c", now=200.0 + k)
    assert t.wait("li", "c", now=209.0) == pytest.approx(8.0)  # capped
    assert t.wait("wang", "c", now=209.0) == 0 and t.wait("li", "other", now=209.0) == 0
    t.succeeded("li", "c")
    assert t.wait("li", "c", now=209.0) == 0


def test_rotating_x_forwarded_for_does_not_bypass_the_throttle(app):
    """The attack as filed: 40 tries with a new X-Forwarded-For each, on the server as served."""
    with live_server(app, as_served=True) as url, httpx.Client(base_url=url) as c:
        codes = [
            form_login(c, password=f"guess {i}", headers={"X-Forwarded-For": f"10.9.{i}.{i}"}).status_code
            for i in range(40)
        ]
        basic_codes = [
            c.get("/api/alerts", headers={**basic("wang", f"g{i}"), "X-Forwarded-For": f"10.8.{i}.1"}).status_code
            for i in range(10)
        ]
    assert codes[:5] == [401] * 5 and codes.count(429) >= 30, codes
    assert basic_codes[-1] == 429 and basic_codes.count(429) >= 3, basic_codes


def test_x_forwarded_for_is_honoured_from_a_trusted_proxy_only(tmp_path):
    s = settings(tmp_path, trusted_proxies=["127.0.0.0/8"])
    store, evidence = open_store(s), open_evidence(s)
    app = create_app(s, store=store, evidence=evidence)
    try:
        with live_server(app, as_served=True) as url, httpx.Client(base_url=url) as c:
            attacker = {"X-Forwarded-For": "203.0.113.66"}
            codes = [form_login(c, password=f"guess {i}", headers=attacker).status_code for i in range(8)]
            assert codes[-1] == 429
            # spoofing an extra hop in front does not help: the proxy appends the real address
            spoofed = {"X-Forwarded-For": "192.0.2.1, 203.0.113.66"}
            assert form_login(c, password="guess", headers=spoofed).status_code == 429
            # another client behind the same proxy is not held up
            assert form_login(c, headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 303
        events = store.audit_search(__import__("alerts.sessions").sessions.AuditQuery(action="sign_in_failed"))
        assert {e.client for e in events} == {"203.0.113.66"}
    finally:
        store.close()
        evidence.close()


def test_memory_is_bounded_without_a_wholesale_reset():
    """A spray of 30,000 names and clients keeps at most max_keys counters, and the sprayer's
    own counter (the most recently used) survives: nobody is unblocked by the flood."""
    t = Throttle(max_keys=10_000)
    for i in range(8):
        t.failed("li", "203.0.113.66", now=1000.0 + i)
    blocked_for = t.wait("li", "203.0.113.66", now=1008.0)
    assert blocked_for > 0
    for i in range(30_000):
        t.failed(f"user{i}", f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}", now=1008.0)
        if i % 2000 == 0:  # the attacker keeps trying meanwhile
            t.failed("li", "203.0.113.66", now=1008.0)
    assert len(t) <= 10_000
    assert t.wait("li", "203.0.113.66", now=1008.0) >= blocked_for


def test_a_name_spray_from_one_client_is_throttled_per_client(app):
    c = TestClient(app, client=("203.0.113.9", 1))
    codes = [form_login(c, user=f"nobody{i}", password="x").status_code for i in range(25)]
    assert codes[:20] == [401] * 20 and codes[-1] == 429
