"""Attacks on paging, body size, the API schema and text display (both stores where a store
answers): each must end in a clear 4xx, never a 500, a dropped connection or a flipped line."""

from __future__ import annotations

import csv
import http.client
import io
import re
import time
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from web_support import PASSWORD, alert, drop_store, live_server, sample_alerts, settings

from alerts import open_evidence, open_store
from alerts.notify.model import DigestItem
from alerts.notify.render import subject_for
from alerts.present import csv_cell, plain
from alerts.store import AlertQuery
from markwatch.web import create_app

BIDI = "\u202e"
ZW = "\u200b"


@pytest.fixture(params=["sqlite", "elasticsearch"])
def site(request, tmp_path):
    es_url = request.getfixturevalue("es_url") if request.param == "elasticsearch" else None
    s = settings(tmp_path, es_url)
    store, evidence = open_store(s), open_evidence(s)
    store.upsert(
        [
            *sample_alerts(evidence),
            alert(f'=HYPERLINK("http://evil.example","九阳"){BIDI}cod.exe', score=0.5),
            alert(f"九阳{ZW}电器{BIDI}moc.live有限公司", score=0.55),
            alert("@SUM(1+1)*cmd|' /C calc'!A0 九阳", score=0.51),
        ]
    )
    app = create_app(s, store=store, evidence=evidence)
    with TestClient(app) as c:
        c.store = store  # type: ignore[attr-defined]
        yield c
    drop_store(store)
    store.close()
    evidence.close()


def login(c, user="li"):
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303


@pytest.mark.parametrize(
    "params",
    [
        "page=9223372036854775808",
        "page=100001",
        "page=-1",
        "page=1e3",
        "size=0",
        "size=1001",
        "size=99999999999999999999",
        "page=" + "9" * 5000,
    ],
)
def test_paging_out_of_range_is_a_400_with_a_message(site, params):
    login(site)
    r = site.get(f"/api/alerts?{params}")
    assert r.status_code == 400 and ("page" in r.json()["detail"] or "size" in r.json()["detail"])
    r = site.get(f"/alerts?{params}")
    assert r.status_code == 400 and "Filter not understood" in r.text


@pytest.mark.parametrize(
    "q",
    ['"', "九阳 OR 1=1", "NEAR(九 阳)", "*", "name:x AND", '{"match_all":{}}', "\\", "九阳" * 250, "^-+()"],
)
def test_text_search_injection_still_holds(site, q):
    login(site)
    r = site.get("/api/alerts", params={"q": q})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert all("九" in a["subject"]["text"] or "阳" in a["subject"]["text"] for a in r.json()["items"]) or q in (
            "*",
            "^-+()",
            '"',
            "\\",
            '{"match_all":{}}',
            "name:x AND",
        )


def test_api_schema_and_docs_need_sign_in_and_hold_no_data(site):
    for path in ("/api/openapi.json", "/api/docs"):
        r = site.get(path, follow_redirects=False)
        assert r.status_code in (401, 303), path
    login(site)
    spec = site.get("/api/openapi.json")
    assert spec.status_code == 200 and spec.json()["paths"]["/api/alerts"]
    ids = [a.id for a in site.store.search(AlertQuery(size=100)).items]  # type: ignore[attr-defined]
    assert not any(i in spec.text for i in ids) and "九阳" not in spec.text
    assert site.get("/api/docs").status_code == 200


def test_bidi_and_invisible_characters_never_reach_the_title(site):
    login(site)
    every = site.store.search(AlertQuery(size=100)).items  # type: ignore[attr-defined]
    hostile = [a for a in every if BIDI in a.subject.text and ZW in a.subject.text]
    assert hostile
    page = site.get(f"/alerts/{hostile[0].id}").text
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert BIDI not in title and ZW not in title
    assert "⟨U+202E⟩" in title and "⟨U+200B⟩" in title
    body = page.split("</title>", 1)[1]
    assert BIDI not in body and ZW not in body  # badges in the page, never the raw character


