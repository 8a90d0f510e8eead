"""The C++ extension (matcher/_accel.pyx) gives exactly what the pure-Python reference gives.

Each test builds both explicitly (normalize.compiled_folder and fold_python;
_accel.CandidateIndex and candidates.CandidateIndex from one IndexPlan), so
they compare two implementations whichever one matcher._impl picked. Without
the extension they are skipped, except under CI=true, where they fail.
tests/test_matcher_dispatch.py compares the whole screen() of both.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import Matcher, _impl, candidates, normalize
from matcher.marksfile import load_marks
from matcher.normalize import Traced, fold_python, trace_python

ROOT = Path(__file__).resolve().parents[1]
_MATCHER = Matcher(load_marks(ROOT / "markwatch/demo/marks.yaml"))

try:
    _ACCEL = importlib.import_module("matcher._accel")
except ImportError as exc:
    _ACCEL = None
    _MISSING = f"matcher._accel is not compiled ({exc}): run `pip install -e .` with a C++ compiler"


@pytest.fixture(scope="module")
def accel():
    if _ACCEL is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(_MISSING + " (CI=true: it must be built and tested)")
        pytest.skip(_MISSING)
    return _ACCEL


@pytest.fixture(scope="module")
def folder(accel):
    return normalize.compiled_folder(accel)


@pytest.fixture(scope="module")
def indexes(accel):
    """(C++, Python) candidate indexes built from the same plan."""
    return accel.CandidateIndex(_MATCHER.plan), candidates.CandidateIndex(_MATCHER.plan)


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
    why = _impl.why_not_compiled()
    assert why is None, f"the compiled implementation cannot run: {why}; run `pip install -e .` with a C++ compiler"


@given(texts)
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_fold_agrees_with_the_python_fold(folder, text):
    assert folder.fold(text) == fold_python(text)


@given(texts)
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_trace_agrees_with_the_python_trace(folder, text):
    assert Traced(*folder.trace(text)) == trace_python(text)


def test_fold_and_trace_agree_on_every_case_and_on_odd_separators(folder):
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
        assert folder.fold(text) == fold_python(text), text
        assert Traced(*folder.trace(text)) == trace_python(text), text


def test_candidate_keys_agree_with_the_python_scan(indexes):
    compiled, python = indexes
    assert type(compiled) is not type(python)
    rng = random.Random(3)
    samples = _corpus()
    # Shuffled pieces of real cases: keys found across odd, even and sound projections.
    for _ in range(3000):
        a, b = rng.choice(samples), rng.choice(samples)
        samples.append(a[: rng.randrange(len(a) + 1)] + b[rng.randrange(len(b) + 1) :])
    found = 0
    for text in samples:
        folded = fold_python(text)
        want = python.scan(folded)
        assert compiled.scan(folded) == want, text
        found += want is not None
    assert found > 1000


@given(texts)
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_candidate_keys_agree_on_arbitrary_text(indexes, text):
    compiled, python = indexes
    folded = fold_python(text)
    assert compiled.scan(folded) == python.scan(folded)


def test_candidate_keys_agree_at_thousands_of_marks(accel):
    """2,000 generated marks (~120,000 keys): the C++ pair table's probing, its shared
    first-two-character groups and the filter sized to the key count, against the
    reference, on generated names and listings (a third of them imitations)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_matcher as bench

    rng = random.Random(5)
    pool = bench.char_weights()
    marks = bench.make_marks(rng, 2000, pool)
    plan = Matcher(marks).plan
    compiled, python = accel.CandidateIndex(plan), candidates.CandidateIndex(plan)
    texts = [t for _, t in bench.make_texts(rng, marks, 3000, pool)]
    texts += [bench.imitate(rng, rng.choice(marks).name) for _ in range(1000)]
    found = 0
    for text in texts:
        folded = fold_python(text)
        want = python.scan(folded)
        assert compiled.scan(folded) == want, text
        found += want is not None
    assert found > 2000


