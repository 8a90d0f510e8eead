"""Alerts: the alert model, the stores (SQLite by default, Elasticsearch for real deployments),
and preserved evidence.

``open_store(settings)`` takes ``alerts.settings.StoreSettings`` (or anything with it as ``.store``,
such as the app's settings) and returns
an ``AlertStore``: Elasticsearch when ``[store] urls`` is set, else SQLite at ``sqlite_path``.
``open_evidence(settings)`` returns the ``EvidenceStore`` (always SQLite, next to the alerts DB).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from alerts.errors import AlertNotFound, AlertsError, StoreUnavailable
from alerts.model import STATUSES, Alert, alert_from_hit, alert_id
from alerts.settings import StoreSettings
from alerts.store import AlertQuery, AlertStore, Counts, Page, UpsertResult

if TYPE_CHECKING:
    from alerts.evidence import EvidenceStore


class HasStoreSettings(Protocol):
    """Settings that carry a ``[store]`` section (the app's ``Settings``), so callers can pass theirs."""

    @property
    def store(self) -> StoreSettings: ...


def _store_settings(settings: HasStoreSettings | StoreSettings) -> StoreSettings:
    return settings if isinstance(settings, StoreSettings) else settings.store


def open_store(settings: HasStoreSettings | StoreSettings) -> AlertStore:
    s = _store_settings(settings)
    if s.urls:
        from alerts.extras import require

        require("elasticsearch", "es", "[store] urls (Elasticsearch)")
        from alerts.es_store import ElasticsearchAlertStore

        return ElasticsearchAlertStore.from_settings(s)
    from alerts.sqlite_store import SQLiteAlertStore

    return SQLiteAlertStore(s.sqlite_path)


def open_evidence(settings: HasStoreSettings | StoreSettings) -> EvidenceStore:
    from alerts.evidence import EvidenceStore

    return EvidenceStore(_store_settings(settings).evidence_file())


__all__ = [
    "STATUSES",
    "Alert",
    "AlertNotFound",
    "AlertQuery",
    "AlertStore",
    "AlertsError",
    "Counts",
    "Page",
    "StoreSettings",
    "StoreUnavailable",
    "UpsertResult",
    "alert_from_hit",
    "alert_id",
    "open_evidence",
    "open_store",
]
