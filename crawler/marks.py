"""The marks file, read once per process: the scan, the spiders (search terms) and the screen stage share it.

Keyed by the file's resolved path and its (mtime, size): a scan reads the file once however many
sources it runs, and a long-lived process that sees the file change reads it again. Each read is
logged and counted (``reads()``), so a scan can show that it read the file once.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from matcher import Mark, Matcher
from matcher.marksfile import load_marks

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_marks: dict[str, tuple[tuple[int, int] | None, list[Mark]]] = {}
_matchers: dict[str, tuple[list[Mark], Matcher]] = {}
_reads = 0


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None  # load_marks reports the missing or unreadable file
    return (st.st_mtime_ns, st.st_size)


def marks_for(path: str | Path) -> list[Mark]:
    """The parsed marks of *path*, read only when not cached or changed since. Callers must not mutate it."""
    global _reads
    p = Path(path)
    key = str(p.resolve())
    stamp = _stamp(p)
    with _lock:
        cached = _marks.get(key)
        if cached is not None and stamp is not None and cached[0] == stamp:
            return cached[1]
        marks = load_marks(p)
        _marks[key] = (stamp, marks)
        _reads += 1
        logger.info("read marks file %s: %d marks", p, len(marks))
        return marks


def matcher_for(path: str | Path) -> Matcher:
    """One matcher per marks file per process (several sources share it), rebuilt if the file changed."""
    marks = marks_for(path)
    key = str(Path(path).resolve())
    with _lock:
        cached = _matchers.get(key)
        if cached is not None and cached[0] is marks:
            return cached[1]
    matcher = Matcher(marks)
    with _lock:
        _matchers[key] = (marks, matcher)
    return matcher


def reads() -> int:
    """How many times this process has read a marks file."""
    return _reads
