"""One behaviour, two backends: every test here runs on SQLite and on Elasticsearch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.errors import AlertsError
from alerts.store import AlertNotFound, AlertQuery

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # make_alert's default `now`


def test_upsert_then_get_round_trips(store, make_alert):
    a = make_alert(
        item={"name": "上海九阳电器有限公司", "reg_no": "91310000X", "nested": {"x": [1, 2]}}, evidence_id="ab" * 32
    )
    res = store.upsert([a])
    assert (res.new, res.updated, res.unchanged, res.new_ids) == (1, 0, 0, [a.id])
    got = store.get(a.id)
    assert got == a
    assert got.subject.trade_name == "九阳" and got.subject.region == "上海"
    assert got.evidence_id == "ab" * 32 and got.item["nested"] == {"x": [1, 2]}


def test_same_sighting_is_idempotent_and_later_one_updates(store, make_alert):
    a = make_alert()
    store.upsert([a])
    again = store.upsert([make_alert()])
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
    assert store.get(a.id).times_seen == 1

    store.review([a.id], "confirmed", "明显傍名牌", who="li")
    tomorrow = T0 + timedelta(days=1)
    res = store.upsert([make_alert(now=tomorrow, score=0.95)])
    assert (res.new, res.updated) == (0, 1)
    got = store.get(a.id)
    assert got.times_seen == 2
    assert got.first_seen == T0 and got.last_seen == tomorrow
    assert got.score == pytest.approx(0.95)
    assert got.status == "confirmed" and len(got.history) == 1  # the analyst's work stays


def test_duplicate_ids_in_one_call_count_once_each_sighting(store, make_alert):
    res = store.upsert([make_alert(), make_alert(now=T0 + timedelta(hours=1))])
    assert (res.new, res.updated) == (1, 1)
    assert store.get(make_alert().id).times_seen == 2


def test_review_records_history_and_notes(store, make_alert):
    a, b = make_alert(), make_alert(text="九阳（深圳）豆浆机有限公司")
    store.upsert([a, b])
    store.review([a.id, b.id], "escalated", "报市场监管局", who="wang", now=T0 + timedelta(hours=2))
    store.review([a.id], "resolved", "", who="zhao", now=T0 + timedelta(days=3))
    got = store.get(a.id)
    assert got.status == "resolved"
    assert [(h.who, h.from_status, h.to_status, h.note) for h in got.history] == [
        ("wang", "new", "escalated", "报市场监管局"),
        ("zhao", "escalated", "resolved", ""),
    ]
    assert [n.text for n in got.notes] == ["报市场监管局"]
    assert store.get(b.id).status == "escalated"


def test_review_unknown_id_changes_nothing(store, make_alert):
    a = make_alert()
    store.upsert([a])
    with pytest.raises(AlertNotFound, match="nope"):
        store.review([a.id, "nope"], "dismissed", "x")
    assert store.get(a.id).status == "new"
    with pytest.raises(AlertNotFound):
        store.get("nope")
    with pytest.raises(AlertsError, match="unknown status"):
        store.review([a.id], "deleted", "")


@pytest.fixture
def corpus(store, make_alert):
    alerts = [
        make_alert("上海九阳电器有限公司", score=0.91, now=T0),
        make_alert(
            "九阳豆浆机 正品 包邮",
            kind="listing",
            source="taobao",
            score=0.72,
            seller="阳光小店",
            now=T0 + timedelta(days=1),
        ),
        make_alert(
            "广州九牧卫浴有限公司", mark="九牧", owner="九牧厨卫股份有限公司", score=0.85, now=T0 + timedelta(days=1)
        ),
        make_alert(
            "立白 洗衣液 5kg",
            mark="立白",
            owner="立白科技集团有限公司",
            kind="listing",
            source="jd",
            score=0.55,
            seller="Super Shop",
            now=T0 + timedelta(days=2),
        ),
        make_alert("深圳市九阳小家电科技有限公司", score=0.99, now=T0 + timedelta(days=2)),
    ]
    store.upsert(alerts)
    store.review([alerts[2].id], "dismissed", "whitelisted licensee", who="li")
    return alerts


def texts(page):
    return [a.subject.text for a in page.items]


def test_filters(store, corpus):
    assert store.search(AlertQuery(marks=["九阳"])).total == 3
    assert store.search(AlertQuery(owners=["九牧厨卫股份有限公司"])).total == 1
    assert texts(store.search(AlertQuery(statuses=["dismissed"]))) == ["广州九牧卫浴有限公司"]
    assert store.search(AlertQuery(kinds=["listing"])).total == 2
    assert store.search(AlertQuery(sources=["jd", "taobao"])).total == 2
    assert texts(store.search(AlertQuery(min_score=0.8, max_score=0.9))) == ["广州九牧卫浴有限公司"]
    since = store.search(AlertQuery(since=T0 + timedelta(days=1), until=T0 + timedelta(days=2)))
    assert sorted(texts(since)) == sorted(["九阳豆浆机 正品 包邮", "广州九牧卫浴有限公司"])
    assert store.search(AlertQuery(ids=[corpus[0].id, corpus[3].id])).total == 2
    combined = store.search(AlertQuery(marks=["九阳"], kinds=["enterprise"], min_score=0.95))
    assert texts(combined) == ["深圳市九阳小家电科技有限公司"]


def test_full_text(store, corpus):
    assert sorted(texts(store.search(AlertQuery(text="九阳")))) == sorted(
        ["上海九阳电器有限公司", "九阳豆浆机 正品 包邮", "深圳市九阳小家电科技有限公司"]
    )
    assert texts(store.search(AlertQuery(text="九阳 小家电"))) == ["深圳市九阳小家电科技有限公司"]
    assert texts(store.search(AlertQuery(text="阳光小店"))) == ["九阳豆浆机 正品 包邮"]  # seller
    assert texts(store.search(AlertQuery(text="super"))) == ["立白 洗衣液 5kg"]  # case-insensitive
    assert store.search(AlertQuery(text="阳九")).total == 0  # a phrase, not a bag of characters
    for hostile in ['"', '" OR 1=1 --', "*", "AND OR NOT", "九\u200b阳", "<script>", "\r\n", "NEAR(a b)"]:
        store.search(AlertQuery(text=hostile))  # never an error
    assert store.search(AlertQuery(text="!!!")).total == 0


def test_sort_and_paging(store, corpus):
    by_score = store.search(AlertQuery(sort="-score", size=2))
    assert [a.score for a in by_score.items] == [0.99, 0.91] and by_score.total == 5
    page3 = store.search(AlertQuery(sort="-score", size=2, page=3))
    assert [a.score for a in page3.items] == [0.55]
    assert store.search(AlertQuery(sort="score", size=1)).items[0].score == 0.55
    firsts = [a.first_seen for a in store.search(AlertQuery(sort="first_seen")).items]
    assert firsts == sorted(firsts)
    marks = [a.mark for a in store.search(AlertQuery(sort="mark")).items]
    assert marks == sorted(marks)


def test_default_sort_is_the_calibrated_probability(store, corpus):
    """The queue's order on both stores: probability, then score, then first seen, then id."""
    want = sorted(corpus, key=lambda a: (-a.probability, -a.score, a.first_seen, a.id))
    assert [a.id for a in store.search(AlertQuery()).items] == [a.id for a in want]
    assert [a.id for a in store.export(AlertQuery(sort="-probability"))] == [a.id for a in want]
    assert all(a.probability is not None for a in corpus)
    top = store.search(AlertQuery(min_probability=want[0].probability)).items
    assert [a.id for a in top] == [a.id for a in want if a.probability == want[0].probability]


