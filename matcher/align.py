"""Align one mark against folded text, character by character.

Each position is the same character, a homophone (同音), a near sound (近音),
a look-alike (形近) or different. Windows of the mark's length are compared
directly, windows one longer with one inserted character (插字), and windows
with the same characters in another order (reorder). CNIPA practice: the first
character weighs most; with three or more characters one may differ, but not
the first; a two-character mark tolerates no unrelated character.

align() runs for every candidate mark of every screened name, so what depends
on the mark alone is built once (_Plan): where windows may start, and for each
position a table giving relation() of any common character by one lookup.
Windows are given up at the first position that rules them out, and Alignment
objects are made only for the results returned. The result is exactly that of
the plain reading above (see tests/test_matcher_align_speed_equivalence.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from matcher import _impl
from matcher.resources import lookalikes, loose_lookalikes

from . import phonetic
from .normalize import is_han

SAME, SOUND_SHAPE, HOMOPHONE, SHAPE, NEAR_SOUND, DIFF = (
    "same",
    "sound_shape",
    "homophone",
    "shape",
    "near_sound",
    "diff",
)
KINDS = (SAME, SOUND_SHAPE, HOMOPHONE, SHAPE, NEAR_SOUND, DIFF)
"""The relation kinds by number, as the compiled Aligner keeps them."""


@dataclass(frozen=True, slots=True)
class Alignment:
    start: int
    end: int
    similarity: float
    kinds: tuple[str, ...]
    edit: str  # exact | variant | swap | insertion | reorder | latin
    window: str
    inserted: int = -1  # index in the window of an inserted character


_SETTERS = tuple(getattr(Alignment, f).__set__ for f in Alignment.__slots__)


def _alignment(
    start: int, end: int, similarity: float, kinds: tuple[str, ...], edit: str, window: str, inserted: int
) -> Alignment:
    """Alignment(...), without the frozen dataclass's seven object.__setattr__ calls."""
    a = object.__new__(Alignment)
    set_start, set_end, set_similarity, set_kinds, set_edit, set_window, set_inserted = _SETTERS
    set_start(a, start)
    set_end(a, end)
    set_similarity(a, similarity)
    set_kinds(a, kinds)
    set_edit(a, edit)
    set_window(a, window)
    set_inserted(a, inserted)
    return a


_SAME_REL = (1.0, SAME)
_DIFF_REL = (0.0, DIFF)
# A weak look-alike (loose_lookalikes: 尨/龙, 枚/牧) is a shape relation below any listed
# look-alike (0.85-0.9), for characters not related otherwise; judge.py counts an
# alignment resting on one only in the field.
_LOOSE_REL = (0.75, SHAPE)


@lru_cache(maxsize=8192)
def _related(a: str) -> dict[str, tuple[float, str]]:
    """Every common character related to mark character a, with how closely."""
    out: dict[str, tuple[float, str]] = {}
    if not is_han(a):
        return out
    for b in _candidates(a):
        rel = _relation(a, b)
        if rel[1] != DIFF:
            out[b] = rel
    return out


@lru_cache(maxsize=8192)
def _candidates(a: str) -> frozenset[str]:
    """Common characters _related() considers: homophones, look-alikes, near sounds."""
    return (
        frozenset(phonetic.homophones_of(a))
        | frozenset(lookalikes().get(a, {}))
        | frozenset(loose_lookalikes().get(a, {}))
        | frozenset(phonetic.near_homophones_of(a))
    )


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
    if b in loose_lookalikes().get(a, {}):
        return _LOOSE_REL
    return 0.0, DIFF


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    """Characters whose relations _related() lists; others are judged on the spot."""
    return frozenset(phonetic.common_chars())


