"""The alerts store's client chatter, capped: one plain line that the store is down, not hundreds.

With Elasticsearch down, elastic-transport logs every retry of every request at WARNING (with a
traceback) and every node timeout, and the scan tries the store once per item with a hit: a few
hundred alerts made thousands of lines in scan.log. While a scan or crawl runs, `capped()` lets
the first record of each kind through (so the first error and its traceback stay), drops the
repeats, and says at the end how many it dropped. `unreachable()` is the one plain line.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

# The client's loggers: a filter on a logger sees only what is logged on that logger itself.
CLIENT_LOGGERS = (
    "elastic_transport",
    "elastic_transport.transport",
    "elastic_transport.node_pool",
    "elastic_transport.node",
    "elasticsearch",
)


class RepeatCap(logging.Filter):
    """Pass the first *limit* records of each (logger, message template); count the rest."""

    def __init__(self, limit: int = 1) -> None:
        super().__init__()
        self.limit = limit
        self.seen: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        with self._lock:
            self.seen[key] += 1
            return self.seen[key] <= self.limit

    def dropped(self) -> int:
        with self._lock:
            return sum(max(0, n - self.limit) for n in self.seen.values())

    def reset(self) -> None:
        with self._lock:
            self.seen.clear()


_CAP = RepeatCap()
_users = 0
_said: set[str] = set()
_guard = threading.Lock()


def install() -> None:
    """Start capping (nested calls count: the cap stays until the last `uninstall`)."""
    global _users
    with _guard:
        _users += 1
        if _users == 1:
            _CAP.reset()
            _said.clear()
            for name in CLIENT_LOGGERS:
                logging.getLogger(name).addFilter(_CAP)


def uninstall() -> None:
    """Stop capping when the last user is done, saying how many repeats were dropped."""
    global _users
    with _guard:
        if _users == 0:
            return
        _users -= 1
        if _users:
            return
        for name in CLIENT_LOGGERS:
            logging.getLogger(name).removeFilter(_CAP)
        dropped = _CAP.dropped()
    if dropped:
        logger.warning("alerts store client: %d repeated retry/connection message(s) not logged", dropped)


@contextmanager
def capped() -> Iterator[None]:
    """The store client's repeats capped for the duration of the block."""
    install()
    try:
        yield
    finally:
        uninstall()


_USERINFO = re.compile(r"//[^/@\s]*@")


def safe(where: str) -> str:
    """A store's location without a URL's user:password."""
    return _USERINFO.sub("//", str(where))


def unreachable(where: str, what: str) -> None:
    """Say once per capped run, at ERROR, that the store at *where* cannot be reached and what happens instead."""
    where = _USERINFO.sub("//", where)  # a URL's user:password never goes to a log
    with _guard:
        if where in _said:
            return
        _said.add(where)
    logger.error("alerts store unreachable (%s): %s", where, what)