def test_in_field_agrees_with_the_python_filter(accel):
    """CandidateIndex.in_field (classes as bit masks, Python only for marks listing
    industries) against candidates.in_field on the reference scan: 2,000 generated
    marks, a quarter listing industries, texts with and without a category."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_matcher as bench

    from matcher import context

    rng = random.Random(11)
    pool = bench.char_weights()
    marks = bench.make_marks(rng, 2000, pool)
    words = ["食品", "服装", "酒", "电子", "化妆品", "餐饮", "科技", "医药"]
    marks = [
        m.model_copy(update={"industries": rng.sample(words, 2)}) if k % 4 == 0 else m for k, m in enumerate(marks)
    ]
    m = Matcher(marks)
    compiled, python = accel.CandidateIndex(m.plan), candidates.CandidateIndex(m.plan)
    texts = [t for _, t in bench.make_texts(rng, marks, 3000, pool)]
    texts += [bench.imitate(rng, rng.choice(marks).name) + rng.choice(["", *words]) for _ in range(1000)]
    kept = filtered = 0
    for text in texts:
        folded = fold_python(text)
        for category in ("", rng.choice(words)):
            scanned = python.scan(folded)
            want = candidates.in_field(scanned, m.info, folded, category)
            assert compiled.in_field(folded, category, m.info, context.classes_in) == want, (text, category)
            got = compiled.in_field_sorted(folded, category, m.info, context.classes_in)
            assert got == (sorted(want), candidates.has_latin(folded)), (text, category)
            kept += bool(want)
            if scanned is not None:
                filtered += len(scanned[1] | scanned[2]) > len(want - scanned[0])
    assert kept > 2000 and filtered > 500  # both answers, and the filter dropped marks often
    assert compiled.in_field("", "", m.info, context.classes_in) == set()
    # the class words found in C++ are context.classes_in's, on the texts above and on odd ones
    odd = [
        "",
        " ",
        "食品食品",
        "服装鞋帽",
        "t恤",
        "T恤",
        "电子烟",
        "酒店餐饮",
        "医药科技有限公司",
        "\u200b食品",
        "a食品b",
    ]
    for text in texts[:1500] + odd:
        folded = fold_python(text)
        for category in ("", rng.choice(words), "食品 酒"):
            field = folded + " " + category if category else folded
            assert compiled.field_classes(folded, category) == context.classes_in(field), (text, category)
    assert compiled.in_field_sorted("", "", m.info, context.classes_in) == ([], False)
    for odd in ("abc", "ＡＢＣ", "Zz", "\u200ba", "九阳a", "é"):  # has_latin on folded text: a to z only
        folded = fold_python(odd)
        assert compiled.in_field_sorted(folded, "", m.info, context.classes_in)[1] == candidates.has_latin(folded)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_keyset_finds_what_aho_corasick_finds(accel, text):
    """KeySet (Matcher.screen's scan for marks part in pinyin, compiled) against ahocorasick_rs's
    overlapping scan: the same pattern indexes, as often, on the demo marks' forms and odd text."""
    import ahocorasick_rs as ac

    forms = sorted({f for info in _MATCHER.info for f in info.mixed} | {"九yang", "jiu阳", "阳a", "a", "ab", "abc"})
    folded = fold_python(text)  # what screen() scans: folding drops lone surrogates, which ahocorasick_rs refuses
    for t in (folded, "九yang" + folded + "jiu阳jiu阳", text.encode("utf-8", "ignore").decode("utf-8")):
        want = sorted(m[0] for m in ac.AhoCorasick(forms).find_matches_as_indexes(t, overlapping=True))
        assert sorted(accel.KeySet(forms).find(t)) == want, t


_SPLIT_MARKS = ["张小泉", "雕牌", "好想你", "胡姬花", "明月"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from(["", "弓长小泉", "周隹牌", "周住牌", "古月姬花"]))
def test_split_index_asks_the_keyset_first_and_finds_the_same(accel, text, form):
    """SplitIndex with the compiled KeySet as its prefilter gives what it gives without one."""
    from matcher.splits import SplitIndex

    plain, fast = SplitIndex(_SPLIT_MARKS), SplitIndex(_SPLIT_MARKS, accel.KeySet)
    assert fast._any is not None
    for t in (fold_python(text), fold_python(text) + form, form + fold_python(text)):
        assert fast.find(t) == plain.find(t), t
    assert fast.find("弓长小泉剪刀") and fast.find("弓长小泉剪刀") == plain.find("弓长小泉剪刀")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from(["", "食品", "服装 鞋", "电子"]))
def test_class_words_found_as_classes_in_finds_them(accel, text, category):
    from matcher import context

    index = accel.CandidateIndex(_MATCHER.plan)
    folded = fold_python(text)
    field = folded + " " + category if category else folded
    assert index.field_classes(folded, category) == context.classes_in(field)