def _relations(a: str, candidates: frozenset[str]) -> dict[str, tuple[float, str]]:
    """_relation(a, b) for the candidates b it does not find DIFF, in one pass:
    the same tests as phonetic.same_sound and near_sound, with a's side done once."""
    out: dict[str, tuple[float, str]] = {}
    if not is_han(a):
        return out
    ra = phonetic.readings(a)
    shapes = lookalikes().get(a, {})
    loose = loose_lookalikes().get(a, {})
    sounds = frozenset(ra)
    fuzzy = phonetic.fuzzy
    near = frozenset(fuzzy(x) for x in ra)
    for b in candidates:
        if not is_han(b):
            continue
        rb = phonetic.readings(b)
        sound = bool(ra and rb and not sounds.isdisjoint(rb))
        shape = shapes.get(b, 0.0)
        if sound and shape >= 0.75:
            out[b] = (0.95, SOUND_SHAPE)
        elif sound:
            out[b] = (0.85, HOMOPHONE)
        elif shape >= 0.8:
            out[b] = (0.65 + 0.25 * shape, SHAPE)
        elif ra and rb and any(fuzzy(x) in near for x in rb):
            out[b] = (0.72, NEAR_SOUND)
        elif b in loose:
            out[b] = _LOOSE_REL
    return out


@lru_cache(maxsize=1)
def _sound_index() -> dict[str, frozenset[str]]:
    """Fuzzy syllable → the common characters with any reading (not only the main
    one) that fuzzes to it."""
    out: dict[str, set[str]] = {}
    for c in _common():
        for r in phonetic.readings(c):
            out.setdefault(phonetic.fuzzy(r), set()).add(c)
    return {k: frozenset(v) for k, v in out.items()}


@lru_cache(maxsize=8192)
def _table(a: str) -> dict[str, tuple[float, str]]:
    """relation(a, b) for a itself and for every common b not DIFF to a.

    _relation() relates characters only by sound (the same or a near reading,
    any reading: always a near one) or by shape (a listed look-alike, strong or weak), so these
    candidates are all the common characters it can relate: any other common
    character is DIFF without asking, and only _RARE ones still need _relation().
    """
    candidates = set(lookalikes().get(a, {})) | set(loose_lookalikes().get(a, {}))
    if is_han(a):
        index = _sound_index()
        for r in phonetic.readings(a):
            candidates.update(index.get(phonetic.fuzzy(r), ()))
    out = _relations(a, frozenset(candidates))
    out[a] = _SAME_REL
    return out


def _weights(n: int) -> list[float]:
    return [1.5] + [1.0] * (n - 1)


# Filled in with the first plan (they need the pinyin tables): _HAN holds the
# characters is_han() accepts (in the BMP, and planes 2-3 should it grow to CJK
# Ext. B+), _RARE_HAN those outside the common set (a window may start at any),
# _RARE those of them below U+A000 (relation() asks _relation() about them).
_HAN: frozenset[str] = frozenset()
_RARE_HAN: frozenset[str] = frozenset()
_RARE: frozenset[str] = frozenset()
_RARE_MAP = b""  # _RARE_MAP[ord(c)] is 1 for c in _RARE_HAN (all below U+32000): no hashing, 200 KB


def _load_sets() -> None:
    global _HAN, _RARE_HAN, _RARE, _RARE_MAP
    common = _common()
    _HAN = frozenset(c for c in map(chr, [*range(0x10000), *range(0x20000, 0x32000)]) if is_han(c))
    _RARE_HAN = _HAN - common
    _RARE = frozenset(c for c in _RARE_HAN if "\u3400" <= c <= "\u9fff")
    rare_map = bytearray(0x32000)
    for c in _RARE_HAN:
        rare_map[ord(c)] = 1
    _RARE_MAP = bytes(rare_map)


