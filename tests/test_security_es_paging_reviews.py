"""On the real Elasticsearch node: deep pages past index.max_result_window (API and CSV export)
and many analysts reviewing one alert at the same moment (retried, then 409, never 500)."""

from __future__ import annotations

import csv
import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from web_support import PASSWORD, T0, alert, drop_store, live_server, settings

from alerts import open_evidence, open_store
from alerts.store import AlertQuery
from markwatch.web import create_app

N = 10_120  # past Elasticsearch's 10,000-hit window


@pytest.fixture(scope="module")
def many(tmp_path_factory, es_url):
    """The same 10,120 alerts in Elasticsearch and in SQLite (the reference for the order)."""
    tmp = tmp_path_factory.mktemp("deep")
    alerts = [
        alert(f"九阳电器第{i:05d}分公司", score=round(0.5 + (i % 97) / 200, 3), now=T0 + timedelta(minutes=i))
        for i in range(N)
    ]
    es_s = settings(tmp / "es", es_url)
    sq_s = settings(tmp / "sq")
    es, sq = open_store(es_s), open_store(sq_s)
    es.upsert(alerts)
    sq.upsert(alerts)
    yield es_s, es, sq
    drop_store(es)
    es.close()
    sq.close()


def test_deep_pages_on_elasticsearch_match_sqlite(many):
    es_s, es, sq = many
    app = create_app(es_s, store=es, evidence=open_evidence(es_s))
    with live_server(app) as url, httpx.Client(base_url=url, auth=("li", PASSWORD), timeout=120) as c:
        for page, size in ((201, 50), (203, 50), (11, 1000), (2, 10_000 // 2 + 1)):
            r = c.get("/api/alerts", params={"page": page, "size": min(size, 1000)})
            assert r.status_code == 200, (page, size, r.text)
            got = [a["id"] for a in r.json()["items"]]
            want = [a.id for a in sq.search(AlertQuery(page=page, size=min(size, 1000))).items]
            assert got == want and r.json()["total"] == N
        r = c.get("/api/alerts", params={"page": 300, "size": 50})
        assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] == N
    with live_server(app) as url, httpx.Client(base_url=url, timeout=120) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"username": "li", "password": PASSWORD, "csrf_token": token})
        # the queue page too
        r = c.get("/alerts", params={"page": 202, "size": 50})
        assert r.status_code == 200 and "电器第" in r.text
        # an analyst can walk everything: the CSV export streams all rows via search_after
        text = c.get("/alerts.csv").text.lstrip("\ufeff")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == N and len({r["id"] for r in rows}) == N
        assert [r["id"] for r in rows[:50]] == [a.id for a in sq.search(AlertQuery(size=50)).items]


@pytest.mark.parametrize("kind", ["elasticsearch", "sqlite"])
def test_concurrent_reviews_of_one_alert_never_fail_with_500(kind, tmp_path, request):
    """The attack as filed: 81 concurrent reviews of one alert from three analysts."""
    es_url = request.getfixturevalue("es_url") if kind == "elasticsearch" else None
    s = settings(tmp_path, es_url)
    store, evidence = open_store(s), open_evidence(s)
    target = alert("上海九阳电器有限公司")
    store.upsert([target, alert("九阳（深圳）豆浆机有限公司")])
    app = create_app(s, store=store, evidence=evidence)
    statuses = ["confirmed", "dismissed", "escalated"]
    try:
        with live_server(app, as_served=True) as url:
            clients = [httpx.Client(base_url=url, auth=(u, PASSWORD), timeout=60) for u in ("li", "wang", "boss")]

            def review(i: int) -> int | str:
                try:
                    r = clients[i % 3].post(
                        f"/api/alerts/{target.id}/review", json={"status": statuses[i % 3], "note": f"n{i}"}
                    )
                except httpx.HTTPError as exc:
                    return type(exc).__name__
                if r.status_code == 409:
                    assert "reviewed by someone else" in r.json()["detail"]
                return r.status_code

            with ThreadPoolExecutor(27) as pool:
                results = list(pool.map(review, range(81)))
            for c in clients:
                c.close()
        assert set(results) <= {200, 409}, results
        saved = store.get(target.id)
        assert len(saved.history) == results.count(200)  # every 200 is one history entry, none lost
        assert len(saved.notes) == results.count(200)
        from alerts.sessions import AuditQuery

        audited = store.audit_search(AuditQuery(action="review", limit=1000))
        assert len([e for e in audited if e.ok]) == results.count(200)
        assert len([e for e in audited if not e.ok]) == results.count(409)
        print(f"{kind}: {results.count(200)} × 200, {results.count(409)} × 409 of 81")
    finally:
        drop_store(store)
        store.close()
        evidence.close()
