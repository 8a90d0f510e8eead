"""Shared pytest fixtures. Keep each group short and labelled; add new groups below."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


# -- Markers: `make test-fast` runs what needs no server and no long crawl ---------------------------

# A test is marked by the server fixture it asks for, so a new test is classified without a list.
_FIXTURE_MARKS = {"es_url": "es", "secure_node": "es", "redis_url": "redis"}


# Modules of whole crawls, scans and CLI subprocesses (seconds per test).
_SLOW_MODULES = {
    "test_cli_match",
    "test_crawler_crawl",
    "test_hostile_world",
    "test_notify_kill",
    "test_scan_cli",
    "test_scan_resume",
    "test_schedule_scheduler",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that reach a server or run a whole scan: `make test-fast` deselects them."""
    for item in items:
        if item.path.stem in _SLOW_MODULES:
            item.add_marker("slow")
        fixtures = set(getattr(item, "fixturenames", ()))
        for fixture, marker in _FIXTURE_MARKS.items():
            if fixture in fixtures:
                item.add_marker(marker)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("store") == "elasticsearch":
            item.add_marker("es")


# -- Elasticsearch: a real node (scripts/es-node) or the cluster in $MARKWATCH_ES_URL -------------

ES_NODE = REPO / "scripts" / "es-node"


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where the Elasticsearch tests must run."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def es_node(cmd: str, name: str, *, secure_password: str | None = None, timeout: float = 300) -> str:
    """Run scripts/es-node; return its stdout (the URL for start/url)."""
    env = dict(os.environ)
    args = [str(ES_NODE), cmd, "--name", name]
    if secure_password is not None:
        args.append("--secure")
        env["ES_NODE_PASSWORD"] = secure_password
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"es-node {cmd} {name} failed: {proc.stderr.strip()[-800:]}")
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


@pytest.fixture(scope="session")
def es_url() -> Iterator[str]:
    """The test cluster: $MARKWATCH_ES_URL (make test / .ci/run set it), else a node started here."""
    url = os.environ.get("MARKWATCH_ES_URL")
    if url:
        yield url
        return
    try:
        url = es_node("start", "pytest")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        unavailable(f"no Elasticsearch: {exc}")
    try:
        yield url
    finally:
        es_node("stop", "pytest")


def es_settings(url: str, **extra):
    """StoreSettings for a test: its own index prefix, no replicas, refresh after writes."""
    from alerts.settings import StoreSettings

    values = dict(
        urls=[url], index_prefix=f"mwtest-{uuid.uuid4().hex[:10]}", replicas=0, refresh=True, timeout=30, retries=1
    )
    values.update(extra)
    return StoreSettings(**values)


def drop_es_indices(store) -> None:
    """Delete a test store's indices and template (the store stays usable for nothing else)."""
    client = store.client
    client.options(ignore_status=404).indices.delete(index=f"{store.prefix}-alerts-*")
    client.options(ignore_status=404).indices.delete_index_template(name=f"{store.prefix}-alerts")


# -- Alert stores: every test using `store` runs on SQLite and on Elasticsearch -------------------


@pytest.fixture(params=["sqlite", "elasticsearch"])
def store(request, tmp_path):
    if request.param == "sqlite":
        from alerts.sqlite_store import SQLiteAlertStore

        s = SQLiteAlertStore(tmp_path / "alerts.sqlite")
        yield s
        s.close()
        return
    from alerts.es_store import ElasticsearchAlertStore

    url = request.getfixturevalue("es_url")
    s = ElasticsearchAlertStore.from_settings(es_settings(url, outbox_path=tmp_path / "outbox.sqlite"))
    try:
        yield s
    finally:
        drop_es_indices(s)
        s.close()


T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def make_alert() -> Callable[..., object]:
    """Build an alert the way the crawler does: a matcher Hit and Subject through alert_from_hit."""
    from alerts.model import alert_from_hit
    from matcher.types import Hit, NameParts, Reason, Subject

    def make(
        text: str = "上海九阳电器有限公司",
        mark: str = "九阳",
        owner: str = "九阳股份有限公司",
        score: float = 0.9,
        kind: str = "enterprise",
        source: str = "gsxt",
        key: str | None = None,
        now: datetime = T0,
        seller: str | None = None,
        item: dict | None = None,
        evidence_id: str | None = None,
    ):
        parts = (
            NameParts(region="上海", trade_name=mark, industry="电器", form="有限公司")
            if kind == "enterprise"
            else None
        )
        hit = Hit(
            mark=mark,
            owner=owner,
            score=score,
            span=(2, 4),
            matched=mark,
            parts=parts,
            reasons=(Reason("contains_mark", "字号包含商标", "trade name contains the mark"),),
        )
        subject = Subject(text=text, kind=kind, seller=seller)  # type: ignore[arg-type]
        return alert_from_hit(
            hit,
            subject,
            source=source,
            subject_key=key or text,
            item=item if item is not None else {"name": text},
            evidence_id=evidence_id,
            now=now,
        )

    return make
