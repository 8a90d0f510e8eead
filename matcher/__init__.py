"""Decide which enterprise names and listings imitate which protected marks.

Pure: no I/O beyond reading the package's own data files, no Scrapy, no
Elasticsearch, so it can be benchmarked and reused anywhere.

Names are re-exported lazily (PEP 562), so that `import matcher.types` (as the
alert model does) does not load jieba and pypinyin. `Matcher` and
`search_terms` come from the implementation matcher._impl picked: the
compiled one or the pure-Python reference; `IMPLEMENTATION` says which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matcher._impl import Implementation
    from matcher.marks import Mark, MarksFile
    from matcher.screen import Matcher, search_terms
    from matcher.types import Hit, NameParts, Reason, Screened, Subject

    IMPLEMENTATION: Implementation

_EXPORTS = {
    "Hit": "types",
    "NameParts": "types",
    "Reason": "types",
    "Screened": "types",
    "Subject": "types",
    "Mark": "marks",
    "MarksFile": "marks",
    "Matcher": "screen",
    "search_terms": "screen",
    "IMPLEMENTATION": "_impl",
}

__all__ = [
    "IMPLEMENTATION",
    "Hit",
    "Mark",
    "MarksFile",
    "Matcher",
    "NameParts",
    "Reason",
    "Screened",
    "Subject",
    "search_terms",
]


def __getattr__(name: str) -> Any:
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module 'matcher' has no attribute {name!r}")
    from matcher import _impl

    value = getattr(_impl.module(where), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
