"""The compiled fast path (matcher/_accel.pyx) gives exactly what the pure-Python path gives."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import Matcher
from matcher.marksfile import load_marks
from matcher.normalize import FOLDER, fold, fold_python, trace, trace_python

ROOT = Path(__file__).resolve().parents[1]
_MATCHER = Matcher(load_marks(ROOT / "markwatch/demo/marks.yaml"))

tricky = st.sampled_from(
    list("一正九阳衣久农夫山泉華為壹玖蒙牛安踏ANTA安蹈\u200b\u200d\ufeff\u0301 ·-_\r\n\t<>&ＡａΙіロ10|il")
)
texts = st.lists(
    st.one_of(
        tricky, st.characters(codec=None, categories=None), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    ),
    max_size=80,
).map("".join)


def _corpus() -> list[str]:
    out = []
    for name in ("eval_cases.jsonl", "holdout_cases.jsonl"):
        for line in (ROOT / "tests/data" / name).read_text(encoding="utf-8").splitlines():
            out.append(json.loads(line)["text"])
    out += (ROOT / "markwatch/demo/names.txt").read_text(encoding="utf-8").splitlines()
    return out


def test_the_extension_is_built():
    # `make test` builds it (setup.py); a silent fallback to pure Python would pass every other test.
    assert FOLDER is not None, "matcher._accel is not compiled: run `pip install -e .` with a C++ compiler"


@given(texts)
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_fold_agrees_with_the_python_fold(text):
    assert fold(text) == fold_python(text)


@given(texts)
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_trace_agrees_with_the_python_trace(text):
    assert trace(text) == trace_python(text)


def test_fold_and_trace_agree_on_every_case_and_on_odd_separators():
    samples = _corpus() + [
        "茅 台",
        "九-阳",
        "卫·龙",
        "茅 -x",
        "- 茅台 -",
        "中\u3000\u3000国",
        "ａ　ｂ",
        "𠀀 · 𠀁",
        "",
        " ",
        "ﬁ壹貳",
        "e\u0301",
        "卫\u200b龙",
    ]
    for text in samples:
        assert fold(text) == fold_python(text), text
        assert trace(text) == trace_python(text), text


def test_candidate_keys_agree_with_the_python_scan():
    rng = random.Random(3)
    samples = _corpus()
    # Shuffled pieces of real cases: keys found across odd, even and sound projections.
    for _ in range(3000):
        a, b = rng.choice(samples), rng.choice(samples)
        samples.append(a[: rng.randrange(len(a) + 1)] + b[rng.randrange(len(b) + 1) :])
    for text in samples:
        folded = fold(text)
        assert _MATCHER._scan(folded) == _MATCHER._scan_python(folded), text


@given(texts)
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_candidate_keys_agree_on_arbitrary_text(text):
    folded = fold(text)
    assert _MATCHER._scan(folded) == _MATCHER._scan_python(folded)
