"""The Elasticsearch index template for alerts: explicit, strict mappings.

Designed for the minimal distribution (no analysis-common, no painless, no mapper-extras):
keyword fields for filters and aggregations, ``text`` with the built-in ``standard`` analyzer
(one token per Han character) for Chinese full text, ``date`` and ``float`` fields. The source
item is kept but not indexed (``enabled: false``): its keys come from crawled pages, and
indexing them would let infringers grow the mapping. ``dynamic: strict`` makes a model change
that forgot the mapping fail loudly in tests instead of guessing types.

A production cluster may add a Chinese analyzer plugin (analysis-smartcn or analysis-ik) as a
sub-field, e.g. ``subject.text.smart``; the phrase queries here keep working on the unigram field.
"""

from __future__ import annotations

from typing import Any

# The index behind the alias (``<prefix>-alerts-v<INDEX_VERSION>``). Only a change that cannot be
# made in place (a field's type) needs a new one, and the operator's reindex.
INDEX_VERSION = 1

_KW = {"type": "keyword", "ignore_above": 512}
_DATE = {"type": "date"}
_STORED_ONLY = {"type": "keyword", "index": False, "doc_values": False}

# Mapping revisions: fields added after indices were created, the Elasticsearch side of the
# SQLite chains in alerts/migrations/. A new index gets them all from the template; an existing
# one records the revision it is at in ``_meta.markwatch_mapping_version`` (1: the first
# release's mapping) and gets each later one by a put-mapping (adding fields is compatible, so no
# reindex; putting a field that is there already is a no-op, so a repeated run changes nothing).
# To add a field: append (next number, {field: mapping}).
REVISIONS: tuple[tuple[int, dict[str, dict[str, Any]]], ...] = (
    (
        2,
        {
            "span_start": {"type": "integer"},
            "span_end": {"type": "integer"},
            "url": _KW,
            # One alert per (mark, entity): the entity and every source's sighting of it.
            "entity": _KW,
            "sightings": {
                "properties": {
                    "source": _KW,
                    "subject_key": _KW,
                    "url": _STORED_ONLY,
                    "evidence_id": _KW,
                    "score": {"type": "float"},
                    "first_seen": _DATE,
                    "last_seen": _DATE,
                    "times_seen": {"type": "integer"},
                }
            },
            # Calibrated probability of the best hit (the queue's sort). A double, so that filters and
            # sorts compare the very values SQLite's REAL column holds (a float would round them).
            "probability": {"type": "double"},
        },
    ),
    (
        3,
        {
            # Facets, identity search and relations (alerts.facets.index_fields), derived from the alert
            # when it is written; read back, the store drops them (they are not part of the Alert).
            "facets": {
                "properties": {
                    name: _KW
                    for name in (
                        "uscc",
                        "region",
                        "authority",
                        "legal_rep",
                        "address",
                        "contacts",
                        "shop",
                        "sources",
                        "band",
                    )
                }
            },
        },
    ),
    (
        4,
        {
            # A trademark alert's opposition deadline (the queue's clock) and the application it is about.
            "deadline": _DATE,
            "subject": {
                "properties": {
                    "number": _KW,
                    "classes": {"type": "integer"},
                    "groups": _KW,
                    "applicant": _KW,
                    "announced": _DATE,
                }
            },
        },
    ),
    (
        5,
        {
            # An enterprise's credit code, declared industry and founding date (ISO, or its year or
            # month: a keyword, since a date field would pad "2001" to a day).
            "subject": {"properties": {"uscc": _KW, "declared_industry": _KW, "founded": _KW}},
        },
    ),
)
MAPPING_VERSION = REVISIONS[-1][0] if REVISIONS else 1


def _merged(revisions: tuple[tuple[int, dict[str, dict[str, Any]]], ...]) -> dict[str, dict[str, Any]]:
    """Every revision's fields in one mapping; an object two revisions extend keeps both's properties."""
    out: dict[str, dict[str, Any]] = {}
    for _, props in revisions:
        for k, v in props.items():
            if k in out and "properties" in v and "properties" in out[k]:
                out[k] = {**out[k], "properties": {**out[k]["properties"], **v["properties"]}}
            else:
                out[k] = v
    return out


ADDED_PROPERTIES: dict[str, dict[str, Any]] = _merged(REVISIONS)
META_KEY = "markwatch_mapping_version"


def pending(at: int) -> list[tuple[int, dict[str, dict[str, Any]]]]:
    """The revisions an index at mapping revision ``at`` lacks, oldest first."""
    return [(version, props) for version, props in REVISIONS if version > at]


def template_body(alias: str, replicas: int) -> dict:
    text_with_raw = {
        "type": "text",
        "analyzer": "standard",
        "fields": {"raw": {"type": "keyword", "ignore_above": 512}},
    }
    return {
        "index_patterns": [f"{alias}-*"],
        "version": MAPPING_VERSION,
        "priority": 200,
        "template": {
            "settings": {
                "number_of_shards": 1,
                "number_of_replicas": replicas,
                "refresh_interval": "1s",
            },
            "mappings": {
                "dynamic": "strict",
                "_meta": {META_KEY: MAPPING_VERSION},
                "properties": {
                    "id": _KW,
                    "source": _KW,
                    "subject_key": _KW,
                    "mark": _KW,
                    "owner": _KW,
                    "score": {"type": "float"},
                    "well_known": {"type": "boolean"},
                    "matched": _KW,
                    "reasons": {
                        "properties": {"code": _KW, "zh": _STORED_ONLY, "en": _STORED_ONLY},
                    },
                    "subject": {
                        "properties": {
                            "kind": _KW,
                            "text": text_with_raw,
                            "region": _KW,
                            "trade_name": _KW,
                            "industry": _KW,
                            "form": _KW,
                            "branch": _KW,
                            "seller": text_with_raw,
                            "price": {"type": "double"},
                            "category": _KW,
                            **ADDED_PROPERTIES["subject"]["properties"],
                        }
                    },
                    "item": {"type": "object", "enabled": False},
                    "evidence_id": _KW,
                    "status": _KW,
                    "notes": {"properties": {"who": _KW, "at": _DATE, "text": {"type": "text"}}},
                    "history": {
                        "properties": {
                            "who": _KW,
                            "at": _DATE,
                            "from_status": _KW,
                            "to_status": _KW,
                            "note": {"type": "text"},
                        }
                    },
                    "first_seen": _DATE,
                    "last_seen": _DATE,
                    "times_seen": {"type": "integer"},
                    "notified_at": _DATE,
                    **{k: v for k, v in ADDED_PROPERTIES.items() if k != "subject"},
                },
            },
        },
    }
