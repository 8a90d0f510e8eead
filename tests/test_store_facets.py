"""Facets, identity search, relations and local days: the same answers on SQLite and Elasticsearch.

Every test using ``store`` runs on both backends; ``test_both_stores_agree`` puts the same alerts in
one store of each kind and compares facet counts and searches one by one.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from web_support import COMPANIES, company_alerts, sample_alerts, uscc
from web_support import alert as make_alert

from alerts.facets import FACETS, index_fields, region_name
from alerts.relations import page_key, query_for, related_entities
from alerts.store import AlertQuery


def reference_facets(alerts) -> dict[str, list[tuple[str, int]]]:
    """The facets computed in Python from the alerts themselves: what both stores must answer."""
    counts: dict[str, Counter] = {name: Counter() for name in FACETS}
    for a in alerts:
        fx = index_fields(a)
        counts["mark"][a.mark] += 1
        counts["kind"][a.subject.kind] += 1
        counts["status"][a.status] += 1
        for s in fx["sources"]:
            counts["source"][s] += 1
        for name in ("region", "authority", "band"):
            if fx[name]:
                counts[name][fx[name]] += 1
    return {name: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for name, c in counts.items()}


def test_facets_match_the_alerts_and_combine(store):
    alerts = company_alerts() + sample_alerts()
    store.upsert(alerts)
    assert store.facets(AlertQuery()) == reference_facets(alerts)
    # Combined: region of Pudong and a band; then an authority.
    q = AlertQuery(regions=["310115"], bands=["high"])
    want = [a for a in alerts if index_fields(a)["region"] == "310115" and index_fields(a)["band"] == "high"]
    assert store.search(q).total == len(want) == 1
    assert store.facets(q) == reference_facets(want)
    q = AlertQuery(authorities=["深圳市市场监督管理局", "杭州市西湖区市场监督管理局"])
    assert {a.subject.text for a in store.search(q).items} == {"深圳九阳厨具有限公司", "杭州九阳小家电科技有限公司"}
    assert region_name("310115") == "上海市 浦东新区"


def test_search_by_credit_code_authority_legal_rep_and_seller(store):
    store.upsert(company_alerts() + sample_alerts())
    code = uscc(COMPANIES[1][1], COMPANIES[1][2])

    def found(text: str) -> set[str]:
        return {a.subject.text for a in store.search(AlertQuery(text=text, size=100)).items}

    assert found(code) == {"深圳九阳厨具有限公司"}
    assert found(code.lower()) == {"深圳九阳厨具有限公司"}  # typed in lower case
    assert found(code[:8]) == {"深圳九阳厨具有限公司"}  # the first characters (division 440300)
    assert found("虎丘区市场监督管理局") == {"苏州九阳电器销售有限公司"}
    assert found("王建国") == {"上海九阳电器有限公司", "深圳九阳厨具有限公司", "杭州九阳小家电科技有限公司"}
    assert found("王建国 深圳") == {"深圳九阳厨具有限公司"}  # terms are ANDed, across fields
    assert found("九阳小家电专营店") == {"九阳豆浆机 正品 破壁", "九阳电饭煲 4L 家用"}
    assert found("1234567890ABCDEFGH") == set()


def test_entity_queries_and_related_entities(store):
    alerts = company_alerts()
    store.upsert(alerts)
    first = alerts[0]
    key = page_key(first)
    assert key == "uscc:" + uscc(COMPANIES[0][1], COMPANIES[0][2])
    mine = list(store.export(query_for(key)))
    assert [a.id for a in mine] == [first.id]
    related = related_entities(store, mine, exclude=key)
    by_name = {r.name: {(s.relation, s.value) for s in r.shared} for r in related}
    assert by_name == {
        "深圳九阳厨具有限公司": {("legal_rep", "王建国"), ("address", "上海市浦东新区川沙路100号")},
        "杭州九阳小家电科技有限公司": {("legal_rep", "王建国")},
        "苏州九阳电器销售有限公司": {("contact", "02158110001")},  # +86 21 5811 0001 = 021-5811 0001
    }
    assert related[0].name == "深圳九阳厨具有限公司"  # most shared fields first
    # The shop: one entity page for its two listings; from one listing, the other is related.
    shop = [a for a in alerts if a.subject.kind == "listing"]
    assert page_key(shop[0]) == page_key(shop[1]) == "shop:九阳小家电专营店"
    assert {a.id for a in store.export(query_for("shop:九阳小家电专营店"))} == {a.id for a in shop}
    from alerts.model import entity_of

    rel = related_entities(store, [shop[0]], exclude=entity_of(shop[0]), by_entity=True)
    assert [(r.name, [s.relation for s in r.shared]) for r in rel] == [("九阳电饭煲 4L 家用", ["shop"])]


def test_days_are_counted_in_the_asked_time_zone(store):
    late = make_alert("宁波九阳电器有限公司", now=datetime(2026, 12, 6, 17, 30, tzinfo=UTC))
    store.upsert([late])
    assert store.counts(AlertQuery()).by_day == {"2026-12-06": 1}
    assert store.counts(AlertQuery(time_zone="Asia/Shanghai")).by_day == {"2026-12-07": 1}


def test_rows_stored_before_the_facets_get_them(tmp_path):
    """An SQLite file from before the facet columns: opening it fills them from each row's document."""
    import sqlite3

    from alerts.sqlite_store import FACET_COLUMNS, SQLiteAlertStore

    path = tmp_path / "old.sqlite"
    s = SQLiteAlertStore(path)
    s.upsert(company_alerts())
    s.close()
    db = sqlite3.connect(path)
    for col in ("uscc", "region", "authority", "legal_rep", "address", "shop"):
        db.execute(f"DROP INDEX alerts_{col}")
    for col in FACET_COLUMNS:
        db.execute(f"ALTER TABLE alerts DROP COLUMN {col}")
    db.execute("UPDATE alembic_version_alerts SET version_num = '0001'")  # the file as revision 0001 left it
    db.commit()
    db.close()
    s = SQLiteAlertStore(path)
    assert s.facets(AlertQuery()) == reference_facets(company_alerts())
    assert s.search(AlertQuery(text="王建国")).total == 3
    s.close()


