"""The Elasticsearch alert store for real deployments.

- Index: ``<prefix>-alerts-v<N>`` behind the alias ``<prefix>-alerts``, from the index template
  in ``alerts.es_mapping``; both created on first use. Added fields come by the mapping revisions
  there (put-mapping, in place); a new index version means a new index and reindexing by the
  operator, the alias keeping readers unaware.
- Upserts: per chunk, one ``mget`` of the ids, the shared merge rule (``merge_seen``), then one
  ``helpers.bulk`` request of ``create`` (new) and ``index`` with ``if_seq_no``/``if_primary_term``
  (seen again) operations; a version conflict retries that alert. While chunks are mostly new, the
  mget is skipped and ``create`` conflicts (409) send the known alerts through the merge instead.
  No scripts, so it runs on the minimal distribution (no painless).
- Reviews: partial ``update`` of status/history/notes guarded by ``if_seq_no``, so concurrent
  reviews never lose a history entry.
- Outbox: when the cluster cannot be reached, ``upsert`` puts the alerts in ``alerts.outbox``
  and returns ``queued``; the next ``upsert`` (or ``flush_outbox()``) writes them first.
  Reads and reviews raise ``StoreUnavailable`` instead: an analyst must know.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, AuthenticationException, AuthorizationException, Elasticsearch, helpers
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from alerts.errors import AlertsError
from alerts.es_mapping import INDEX_VERSION, META_KEY, pending, template_body
from alerts.exceptions import ElasticsearchExceptions, MarkException
from alerts.facets import index_fields
from alerts.model import Alert, iso, merge_seen, reviewed, utc
from alerts.outbox import Outbox
from alerts.sessions import ElasticsearchSessions
from alerts.store import (
    AlertQuery,
    AlertStore,
    Counts,
    Page,
    ReviewConflict,
    StoreUnavailable,
    UpsertResult,
    check_status,
    not_found,
)
from alerts.store_errors import StoreBlocked, block_reason
from alerts.textsearch import field_needles, search_terms

if TYPE_CHECKING:
    from alerts.settings import StoreSettings

CHUNK = 500
MAX_WINDOW = 10_000  # Elasticsearch's default index.max_result_window
REVIEW_ATTEMPTS = 8  # optimistic-concurrency retries of a review before ReviewConflict (409)


class _Conflicted(Exception):
    """Some alerts of a review were saved by someone else meanwhile (409): re-read them and try again."""


# Another analyst saved these alerts meanwhile: back off a little (full jitter, up to 0.02·2^n s
# before the n-th retry), re-read, try again; after REVIEW_ATTEMPTS, ReviewConflict.
_REVIEW_RETRY = Retrying(
    stop=stop_after_attempt(REVIEW_ATTEMPTS),
    wait=wait_random_exponential(multiplier=0.04),
    retry=retry_if_exception_type(_Conflicted),
    reraise=True,
)
_SORTS: dict[str, list[dict[str, Any]]] = {
    # Alerts without a probability (indexed before it was kept) last either way, as in SQLite.
    "-probability": [
        {"probability": {"order": "desc", "missing": "_last"}},
        {"score": "desc"},
        {"first_seen": "asc"},
    ],
    "probability": [
        {"probability": {"order": "asc", "missing": "_last"}},
        {"score": "asc"},
        {"first_seen": "asc"},
    ],
    "-score": [{"score": "desc"}],
    "score": [{"score": "asc"}],
    "-last_seen": [{"last_seen": "desc"}],
    "last_seen": [{"last_seen": "asc"}],
    "-first_seen": [{"first_seen": "desc"}],
    "first_seen": [{"first_seen": "asc"}],
    "mark": [{"mark": "asc"}, {"score": "desc"}],
    "-times_seen": [{"times_seen": "desc"}],
    # The opposition clock: the nearest trademark deadline first; alerts without one after them.
    "deadline": [
        {"deadline": {"order": "asc", "missing": "_last"}},
        {"probability": {"order": "desc", "missing": "_last"}},
    ],
}
_TRANSIENT = {429, 502, 503, 504}

F = TypeVar("F", bound=Callable[..., Any])


def _indexed(alert: Alert) -> dict[str, Any]:
    """The document written: the alert's stored form and its derived ``facets`` (alerts.facets)."""
    return {**alert.stored_doc(), "facets": index_fields(alert)}


