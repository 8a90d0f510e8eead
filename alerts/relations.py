"""The company (or shop) behind alerts, and the other entities that share a person, a place or a contact.

An entity page gathers every alert of one credit code or one shop; "related" entities are those
whose own source fields hold the same legal representative, registered address, phone or e-mail,
or (listings) the same shop. Values are compared as ``alerts.facets`` normalises them, and the
shared field is named, so an analyst sees *why* two companies are linked. Nothing is inferred
beyond equal values in the sources' own fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from alerts.facets import index_fields
from alerts.model import Alert, entity_of
from alerts.store import AlertQuery, AlertStore

MAX_PER_VALUE = 500  # alerts read per shared value (a value shared by thousands says little)

# Relation → (the AlertQuery list it filters, the index field holding it, its label msgid).
RELATION_FIELDS = {
    "legal_rep": ("legal_reps", "legal_rep", "Legal representative"),
    "address": ("addresses", "address", "Address"),
    "contact": ("contacts", "contacts", "Phone / e-mail"),
    "shop": ("shops", "shop", "Shop"),
}


def page_key(alert: Alert) -> str:
    """Which entity page an alert belongs on: ``uscc:<code>``, ``shop:<seller>``, else its entity."""
    fx = index_fields(alert)
    if fx["uscc"]:
        return "uscc:" + fx["uscc"]
    if fx["shop"]:
        return "shop:" + fx["shop"]
    return entity_of(alert)


def query_for(key: str) -> AlertQuery:
    """The alerts of one entity page key (see ``page_key``)."""
    kind, _, value = key.partition(":")
    if kind == "uscc":
        return AlertQuery(usccs=[value.strip().upper()])
    if kind == "shop":
        return AlertQuery(shops=[value])
    return AlertQuery(entities=[key])


@dataclass
class Shared:
    relation: str  # legal_rep, address, contact, shop
    label: str  # msgid of the field's name
    value: str


@dataclass
class Related:
    key: str
    name: str
    uscc: str
    alerts: int = 0
    alert_ids: list[str] = field(default_factory=list)
    shared: list[Shared] = field(default_factory=list)


def entity_fields(alerts: Iterable[Alert]) -> dict[str, Any]:
    """An entity's identity fields over its alerts: the first non-empty value, contacts combined."""
    out: dict[str, Any] = {"contacts": []}
    for a in alerts:
        fx = index_fields(a)
        for k, v in fx.items():
            if k == "contacts":
                out["contacts"] = list(dict.fromkeys([*out["contacts"], *v]))
            elif k not in out or not out[k]:
                out[k] = v
    return out


def related_entities(
    store: AlertStore, alerts: list[Alert], exclude: str, limit: int = 50, by_entity: bool = False
) -> list[Related]:
    """Other entities sharing a legal representative, address, phone/e-mail or shop with ``alerts``.

    Grouped by entity page (``page_key``; ``exclude`` is this page's key), or with ``by_entity``
    by the alerts' own entity (an alert page: other listings of the same shop are related).
    Most shared fields first, then most alerts; at most ``limit``.
    """
    fields = entity_fields(alerts)
    own = {a.id for a in alerts}
    found: dict[str, Related] = {}
    for relation, (query_field, index_field, label) in RELATION_FIELDS.items():
        values = fields.get(index_field) or []
        for value in values if isinstance(values, list) else [values]:
            if not value:
                continue
            q = AlertQuery.model_validate({query_field: [value], "sort": "-probability"})
            for n, other in enumerate(store.export(q)):
                if n >= MAX_PER_VALUE:
                    break
                if other.id in own:
                    continue
                group = entity_of(other) if by_entity else page_key(other)
                if group == exclude:
                    continue
                rel = found.get(group)
                if rel is None:
                    ofx = index_fields(other)
                    link = page_key(other)
                    name = other.subject.text if not link.startswith("shop:") or by_entity else ofx["shop"]
                    rel = found[group] = Related(key=link, name=name, uscc=ofx["uscc"])
                if other.id not in rel.alert_ids:
                    rel.alert_ids.append(other.id)
                    rel.alerts += 1
                if not any(s.relation == relation and s.value == value for s in rel.shared):
                    rel.shared.append(Shared(relation, label, value))
    ranked = sorted(found.values(), key=lambda r: (-len(r.shared), -r.alerts, r.key))
    return ranked[:limit]