class _Plan:
    """What align() needs that depends on the mark alone."""

    __slots__ = (
        "mark",
        "n",
        "first",
        "second",
        "tables",
        "table0",
        "table1",
        "starts",
        "first_set",
        "mark_chars",
        "sorted_mark",
        "wsum",
        "reorder_sim",
        "factor",
        "ins2_sim",
        "same_kinds",
    )

    def __init__(self, mark: str) -> None:
        n = len(mark)
        self.mark = mark
        self.n = n
        self.first = mark[0]
        self.second = mark[1]
        self.tables = [_table(a) for a in mark]
        self.table0 = self.tables[0]
        self.table1 = self.tables[1]
        self.mark_chars = frozenset(mark)
        # where a window may start: the first character, one related to it, or
        # (for a reordering) any of the mark's; rare han ones are checked apart
        self.starts = frozenset(b for b in _candidates(mark[0]) if b in self.table0) | self.mark_chars
        # the starts that can stand for the first character (the others only begin a reordering)
        self.first_set = frozenset(b for b in self.starts if b in self.table0)
        self.sorted_mark = sorted(mark)
        self.wsum = sum(_weights(n))
        self.reorder_sim = 0.82 if n >= 3 else 0.7
        self.factor = 0.88 if n >= 3 else 0.8
        self.same_kinds = (SAME,) * n
        self.ins2_sim = sum([wi * 1.0 for wi in _weights(n)]) / self.wsum * self.factor


_PLANS: dict[str, _Plan] = {}


def _plan(mark: str) -> _Plan:
    if not _HAN:
        _load_sets()
    if len(_PLANS) >= 50_000:
        _PLANS.clear()
    got = _PLANS[mark] = _Plan(mark)
    return got


def prepare(marks: Iterable[str]) -> None:
    """Build the marks' plans now (their relation tables cost ~0.3 ms per character)
    rather than while the first names are being screened."""
    for mark in marks:
        if len(mark) >= 2 and mark not in _PLANS:
            _plan(mark)


def _insertions(p: _Plan, w: str, r0: tuple[float, str], i: int, hits: list) -> None:
    """Windows w of n+1 >= 4 characters, one of them (j) inserted: position k < j of
    the mark faces w[k], k >= j faces w[k + 1]; each j the plain loop would keep."""
    n = p.n
    mark = p.mark
    tables = p.tables
    right: list = [None] * n
    q = 0  # the last position that differs when facing w[k + 1]: j must follow it
    for k in range(n - 1, 0, -1):
        b = w[k + 1]
        r = tables[k].get(b)
        if r is None:
            r = _relation(mark[k], b) if b in _RARE else _DIFF_REL
        if r[1] == DIFF:
            q = k
            break
        right[k] = r
    if q == n - 1:
        return
    left = [r0]  # positions before the first that differs facing w[k]: j may not pass it
    for k in range(1, n - 1):
        b = w[k]
        r = tables[k].get(b)
        if r is None:
            r = _relation(mark[k], b) if b in _RARE else _DIFF_REL
        if r[1] == DIFF:
            break
        left.append(r)
    for j in range(q + 1, len(left) + 1):
        if w[j] not in _HAN:
            continue
        rels = left[:j] + right[j:]
        kinds = tuple([r[1] for r in rels])
        sim = sum([1.5 * r0[0], *[r[0] for r in rels[1:]]]) / p.wsum
        if SAME not in kinds:
            sim *= 0.8
        hits.append((-(sim * p.factor), i, 2, j, kinds, "insertion", w))


_LAST_TEXT: tuple[str, bool, frozenset[str]] = ("", False, frozenset())


def _text_facts(text: str) -> tuple[str, bool, frozenset[str]]:
    """(text, whether it holds a rare Han character (a window may start at any), its
    characters), worked out once per text, not once per candidate mark: a screened name
    is aligned against all its candidates in a row."""
    global _LAST_TEXT
    last = _LAST_TEXT
    if last[0] is text:
        return last
    rare = _RARE_MAP
    size = len(rare)
    got = False
    for c in text:
        k = ord(c)
        if k < size and rare[k]:
            got = True
            break
    last = _LAST_TEXT = (text, got, frozenset(text))
    return last


