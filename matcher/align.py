"""Align one mark against folded text, character by character.

Each position is the same character, a homophone (同音), a near sound (近音),
a look-alike (形近) or different. Windows of the mark's length are compared
directly, windows one longer with one inserted character (插字), and windows
with the same characters in another order (reorder). CNIPA practice: the first
character weighs most; with three or more characters one may differ, but not
the first; a two-character mark tolerates no unrelated character.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from matcher import phonetic
from matcher.normalize import is_han
from matcher.resources import lookalikes

SAME, SOUND_SHAPE, HOMOPHONE, SHAPE, NEAR_SOUND, DIFF = (
    "same", "sound_shape", "homophone", "shape", "near_sound", "diff")


@dataclass(frozen=True, slots=True)
class Alignment:
    start: int
    end: int
    similarity: float
    kinds: tuple[str, ...]
    edit: str  # exact | variant | swap | insertion | reorder | latin
    window: str
    inserted: int = -1  # index in the window of an inserted character


_SAME_REL = (1.0, SAME)
_DIFF_REL = (0.0, DIFF)


@lru_cache(maxsize=8192)
def _related(a: str) -> dict[str, tuple[float, str]]:
    """Every common character related to mark character a, with how closely.

    Built once per mark character, so that aligning costs a dict lookup per
    position however many texts are screened.
    """
    out: dict[str, tuple[float, str]] = {}
    if not is_han(a):
        return out
    candidates = set(phonetic.homophones_of(a)) | set(lookalikes().get(a, {})) | set(phonetic.near_homophones_of(a))
    for b in candidates:
        rel = _relation(a, b)
        if rel[1] != DIFF:
            out[b] = rel
    return out


def relation(a: str, b: str) -> tuple[float, str]:
    """How much text character b stands for mark character a."""
    if a == b:
        return _SAME_REL
    got = _related(a).get(b)
    if got is not None:
        return got
    if b > "\u9fff" or b < "\u3400" or ord(b) > 0xFFFF:
        return _DIFF_REL
    # a rare character outside the common set: decide on the spot
    return _relation(a, b)


@lru_cache(maxsize=50_000)
def _relation(a: str, b: str) -> tuple[float, str]:
    if not (is_han(a) and is_han(b)):
        return 0.0, DIFF
    sound = phonetic.same_sound(a, b)
    shape = lookalikes().get(a, {}).get(b, 0.0)
    if sound and shape >= 0.75:
        return 0.95, SOUND_SHAPE
    if sound:
        return 0.85, HOMOPHONE
    if shape >= 0.8:
        return 0.65 + 0.25 * shape, SHAPE
    if phonetic.near_sound(a, b):
        return 0.72, NEAR_SOUND
    return 0.0, DIFF


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    """Characters whose relations _related() lists; others are judged on the spot."""
    return frozenset(phonetic.common_chars())


def _weights(n: int) -> list[float]:
    return [1.5] + [1.0] * (n - 1)


def _score(mark: str, window: str) -> tuple[float, tuple[str, ...]] | None:
    n = len(mark)
    rels = [relation(a, b) for a, b in zip(mark, window, strict=True)]
    kinds = tuple(k for _, k in rels)
    diffs = [i for i, k in enumerate(kinds) if k == DIFF]
    if diffs:
        if n < 3 or len(diffs) > 1 or diffs[0] == 0:
            return None
        if any(k != SAME for i, k in enumerate(kinds) if i != diffs[0]):
            return None
    w = _weights(n)
    sim = sum(wi * v for wi, (v, _) in zip(w, rels, strict=True)) / sum(w)
    if SAME not in kinds:
        sim *= 0.8  # sound or shape alone, no character in common
    return sim, kinds


def align(mark: str, text: str, limit: int = 4) -> list[Alignment]:
    """The best alignments of mark in text, best first (at most `limit`)."""
    n = len(mark)
    if n == 0 or len(text) < n:
        return []
    found: list[Alignment] = []
    first = text.find(mark)
    while first >= 0:
        found.append(Alignment(first, first + n, 1.0, (SAME,) * n, "exact", mark))
        first = text.find(mark, first + 1)
    if n == 1:
        return found[:limit]
    sorted_mark = sorted(mark)
    mark_chars = set(mark)
    first = mark[0]
    related = _related(first)
    # Windows can only start where the first character is related (or, for a
    # reordering, is one of the mark's characters): find those in one pass.
    starts = [i for i, c in enumerate(text)
              if c == first or c in related or c in mark_chars or (is_han(c) and c not in _common())]
    last = len(text) - n
    for i in starts:
        if i > last:
            break
        window = text[i:i + n]
        if window == mark:
            continue
        if relation(first, window[0])[1] == DIFF:
            if sorted(window) == sorted_mark:
                found.append(Alignment(i, i + n, 0.82 if n >= 3 else 0.7, (SAME,) * n, "reorder", window))
            continue
        got = _score(mark, window)
        if got is not None:
            sim, kinds = got
            edit = "swap" if DIFF in kinds else "variant"
            found.append(Alignment(i, i + n, sim, kinds, edit, window))
        elif sorted(window) == sorted_mark:
            found.append(Alignment(i, i + n, 0.82 if n >= 3 else 0.7, (SAME,) * n, "reorder", window))
    for i in starts:
        if i > last - 1:
            break
        window = text[i:i + n + 1]
        if not is_han(window[0]) or not is_han(window[-1]) or relation(first, window[0])[1] == DIFF:
            continue
        for j in range(1, n):
            if not is_han(window[j]):
                continue
            rest = window[:j] + window[j + 1:]
            got = _score(mark, rest)
            if got is None:
                continue
            sim, kinds = got
            if DIFF in kinds or (n == 2 and kinds != (SAME, SAME)):
                continue
            factor = 0.88 if n >= 3 else 0.8
            found.append(Alignment(i, i + n + 1, sim * factor, kinds, "insertion", window, j))
    found.sort(key=lambda a: (-a.similarity, a.start))
    return found[:limit]
