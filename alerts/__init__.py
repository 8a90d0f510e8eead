"""Alerts: the alert model, the stores (SQLite by default, Elasticsearch for real deployments),
and preserved evidence.

``open_store(settings)`` takes ``markwatch.config.Settings`` or its ``StoreSettings`` and returns
an ``AlertStore``: Elasticsearch when ``[store] urls`` is set, else SQLite at ``sqlite_path``.
``open_evidence(settings)`` returns the ``EvidenceStore`` (always SQLite, next to the alerts DB).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts.model import STATUSES, Alert, alert_from_hit, alert_id
from alerts.store import AlertNotFound, AlertQuery, AlertStore, Counts, Page, StoreUnavailable, UpsertResult

if TYPE_CHECKING:
    from alerts.evidence import EvidenceStore
    from markwatch.config import Settings, StoreSettings


def _store_settings(settings: Settings | StoreSettings) -> StoreSettings:
    return getattr(settings, "store", settings)  # type: ignore[return-value]


def open_store(settings: Settings | StoreSettings) -> AlertStore:
    s = _store_settings(settings)
    if s.urls:
        from alerts.es_store import ElasticsearchAlertStore

        return ElasticsearchAlertStore.from_settings(s)
    from alerts.sqlite_store import SQLiteAlertStore

    return SQLiteAlertStore(s.sqlite_path)


def open_evidence(settings: Settings | StoreSettings) -> EvidenceStore:
    from alerts.evidence import EvidenceStore

    return EvidenceStore(_store_settings(settings).evidence_file())


__all__ = [
    "STATUSES",
    "Alert",
    "AlertNotFound",
    "AlertQuery",
    "AlertStore",
    "Counts",
    "Page",
    "StoreUnavailable",
    "UpsertResult",
    "alert_from_hit",
    "alert_id",
    "open_evidence",
    "open_store",
]
