"""Word lists from published data that the name parser and the ordinary-word test read.

name_words.tsv: companynameparser's industry words and organisation forms (scripts/build_name_words.py);
common_words.tsv: everyday words with their frequency, from wordfreq (scripts/build_common_words.py).
"""

from __future__ import annotations

from functools import cache

from matcher.resources import _tsv


@cache
def name_words(kind: str) -> tuple[str, ...]:
    """The words of one kind (industry, suffix) in matcher/data/name_words.tsv."""
    return tuple(row[0] for row in _tsv("name_words.tsv") if row[1] == kind)


@cache
def word_zipf() -> dict[str, float]:
    """Everyday words of 2 to 4 characters → Zipf frequency (wordfreq's Chinese data:
    matcher/data/common_words.tsv, scripts/build_common_words.py)."""
    return {row[0]: float(row[1]) for row in _tsv("common_words.tsv")}


ORDINARY_ZIPF = 2.5
"""A word at least this common (about 3 per million words: 卫衣 2.5, 美白 3.4) is an everyday word."""
FAME_MARGIN = 1.0
"""A mark that is itself a common token (美的 4.2, 小米 4.2) is read over a variant unless the variant
is within this many Zipf points of it: the better known the mark, the commoner a word must be to win."""


def reads_as_other_word(window: str, mark: str) -> bool:
    """A variant of the mark (卫衣 for 卫龙, 美白 for 美的, 海大 for 海天) that is an everyday word in
    its own right, common enough beside the mark's own fame: a reader sees that word, not the mark."""
    if window == mark:
        return False
    table = word_zipf()
    z = table.get(window)
    return z is not None and z >= max(ORDINARY_ZIPF, table.get(mark, 0.0) - FAME_MARGIN)
