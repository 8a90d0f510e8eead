"""The calibrated probability on alerts: kept, merged, sorted, filtered and backfilled, on both stores.

Every test using ``store`` runs on SQLite and on a real Elasticsearch node and compares the store's
order with one reference order computed here, so the two stores agree with each other.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

from conftest import T0

from alerts.es_store import ElasticsearchAlertStore
from alerts.model import Alert, merge_seen, probability_of
from alerts.sqlite_store import SQLiteAlertStore
from alerts.store import AlertQuery
from matcher.calibration import probability as shipped
from matcher.types import Hit, Subject


def with_p(alert: Alert, p: float) -> Alert:
    return alert.model_copy(update={"probability": p})


def store_as_before(store, alerts: list[Alert]) -> None:
    """Write alerts the way a markwatch from before probabilities left them: no field, no column value."""
    if isinstance(store, SQLiteAlertStore):
        store.upsert(alerts)
        ids = [a.id for a in alerts]
        marks = ",".join("?" * len(ids))
        store.db.execute(
            f"UPDATE alerts SET probability = NULL, doc = json_remove(doc, '$.probability') WHERE id IN ({marks})", ids
        )
        return
    assert isinstance(store, ElasticsearchAlertStore)
    from elasticsearch import helpers

    store.ensure_index()
    docs = [{k: v for k, v in a.to_doc().items() if k != "probability"} for a in alerts]
    actions = [{"_index": store.alias, "_id": d["id"], "_source": d} for d in docs]
    ok, errors = helpers.bulk(store.client, actions, refresh="wait_for")
    assert ok == len(alerts) and not errors


def reference(alerts: list[Alert], sort: str, missing: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """The documented order: probability, then score, then first seen (oldest first), then id;
    alerts stored without a probability last in either direction."""
    sign = -1 if sort.startswith("-") else 1

    def key(a: Alert) -> tuple:
        gone = a.id in missing  # sorted among themselves by score, first seen and id
        return (gone, 0.0 if gone else sign * (a.probability or 0.0), sign * a.score, a.first_seen, a.id)

    return [a.id for a in sorted(alerts, key=key)]


def corpus(make_alert) -> list[Alert]:
    """Ties on every level: equal probability with different scores, equal score with different
    first_seen, and equal everything but the id; a high score with a low probability (a refit
    calibration using more than the score may do that)."""
    day = timedelta(days=1)
    return [
        with_p(make_alert("上海九阳电器有限公司", score=0.99), 0.62),
        with_p(make_alert("北京九阳电器有限公司", score=0.80), 0.97),
        with_p(make_alert("广州九阳电器有限公司", score=0.85), 0.97),
        with_p(make_alert("深圳九阳电器有限公司", score=0.85, now=T0 - day), 0.97),
        with_p(make_alert("杭州九阳电器有限公司", score=0.75, now=T0 + day), 0.90),
        with_p(make_alert("南京九阳电器有限公司", score=0.75, now=T0 + day), 0.90),
        with_p(make_alert("九阳豆浆机 原单", kind="listing", source="taobao", score=0.7), 0.8571),
    ]


def test_sort_by_probability_matches_the_reference_order(store, make_alert):
    alerts = corpus(make_alert)
    store.upsert(alerts)
    for sort in ("-probability", "probability"):
        want = reference(alerts, sort)
        assert [a.id for a in store.search(AlertQuery(sort=sort, size=100)).items] == want, sort
        assert [a.id for a in store.export(AlertQuery(sort=sort))] == want, sort
        paged = [a.id for p in (1, 2, 3) for a in store.search(AlertQuery(sort=sort, size=3, page=p)).items]
        assert paged == want, sort
    assert AlertQuery().sort == "-probability"  # the queue's default
    assert [a.id for a in store.search(AlertQuery(size=100)).items] == reference(alerts, "-probability")
    first = store.search(AlertQuery(size=1)).items[0]
    assert (first.subject.text, first.probability) == ("深圳九阳电器有限公司", 0.97)


def test_min_probability_filter(store, make_alert):
    alerts = corpus(make_alert)
    store.upsert(alerts)
    got = store.search(AlertQuery(min_probability=0.9, sort="-probability", size=100))
    assert [a.id for a in got.items] == reference([a for a in alerts if a.probability >= 0.9], "-probability")
    assert got.total == 5
    # The boundary value is included (both stores compare the same doubles).
    assert store.search(AlertQuery(min_probability=0.8571)).total == 6
    assert store.search(AlertQuery(min_probability=0.8572)).total == 5
    assert store.search(AlertQuery(min_probability=0.9, min_score=0.8)).total == 3
    assert store.counts(AlertQuery(min_probability=0.95)).by_mark == {"九阳": 3}


def test_alerts_stored_before_sort_last_show_a_derived_probability_and_migrate_backfills(store, make_alert):
    new = corpus(make_alert)[:3]
    old = [
        make_alert("天津九阳电器有限公司", score=0.95, now=T0 - timedelta(days=30)),
        make_alert("重庆九阳电器有限公司", score=0.70, now=T0 - timedelta(days=30)),
    ]
    store.upsert(new)
    store_as_before(store, old)
    missing = {a.id for a in old}

    got = store.get(old[0].id)  # loads; the probability is the shipped calibration of its score
    assert got.probability == probability_of(0.95) == round(shipped(0.95), 4) and got.probability_derived
    assert not store.get(new[0].id).probability_derived
    everything = new + old
    for sort in ("-probability", "probability"):
        want = reference(everything, sort, missing)
        assert [a.id for a in store.search(AlertQuery(sort=sort, size=100)).items] == want, sort
        assert [a.id for a in store.export(AlertQuery(sort=sort))] == want, sort
    assert store.search(AlertQuery(min_probability=0.0)).total == 3  # not migrated: no value to compare

    dry = store.migrate_entities(apply=False)
    assert (dry.backfilled, dry.rewritten) == (2, 2)
    assert store.get(old[0].id).probability_derived  # a dry run writes nothing
    r = store.migrate_entities()
    assert (r.backfilled, r.rewritten, r.deleted, r.merged_groups) == (2, 2, 0, 0)
    backfilled = store.get(old[0].id)
    assert not backfilled.probability_derived and backfilled.probability == probability_of(0.95)
    assert backfilled.to_doc() == got.to_doc()  # nothing else changed
    want = reference(everything, "-probability")
    assert [a.id for a in store.search(AlertQuery(size=100)).items] == want
    assert store.search(AlertQuery(min_probability=0.0)).total == 5

    again = store.migrate_entities()  # safe to run twice
    assert (again.backfilled, again.rewritten, again.deleted) == (0, 0, 0)


def test_reviews_and_notified_at_on_an_old_alert_store_no_probability_in_either_store(store, make_alert):
    """SQLite rewrites the row, Elasticsearch updates three fields: neither may store the derived
    probability, or the queue's order would differ between the stores until the migration."""
    fresh = with_p(make_alert("北京九阳电器有限公司", score=0.8), 0.5)
    old = make_alert("天津九阳电器有限公司", score=0.9)
    store.upsert([fresh])
    store_as_before(store, [old])
    done = store.review([old.id], "confirmed", "copycat", who="li")
    assert done[0].probability == probability_of(0.9)
    assert store.mark_notified([old.id], T0 + timedelta(days=1)) == 1
    got = store.get(old.id)
    assert got.status == "confirmed" and got.notified_at is not None
    assert got.probability == probability_of(0.9) and got.probability_derived
    assert [a.id for a in store.search(AlertQuery()).items] == [fresh.id, old.id]  # still sorted as missing
    assert store.search(AlertQuery(min_probability=0.0)).total == 1
    assert store.migrate_entities().backfilled == 1
    got = store.get(old.id)
    assert not got.probability_derived and got.status == "confirmed" and len(got.history) == 1
    assert [a.id for a in store.search(AlertQuery()).items] == [old.id, fresh.id]


