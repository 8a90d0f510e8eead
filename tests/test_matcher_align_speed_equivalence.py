"""matcher.align.align() is the fast form of a plain algorithm: it must give exactly
what the plain one gives (same Alignments, same order) for any mark and text; so
must its Cython-compiled copy, matcher._compiled.align, when it is built."""

from __future__ import annotations

import importlib
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import _impl, phonetic
from matcher import align as al
from matcher.align import DIFF, SAME, Alignment, align, relation
from matcher.normalize import is_han
from matcher.resources import lookalikes


def _plain_score(mark: str, window: str) -> tuple[float, tuple[str, ...]] | None:
    n = len(mark)
    rels = [relation(a, b) for a, b in zip(mark, window, strict=True)]
    kinds = tuple(k for _, k in rels)
    diffs = [i for i, k in enumerate(kinds) if k == DIFF]
    if diffs:
        if n < 3 or len(diffs) > 1 or diffs[0] == 0:
            return None
        if any(k != SAME for i, k in enumerate(kinds) if i != diffs[0]):
            return None
    w = [1.5] + [1.0] * (n - 1)
    sim = sum(wi * v for wi, (v, _) in zip(w, rels, strict=True)) / sum(w)
    if SAME not in kinds:
        sim *= 0.8
    return sim, kinds


def plain_align(mark: str, text: str, limit: int = 4) -> list[Alignment]:
    """align() as it was written before it was made fast: every start, every window."""
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
    related = al._related(first)
    common = al._common()
    starts = [
        i
        for i, c in enumerate(text)
        if c == first or c in related or c in mark_chars or (is_han(c) and c not in common)
    ]
    last = len(text) - n
    for i in starts:
        if i > last:
            break
        window = text[i : i + n]
        if window == mark:
            continue
        if relation(first, window[0])[1] == DIFF:
            if sorted(window) == sorted_mark:
                found.append(Alignment(i, i + n, 0.82 if n >= 3 else 0.7, (SAME,) * n, "reorder", window))
            continue
        got = _plain_score(mark, window)
        if got is not None:
            sim, kinds = got
            found.append(Alignment(i, i + n, sim, kinds, "swap" if DIFF in kinds else "variant", window))
        elif sorted(window) == sorted_mark:
            found.append(Alignment(i, i + n, 0.82 if n >= 3 else 0.7, (SAME,) * n, "reorder", window))
    for i in starts:
        if i > last - 1:
            break
        window = text[i : i + n + 1]
        if not is_han(window[0]) or not is_han(window[-1]) or relation(first, window[0])[1] == DIFF:
            continue
        for j in range(1, n):
            if not is_han(window[j]):
                continue
            got = _plain_score(mark, window[:j] + window[j + 1 :])
            if got is None:
                continue
            sim, kinds = got
            if DIFF in kinds or (n == 2 and kinds != (SAME, SAME)):
                continue
            found.append(Alignment(i, i + n + 1, sim * (0.88 if n >= 3 else 0.8), kinds, "insertion", window, j))
    found.sort(key=lambda a: (-a.similarity, a.start))
    return found[:limit]


def _fields(alignments: list[Alignment]) -> list[tuple]:
    return [(a.start, a.end, a.similarity, a.kinds, a.edit, a.window, a.inserted) for a in alignments]


# The pure module, and the compiled copy when it can run (test_matcher_accel.py fails without it).
ALIGNERS = [al] + ([importlib.import_module("matcher._compiled.align")] if _impl.why_not_compiled() is None else [])


_ACCEL = importlib.import_module("matcher._accel") if _impl.why_not_compiled() is None else None
_BATCH: dict[tuple[str, str], list] = {}


def batch_aligners(module, mark: str) -> list:
    """module.Aligner for [mark], and the C++ one (matcher._accel) built from module's plans."""
    key = (module.__name__, mark)
    if key not in _BATCH:
        _BATCH[key] = [module.Aligner([mark])]
        if _ACCEL is not None:
            _BATCH[key].append(module.compiled_aligner([mark], _ACCEL))
    return _BATCH[key]


def assert_same(mark: str, text: str, limit: int = 4) -> list[Alignment]:
    want = _fields(plain_align(mark, text, limit))
    for module in ALIGNERS:
        got = module.align(mark, text, limit)
        assert all(type(a) is module.Alignment for a in got)
        assert _fields(got) == want, (module.__name__, mark, text, limit)
        # could_align() then align(), for a name's candidates at once: in Python, and in C++
        for batch in batch_aligners(module, mark):
            (each,) = batch.align_each([0], text, limit)
            assert all(type(a) is module.Alignment for a in each)
            assert _fields(each) == want, (type(batch).__module__, module.__name__, mark, text, limit)
    return got


MARKS = [
    "一正",
    "九阳",
    "农夫山泉",
    "娃哈哈",
    "鸿星尔克",
    "李宁",
    "格力",
    "周黑鸭",
    "苏泊尔",
    "茅台",
    "老干妈",
    "哈哈",
    "立白",
    "a1",
    "云南白药",
    "康师傅",
    "\u3400\u4e00",
    "\uf900正",
    "正\U00020000",
]


