"""Thread-safe access to the stores from FastAPI's worker threads.

The SQLite stores share one connection (transactions are per connection), so every call goes
through one lock; Elasticsearch's client is thread-safe and is used as is. ``export`` takes the
lock for each step, so a long CSV download never holds up the analysts' clicks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any


class Serialized:
    """Proxy that runs each method of ``target`` under one lock (generators step by step)."""

    def __init__(self, target: Any) -> None:
        self._target = target
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                result = value(*args, **kwargs)
            if isinstance(result, Iterator) and not isinstance(result, list | tuple | dict | str):
                return self._stepwise(result)
            return result

        return call

    def _stepwise(self, it: Iterator[Any]) -> Iterator[Any]:
        while True:
            with self._lock:
                try:
                    item = next(it)
                except StopIteration:
                    return
            yield item


def guarded(store: Any) -> Any:
    """The store as the web app should use it: serialized when it is SQLite-backed."""
    if hasattr(store, "db"):  # SQLiteAlertStore / EvidenceStore: one sqlite3 connection
        return Serialized(store)
    return store


def lazy(factory: Callable[[], Any]) -> Callable[[], Any]:
    """Open on first use (the evidence file may not exist until the first crawl)."""
    box: list[Any] = []
    lock = threading.Lock()

    def get() -> Any:
        with lock:
            if not box:
                box.append(guarded(factory()))
        return box[0]

    return get
