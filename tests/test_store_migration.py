"""The match span and page URL on alerts: both stores keep them, and stores made before still work.

An alert stored before these fields existed has no span or URL in its document; it must load, and
its readers (the review page's highlight, the digests' link) fall back to finding them as before.
"""

from __future__ import annotations

import json
import sqlite3

from conftest import drop_es_indices, es_settings

from alerts import migrations
from alerts.es_mapping import ADDED_PROPERTIES, MAPPING_VERSION, template_body
from alerts.es_store import ElasticsearchAlertStore
from alerts.model import Alert
from alerts.notify.source import item_from_alert
from alerts.sqlite_store import SCHEMA, SQLiteAlertStore, _row
from markwatch.web.display import highlight

URL = "https://shop.example/item/1?q=%E4%B9%9D%E9%98%B3"
NEW_FIELDS = ("span_start", "span_end", "url", "entity", "sightings", "probability")
# The alerts table's columns that came after the first release (alerts/migrations/alerts/versions/0001_…).
ADDED_COLUMNS = (("span_start", "INTEGER"), ("span_end", "INTEGER"), ("url", "TEXT"), ("probability", "REAL"))


def _old_doc(alert: Alert) -> dict:
    """The document an older markwatch stored: no span, no URL (the page URL only in the item)."""
    doc = alert.to_doc()
    for k in NEW_FIELDS:
        del doc[k]
    doc.pop("deadline", None)  # trademark fields came later still
    for k in ADDED_PROPERTIES["subject"]["properties"]:  # trademark fields, then an enterprise's declared ones
        doc["subject"].pop(k, None)
    return doc


def test_span_and_url_round_trip_on_both_stores(store, make_alert):
    a = make_alert(text="九阳九阳电器有限公司", item={"name": "九阳九阳电器有限公司"})
    a = a.model_copy(update={"url": URL})
    store.upsert([a])
    got = store.get(a.id)
    assert (got.span_start, got.span_end, got.url) == (2, 4, URL)
    # The stored span is what the page marks: the second 九阳, where the matcher found it.
    assert str(highlight(got)) == "九阳<mark>九阳</mark>电器有限公司"
    assert item_from_alert(got).url == URL


def test_sqlite_store_made_before_gets_the_columns_and_its_alerts_still_load(tmp_path, make_alert):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)  # the table as the first release made it (the new columns come by migration)
    assert not {n for n, _ in ADDED_COLUMNS} & {r[1] for r in db.execute("PRAGMA table_info(alerts)")}
    old = make_alert(text="九阳九阳电器有限公司", key="old", item={"name": "x", "url": "http://old.example/c/1"})
    row = list(_row(old))[:14]
    row[13] = json.dumps(_old_doc(old), ensure_ascii=False)
    db.execute(f"INSERT INTO alerts VALUES ({', '.join('?' * 14)})", row)
    db.commit()
    db.close()

    store = SQLiteAlertStore(path)
    try:
        cols = {r[1]: r[2] for r in store.db.execute("PRAGMA table_info(alerts)")}
        assert {n: cols[n] for n, _ in ADDED_COLUMNS} == dict(ADDED_COLUMNS)
        got = store.get(old.id)
        assert (got.span_start, got.span_end, got.url) == (None, None, None)
        assert str(highlight(got)) == "<mark>九阳</mark>九阳电器有限公司"  # the old lookup: first occurrence
        assert item_from_alert(got).url == "http://old.example/c/1"  # the old guess from the item
        new = make_alert(key="new").model_copy(update={"url": URL})
        store.upsert([new])
    finally:
        store.close()
    assert migrations.current(sqlite3.connect(path), "alerts") == migrations.head("alerts")
    store = SQLiteAlertStore(path)  # opening again migrates nothing twice
    try:
        got = store.get(new.id)
        assert (got.span_start, got.span_end, got.url) == (2, 4, URL)
        assert store.db.execute("SELECT url, span_start FROM alerts WHERE id = ?", (new.id,)).fetchone() == (URL, 2)
        assert len(store.get_many([old.id, new.id])) == 2
    finally:
        store.close()