@pytest.fixture
def both(tmp_path, es_url):
    from conftest import drop_es_indices, es_settings

    from alerts.es_store import ElasticsearchAlertStore
    from alerts.sqlite_store import SQLiteAlertStore

    sq = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    es = ElasticsearchAlertStore.from_settings(es_settings(es_url, outbox_path=tmp_path / "outbox.sqlite"))
    yield sq, es
    sq.close()
    drop_es_indices(es)
    es.close()


QUERIES = [
    AlertQuery(),
    AlertQuery(marks=["九阳"]),
    AlertQuery(kinds=["listing"]),
    AlertQuery(sources=["demo-registry", "taobao"]),
    AlertQuery(regions=["440300", "310115"]),
    AlertQuery(authorities=["深圳市市场监督管理局"]),
    AlertQuery(bands=["medium"]),
    AlertQuery(bands=["high"], kinds=["enterprise"]),
    AlertQuery(statuses=["new"], regions=["330106"]),
    AlertQuery(text="王建国"),
    AlertQuery(text="91440300"),
    AlertQuery(text="市场监督管理局 九阳"),
    AlertQuery(text="九阳官方旗舰店"),
    AlertQuery(legal_reps=["王建国"]),
    AlertQuery(addresses=["上海市浦东新区川沙路100号"]),
    AlertQuery(contacts=["02158110001"]),
    AlertQuery(shops=["九阳小家电专营店"]),
    AlertQuery(usccs=[uscc(COMPANIES[3][1], COMPANIES[3][2])]),
]


def test_both_stores_agree(both):
    sq, es = both
    alerts = company_alerts() + sample_alerts()
    for s in (sq, es):
        s.upsert(alerts)
    sq.review([alerts[0].id, alerts[6].id], "confirmed", who="li")
    es.review([alerts[0].id, alerts[6].id], "confirmed", who="li")
    for q in QUERIES:
        assert sq.facets(q) == es.facets(q), q
        a, b = sq.search(q.model_copy(update={"size": 100})), es.search(q.model_copy(update={"size": 100}))
        assert a.total == b.total and [x.id for x in a.items] == [x.id for x in b.items], q
    assert sq.facets(AlertQuery())["status"] == [("new", len(alerts) - 2), ("confirmed", 2)]
