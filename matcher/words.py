"""Word lists from published data that the name parser and the ordinary-word test read.

name_words.tsv: companynameparser's industry words and organisation forms (scripts/build_name_words.py).
"""

from __future__ import annotations

from functools import cache

from matcher.resources import _tsv


@cache
def name_words(kind: str) -> tuple[str, ...]:
    """The words of one kind (industry, suffix) in matcher/data/name_words.tsv."""
    return tuple(row[0] for row in _tsv("name_words.tsv") if row[1] == kind)
