"""One alert per (mark, entity), the migration and exceptions on both stores (SQLite and a real ES node)."""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta

import pytest
from conftest import T0

from alerts.errors import AlertNotFound
from alerts.exceptions import MarkException, excludes_by_mark, never_flag
from alerts.store import AlertQuery
from crawler.uscc import generate

CODE = generate(random.Random(11), "350200")
NAME = "厦门市九陽小家电股份有限公司"


def _legacy(alert):
    """The document an older markwatch stored: id per source, no entity, no sightings."""
    legacy = hashlib.sha256(f"{alert.source}\x1f{alert.subject_key}\x1f{alert.mark}".encode()).hexdigest()[:32]
    return alert.model_copy(update={"id": legacy, "entity": "", "sightings": []})


def test_the_same_company_from_two_sources_is_one_alert(store, make_alert):
    a = make_alert(NAME, source="gsxt", key=f"uscc:{CODE}", score=0.8)
    b = make_alert(NAME, source="qcc", key=f"uscc:{CODE}", score=0.9, now=T0 + timedelta(hours=1))
    r1 = store.upsert([a])
    r2 = store.upsert([b])
    assert (r1.new, r2.new, r2.updated) == (1, 0, 1)
    assert store.search(AlertQuery()).total == 1
    got = store.get(a.id)
    assert got.sources == ["gsxt", "qcc"] and got.score == 0.9 and got.times_seen == 2
    # Filtering by either source finds the entity.
    for src in ("gsxt", "qcc"):
        assert [x.id for x in store.search(AlertQuery(sources=[src])).items] == [a.id]
    assert store.upsert([a, b]).unchanged == 2  # replays change nothing


def test_a_dismissed_entity_re_seen_by_another_source_stays_dismissed(store, make_alert):
    a = make_alert(NAME, source="gsxt", key=f"uscc:{CODE}")
    store.upsert([a])
    store.review([a.id], "dismissed", "not them", who="li")
    store.upsert([make_alert(NAME, source="qcc", key=f"uscc:{CODE}", score=0.99, now=T0 + timedelta(days=1))])
    got = store.get(a.id)
    assert got.status == "dismissed" and got.sources == ["gsxt", "qcc"] and len(got.history) == 1
    assert store.search(AlertQuery(statuses=["new"])).total == 0


def test_migration_merges_duplicates_keeps_history_and_is_safe_twice(store, make_alert):
    a = _legacy(make_alert(NAME, source="gsxt", key=f"uscc:{CODE}", score=0.7))
    b = _legacy(make_alert(NAME, source="qcc", key=f"name:{NAME}", score=0.9, item={"name": NAME, "uscc": CODE}))
    c = _legacy(make_alert("上海九阳电器有限公司", source="gsxt"))
    store._replace([a, b, c], [])  # as an older markwatch left them
    store.review([a.id], "confirmed", "copy", who="li", now=T0 + timedelta(hours=1))
    store.review([b.id], "escalated", "big one", who="wang", now=T0 + timedelta(hours=2))
    assert store.search(AlertQuery()).total == 3

    dry = store.migrate_entities(apply=False)
    assert (dry.alerts_before, dry.alerts_after, dry.merged_groups) == (3, 2, 1)
    assert store.search(AlertQuery()).total == 3  # a dry run writes nothing

    r = store.migrate_entities()
    assert (r.alerts_before, r.alerts_after, r.merged_groups, r.rewritten, r.deleted) == (3, 2, 1, 2, 3)
    assert store.search(AlertQuery()).total == 2
    merged = next(x for x in store.export(AlertQuery()) if x.entity == f"uscc:{CODE}")
    assert merged.status == "escalated" and [h.who for h in merged.history] == ["li", "wang"]
    assert sorted(merged.sources) == ["gsxt", "qcc"] and merged.score == 0.9
    with pytest.raises(AlertNotFound):
        store.get(a.id)

    again = store.migrate_entities()
    assert (again.alerts_before, again.alerts_after, again.rewritten, again.deleted) == (2, 2, 0, 0)
    assert store.get(merged.id) == merged
    # New hits after the migration land on the migrated alerts.
    fresh = make_alert(NAME, source="gsxt", key=f"uscc:{CODE}", score=0.5, now=T0 + timedelta(days=2))
    assert fresh.id == merged.id
    assert store.upsert([fresh]).updated == 1 and store.search(AlertQuery()).total == 2


def test_exceptions_are_stored_listed_and_revoked(store, make_alert):
    a = make_alert("北京市老干部活动中心", mark="老干妈", owner="贵州老干妈")
    store.upsert([a])
    done = store.review([a.id], "dismissed", "老干部 is not 老干妈", who="li")
    e = never_flag(store, done[0], "老干部\u200b", "li", "老干部 is not 老干妈")
    assert (e.mark, e.word, e.who, e.alert_id) == ("老干妈", "老干部", "li", a.id)
    assert never_flag(store, done[0], "老干部", "wang").id == e.id  # not stored twice
    g = store.exception_add(MarkException(word="中心", who="li", at=T0, why="common word"))
    assert {x.id for x in store.exception_list(active_only=True)} == {e.id, g.id}
    assert excludes_by_mark(store.exception_list()) == ({"老干妈": ["老干部"]}, ["中心"])
    r = store.exception_revoke(e.id, "wang", "needed after all", now=T0 + timedelta(days=1))
    assert r.revoked_by == "wang" and not r.active
    assert [x.id for x in store.exception_list(active_only=True)] == [g.id]
    assert {x.id for x in store.exception_list()} == {e.id, g.id}
    # Revoking twice keeps the first record.
    assert store.exception_revoke(e.id, "zhao").revoked_by == "wang"
    with pytest.raises(AlertNotFound):
        store.exception_revoke("x000000", "li")
