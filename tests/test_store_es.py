"""Elasticsearch-only behaviour: index layout, security, and the outbox across a node restart."""

from __future__ import annotations

import secrets
import socket
from datetime import UTC, datetime, timedelta

import pytest
from conftest import drop_es_indices, es_node, es_settings, unavailable

from alerts.es_store import ElasticsearchAlertStore
from alerts.store import AlertQuery, StoreUnavailable

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def closed_port_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def test_index_template_alias_and_strict_mapping(es_url, tmp_path, make_alert):
    store = ElasticsearchAlertStore.from_settings(es_settings(es_url, outbox_path=tmp_path / "o.sqlite"))
    try:
        store.upsert([make_alert(item={"any": {"crawled": "key"}, "x-évil": 1})])
        aliases = store.client.indices.get_alias(name=store.alias).body
        assert list(aliases) == [f"{store.prefix}-alerts-v1"]
        assert aliases[f"{store.prefix}-alerts-v1"]["aliases"][store.alias]["is_write_index"] is True
        mapping = store.client.indices.get_mapping(index=store.alias).body[f"{store.prefix}-alerts-v1"]["mappings"]
        assert mapping["dynamic"] == "strict"
        assert mapping["properties"]["item"] == {"type": "object", "enabled": False}  # crawled keys don't grow it
        assert mapping["properties"]["mark"]["type"] == "keyword"
        assert mapping["properties"]["subject"]["properties"]["text"]["type"] == "text"
        assert store.client.indices.exists_index_template(name=store.alias)
        # a second store on the same prefix finds the alias and does not fail
        again = ElasticsearchAlertStore(store.client, prefix=store.prefix, replicas=0)
        assert again.search(AlertQuery()).total == 1
    finally:
        drop_es_indices(store)
        store.close()


def test_unreachable_cluster(tmp_path, make_alert):
    """Reads fail with one clear line; writes go to the outbox instead of failing the run."""
    url = closed_port_url()
    store = ElasticsearchAlertStore.from_settings(
        es_settings(url, outbox_path=tmp_path / "o.sqlite", timeout=2, retries=0)
    )
    try:
        with pytest.raises(StoreUnavailable, match=r"cannot reach Elasticsearch at http://127\.0\.0\.1"):
            store.search(AlertQuery())
        with pytest.raises(StoreUnavailable):
            store.review(["x"], "confirmed")
        res = store.upsert([make_alert(), make_alert(text="九阳电器（上海）有限公司")])
        assert (res.queued, res.new) == (2, 0)
        assert store.outbox_size() == 2
        with pytest.raises(StoreUnavailable):
            store.flush_outbox()
    finally:
        store.close()


# -- a node of our own, with security on: authenticated access, then stopped mid-run ----------------


@pytest.fixture(scope="module")
def secure_node():
    password = secrets.token_urlsafe(16)
    try:
        url = es_node("start", "secure-test", secure_password=password)
    except (RuntimeError, OSError) as exc:
        unavailable(f"cannot start a secured node: {exc}")
    try:
        yield url, password
    finally:
        es_node("stop", "secure-test")


def test_secured_node_needs_the_user(secure_node, tmp_path, make_alert):
    url, password = secure_node
    good = ElasticsearchAlertStore.from_settings(
        es_settings(url, username="markwatch", password=password, outbox_path=tmp_path / "o.sqlite")
    )
    try:
        assert good.upsert([make_alert()]).new == 1
        assert good.search(AlertQuery(text="九阳")).total == 1
        for creds in ({"username": "markwatch", "password": "wrong-password"}, {}):
            bad = ElasticsearchAlertStore.from_settings(
                es_settings(url, index_prefix=good.prefix, outbox_path=tmp_path / "b.sqlite", **creds)
            )
            with pytest.raises(StoreUnavailable, match="refused the credentials"):
                bad.search(AlertQuery())
            with pytest.raises(StoreUnavailable, match=r"refused the credentials.*1 alert\(s\) kept in the outbox"):
                bad.upsert([make_alert(text="九阳厨电有限公司")])
            bad.close()
    finally:
        drop_es_indices(good)
        good.close()


def test_outbox_survives_the_node_stopping_mid_run(secure_node, tmp_path, make_alert):
    url, password = secure_node
    settings = es_settings(
        url, username="markwatch", password=password, outbox_path=tmp_path / "outbox.sqlite", timeout=5, retries=0
    )
    day1 = [make_alert(f"上海九阳{i}号电器有限公司", now=T0) for i in range(700)]
    day2 = [make_alert(f"杭州九阳{i}号小家电有限公司", now=T0 + timedelta(days=1)) for i in range(300)]
    seen_again = make_alert("上海九阳0号电器有限公司", now=T0 + timedelta(days=1))  # day1[0] seen again
    day3 = [make_alert("深圳九阳厨电有限公司", now=T0 + timedelta(days=2))]

    store = ElasticsearchAlertStore.from_settings(settings)
    try:
        assert store.upsert(day1).new == 700
        es_node("stop", "secure-test")  # the cluster goes away in the middle of the run
        res = store.upsert([*day2, seen_again])
        assert (res.queued, res.new) == (301, 0)
        store.close()  # the run ends; only the outbox file remains

        es_node("start", "secure-test", secure_password=password)
        store = ElasticsearchAlertStore.from_settings(settings)  # next run
        assert store.outbox_size() == 301
        res = store.upsert(day3)
        assert res.replayed == 301 and res.new == 301 and res.updated == 1
        assert store.outbox_size() == 0
        assert store.search(AlertQuery(size=1)).total == 1001
        assert store.get(day1[0].id).times_seen == 2
        assert store.counts().by_day == {"2026-03-01": 700, "2026-03-02": 300, "2026-03-03": 1}
        assert store.upsert(day3).unchanged == 1  # and replaying again changes nothing
    finally:
        drop_es_indices(store)
        store.close()