def _alert(source: dict[str, Any]) -> Alert:
    """An alert read back: its document without the derived fields."""
    source.pop("facets", None)
    return Alert.model_validate(source)


def _wildcard_escape(text: str) -> str:
    return "".join("\\" + c if c in "\\*?" else c for c in text)


class _Unreachable(Exception):
    """Internal: the cluster could not be reached; the message says why."""


def _is_unreachable(exc: BaseException) -> bool:
    if isinstance(exc, TransportConnectionError | ConnectionTimeout):
        return True
    return isinstance(exc, ApiError) and exc.meta.status in _TRANSIENT


def _bulk(client: Elasticsearch, actions: list[dict[str, Any]], **kw: Any) -> tuple[int, list[dict[str, Any]]]:
    """``helpers.bulk`` that reports failed items instead of raising (a list, since stats_only is off)."""
    ok, errors = helpers.bulk(client, actions, raise_on_error=False, **kw)
    return ok, cast(list[dict[str, Any]], errors)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return f"HTTP {exc.meta.status} {exc.message}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _reading(method: F) -> F:
    """Turn transport failures into one clear StoreUnavailable line."""

    @functools.wraps(method)
    def wrapper(self: ElasticsearchAlertStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (AuthenticationException, AuthorizationException) as exc:
            raise StoreUnavailable(f"Elasticsearch at {self.where} refused the credentials: {_describe(exc)}") from None
        except (TransportConnectionError, ConnectionTimeout, ApiError) as exc:
            if _is_unreachable(exc):
                raise StoreUnavailable(f"cannot reach Elasticsearch at {self.where}: {_describe(exc)}") from None
            raise

    return wrapper  # type: ignore[return-value]


class ElasticsearchAlertStore(AlertStore):
    def __init__(
        self,
        client: Elasticsearch,
        *,
        prefix: str = "markwatch",
        replicas: int = 1,
        refresh: bool = False,
        outbox: Outbox | None = None,
        where: str = "",
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.alias = f"{prefix}-alerts"
        self.index = f"{self.alias}-v{INDEX_VERSION}"
        self.replicas = replicas
        self.refresh = refresh
        self.outbox = outbox
        self.where = where or "the configured URL"
        self._ready = False
        self._mostly_new = True  # adapts per chunk, see _write
        self._sessions: ElasticsearchSessions | None = None
        self._exceptions: ElasticsearchExceptions | None = None

    def _exc(self) -> ElasticsearchExceptions:
        if self._exceptions is None:
            self._exceptions = ElasticsearchExceptions(self.client, self.prefix, self.replicas)
        return self._exceptions

    @_reading
    def exception_add(self, exc: MarkException) -> MarkException:
        return self._exc().add(exc)

    @_reading
    def exception_list(self, active_only: bool = False) -> list[MarkException]:
        return self._exc().list_all(active_only)

    @_reading
    def exception_revoke(self, id: str, who: str, why: str = "", now: datetime | None = None) -> MarkException:
        return self._exc().revoke(id, who, why, now)

    @_reading
    def _replace(self, alerts: list[Alert], delete_ids: list[str]) -> None:
        """The migration's write: merged alerts indexed as they are, then the old ids deleted."""
        self.ensure_index()
        for what, actions in (
            (
                "write",
                [{"_op_type": "index", "_index": self.alias, "_id": a.id, "_source": _indexed(a)} for a in alerts],
            ),
            ("delete", [{"_op_type": "delete", "_index": self.alias, "_id": i} for i in delete_ids]),
        ):
            if not actions:
                continue
            _, errors = _bulk(self.client, actions, chunk_size=CHUNK, max_retries=2, refresh="wait_for")
            hard = [op for op in (next(iter(e.values())) for e in errors) if op.get("status") != 404]
            if hard:
                raise AlertsError(f"migration {what} of {hard[0].get('_id')} failed: {hard[0].get('error')}")

    def _security(self) -> ElasticsearchSessions:
        if self._sessions is None:
            self._sessions = ElasticsearchSessions(self.client, self.prefix, self.replicas, self.refresh)
        return self._sessions

    @classmethod
    def from_settings(cls, s: StoreSettings) -> ElasticsearchAlertStore:
        kwargs: dict[str, Any] = {
            "request_timeout": s.timeout,
            "max_retries": s.retries,
            "retry_on_timeout": True,
        }
        if s.api_key is not None:
            kwargs["api_key"] = s.api_key.get_secret_value()
        elif s.username:
            kwargs["basic_auth"] = (s.username, s.password.get_secret_value() if s.password else "")
        if s.ca_certs is not None:
            kwargs["ca_certs"] = str(s.ca_certs)
        if not s.verify_certs:
            kwargs["verify_certs"] = False
        client = Elasticsearch(s.urls, **kwargs)
        return cls(
            client,
            prefix=s.index_prefix,
            replicas=s.replicas,
            refresh=s.refresh,
            outbox=Outbox(s.outbox_file()),
            where=", ".join(s.urls),
        )

    # -- index -------------------------------------------------------------------
    def ensure_index(self) -> None:
        """Put the template and create the versioned index behind the alias, once per store."""
        if self._ready:
            return
        self.client.indices.put_index_template(name=self.alias, **template_body(self.alias, self.replicas))
        if not self.client.indices.exists_alias(name=self.alias):
            try:
                self.client.indices.create(index=self.index, aliases={self.alias: {"is_write_index": True}})
            except ApiError as exc:
                if exc.meta.status != 400 or "resource_already_exists" not in str(exc):
                    raise
        else:
            self._upgrade_mapping()
            self._ready = True
            self._backfill_facets()
        self._ready = True

    def _upgrade_mapping(self) -> None:
        """Bring each index behind the alias to the newest mapping revision (``alerts.es_mapping.REVISIONS``)."""
        for index, body in self.client.indices.get_mapping(index=self.alias).body.items():
            at = int((body.get("mappings", {}).get("_meta") or {}).get(META_KEY, 1))
            for version, props in pending(at):
                self.client.indices.put_mapping(index=index, properties=props, meta={META_KEY: version})

    def _backfill_facets(self) -> None:
        """Give documents indexed before ``facets`` existed their facet fields (once: later none lack them)."""
        missing = {"bool": {"must_not": [{"exists": {"field": "facets.band"}}]}}
        while True:
            resp = self.client.search(index=self.alias, query=missing, size=CHUNK, seq_no_primary_term=True)
            hits = resp["hits"]["hits"]
            if not hits:
                return
            actions = [
                {
                    "_op_type": "index",
                    "_index": self.alias,
                    "_id": h["_id"],
                    "_source": _indexed(_alert(dict(h["_source"]))),
                    "if_seq_no": h["_seq_no"],
                    "if_primary_term": h["_primary_term"],
                }
                for h in hits
            ]
            _, errors = _bulk(self.client, actions, refresh="wait_for")
            if errors and len(errors) == len(actions):
                return  # all changed meanwhile (their writers indexed the facets): nothing left to do here

    def _refresh(self) -> None:
        if self.refresh:
            self.client.indices.refresh(index=self.alias)

    # -- writes --------------------------------------------------------------------
    def upsert(self, alerts: Iterable[Alert]) -> UpsertResult:
        pending = list(alerts)
        result = UpsertResult()
        done = 0
        try:
            self._drain(result)
            while done < len(pending):
                chunk = pending[done : done + CHUNK]
                self._write(chunk, result)
                done += len(chunk)
            self._refresh()
        except (AuthenticationException, AuthorizationException) as exc:
            if block_reason(exc):  # a 403 cluster_block_exception (index.blocks.read_only) is a block, not a key
                if self.outbox is None:
                    raise StoreBlocked(f"Elasticsearch at {self.where}: {block_reason(exc)}") from None
                result.queued += self.outbox.put(pending[done:])
                result.errors.append(f"Elasticsearch at {self.where}: {block_reason(exc)}")
                return result
            # Kept for the next run with fixed credentials, but the run must hear about it.
            kept = self.outbox.put(pending[done:]) if self.outbox is not None else 0
            raise StoreUnavailable(
                f"Elasticsearch at {self.where} refused the credentials: {_describe(exc)}"
                f" ({kept} alert(s) kept in the outbox)"
            ) from None
        except (StoreBlocked, _Unreachable, TransportConnectionError, ConnectionTimeout, ApiError) as exc:
            blocked = exc if isinstance(exc, StoreBlocked) else None
            if blocked is None and isinstance(exc, ApiError) and block_reason(exc):
                blocked = StoreBlocked(f"Elasticsearch at {self.where}: {block_reason(exc)}")
            if blocked is None and not (isinstance(exc, _Unreachable) or _is_unreachable(exc)):
                raise
            if self.outbox is None:
                raise blocked or StoreUnavailable(
                    f"cannot reach Elasticsearch at {self.where}: {_describe(exc)}"
                ) from None
            # From the failed chunk on; what that chunk already wrote replays as "unchanged".
            result.queued += self.outbox.put(pending[done:])
            if blocked is not None:  # writes are refused until an operator lifts the block: say it, once per call
                result.errors.append(str(blocked))
        return result

    def flush_outbox(self) -> UpsertResult:
        """Write what the outbox holds; raises StoreUnavailable if the cluster is still down."""
        result = UpsertResult()
        try:
            self._drain(result)
        except StoreBlocked:
            raise
        except (_Unreachable, TransportConnectionError, ConnectionTimeout, ApiError) as exc:
            if isinstance(exc, ApiError) and block_reason(exc):
                raise StoreBlocked(f"Elasticsearch at {self.where}: {block_reason(exc)}") from None
            if not (isinstance(exc, _Unreachable) or _is_unreachable(exc)):
                raise
            raise StoreUnavailable(f"cannot reach Elasticsearch at {self.where}: {_describe(exc)}") from None
        self._refresh()
        return result

    def outbox_size(self) -> int:
        return len(self.outbox) if self.outbox is not None else 0

    def _drain(self, result: UpsertResult) -> None:
        if self.outbox is None:
            return
        while True:
            entries = self.outbox.peek(CHUNK)
            if not entries:
                return
            part = UpsertResult()
            self._write([a for _, a in entries], part)
            self.outbox.remove(seq for seq, _ in entries)
            for name in ("new", "updated", "unchanged", "failed"):
                setattr(result, name, getattr(result, name) + getattr(part, name))
            result.new_ids.extend(part.new_ids)
            result.errors.extend(part.errors)
            result.replayed += len(entries)

    def _write(self, chunk: list[Alert], result: UpsertResult) -> None:
        """Merge one chunk with what is stored and bulk-write it; retry version conflicts."""
        self.ensure_index()
        todo = chunk
        for _attempt in range(5):
            if not todo:
                return
            # Later sightings of one id in the same chunk are written in a next round.
            first: dict[str, Alert] = {}
            later: list[Alert] = []
            for alert in todo:
                (later.append(alert) if alert.id in first else first.__setitem__(alert.id, alert))
            # Mostly new alerts (a first crawl): skip the mget and let `create` find the few that
            # exist (409, merged in the next round). Mostly known alerts: mget first.
            blind = _attempt == 0 and self._mostly_new
            stored = {} if blind else self._mget(list(first))
            if _attempt == 0 and not blind:
                self._mostly_new = len(stored) < len(first) / 2
            actions: list[dict[str, Any]] = []
            outcome: dict[str, str] = {}
            for alert_id, alert in first.items():
                old = stored.get(alert_id)
                if old is None:
                    actions.append(
                        {"_op_type": "create", "_index": self.alias, "_id": alert_id, "_source": _indexed(alert)}
                    )
                    outcome[alert_id] = "new"
                    continue
                merged = merge_seen(old[0], alert)
                if merged is None:
                    result.unchanged += 1
                    continue
                actions.append(
                    {
                        "_op_type": "index",
                        "_index": self.alias,
                        "_id": alert_id,
                        "_source": _indexed(merged),
                        "if_seq_no": old[1],
                        "if_primary_term": old[2],
                    }
                )
                outcome[alert_id] = "updated"
            retry: list[Alert] = []
            if actions:
                # No helper retries: a blocked index answers 429 per item, and two backoffs per hit stalled
                # a scan for hours; a real 429 (rejected execution) goes to the outbox and is replayed.
                _, errors = _bulk(self.client, actions, chunk_size=len(actions), max_retries=0, refresh=False)
                failed: dict[str, Any] = {}
                for err in errors:
                    op = next(iter(err.values()))
                    failed[op["_id"]] = op
                    block = block_reason(op.get("error")) if isinstance(op.get("error"), dict) else ""
                    if block:
                        raise StoreBlocked(f"Elasticsearch at {self.where}: {block}")
                for alert_id, kind in outcome.items():
                    op = failed.get(alert_id)
                    if op is None:
                        if kind == "new":
                            result.new += 1
                            result.new_ids.append(alert_id)
                        else:
                            result.updated += 1
                    elif op.get("status") == 409:
                        retry.append(first[alert_id])
                    elif op.get("status") in _TRANSIENT:
                        raise _Unreachable(f"HTTP {op.get('status')} on bulk write")
                    else:
                        result.failed += 1
                        reason = (
                            (op.get("error") or {}).get("reason", "error")
                            if isinstance(op.get("error"), dict)
                            else str(op.get("error"))
                        )
                        result.errors.append(f"{alert_id}: {reason}")
            if blind:
                self._mostly_new = len(retry) < len(first) / 2
            todo = retry + later
        if todo:
            result.failed += len(todo)
            result.errors.extend(f"{a.id}: version conflict persisted" for a in todo)

    def _mget(self, ids: list[str]) -> dict[str, tuple[Alert, int, int]]:
        """Stored alerts with (seq_no, primary_term) for optimistic concurrency."""
        if not ids:
            return {}
        self.ensure_index()
        resp = self.client.mget(index=self.alias, ids=ids)
        out = {}
        for doc in resp["docs"]:
            if doc.get("found"):
                out[doc["_id"]] = (_alert(doc["_source"]), doc["_seq_no"], doc["_primary_term"])
        return out

    @_reading
    def review(
        self, ids: Iterable[str], status: str, note: str = "", who: str = "analyst", now: datetime | None = None
    ) -> list[Alert]:
        check_status(status)
        wanted = list(dict.fromkeys(ids))
        when = utc(now or datetime.now().astimezone())
        done: dict[str, Alert] = {}
        todo = wanted

        def attempt() -> None:
            nonlocal todo
            stored = self._mget(todo)
            missing = [i for i in todo if i not in stored]
            if missing:
                raise not_found(missing)
            actions = []
            for alert_id in todo:
                old, seq, term = stored[alert_id]
                new = reviewed(old, status, note, who, when)
                done[alert_id] = new
                doc = new.to_doc()
                actions.append(
                    {
                        "_op_type": "update",
                        "_index": self.alias,
                        "_id": alert_id,
                        "if_seq_no": seq,
                        "if_primary_term": term,
                        "doc": {k: doc[k] for k in ("status", "history", "notes")},
                    }
                )
            _, errors = _bulk(self.client, actions, refresh=self.refresh and "wait_for")
            conflicts = [next(iter(e.values())) for e in errors]
            hard = [op for op in conflicts if op.get("status") != 409]
            if hard:
                raise AlertsError(f"review of {hard[0]['_id']} failed: {hard[0].get('error')}")
            todo = [op["_id"] for op in conflicts]
            if todo:
                raise _Conflicted

        try:
            _REVIEW_RETRY.copy()(attempt)
        except _Conflicted:
            raise ReviewConflict(
                f"{len(todo)} alert(s) were being reviewed by someone else at the same time; "
                "reload them and review again"
            ) from None
        return [done[i] for i in wanted]

    def _save_reviewed(self, old: list[Alert], new: list[Alert]) -> None:  # pragma: no cover - review() overrides
        raise NotImplementedError

    @_reading
    def mark_notified(self, ids: Iterable[str], at: datetime) -> int:
        self.ensure_index()
        stamp = iso(at)
        actions = [
            {"_op_type": "update", "_index": self.alias, "_id": i, "doc": {"notified_at": stamp}}
            for i in dict.fromkeys(ids)
        ]
        if not actions:
            return 0
        ok, errors = _bulk(self.client, actions, refresh=self.refresh and "wait_for")
        hard = [op for op in (next(iter(e.values())) for e in errors) if op.get("status") != 404]
        if hard:
            raise AlertsError(f"recording notified_at on {hard[0]['_id']} failed: {hard[0].get('error')}")
        return ok

    # -- reads ---------------------------------------------------------------------
    @_reading
    def get_many(self, ids: Iterable[str]) -> list[Alert]:
        wanted = list(dict.fromkeys(ids))
        stored = self._mget(wanted)
        return [stored[i][0] for i in wanted if i in stored]

    @_reading
    def ids_with_prefix(self, prefix: str, limit: int = 2) -> list[str]:
        self.ensure_index()
        resp = self.client.search(
            index=self.alias, query={"prefix": {"id": prefix}}, size=limit, sort=[{"id": "asc"}], source=False
        )
        return [h["_id"] for h in resp["hits"]["hits"]]

    def _query(self, q: AlertQuery) -> dict[str, Any]:
        filters: list[dict[str, Any]] = []
        for field, values in (
            ("mark", q.marks),
            ("owner", q.owners),
            ("status", q.statuses),
            ("subject.kind", q.kinds),
            ("id", q.ids),
            ("facets.region", q.regions),
            ("facets.authority", q.authorities),
            ("facets.band", q.bands),
            ("facets.uscc", q.usccs),
            ("entity", q.entities),
            ("facets.shop", q.shops),
            ("facets.legal_rep", q.legal_reps),
            ("facets.address", q.addresses),
            ("facets.contacts", q.contacts),
            ("facets.sources", q.sources),  # any source that saw the entity
        ):
            if values:
                filters.append({"terms": {field: list(values)}})
        if q.min_score is not None or q.max_score is not None:
            rng: dict[str, Any] = {}
            if q.min_score is not None:
                rng["gte"] = q.min_score
            if q.max_score is not None:
                rng["lte"] = q.max_score
            filters.append({"range": {"score": rng}})
        if q.min_probability is not None:  # alerts without one (not migrated) never match, as in SQLite
            filters.append({"range": {"probability": {"gte": q.min_probability}}})
        if q.since is not None or q.until is not None:
            rng = {}
            if q.since is not None:
                rng["gte"] = iso(q.since)
            if q.until is not None:
                rng["lt"] = iso(q.until)
            filters.append({"range": {q.date_field: rng}})
        if q.deadline_from is not None or q.deadline_to is not None:
            drng: dict[str, str] = {}
            if q.deadline_from is not None:
                drng["gte"] = q.deadline_from.isoformat()
            if q.deadline_to is not None:
                drng["lte"] = q.deadline_to.isoformat()
            filters.append({"range": {"deadline": drng}})
        must_not: list[dict[str, Any]] = []
        if q.notified is True:
            filters.append({"exists": {"field": "notified_at"}})
        elif q.notified is False:
            must_not.append({"exists": {"field": "notified_at"}})
        must: list[dict[str, Any]] = []
        for term in search_terms(q.text):  # a phrase of the name/title/seller, or part of an identity field
            should: list[dict[str, Any]] = [
                {"multi_match": {"query": term, "type": "phrase", "fields": ["subject.text", "subject.seller"]}}
            ]
            for field, needle in field_needles(term).items():
                if needle:
                    should.append({"wildcard": {f"facets.{field}": {"value": f"*{_wildcard_escape(needle)}*"}}})
            must.append({"bool": {"should": should, "minimum_should_match": 1}})
        if q.text and q.text.strip() and not must:
            must_not.append({"match_all": {}})  # nothing searchable: nothing found, as in SQLite
        return {"bool": {"filter": filters, "must": must, "must_not": must_not}}

    @staticmethod
    def _sort(q: AlertQuery) -> list[dict[str, Any]]:
        return [*_SORTS[q.sort], {"id": "asc"}]

    @_reading
    def search(self, query: AlertQuery) -> Page:
        self.ensure_index()
        start = (query.page - 1) * query.size
        body, sort = self._query(query), self._sort(query)
        if start + query.size <= MAX_WINDOW:
            resp = self.client.search(
                index=self.alias, query=body, sort=sort, from_=start, size=query.size, track_total_hits=True
            )
            items = [_alert(h["_source"]) for h in resp["hits"]["hits"]]
            return Page(items=items, total=resp["hits"]["total"]["value"], page=query.page, size=query.size)
        # Deep page: from+size may not pass index.max_result_window, so walk the sort values with
        # search_after (ids are the tie-break, so the walk is stable) and read the page after them.
        total = self.client.count(index=self.alias, query=body)["count"]
        if start >= total:
            return Page(items=[], total=total, page=query.page, size=query.size)
        after: list[Any] | None = None
        skipped = 0
        while skipped < start:
            step = min(MAX_WINDOW, start - skipped)
            kwargs: dict[str, Any] = {"search_after": after} if after is not None else {}
            resp = self.client.search(
                index=self.alias,
                query=body,
                sort=sort,
                size=step,
                source=False,
                track_total_hits=False,
                filter_path="hits.hits.sort",
                **kwargs,
            )
            hits = (resp.get("hits") or {}).get("hits") or []
            if not hits:
                return Page(items=[], total=total, page=query.page, size=query.size)
            skipped += len(hits)
            after = hits[-1]["sort"]
        resp = self.client.search(
            index=self.alias, query=body, sort=sort, size=query.size, search_after=after, track_total_hits=False
        )
        items = [_alert(h["_source"]) for h in resp["hits"]["hits"]]
        return Page(items=items, total=total, page=query.page, size=query.size)

    @_reading
    def counts(self, query: AlertQuery | None = None) -> Counts:
        self.ensure_index()
        resp = self.client.search(
            index=self.alias,
            query=self._query(query or AlertQuery()),
            size=0,
            aggs={
                "by_mark": {"terms": {"field": "mark", "size": 10_000}},
                "by_status": {"terms": {"field": "status", "size": 10}},
                "by_day": {
                    "date_histogram": {
                        "field": "first_seen",
                        "calendar_interval": "day",
                        "format": "yyyy-MM-dd",
                        "min_doc_count": 1,
                        "time_zone": (query or AlertQuery()).time_zone,
                    }
                },
            },
        )
        aggs = resp["aggregations"]
        return Counts(
            by_mark={b["key"]: b["doc_count"] for b in sorted(aggs["by_mark"]["buckets"], key=lambda b: b["key"])},
            by_status={b["key"]: b["doc_count"] for b in aggs["by_status"]["buckets"]},
            by_day={b["key_as_string"]: b["doc_count"] for b in aggs["by_day"]["buckets"]},
        )

    @_reading
    def facets(self, query: AlertQuery, size: int = 20) -> dict[str, list[tuple[str, int]]]:
        self.ensure_index()
        fields = {
            "mark": "mark",
            "kind": "subject.kind",
            "source": "facets.sources",
            "region": "facets.region",
            "authority": "facets.authority",
            "status": "status",
            "band": "facets.band",
        }
        resp = self.client.search(
            index=self.alias,
            query=self._query(query),
            size=0,
            aggs={
                name: {
                    "terms": {
                        "field": field,
                        "size": size,
                        "order": [{"_count": "desc"}, {"_key": "asc"}],
                        "exclude": [""],
                    }
                }
                for name, field in fields.items()
            },
        )
        aggs = resp["aggregations"]
        return {name: [(b["key"], b["doc_count"]) for b in aggs[name]["buckets"]] for name in fields}

    def export(self, query: AlertQuery) -> Iterator[Alert]:
        """All matches in query order, by search_after pages (stable while callers write)."""
        self._export_ready()
        after: list[Any] | None = None
        body_query = self._query(query)
        sort = self._sort(query)
        while True:
            resp = self._export_page(body_query, sort, after)
            hits = resp["hits"]["hits"]
            for h in hits:
                yield _alert(h["_source"])
            if len(hits) < 1000:
                return
            after = hits[-1]["sort"]

    @_reading
    def _export_ready(self) -> None:
        self.ensure_index()

    @_reading
    def _export_page(self, query: dict, sort: list, after: list | None) -> Any:
        kwargs: dict[str, Any] = {"search_after": after} if after is not None else {}
        return self.client.search(index=self.alias, query=query, sort=sort, size=1000, track_total_hits=False, **kwargs)

    def close(self) -> None:
        self.client.close()
        if self.outbox is not None:
            self.outbox.close()