def _has_rare(text: str) -> bool:
    return _text_facts(text)[1]


def could_align(mark: str, text: str) -> bool:
    """False only when align(mark, text) is sure to return nothing: no character of text can
    stand for the mark's first one, none is rare, and not all of the mark's characters occur
    (a reordering needs them all). A few set lookups in C, where align() costs a call and a
    loop: at 10,000 marks a name raises dozens of candidates sharing one common pair (科技)."""
    n = len(mark)
    if n < 2:
        return n == 1 and mark in text
    if len(text) < n:
        return False
    p = _PLANS.get(mark) or _plan(mark)
    _, rare, chars = _text_facts(text)
    return rare or not p.first_set.isdisjoint(chars) or p.mark_chars <= chars


def align(mark: str, text: str, limit: int = 4) -> list[Alignment]:
    """The best alignments of mark in text, best first (at most `limit`)."""
    n = len(mark)
    if n == 0 or len(text) < n:
        return []
    first = text.find(mark)
    if n == 1:
        found: list[Alignment] = []
        while first >= 0:
            found.append(Alignment(first, first + 1, 1.0, (SAME,), "exact", mark))
            first = text.find(mark, first + 1)
        return found[:limit]
    p = _PLANS.get(mark) or _plan(mark)
    # Hits are (-similarity, start, phase, j, kinds, edit, window): sorted, they come
    # best first, then by start, then in the order the plain loops would find them
    # (exact, then same-length windows, then insertions by j).
    hits: list = []
    while first >= 0:
        hits.append((-1.0, first, 0, 0, p.same_kinds, "exact", mark))
        first = text.find(mark, first + 1)
    last = len(text) - n
    starts = p.starts
    han = _HAN
    table0 = p.table0
    if _has_rare(text):
        rare = _RARE_HAN
        at = [i for i, c in enumerate(text[: last + 1]) if c in starts or c in rare]
    else:
        at = [i for i, c in enumerate(text[: last + 1]) if c in starts]
    for i in at:
        c = text[i]
        r0 = table0.get(c)
        if r0 is None:
            r0 = _relation(p.first, c) if c in _RARE else _DIFF_REL
        if n == 2:
            b = text[i + 1]
            if r0[1] == DIFF:
                r1 = _DIFF_REL
            else:
                known = p.table1.get(b)
                if known is None:
                    known = _relation(p.second, b) if b in _RARE else _DIFF_REL
                r1 = known
            if r1[1] != DIFF:
                if c != p.first or b != p.second:  # not the mark itself
                    pair = (r0[1], r1[1])
                    sim = sum([1.5 * r0[0], r1[0]]) / p.wsum
                    if SAME not in pair:
                        sim *= 0.8
                    hits.append((-sim, i, 1, 0, pair, "variant", c + b))
            elif c == p.second and b == p.first and c != b:
                hits.append((-p.reorder_sim, i, 1, 0, p.same_kinds, "reorder", c + b))
            if r0[1] == DIFF or i == last or c not in han:
                continue
            e = text[i + 2]
            if c == p.first and e == p.second and b in han and e in han:
                hits.append((-p.ins2_sim, i, 2, 1, p.same_kinds, "insertion", c + b + e))
            continue
        w = text[i : i + n]
        if r0[1] == DIFF:
            if c in p.mark_chars and w != mark and sorted(w) == p.sorted_mark:
                hits.append((-p.reorder_sim, i, 1, 0, p.same_kinds, "reorder", w))
            continue
        if w != mark:
            # the plain scoring of w (see the align equivalence test), given up at the first position ruling w out
            rels = [r0]
            diff = 0
            others_same = r0[1] == SAME
            tables = p.tables
            for k in range(1, n):
                b = w[k]
                r = tables[k].get(b)
                if r is None:
                    r = _relation(mark[k], b) if b in _RARE else _DIFF_REL
                kind = r[1]
                if kind == DIFF:
                    if diff:
                        break
                    diff = k
                elif kind != SAME:
                    if diff:
                        break
                    others_same = False
                rels.append(r)
            if len(rels) == n and (others_same or not diff):
                kinds = tuple([r[1] for r in rels])
                sim = sum([1.5 * r0[0], *[r[0] for r in rels[1:]]]) / p.wsum
                if SAME not in kinds:
                    sim *= 0.8  # sound or shape alone, no character in common
                hits.append((-sim, i, 1, 0, kinds, "swap" if diff else "variant", w))
            elif c in p.mark_chars and sorted(w) == p.sorted_mark:
                hits.append((-p.reorder_sim, i, 1, 0, p.same_kinds, "reorder", w))
        # one inserted character: the window is one longer and begins and ends with han
        if i == last or c not in han:
            continue
        e = text[i + n]
        if e not in han:
            continue
        r = p.tables[n - 1].get(e)
        if r is None:
            r = _relation(mark[n - 1], e) if e in _RARE else _DIFF_REL
        if r[1] != DIFF:
            _insertions(p, text[i : i + n + 1], r0, i, hits)
    if not hits:
        return []
    if len(hits) > 1:
        hits.sort()
    return [
        _alignment(i, i + len(w), -neg, kinds, edit, w, j if phase == 2 else -1)
        for neg, i, phase, j, kinds, edit, w in hits[:limit]
    ]


