"""The CaseStore protocol: cases live next to the alerts, in the same backend.

Both implementations keep the whole case document (``Case.to_doc()``) and the few fields that
list filters need; ``save`` is optimistic: it fails with ``CaseConflict`` if someone else saved
the case since it was read (``updated_at`` differs), so two analysts never lose an event.
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from alerts.cases.errors import CaseError, CaseNotFound
from alerts.cases.model import Case


class CaseConflict(CaseError):
    """The case changed since it was read; read it again and retry."""


class CaseStore(abc.ABC):
    @abc.abstractmethod
    def create(self, case: Case) -> Case: ...

    @abc.abstractmethod
    def _get(self, case_id: str) -> Case | None: ...

    @abc.abstractmethod
    def save(self, case: Case, expected_updated_at: datetime) -> Case:
        """Replace the stored case if its ``updated_at`` is still ``expected_updated_at``."""

    @abc.abstractmethod
    def list(self, states: Iterable[str] = (), owner: str | None = None, entity_key: str | None = None) -> list[Case]:
        """Cases, most recently updated first."""

    def get(self, case_id: str) -> Case:
        """By id or by an unambiguous prefix of it."""
        found = self._get(case_id)
        if found is not None:
            return found
        if len(case_id) >= 4:
            matches = [c for c in self.list() if c.id.startswith(case_id)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise CaseNotFound(f"case id {case_id!r} is ambiguous ({len(matches)} cases start with it)")
        raise CaseNotFound(f"no case with id {case_id!r}")

    def for_alert(self, alert_id: str) -> builtins.list[Case]:
        return [c for c in self.list() if alert_id in c.alert_ids]


def open_case_store(alert_store: Any) -> CaseStore:
    """The case store on the alert store's own connection (SQLite) or client (Elasticsearch)."""
    if hasattr(alert_store, "client"):
        from alerts.cases.es import ElasticsearchCaseStore

        return ElasticsearchCaseStore(
            alert_store.client, prefix=alert_store.prefix, refresh=alert_store.refresh, where=alert_store.where
        )
    from alerts.cases.sqlite import SQLiteCaseStore

    return SQLiteCaseStore(alert_store.db)
