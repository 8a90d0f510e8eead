"""The review site's queue and API by calibrated probability, on both stores, through the real app."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from fastapi.testclient import TestClient
from test_store_probability import store_as_before, with_p
from test_web_api import basic, signed_in
from web_support import T0, alert, settings

from alerts.model import probability_of
from markwatch.web import create_app

# (text, score, probability): the queue's order is by probability, not score.
ROWS = [
    ("上海九阳电器有限公司", 0.99, 0.62),
    ("北京九阳电器有限公司", 0.80, 0.97),
    ("广州九阳<script>alert(1)</script>电器有限公司", 0.85, 0.90),
    ("深圳九阳电器有限公司", 0.85, 0.90),
]


@pytest.fixture
def client(store, tmp_path):
    alerts = [with_p(alert(text, score=s, now=T0 + timedelta(hours=i)), p) for i, (text, s, p) in enumerate(ROWS)]
    store.upsert(alerts)
    old = alert("天津九阳电器有限公司", score=0.9, now=T0 - timedelta(days=3))
    store_as_before(store, [old])
    app = create_app(settings(tmp_path), store=store)
    with TestClient(app) as c:
        c.alerts = alerts  # type: ignore[attr-defined]
        c.old = old  # type: ignore[attr-defined]
        yield c


def texts(resp) -> list[str]:
    return [a["subject"]["text"][:2] for a in resp.json()["items"]]


def test_api_sorts_by_probability_and_filters_by_it(client):
    h = basic()
    # Default: most likely worth a look first; ties by score, then first seen; the old alert
    # (no stored probability until `markwatch alerts migrate`) last.
    assert texts(client.get("/api/alerts", headers=h)) == ["北京", "广州", "深圳", "上海", "天津"]
    got = client.get("/api/alerts", params={"sort": "probability"}, headers=h)
    assert texts(got) == ["上海", "广州", "深圳", "北京", "天津"]
    assert texts(client.get("/api/alerts", params={"sort": "-score"}, headers=h))[0] == "上海"
    items = client.get("/api/alerts", headers=h).json()["items"]
    assert [a["probability"] for a in items] == [0.97, 0.9, 0.9, 0.62, probability_of(0.9)]  # never blank
    ranged = client.get("/api/alerts", params={"min_probability": "0.9", "min_score": "0.85"}, headers=h)
    assert texts(ranged) == ["广州", "深圳"]
    counts = client.get("/api/counts", params={"min_probability": "0.9"}, headers=h).json()
    assert counts["by_mark"] == {"九阳": 3}
    for bad in ("lots", "1.5", "-0.1"):
        r = client.get("/api/alerts", params={"min_probability": bad}, headers=h)
        assert r.status_code == 400 and "min_probability" in r.json()["detail"], bad
    r = client.get("/api/alerts", params={"sort": "chance"}, headers=h)
    assert r.status_code == 400 and "sort" in r.json()["detail"]


def test_queue_page_shows_the_probability_in_order_and_keeps_the_filter(client):
    signed_in(client)
    page = client.get("/alerts")
    assert page.status_code == 200
    shown = re.findall(r'<span class="likely [a-z]+" title="[^"]*">est\. ([^<]+)</span>', page.text)
    assert [unescape(s) for s in shown] == ["97 %", "90 %", "90 %", "62 %", f"{round(probability_of(0.9) * 100)} %"]
    assert '<option value="-probability" selected>Most likely worth a look</option>' in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert "from the score: stored before probabilities were kept" in page.text  # the old alert says so

    page = client.get("/alerts", params={"min_probability": "0.95"})
    assert 'name="min_probability" value="0.95"' in page.text
    assert len(re.findall(r'class="likely ', page.text)) == 1
    assert "?min_probability=0.95&amp;pos=0" in page.text  # the row link keeps the filter for next/previous

    page = client.get("/alerts", params={"min_probability": "x"})
    assert page.status_code == 400


def test_alert_page_and_csv_show_the_probability(client):
    signed_in(client)
    best = client.alerts[1]
    page = client.get(f"/alerts/{best.id}")
    assert re.search(
        r'<span id="probability"><span class="likely hi" title="[^"]*">est\. 97 % worth a look</span>', page.text
    )
    old = client.get(f"/alerts/{client.old.id}")
    assert f"est. {round(probability_of(0.9) * 100)} % worth a look" in old.text
    # Next from the first of the queue goes to the second by probability.
    first = client.get(f"/alerts/{best.id}", params={"pos": 0})
    assert f'href="/alerts/{client.alerts[2].id}?pos=1"' in first.text
    rows = list(csv.DictReader(io.StringIO(client.get("/alerts.csv").text.lstrip("\ufeff"))))
    assert [r["probability"] for r in rows] == ["0.9700", "0.9000", "0.9000", "0.6200", f"{probability_of(0.9):.4f}"]