def test_counts(store, corpus):
    c = store.counts()
    assert c.by_mark == {"九阳": 3, "九牧": 1, "立白": 1}
    assert c.by_status == {"new": 4, "dismissed": 1}
    assert c.by_day == {"2026-03-01": 1, "2026-03-02": 2, "2026-03-03": 2}
    c = store.counts(AlertQuery(marks=["九阳"]))
    assert c.by_status == {"new": 3} and sum(c.by_day.values()) == 3


def test_export_and_notifications(store, corpus):
    everything = list(store.export(AlertQuery(size=1, sort="-score")))  # export ignores paging
    assert [a.score for a in everything] == [0.99, 0.91, 0.85, 0.72, 0.55]

    pending = store.pending_notifications(["九阳", "九牧"], min_score=0.7)
    seen = []
    for alert in pending:  # writing while iterating must neither skip nor repeat alerts
        seen.append(alert.subject.text)
        assert store.mark_notified([alert.id], T0 + timedelta(days=5)) == 1
    assert seen == ["深圳市九阳小家电科技有限公司", "上海九阳电器有限公司", "九阳豆浆机 正品 包邮"]  # not dismissed
    assert list(store.pending_notifications(["九阳"])) == []
    assert store.get(corpus[0].id).notified_at == T0 + timedelta(days=5)
    assert store.search(AlertQuery(notified=True)).total == 3
    # a later sighting keeps notified_at: the owner is not mailed twice for one alert
    store.upsert([corpus[0].model_copy(update={"last_seen": T0 + timedelta(days=9)})])
    assert store.get(corpus[0].id).notified_at == T0 + timedelta(days=5)


def test_hostile_content_round_trips(store, make_alert):
    nasty = "九阳\u200b<script>alert(1)</script>\r\nX-Injected: 1\x1b[31m" + "电" * 5000 + "\udcff"
    a = make_alert(
        text=nasty,
        seller='=HYPERLINK("http://x")',
        item={
            "title": nasty,
            "price": float("nan"),
            "deep": {"a": {"b": {"c": {"d": {"e": 1}}}}},
            "bytes": b"\xff\xfe",
            "many": list(range(1000)),
        },
    )
    store.upsert([a])
    got = store.get(a.id)
    assert got.subject.text.startswith("九阳\u200b<script>") and len(got.subject.text) <= 2001
    assert got.item["price"] is None and len(got.item["many"]) == 100
    assert store.search(AlertQuery(text="script")).total == 1