def test_csv_export_defuses_formulas_and_invisible_characters(site):
    login(site)
    text = site.get("/alerts.csv").text.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 11
    for row in rows:
        for value in row.values():
            assert BIDI not in value and ZW not in value
            assert value.lstrip(" ")[:1] not in ("=", "+", "-", "@"), value
    names = {r["text"] for r in rows}
    assert '\'=HYPERLINK("http://evil.example","九阳")⟨U+202E⟩cod.exe' in names
    assert any(n.startswith("'@SUM") for n in names)


def test_csv_cell_rules():
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("  -2") == "'  -2" and csv_cell("+x") == "'+x"
    assert csv_cell("@x") == "'@x" and csv_cell("\t=x") == "⟨U+0009⟩=x"  # no longer a formula
    assert csv_cell("0.970") == "0.970" and csv_cell(None) == "" and csv_cell(3) == "3"
    assert plain("a\u202eb\u200bc\u2028") == "a⟨U+202E⟩b⟨U+200B⟩c⟨U+2028⟩"


def test_email_subject_carries_no_bidi_or_invisible_characters():
    items = [
        DigestItem(alert_id="a1", mark=f"九{BIDI}阳{ZW}", name="x", score=0.9),
        DigestItem(alert_id="a2", mark="立白\r\nBcc: evil@example.com", name="y", score=0.8),
    ]
    subject = subject_for(items)
    assert BIDI not in subject and ZW not in subject and "\r" not in subject and "\n" not in subject
    assert "⟨U+202E⟩" in subject and "Bcc: evil@example.com" in subject  # shown, on one line


def test_path_traversal_and_evidence_ids_still_hold(site):
    login(site)
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/evidence/..%2f..%2fetc%2fpasswd"):
        r = site.get(path)
        assert r.status_code in (400, 404), path
        assert "def create_app" not in r.text and "root:" not in r.text


def test_request_bodies_above_the_limit_get_413_before_being_read(tmp_path):
    s = settings(tmp_path, max_body_bytes=64 * 1024)
    store, evidence = open_store(s), open_evidence(s)
    store.upsert(sample_alerts(evidence))
    app = create_app(s, store=store, evidence=evidence)
    auth = httpx.BasicAuth("li", PASSWORD)
    try:
        with live_server(app, as_served=True) as url:
            host, port = urlsplit(url).hostname, urlsplit(url).port
            # 1. a declared 150 MB JSON body: refused on the headers alone, nothing sent
            conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.putrequest("POST", "/api/reviews")
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Authorization", auth._auth_header)
            conn.putheader("Content-Length", str(150 * 1024 * 1024))
            conn.endheaders()
            t0 = time.monotonic()
            resp = conn.getresponse()
            assert resp.status == 413 and "larger than 65536 bytes" in resp.read().decode()
            assert time.monotonic() - t0 < 5
            conn.close()
            with httpx.Client(base_url=url, auth=auth, timeout=30) as c:
                # 2. chunked (no Content-Length): cut off once past the limit
                def chunks():
                    yield b'{"ids": ["' + b"a" * 60_000
                    for _ in range(100):
                        yield b"a" * 60_000

                r = c.post("/api/reviews", content=chunks(), headers={"Content-Type": "application/json"})
                assert r.status_code == 413
                # 3. a form body over the limit
                r = c.post("/login", data={"username": "li", "password": "x" * 100_000})
                assert r.status_code == 413
                # below the limit everything works as before
                one = store.search(AlertQuery(size=1)).items[0].id
                r = c.post("/api/reviews", json={"ids": [one], "status": "confirmed"})
                assert r.status_code == 200
    finally:
        store.close()
        evidence.close()


def test_unforeseen_errors_are_logged_audited_and_not_leaked(site, monkeypatch):
    login(site)

    def boom(*a, **k):
        raise RuntimeError("secret internals /etc/markwatch.toml")

    store = site.app.state.store
    target = getattr(store, "_target", store)
    monkeypatch.setattr(target, "counts", boom)
    c = TestClient(site.app, raise_server_exceptions=False, cookies=site.cookies)
    r = c.get("/api/counts")
    assert r.status_code == 500 and "secret" not in r.text and "Traceback" not in r.text
    from alerts.sessions import AuditQuery

    events = site.store.audit_search(AuditQuery(action="error"))  # type: ignore[attr-defined]
    assert events and events[0].detail == "GET /api/counts: RuntimeError" and events[0].user == "li"