def test_elasticsearch_index_made_before_gets_the_fields_and_its_alerts_still_load(es_url, tmp_path, make_alert):
    store = ElasticsearchAlertStore.from_settings(es_settings(es_url, outbox_path=tmp_path / "o.sqlite"))
    client = store.client
    try:
        body = template_body(store.alias, 0)
        props = body["template"]["mappings"]["properties"]
        for k, v in ADDED_PROPERTIES.items():  # the mapping as the first release put it
            if k == "subject":  # fields added inside subject (trademark applications), not subject itself
                for sub in v["properties"]:
                    del props["subject"]["properties"][sub]
            else:
                del props[k]
        body["template"]["mappings"]["_meta"] = {"markwatch_mapping_version": 1}
        client.indices.put_index_template(name=store.alias, **body)
        client.indices.create(index=store.index, aliases={store.alias: {"is_write_index": True}})
        old = make_alert(key="old", item={"name": "x", "url": "http://old.example/c/1"})
        client.index(index=store.alias, id=old.id, document=_old_doc(old), refresh=True)
        mapping = client.indices.get_mapping(index=store.index).body[store.index]["mappings"]["properties"]
        assert not (set(ADDED_PROPERTIES) - {"subject"}) & set(mapping)

        new = make_alert("北京九阳电器有限公司", key="new").model_copy(update={"url": URL})
        assert store.upsert([new]).new == 1  # a strict mapping without the fields would refuse it
        mapping = client.indices.get_mapping(index=store.index).body[store.index]["mappings"]["properties"]
        for k, v in ADDED_PROPERTIES.items():
            if k == "subject":  # added inside subject, beside the first release's fields
                props_now = mapping["subject"]["properties"]
                assert {s: props_now[s] for s in v["properties"]} == v["properties"]
            else:
                assert mapping[k] == v
        meta = client.indices.get_mapping(index=store.index).body[store.index]["mappings"]["_meta"]
        assert meta == {"markwatch_mapping_version": MAPPING_VERSION}
        again = ElasticsearchAlertStore.from_settings(es_settings(es_url, outbox_path=tmp_path / "o2.sqlite"))
        again.ensure_index()  # a second opener finds it done and changes nothing
        assert client.indices.get_mapping(index=store.index).body[store.index]["mappings"]["_meta"] == meta
        again.close()
        got_old, got_new = store.get(old.id), store.get(new.id)
        assert (got_old.span_start, got_old.url) == (None, None)
        assert item_from_alert(got_old).url == "http://old.example/c/1"
        assert (got_new.span_start, got_new.span_end, got_new.url) == (2, 4, URL)
    finally:
        drop_es_indices(store)
        store.close()


def test_a_file_the_old_alter_table_loop_half_migrated_gets_the_rest(tmp_path):
    """Files from before the migration chains may hold some added columns: only the missing ones come."""
    path = tmp_path / "half.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.execute("ALTER TABLE alerts ADD COLUMN span_start INTEGER")
    db.execute("ALTER TABLE alerts ADD COLUMN span_end INTEGER")
    db.commit()
    db.close()
    SQLiteAlertStore(path).close()
    db = sqlite3.connect(path)
    cols = {r[1]: r[2] for r in db.execute("PRAGMA table_info(alerts)")}
    assert {n: cols[n] for n, _ in ADDED_COLUMNS} == dict(ADDED_COLUMNS)
    assert migrations.current(db, "alerts") == migrations.head("alerts")
    db.close()


def test_processes_opening_an_old_file_at_once_migrate_it_once(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "race.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.close()
    code = f"from alerts.sqlite_store import SQLiteAlertStore; SQLiteAlertStore({str(path)!r}).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM alembic_version_alerts").fetchone() == (1,)
    db.close()
