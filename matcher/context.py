"""What surrounds a match: the subject's industry, cue words, word boundaries.

CNIPA practice and the law (see docs/matching.md) decide with these whether a
similar name is an imitation: ordinary marks are protected only in their own
field, descriptive and compatibility uses are fair, counterfeit cue words next
to a mark in a listing are not.
"""

from __future__ import annotations

from functools import cache

from matcher.normalize import fold
from matcher.resources import enterprise_words, nice_classes


@cache
def _class_words() -> tuple[tuple[str, frozenset[int]], ...]:
    """Industry word → the Nice classes it shows, longest words first."""
    by_word: dict[str, set[int]] = {}
    for cls, words in nice_classes().items():
        for w in words:
            by_word.setdefault(w, set()).add(cls)
    return tuple(sorted(((w, frozenset(c)) for w, c in by_word.items()), key=lambda x: -len(x[0])))


def classes_in(text: str) -> set[int]:
    """Nice classes named by industry words in folded text (longest words win)."""
    found: set[int] = set()
    taken = [False] * len(text)
    for w, cls in _class_words():
        start = text.find(w)
        while start >= 0:
            if not any(taken[start:start + len(w)]):
                found |= cls
                for k in range(start, start + len(w)):
                    taken[k] = True
            start = text.find(w, start + 1)
    return found


@cache
def _words(key: str) -> tuple[str, ...]:
    return tuple(sorted({fold(str(w)) for w in enterprise_words()[key]}, key=len, reverse=True))


def counterfeit_cue(text: str) -> str | None:
    """The first counterfeit cue word (高仿, A货, 1:1, 原单, 同款…) in folded text."""
    for w in _words("counterfeit_cues"):
        if w in text:
            return w
    return None


def descriptive_use(text: str, start: int, end: int) -> str | None:
    """A compatibility or descriptive word right before or after the match (适用于…, …手机壳)."""
    before = text[max(0, start - 6):start].rstrip(" ")
    after = text[end:end + 6].lstrip(" ")
    for w in _words("descriptive_before"):
        if before.endswith(w):
            return w
    for w in _words("descriptive_after"):
        if after.startswith(w):
            return w
    return None


def genuine_cue(text: str) -> str | None:
    for w in _words("genuine_cues"):
        if w in text:
            return w
    return None
