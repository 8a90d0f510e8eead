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

MAPPING_VERSION = 1

_KW = {"type": "keyword", "ignore_above": 512}
_DATE = {"type": "date"}
_STORED_ONLY = {"type": "keyword", "index": False, "doc_values": False}

# Fields added to mapping version 1 after indices were created with it: new indices get them from
# the template, existing ones through a put-mapping (adding fields is compatible, so no reindex).
ADDED_PROPERTIES: dict[str, dict[str, Any]] = {
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
}


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
                "_meta": {"markwatch_mapping_version": MAPPING_VERSION},
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
