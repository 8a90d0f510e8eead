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
