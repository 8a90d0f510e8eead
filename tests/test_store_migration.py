"""The match span and page URL on alerts: both stores keep them, and stores made before still work.

An alert stored before these fields existed has no span or URL in its document; it must load, and
its readers (the review page's highlight, the digests' link) fall back to finding them as before.
"""

from __future__ import annotations

import json
import sqlite3

from conftest import drop_es_indices, es_settings

from alerts.es_mapping import ADDED_PROPERTIES, template_body
from alerts.es_store import ElasticsearchAlertStore
from alerts.model import Alert
from alerts.notify.source import item_from_alert
from alerts.sqlite_store import ADDED_COLUMNS, SCHEMA, SQLiteAlertStore, _row
from markwatch.web.display import highlight

URL = "https://shop.example/item/1?q=%E4%B9%9D%E9%98%B3"
NEW_FIELDS = ("span_start", "span_end", "url", "entity", "sightings", "probability")


def _old_doc(alert: Alert) -> dict:
    """The document an older markwatch stored: no span, no URL (the page URL only in the item)."""
    doc = alert.to_doc()
    for k in NEW_FIELDS:
        del doc[k]
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
        for k in ADDED_PROPERTIES:
            del props[k]  # the mapping as the first release put it
        client.indices.put_index_template(name=store.alias, **body)
        client.indices.create(index=store.index, aliases={store.alias: {"is_write_index": True}})
        old = make_alert(key="old", item={"name": "x", "url": "http://old.example/c/1"})
        client.index(index=store.alias, id=old.id, document=_old_doc(old), refresh=True)
        mapping = client.indices.get_mapping(index=store.index).body[store.index]["mappings"]["properties"]
        assert not set(ADDED_PROPERTIES) & set(mapping)

        new = make_alert("北京九阳电器有限公司", key="new").model_copy(update={"url": URL})
        assert store.upsert([new]).new == 1  # a strict mapping without the fields would refuse it
        mapping = client.indices.get_mapping(index=store.index).body[store.index]["mappings"]["properties"]
        assert {k: mapping[k] for k in ADDED_PROPERTIES} == ADDED_PROPERTIES
        got_old, got_new = store.get(old.id), store.get(new.id)
        assert (got_old.span_start, got_old.url) == (None, None)
        assert item_from_alert(got_old).url == "http://old.example/c/1"
        assert (got_new.span_start, got_new.span_end, got_new.url) == (2, 4, URL)
    finally:
        drop_es_indices(store)
        store.close()