def test_a_new_sighting_of_an_old_alert_stores_the_best_probability(store, make_alert):
    old = make_alert("天津九阳电器有限公司", score=0.9)
    store_as_before(store, [old])
    again = with_p(make_alert("天津九阳电器有限公司", source="qcc", score=0.7, now=T0 + timedelta(days=1)), 0.3)
    assert store.upsert([again]).updated == 1
    got = store.get(old.id)
    assert not got.probability_derived and got.probability == probability_of(0.9) and got.score == 0.9
    assert store.search(AlertQuery(min_probability=probability_of(0.9))).total == 1


def test_sightings_merge_keeps_the_best_probability(store, make_alert):
    a = with_p(make_alert("上海九阳电器有限公司", score=0.9), 0.95)
    store.upsert([a])
    # Seen again by another source with a higher score but a lower probability: each stays the best seen.
    b = with_p(make_alert("上海九阳电器有限公司", source="qcc", score=0.95, now=T0 + timedelta(hours=1)), 0.9)
    assert store.upsert([b]).updated == 1
    got = store.get(a.id)
    assert (got.score, got.probability, got.sources) == (0.95, 0.95, ["gsxt", "qcc"])
    c = with_p(make_alert("上海九阳电器有限公司", source="qcc", score=0.8, now=T0 + timedelta(hours=2)), 0.99)
    store.upsert([c])
    got = store.get(a.id)
    assert (got.score, got.probability) == (0.95, 0.99)
    assert store.search(AlertQuery(min_probability=0.99)).total == 1


