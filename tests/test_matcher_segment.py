"""The compiled implementation's word cut (Segmenter._dag_cut) is jieba's own.

matcher/segment.py ports jieba's `cut(text, HMM=False)` for the compiled path
(no generators, no lock); the reference implementation calls jieba itself
(`Segmenter.jieba_cut`). Both are compared here directly, whichever one
matcher._impl picked, on every case, on generated names and listing titles,
on windows of them, and on text hypothesis writes.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import _impl
from matcher.marksfile import load_marks
from matcher.normalize import fold
from matcher.segment import Segmenter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_matcher as bench  # noqa: E402

_MARKS = [fold(m.name) for m in load_marks(ROOT / "markwatch/demo/marks.yaml")]
_SEG = Segmenter(_MARKS)


def _corpus() -> list[str]:
    out = []
    for name in ("eval_cases.jsonl", "holdout_cases.jsonl"):
        for line in (ROOT / "tests/data" / name).read_text(encoding="utf-8").splitlines():
            out.append(json.loads(line)["text"])
    out += (ROOT / "markwatch/demo/names.txt").read_text(encoding="utf-8").splitlines()
    rng = random.Random(11)
    pool = bench.char_weights()
    marks = bench.make_marks(rng, 200, pool)
    out += [t for _, t in bench.make_texts(rng, marks, 3000, pool)]
    return out


def test_the_port_cuts_every_case_and_window_as_jieba_does():
    checked = 0
    for text in _corpus():
        for s in {text, fold(text)}:
            for lo in range(0, len(s), 3):
                window = s[lo : lo + 14]  # the judgement segments a few characters around a match
                assert _SEG._dag_cut(window) == _SEG.jieba_cut(window), window
                checked += 1
            assert _SEG._dag_cut(s) == _SEG.jieba_cut(s), s
    assert checked > 10_000


def test_marks_added_to_the_dictionary_are_cut_whole():
    for mark in _MARKS:
        if len(mark) >= 2:
            text = f"浙江{mark}小家电有限公司"
            assert _SEG._dag_cut(text) == _SEG.jieba_cut(text)
            assert mark in _SEG._dag_cut(f" {mark} ")


tricky = st.sampled_from(
    list("一正九阳衣久农夫山泉華為大药房成立白云老板娘abcXYZ019 .-_%#&+\r\n\t\u3000，（）()\u200b")
)
texts = st.lists(
    st.one_of(
        tricky, st.characters(codec=None, categories=None), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    ),
    max_size=40,
).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_the_port_cuts_any_text_as_jieba_does(text):
    assert _SEG._dag_cut(text) == _SEG.jieba_cut(text)


def test_tokens_runs_the_port_only_in_the_compiled_implementation_and_remembers():
    seg = Segmenter(_MARKS)
    expected = seg._dag_cut if _impl.IMPLEMENTATION == "compiled" else seg.jieba_cut
    assert seg._cut == expected
    first = seg.tokens("湖北衣正大药房")
    assert first == seg.jieba_cut("湖北衣正大药房") == ["湖北", "衣", "正大", "药房"]
    assert seg.tokens("湖北衣正大药房") is first  # remembered, not cut again


_ACCEL = _impl.accel()
_CPP_BLOCK = _SEG.compiled_block(_ACCEL, [m for m in _MARKS if len(m) >= 2]) if _ACCEL is not None else None


def _blocks(text: str) -> list[str]:
    import jieba

    return [b for b in jieba.re_han_default.split(text) if b and jieba.re_han_default.match(b)]


def test_the_cut_runs_in_cpp_only_in_the_compiled_implementation():
    want = "compiled_block" if _impl.IMPLEMENTATION == "compiled" else "_cut_block"
    assert (_SEG._block.__name__ == "cut_block") == (want == "compiled_block")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_the_cpp_block_cut_is_the_python_one(text):
    """DagCut.cut_block (matcher._accel) against Segmenter._cut_block, both asked directly,
    whichever implementation runs; on blocks as _dag_cut gives them and on raw text."""
    if _ACCEL is None:
        return
    block = _CPP_BLOCK
    for s in [text, *_blocks(text)]:
        want: list[str] = []
        _SEG._cut_block(s, want)
        got: list[str] = []
        block(s, got)
        assert got == want, s


def test_the_cpp_block_cut_on_every_case_and_window():
    if _ACCEL is None:
        return
    checked = 0
    for text in _corpus()[:2000]:
        for s in {text, fold(text)}:
            for blk in _blocks(s):
                for lo in range(0, len(blk), 4):
                    want: list[str] = []
                    _SEG._cut_block(blk[lo : lo + 14], want)
                    got: list[str] = []
                    _CPP_BLOCK(blk[lo : lo + 14], got)
                    assert got == want, blk
                    checked += 1
    assert checked > 2_000
    # a mark added to the dictionary, a prefix of one, and a word the marks changed
    for s in ["一正大药房", "九阳豆浆机", "一", "abc九阳123", "老板娘", "农夫山泉水"]:
        want = []
        _SEG._cut_block(s, want)
        got = []
        _CPP_BLOCK(s, got)
        assert got == want
