"""The JSON API and the pages over both stores (SQLite and Elasticsearch), through the real app."""

from __future__ import annotations

import base64
import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from web_support import PASSWORD, T0, alert, sample_alerts, settings

from alerts.evidence import EvidenceStore
from markwatch.web import create_app


def basic(user: str = "li", password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def client(store, tmp_path):
    evidence = EvidenceStore(tmp_path / "evidence.sqlite")
    alerts = sample_alerts(evidence)
    store.upsert(alerts)
    app = create_app(settings(tmp_path), store=store, evidence=evidence)
    with TestClient(app) as c:
        c.alerts = alerts  # type: ignore[attr-defined]
        yield c
    evidence.close()


def signed_in(client) -> str:
    """Sign in through the form; return the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": "li", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 200 and "/alerts" in str(r.url)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', r.text).group(1)


def test_api_needs_an_analyst(client):
    assert client.get("/api/alerts").status_code == 401
    assert client.get("/api/alerts", headers=basic(password="wrong")).status_code == 401
    assert client.get("/api/alerts", headers=basic(user="nobody")).status_code == 401
    r = client.get("/api/alerts", headers=basic())
    assert r.status_code == 200 and r.json()["total"] == len(client.alerts)


def test_api_filters_search_sort_and_page(client):
    h = basic()
    got = client.get("/api/alerts", params={"mark": "九阳", "kind": "enterprise", "sort": "score"}, headers=h).json()
    scores = [a["score"] for a in got["items"]]
    assert got["total"] == len(scores) == 4 and scores == sorted(scores)
    assert {a["mark"] for a in got["items"]} == {"九阳"}
    text = client.get("/api/alerts", params={"q": "豆浆机"}, headers=h).json()
    assert {a["subject"]["text"] for a in text["items"]} >= {"九阳（深圳）豆浆机有限公司"}
    both = client.get("/api/alerts", params=[("mark", "九牧"), ("mark", "立白")], headers=h).json()
    assert {a["mark"] for a in both["items"]} == {"九牧", "立白"}
    ranged = client.get("/api/alerts", params={"min_score": "0.7", "max_score": "0.9"}, headers=h).json()
    assert ranged["items"] and all(0.7 <= a["score"] <= 0.9 for a in ranged["items"])
    day = client.get("/api/alerts", params={"since": "2026-03-04", "until": "2026-03-04"}, headers=h).json()
    assert {a["subject"]["text"][:2] for a in day["items"]} == {"立白", "正品"}
    page2 = client.get("/api/alerts", params={"size": "3", "page": "2", "sort": "-score"}, headers=h).json()
    page1 = client.get("/api/alerts", params={"size": "3", "page": "1", "sort": "-score"}, headers=h).json()
    assert len(page2["items"]) == 3 and not {a["id"] for a in page1["items"]} & {a["id"] for a in page2["items"]}
    bad = client.get("/api/alerts", params={"min_score": "lots"}, headers=h)
    assert bad.status_code == 400 and "min_score" in bad.json()["detail"]


def test_api_one_alert_with_evidence(client):
    a = next(x for x in client.alerts if x.evidence_id and "<" not in x.subject.text)
    got = client.get(f"/api/alerts/{a.id}", headers=basic()).json()
    assert got["alert"]["id"] == a.id and got["alert"]["subject"]["trade_name"] == "九阳"
    assert got["evidence"]["verified"] and got["evidence"]["url"] == "https://gsxt.example/corp/123"
    assert client.get("/api/alerts/" + "0" * 32, headers=basic()).status_code == 404


def test_api_review_records_the_analyst(client):
    a, b = client.alerts[1], client.alerts[2]
    r = client.post(f"/api/alerts/{a.id}/review", json={"status": "confirmed", "note": "明显"}, headers=basic("wang"))
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    assert r.json()["history"][-1]["who"] == "wang"
    many = client.post("/api/reviews", json={"ids": [a.id, b.id], "status": "escalated"}, headers=basic()).json()
    assert many["count"] == 2 and {x["history"][-1]["who"] for x in many["items"]} == {"li"}
    bad = client.post(f"/api/alerts/{a.id}/review", json={"status": "deleted"}, headers=basic())
    assert bad.status_code == 422
    missing = client.post("/api/reviews", json={"ids": [a.id, "f" * 32], "status": "dismissed"}, headers=basic())
    assert missing.status_code == 404
    assert client.get(f"/api/alerts/{a.id}", headers=basic()).json()["alert"]["status"] == "escalated"  # all or none


def test_session_posts_need_the_csrf_header(client):
    token = signed_in(client)
    a = client.alerts[0]
    assert client.post(f"/api/alerts/{a.id}/review", json={"status": "dismissed"}).status_code == 403
    bad = client.post(f"/api/alerts/{a.id}/review", json={"status": "dismissed"}, headers={"X-CSRF-Token": "x"})
    assert bad.status_code == 403
    ok = client.post(f"/api/alerts/{a.id}/review", json={"status": "dismissed"}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json()["history"][-1]["who"] == "li"


def test_pages_review_forms_and_csv(client):
    token = signed_in(client)
    a, b = client.alerts[3], client.alerts[4]
    no_token = client.post("/alerts/review", data={"ids": [a.id], "status": "confirmed"})
    assert no_token.status_code == 403
    r = client.post(
        "/alerts/review",
        data={
            "ids": [a.id, b.id],
            "status": "dismissed",
            "note": "同名不同业",
            "csrf_token": token,
            "back": "status=new",
        },
    )
    assert r.status_code == 200 and "2 alert(s) marked Dismissed" in r.text
    assert client.get(f"/api/alerts/{a.id}").json()["alert"]["status"] == "dismissed"
    page = client.get(f"/alerts/{a.id}")
    assert "同名不同业" in page.text and "Dismissed" in page.text

    export = client.get("/alerts.csv", params={"status": "dismissed"})
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["id", "status", "mark"] and sorted(r[0] for r in rows[1:]) == sorted([a.id, b.id])


def test_review_then_next_follows_the_filter(client):
    token = signed_in(client)
    queue = client.get("/api/alerts", params={"mark": "九阳", "status": "new", "kind": "enterprise"}).json()["items"]
    first, second = queue[0]["id"], queue[1]["id"]
    ctx = "mark=%E4%B9%9D%E9%98%B3&status=new&kind=enterprise"
    page = client.get(f"/alerts/{first}?{ctx}&pos=0")
    assert f'name="next_id" value="{second}"' in page.text
    r = client.post(
        f"/alerts/{first}/review",
        data={"status": "confirmed", "ctx": ctx, "pos": "0", "next_id": second, "csrf_token": token},
    )
    assert f"/alerts/{second}" in str(r.url) and "pos=0" in str(r.url)  # the confirmed one left the filter


def test_overview_counts(client):
    signed_in(client)
    r = client.get("/overview")
    assert r.status_code == 200 and "<svg" in r.text and "九牧" in r.text
    counts = client.get("/api/counts").json()
    assert counts["by_status"] == {"new": len(client.alerts)} and counts["by_mark"]["九阳"] >= 4


def test_alert_page_says_the_evidence_was_kept_in_part(store, tmp_path):
    evidence = EvidenceStore(tmp_path / "evidence.sqlite")
    eid = evidence.put("https://shop.example/p", T0, 200, {}, b"<html>first part", original_size=5_000_000)
    a = alert("杭州九阳小家电有限公司", evidence_id=eid)
    store.upsert([a])
    app = create_app(settings(tmp_path), store=store, evidence=evidence)
    with TestClient(app) as c:
        signed_in(c)
        page = c.get(f"/alerts/{a.id}")
    evidence.close()
    assert page.status_code == 200
    assert re.search(r'id="evidence-truncated">truncated: first 16 bytes of 5000000 bytes<', page.text)
