"""Cases in Elasticsearch: index ``<prefix>-cases`` next to the alerts, on the same client.

Saves are guarded by ``if_seq_no``/``if_primary_term`` of the read, so two analysts never lose
each other's events (``CaseConflict``). The whole case document is kept unindexed except the
fields that list filters need.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError

from alerts.cases.errors import CaseError
from alerts.cases.model import Case
from alerts.cases.store import CaseConflict, CaseStore
from alerts.model import iso

MAPPING = {
    "dynamic": False,
    "properties": {
        "id": {"type": "keyword"},
        "state": {"type": "keyword"},
        "owner": {"type": "keyword"},
        "entity_key": {"type": "keyword"},
        "deadline": {"type": "date"},
        "updated_at": {"type": "date"},
        "doc": {"type": "object", "enabled": False},
    },
}


class ElasticsearchCaseStore(CaseStore):
    def __init__(
        self, client: Elasticsearch, *, prefix: str = "markwatch", refresh: bool = False, where: str = ""
    ) -> None:
        self.client = client
        self.index = f"{prefix}-cases"
        self.refresh = refresh
        self.where = where
        self._ready = False
        self._seq: dict[str, tuple[int, int]] = {}

    def _ensure(self) -> None:
        if self._ready:
            return
        if not self.client.indices.exists(index=self.index):
            try:
                self.client.indices.create(index=self.index, mappings=MAPPING)
            except ApiError as exc:
                if exc.meta.status != 400 or "resource_already_exists" not in str(exc):
                    raise
        self._ready = True

    def _body(self, case: Case) -> dict[str, Any]:
        return {
            "id": case.id,
            "state": case.state,
            "owner": case.owner,
            "entity_key": case.entity.key,
            "deadline": case.deadline.isoformat() if case.deadline else None,
            "updated_at": iso(case.updated_at),
            "doc": case.to_doc(),
        }

    def _ref(self) -> str | bool:
        return "wait_for" if self.refresh else False

    def create(self, case: Case) -> Case:
        self._ensure()
        try:
            r = self.client.create(index=self.index, id=case.id, document=self._body(case), refresh=self._ref())
        except ConflictError:
            raise CaseError(f"case {case.id} already exists") from None
        self._seq[case.id] = (r["_seq_no"], r["_primary_term"])
        return case

    def _get(self, case_id: str) -> Case | None:
        self._ensure()
        try:
            r = self.client.get(index=self.index, id=case_id)
        except NotFoundError:
            return None
        self._seq[case_id] = (r["_seq_no"], r["_primary_term"])
        return Case.model_validate(r["_source"]["doc"])

    def save(self, case: Case, expected_updated_at: datetime) -> Case:
        self._ensure()
        try:
            r = self.client.get(index=self.index, id=case.id)
        except NotFoundError:
            raise CaseError(f"no case with id {case.id!r}") from None
        if r["_source"]["updated_at"] != iso(expected_updated_at):
            raise CaseConflict(f"case {case.id} changed meanwhile; read it again")
        try:
            self.client.index(
                index=self.index,
                id=case.id,
                document=self._body(case),
                if_seq_no=r["_seq_no"],
                if_primary_term=r["_primary_term"],
                refresh=self._ref(),
            )
        except ConflictError:
            raise CaseConflict(f"case {case.id} changed meanwhile; read it again") from None
        return case

    def list(self, states: Iterable[str] = (), owner: str | None = None, entity_key: str | None = None) -> list[Case]:
        self._ensure()
        filters: list[dict[str, Any]] = []
        states = list(states)
        if states:
            filters.append({"terms": {"state": states}})
        if owner is not None:
            filters.append({"term": {"owner": owner}})
        if entity_key is not None:
            filters.append({"term": {"entity_key": entity_key}})
        from elasticsearch import helpers

        hits = helpers.scan(
            self.client,
            index=self.index,
            query={"query": {"bool": {"filter": filters}}},
            preserve_order=False,
        )
        cases = [Case.model_validate(h["_source"]["doc"]) for h in hits]
        cases.sort(key=lambda c: (-c.updated_at.timestamp(), c.id))
        return cases