class Aligner:
    """align() of a fixed list of marks, several of them against one text at a time: the
    reference for the compiled Aligner (matcher._accel), which does a screened name's
    could_align() and align() calls in one call instead of two per candidate mark."""

    def __init__(self, marks: Sequence[str]) -> None:
        self.marks = list(marks)
        prepare(self.marks)

    def align_each(self, which: list[int], text: str, limit: int = 4) -> list[list[Alignment]]:
        """For each index i in which, align(marks[i], text, limit), or [] where could_align() says no."""
        marks = self.marks
        return [align(marks[i], text, limit) if could_align(marks[i], text) else [] for i in which]


if TYPE_CHECKING:
    from typing import Protocol

    class AlignEach(Protocol):
        """Aligner, or the compiled one."""

        def align_each(self, which: list[int], text: str, limit: int = 4) -> list[list[Alignment]]: ...


def _plan_facts(mark: str) -> tuple:
    """What the compiled Aligner copies from a mark's plan: its characters' relation tables,
    the characters that may start a window for its first one (_Plan.starts without the
    mark's own), and its weights."""
    p = _PLANS.get(mark) or _plan(mark)
    first_starts = frozenset(b for b in _candidates(mark[0]) if b in p.table0)
    return p.tables, first_starts, p.wsum, p.reorder_sim, p.factor, p.ins2_sim


@lru_cache(maxsize=1)
def char_classes() -> bytes:
    """Per code point below U+32000: 1 if in _HAN, 2 if in _RARE_HAN, 4 if in _RARE (the
    sets align() asks about the text's characters), for the compiled Aligner."""
    if not _HAN:
        _load_sets()
    out = bytearray(0x32000)
    for c in _HAN:
        out[ord(c)] |= 1
    for c in _RARE_HAN:
        out[ord(c)] |= 2
    for c in _RARE:
        out[ord(c)] |= 4
    return bytes(out)


def compiled_aligner(marks: Sequence[str], accel: object) -> AlignEach:
    """The C++ Aligner of the extension module `accel`, built from this module's plans."""
    marks = list(marks)
    prepare(marks)
    return accel.Aligner(marks, _plan_facts, char_classes(), _relation, _alignment, KINDS)  # type: ignore[attr-defined]


def aligner(marks: Sequence[str]) -> AlignEach:
    """The Aligner of the implementation that runs (matcher._impl)."""
    accel = _impl.accel()
    return Aligner(marks) if accel is None else compiled_aligner(marks, accel)
