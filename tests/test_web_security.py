"""Sign-in, sessions, CSRF, headers, escaping and the inert evidence route (SQLite store)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from web_support import HOSTILE_SELLER, HOSTILE_TITLE, PASSWORD, sample_alerts, settings

from alerts import open_evidence, open_store
from markwatch.config import load_settings
from markwatch.errors import ConfigError
from markwatch.web import create_app
from markwatch.web.passwords import check_hash_format, hash_password, verify_password
from markwatch.web.security import safe_next


@pytest.fixture
def site(tmp_path):
    s = settings(tmp_path)
    store, evidence = open_store(s), open_evidence(s)
    alerts = sample_alerts(evidence)
    store.upsert(alerts)
    with TestClient(create_app(s, store=store, evidence=evidence)) as c:
        c.alerts = alerts  # type: ignore[attr-defined]
        yield c
    store.close()
    evidence.close()


def login(c, user="li", password=PASSWORD, next_="/alerts"):
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    return c.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": token, "next": next_},
        follow_redirects=False,
    )


def test_password_hashes():
    h = hash_password("a long passphrase", log2_n=10)
    assert verify_password("a long passphrase", h) and not verify_password("a long passphrasE", h)
    assert h != hash_password("a long passphrase", log2_n=10)  # salted
    assert check_hash_format(h) is None and check_hash_format("plain") and not verify_password("x", "plain")
    assert not verify_password("x", None)


def test_pages_need_sign_in_and_login_checks_password(site):
    r = site.get("/alerts?status=new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert login(site, password="wrong").status_code == 401
    assert login(site, user="mallory").status_code == 401
    r = login(site, next_="https://evil.example/")
    assert r.status_code == 303 and r.headers["location"] == "/alerts"  # no open redirect
    cookie = r.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower() and "secure" not in cookie.lower()
    assert site.get("/alerts").status_code == 200


def test_login_needs_csrf_and_is_throttled(site):
    assert site.post("/login", data={"username": "li", "password": PASSWORD}).status_code == 403
    for _ in range(8):
        login(site, password="guess")
    r = login(site)  # even the right password waits now
    assert r.status_code == 429


def test_logout_needs_csrf_and_ends_the_session(site):
    login(site)
    assert site.post("/logout").status_code == 403
    token = re.search(r'name="csrf-token" content="([^"]+)"', site.get("/alerts").text).group(1)
    site.post("/logout", data={"csrf_token": token})
    assert "/login" in str(site.get("/alerts").url)


def test_safe_next():
    assert safe_next("/alerts?x=1") == "/alerts?x=1"
    for bad in ("//evil.example", "https://evil.example", "/\\evil", "javascript:x", "/a\r\nSet-Cookie: x", None):
        assert safe_next(bad) == "/alerts"


def test_secure_cookies_over_https_base_url(tmp_path):
    s = settings(tmp_path, base_url="https://review.example")
    with TestClient(create_app(s), base_url="https://testserver") as c:
        r = login(c)
        assert "secure" in r.headers["set-cookie"].lower()


def test_headers_and_escaping(site):
    login(site)
    r = site.get("/alerts?sort=-score")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    assert HOSTILE_TITLE not in r.text and "&lt;script&gt;window.__pwned" in r.text
    assert HOSTILE_SELLER not in r.text and 'href="javascript:' not in r.text
    hostile = next(a for a in site.alerts if a.subject.text == HOSTILE_TITLE)
    page = site.get(f"/alerts/{hostile.id}").text
    assert "<script>window" not in page and 'onerror="window' not in page and "<svg onload" not in page
    assert 'href="javascript:' not in page and "U+200B" in page and "U+202E" in page  # invisible chars shown
    assert re.search(r'<iframe sandbox src="/evidence/[0-9a-f]{64}"', page)
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert inline == []  # no inline scripts at all (the CSP would block them anyway)


def test_evidence_route_is_inert(site):
    hostile = next(a for a in site.alerts if a.subject.text == HOSTILE_TITLE)
    assert site.get(f"/evidence/{hostile.evidence_id}", follow_redirects=False).status_code == 303  # sign in first
    login(site)
    r = site.get(f"/evidence/{hostile.evidence_id}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp and "allow-scripts" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert site.get("/evidence/" + "0" * 64).status_code == 404
    assert site.get("/evidence/../../etc/passwd").status_code == 404


def test_config_users_errors_name_file_line_and_key(tmp_path):
    good = hash_password("a long passphrase", log2_n=10)
    f = tmp_path / "markwatch.toml"
    f.write_text(f'[review]\nport = 8080\nsecret_key = "{"s" * 40}"\n\n[review.users]\nli = "{good}"\n')
    s = load_settings(f)
    assert s.review.port == 8080 and verify_password("a long passphrase", s.review.users["li"])
    f.write_text('[review]\nusers = { li = "plaintext" }\n')
    with pytest.raises(ConfigError, match=r"markwatch.toml:2: key 'review.users'.*scrypt"):
        load_settings(f)
    f.write_text('[review]\nsecret_key = "short"\n')
    with pytest.raises(ConfigError, match=r"markwatch.toml:2: key 'review.secret_key'"):
        load_settings(f)
