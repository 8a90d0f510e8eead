"""Attacks on sessions, on both stores: replaying a cookie after logout, fixation, tampering,
timeouts, password change and "sign out everywhere", CSRF, open redirects, and the audit log."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from web_support import PASSWORD, drop_store, other_hash, sample_alerts, settings

from alerts import open_evidence, open_store
from alerts.sessions import AuditQuery
from markwatch.web import create_app
from markwatch.web.security import SESSION_COOKIE


@pytest.fixture(params=["sqlite", "elasticsearch"])
def backend(request, tmp_path):
    """(settings factory, store) on SQLite or on the real Elasticsearch node."""
    es_url = request.getfixturevalue("es_url") if request.param == "elasticsearch" else None
    s = settings(tmp_path, es_url)
    store, evidence = open_store(s), open_evidence(s)
    store.upsert(sample_alerts(evidence))
    yield s, store, evidence
    drop_store(store)
    store.close()
    evidence.close()


def client(app, cookie: str | None = None) -> TestClient:
    c = TestClient(app)
    if cookie:
        c.cookies.set(SESSION_COOKIE, cookie)
    return c


def login(c, user="li", password=PASSWORD, next_="/alerts"):
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    return c.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": token, "next": next_},
        follow_redirects=False,
    )


def page_csrf(c) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', c.get("/alerts").text).group(1)


def test_logout_kills_the_cookie_for_pages_and_api(backend):
    s, store, evidence = backend
    app = create_app(s, store=store, evidence=evidence)
    with client(app) as c:
        assert login(c).status_code == 303
        stolen = c.cookies.get(SESSION_COOKIE)
        assert c.get("/api/alerts").status_code == 200
        r = c.post("/logout", data={"csrf_token": page_csrf(c)}, follow_redirects=False)
        assert r.status_code == 303
    with client(app, stolen) as replay:  # the attacker kept the cookie
        r = replay.get("/alerts", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert replay.get("/api/alerts").status_code == 401
    events = store.audit_search(AuditQuery(user="li"))
    assert [e.action for e in events][:2] == ["sign_out", "sign_in"]
    assert all(e.client for e in events)


def test_cookie_is_opaque_new_at_sign_in_and_tamper_proof(backend):
    s, store, evidence = backend
    app = create_app(s, store=store, evidence=evidence)
    with client(app) as c:
        c.get("/login")
        before = c.cookies.get(SESSION_COOKIE)
        login(c)
        sid = c.cookies.get(SESSION_COOKIE)
        assert sid and sid != before  # no fixation: a new id at every sign-in
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", sid)  # 32 random bytes, nothing else
        assert "li" not in sid and "." not in sid
        login(c, user="wang")
        assert c.cookies.get(SESSION_COOKIE) != sid
    with client(app, sid) as old:  # the session replaced by the second sign-in is gone
        assert old.get("/api/alerts").status_code == 401
    for forged in (sid[:-1] + ("A" if sid[-1] != "A" else "B"), "x" * 43, "li", "x" * 5000):
        with client(app, forged) as c:
            assert c.get("/api/alerts").status_code == 401


def test_sign_out_everywhere_and_admin_sign_out(backend):
    s, store, evidence = backend
    app = create_app(s, store=store, evidence=evidence)
    laptops = [client(app) for _ in range(3)]
    for c in laptops:
        login(c)
    cookies = [c.cookies.get(SESSION_COOKIE) for c in laptops]
    r = laptops[0].post("/logout/everywhere", data={"csrf_token": page_csrf(laptops[0])}, follow_redirects=False)
    assert r.status_code == 303
    for cookie in cookies:
        assert client(app, cookie).get("/api/alerts").status_code == 401
    # an admin ends wang's sessions; wang cannot do it to others
    w = client(app)
    login(w, user="wang")
    wcookie = w.cookies.get(SESSION_COOKIE)
    assert w.get("/admin/audit").status_code == 403
    boss = client(app)
    login(boss, user="boss")
    assert boss.get("/admin/audit").status_code == 200
    r = boss.post("/api/users/wang/sign-out", headers={"X-CSRF-Token": page_csrf(boss)}, follow_redirects=False)
    assert r.status_code == 200 and r.json()["ended"] >= 1
    assert client(app, wcookie).get("/api/alerts").status_code == 401
    audit = boss.get("/api/audit", params={"action": "sign_out_everywhere"}).json()
    assert {e["targets"][0] for e in audit} == {"user:li", "user:wang"}
    assert client(app, wcookie).get("/api/audit").status_code == 401
    for c in [*laptops, w, boss]:
        c.close()


def test_password_change_ends_old_sessions(backend, tmp_path):
    s, store, evidence = backend
    app = create_app(s, store=store, evidence=evidence)
    with client(app) as c:
        login(c)
        cookie = c.cookies.get(SESSION_COOKIE)
        assert c.get("/api/alerts").status_code == 200
    # the operator sets a new hash for li in markwatch.toml and restarts the site
    users = dict(s.review.users, li=other_hash("a new long password"))
    s2 = s.model_copy(update={"review": s.review.model_copy(update={"users": users})})
    app2 = create_app(s2, store=store, evidence=evidence)
    assert client(app2, cookie).get("/api/alerts").status_code == 401
    # wang's session survives li's password change (other users are unaffected)
    with client(app) as w:
        login(w, user="wang")
        wcookie = w.cookies.get(SESSION_COOKIE)
    assert client(app2, wcookie).get("/api/alerts").status_code == 200


def test_idle_and_absolute_timeouts(backend):
    s, store, evidence = backend
    app = create_app(s, store=store, evidence=evidence)
    with client(app) as c:
        login(c)
        cookie = c.cookies.get(SESSION_COOKIE)
    key = next(iter(_keys(store, "li")))
    rec = store.session_get(key)
    store.session_save(rec.model_copy(update={"seen": time.time() - s.review.session_idle_minutes * 60 - 5}))
    assert client(app, cookie).get("/api/alerts").status_code == 401
    assert store.session_get(key) is None  # and it is forgotten
    with client(app) as c:
        login(c)
        cookie = c.cookies.get(SESSION_COOKIE)
    key = next(iter(_keys(store, "li")))
    rec = store.session_get(key)
    store.session_save(rec.model_copy(update={"created": time.time() - s.review.session_hours * 3600 - 5}))
    assert client(app, cookie).get("/api/alerts").status_code == 401


def _keys(store, user: str) -> set[str]:
    """Keys of the user's live sessions, read from the store the way an operator would."""
    if hasattr(store, "db"):
        return {k for (k,) in store.db.execute("SELECT key FROM review_sessions WHERE user = ?", (user,))}
    sec = store._security()
    resp = store.client.search(index=sec.sessions, query={"term": {"user": user}}, size=100)
    return {h["_id"] for h in resp["hits"]["hits"]}