def _neighbours(c: str) -> list[str]:
    """Characters that relate to c in every way relation() knows, and some that do not."""
    out = [c, *phonetic.homophones_of(c)[:5], *list(lookalikes().get(c, {}))[:5], *phonetic.near_homophones_of(c)[:5]]
    return out + ["\u3401", "\u9fa6", "\uf901", "我", "的"]


def _texts_for(mark: str, rng: random.Random, count: int) -> list[str]:
    pool = [x for c in mark for x in _neighbours(c)]
    odd = ["\u200b", "\u0301", "\ud800", "\U00020000", " ", "a", "1", "\r\n", "<b>", "·"]
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 5)):
            r = rng.random()
            w = list(mark)
            if r < 0.2:
                parts.append(mark)
            elif r < 0.45:
                w[rng.randrange(len(w))] = rng.choice(pool)
                parts.append("".join(w))
            elif r < 0.55:
                rng.shuffle(w)
                parts.append("".join(w))
            elif r < 0.75:
                k = rng.randrange(len(mark) + 1)
                parts.append(mark[:k] + rng.choice(pool + odd) + mark[k:])
            elif r < 0.9:
                parts.append("".join(rng.choices(pool, k=rng.randint(1, 6))))
            else:
                parts.append("".join(rng.choices(odd, k=2)))
        out.append("".join(parts))
    return out


@pytest.mark.parametrize("mark", MARKS)
def test_align_equals_plain_algorithm_on_imitations(mark):
    rng = random.Random(mark)
    edits = set()
    for text in _texts_for(mark, rng, 150):
        for limit in (4, 1, 0, 100):
            edits.update(a.edit for a in assert_same(mark, text, limit))
    if all(is_han(c) for c in mark) and len(set(mark)) >= 2:
        assert {"exact", "variant", "reorder", "insertion"} <= edits  # the texts reach every branch


def test_align_equals_plain_algorithm_on_huge_and_hostile_text():
    rng = random.Random(3)
    for mark in ("农夫山泉", "九阳", "娃哈哈"):
        big = "".join(_texts_for(mark, rng, 1000))[:40_000]
        assert assert_same(mark, big, 10**6)
        assert_same(mark, "\u3400" * 5_000)
        assert_same(mark, "".join(rng.choices(["\ud800", "\udfff", "\U0010ffff", "\x00", "\ufeff"], k=5000)))


han = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
pieces = st.one_of(
    st.sampled_from(list("一正九阳衣久农夫山泉娃哈蛙洼鸿星尔克可李宁柠\u3400\uf900\U00020000\u200b\u0301a1 ")),
    han,
    st.characters(codec=None, categories=None),
)


@given(
    st.one_of(st.sampled_from(MARKS), st.lists(pieces, min_size=1, max_size=5).map("".join)),
    st.lists(pieces, max_size=40).map("".join),
    st.sampled_from([4, 1, 0, 10]),
)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_align_equals_plain_algorithm_on_any_text(mark, text, limit):
    assert_same(mark, text, limit)


def test_the_compiled_aligner_is_tested():
    if _impl.why_not_compiled() is None:
        assert _ACCEL is not None and len(batch_aligners(al, "九阳")) == 2


@pytest.mark.parametrize("module", ALIGNERS, ids=lambda m: m.__name__)
def test_aligning_many_marks_at_once_equals_one_at_a_time(module):
    """One Aligner of many marks (short, long, repeated, one character, rare and non-Han), asked
    about them in any order, repeated, against one text after another: each answer is align()'s."""
    marks = [*MARKS, "正", "a", "", "九阳", "㐀", "一正堂药业", "正一"]
    aligners = [module.Aligner(marks)] + ([module.compiled_aligner(marks, _ACCEL)] if _ACCEL is not None else [])
    rng = random.Random(11)
    which = [*range(len(marks)), 3, 0, -1, len(marks) - 2]
    rng.shuffle(which)
    texts = ["", "九", "㐀" * 3, *(t for m in MARKS[:8] for t in _texts_for(m, rng, 12))]
    for text in texts:
        want = [_fields(plain_align(marks[i], text)) for i in which]
        for batch in aligners:
            assert [_fields(x) for x in batch.align_each(which, text)] == want, (type(batch), text)
    for batch in aligners:
        with pytest.raises(IndexError):
            batch.align_each([len(marks)], "九阳")


def test_relation_tables_are_complete():
    """A common character missing from _table(a) must be DIFF to a: align() no longer asks."""
    common = phonetic.common_chars()
    align("九阳", "九阳")  # loads the character sets
    for a in ["九", "阳", "农", "山", "哈", "星", "尔", "行", "长", "乐", "\u3400", "\uf900", "a"]:  # heteronyms too
        table = al._table(a)
        for b in common:
            got = table.get(b)
            if got is None:
                got = al._relation(a, b) if b in al._RARE else al._DIFF_REL
            assert tuple(got) == tuple(relation(a, b)), (a, b)