def test_the_alert_takes_the_hits_probability_and_else_its_scores(make_alert):
    from alerts.model import alert_from_hit

    def build(probability: float | None, now=T0) -> Alert:
        hit = Hit(mark="九阳", owner="九阳股份", score=0.8, span=(2, 4), matched="九阳", probability=probability)
        subject = Subject("上海九阳电器有限公司")
        return alert_from_hit(hit, subject, source="s", subject_key="k", item={}, evidence_id=None, now=now)

    a = build(0.91234)
    assert a.probability == 0.9123 and not a.probability_derived
    b = make_alert(score=0.8)  # a Hit without a probability
    assert b.probability == round(shipped(0.8), 4)
    doc = a.to_doc()
    assert doc["probability"] == 0.9123
    del doc["probability"]
    old = Alert.model_validate(doc)
    assert old.probability == round(shipped(0.8), 4) and old.probability_derived
    assert Alert.model_validate_json(json.dumps({**doc, "probability": None})).probability_derived
    # merge_seen with an old alert: the derived value counts as its probability.
    merged = merge_seen(old, build(0.5, now=T0 + timedelta(days=1)))
    assert merged is not None and merged.probability == max(0.5, old.probability)
    assert not merged.probability_derived


def test_sqlite_index_serves_the_queue_order(tmp_path, make_alert):
    store = SQLiteAlertStore(tmp_path / "a.sqlite")
    try:
        store.upsert(corpus(make_alert))
        plan = " ".join(
            str(r[-1])
            for r in store.db.execute(
                "EXPLAIN QUERY PLAN SELECT a.doc FROM alerts a ORDER BY a.probability DESC, a.score DESC,"
                " a.first_seen ASC, a.id LIMIT 20"
            )
        )
        assert "alerts_probability" in plan and "TEMP B-TREE" not in plan, plan
    finally:
        store.close()


def test_sqlite_database_made_before_gets_the_column_and_index(tmp_path, make_alert):
    from alerts.sqlite_store import SCHEMA

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.close()
    for _ in range(2):  # opening twice adds nothing twice
        store = SQLiteAlertStore(path)
        cols = {r[1]: r[2] for r in store.db.execute("PRAGMA table_info(alerts)")}
        idx = {r[1] for r in store.db.execute("PRAGMA index_list(alerts)")}
        assert cols["probability"] == "REAL" and "alerts_probability" in idx
        store.upsert([make_alert()])
        store.close()


def test_export_walks_past_a_page_of_1000_with_and_without_probabilities(store, make_alert):
    """Elasticsearch exports by search_after over the sort values, missing probabilities included."""
    made = [
        with_p(make_alert(f"第{i}号九阳电器有限公司", score=0.7 + (i % 7) / 100, now=T0 + timedelta(minutes=i % 13)), p)
        for i, p in enumerate([0.6, 0.9, 0.97] * 400)
    ]
    old = [a for i, a in enumerate(made) if i % 4 == 0]
    new = [a for i, a in enumerate(made) if i % 4]
    store.upsert(new)
    store_as_before(store, old)
    missing = {a.id for a in old}
    for sort in ("-probability", "probability"):
        assert [a.id for a in store.export(AlertQuery(sort=sort))] == reference(made, sort, missing), sort
    page = store.search(AlertQuery(sort="-probability", size=100, page=10))
    assert [a.id for a in page.items] == reference(made, "-probability", missing)[900:1000]