def test_csrf_and_open_redirect_still_hold(backend):
    s, store, evidence = backend
    app = create_app(s, store=store, evidence=evidence)
    with client(app) as c:
        assert c.post("/login", data={"username": "li", "password": PASSWORD}).status_code == 403
        # a token from another browser's pre-login cookie does not work here
        other = client(app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', other.get("/login").text).group(1)
        r = c.post("/login", data={"username": "li", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 403
        r = login(c, next_="//evil.example/")
        assert r.status_code == 303 and r.headers["location"] == "/alerts"
        ids = [a.id for a in store.search(__import__("alerts").AlertQuery(size=1)).items]
        assert c.post(f"/api/alerts/{ids[0]}/review", json={"status": "confirmed"}).status_code == 403
        assert c.post("/logout").status_code == 403
        assert c.get("/api/alerts").status_code == 200  # still signed in


def test_sign_ins_and_reviews_are_audited_with_client(backend):
    s, store, evidence = backend
    app = create_app(s, store=store, evidence=evidence)
    with client(app) as c:
        assert login(c, password="wrong guess").status_code == 401
        login(c)
        alert_id = store.search(__import__("alerts").AlertQuery(size=1)).items[0].id
        r = c.post(
            f"/api/alerts/{alert_id}/review", json={"status": "dismissed"}, headers={"X-CSRF-Token": page_csrf(c)}
        )
        assert r.status_code == 200
    events = store.audit_search(AuditQuery(limit=10))
    actions = [(e.action, e.user, e.ok) for e in events]
    assert ("sign_in_failed", "li", False) in actions and ("sign_in", "li", True) in actions
    review = next(e for e in events if e.action == "review")
    assert review.targets == [alert_id] and review.detail == "dismissed" and review.client == "testclient"
    with client(app) as boss:
        login(boss, user="boss")
        page = boss.get("/admin/audit", params={"who": "li"}).text
        assert "sign_in_failed" in page and alert_id in page
        assert boss.get("/admin/audit", params={"action": "nonsense"}).status_code == 400


def test_every_data_route_needs_sign_in(backend):
    """Walk the app's own route table: nothing but the sign-in form and static files without a session."""
    s, store, evidence = backend
    app = create_app(s, store=store, evidence=evidence)
    alert_id = store.search(__import__("alerts").AlertQuery(size=1)).items[0].id
    open_paths = {"/login", "/"}
    checked = 0
    with client(app) as c:
        from markwatch.web import api, pages

        for route in [*api.router.routes, *pages.router.routes, *app.routes]:
            path = getattr(route, "path", "")
            if path in open_paths or path.startswith("/static") or not getattr(route, "methods", None):
                continue
            url = path.replace("{alert_id}", alert_id).replace("{evidence_id}", "0" * 64).replace("{name}", "li")
            for method in sorted(route.methods - {"HEAD"}):
                r = c.request(method, url, follow_redirects=False)
                assert r.status_code in (303, 401, 403), (method, url, r.status_code)
                if r.status_code == 303:
                    assert r.headers["location"].startswith("/login")
                checked += 1
    assert checked >= 15
