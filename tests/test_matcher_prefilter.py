"""align.could_align() is a safe pre-filter: when it says no, align() finds nothing.

Matcher.screen() skips align() for a candidate mark when could_align() is False,
so a False that align() would contradict would lose a hit. Checked on every
demo mark against every case, on generated marks against generated names
(a third of the pairs sharing a key, as the candidate stage raises them), and
on text hypothesis writes.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_matcher as bench  # noqa: E402

_align = _impl.module("align")
_DEMO = [fold(m.name) for m in load_marks(ROOT / "markwatch/demo/marks.yaml")]
_align.prepare(_DEMO)


def _cases() -> list[str]:
    out = []
    for name in ("eval_cases.jsonl", "holdout_cases.jsonl"):
        for line in (ROOT / "tests/data" / name).read_text(encoding="utf-8").splitlines():
            out.append(fold(json.loads(line)["text"]))
    return out


def _check(mark: str, text: str) -> bool:
    """True when could_align said no (and align agreed)."""
    if _align.could_align(mark, text):
        return False
    assert _align.align(mark, text) == [], (mark, text)
    return True


def test_no_means_nothing_for_every_demo_mark_and_case():
    skipped = sum(_check(mark, text) for text in _cases() for mark in _DEMO)
    assert skipped > 1000  # the filter does turn pairs away


def test_no_means_nothing_on_generated_marks_and_names():
    rng = random.Random(13)
    pool = bench.char_weights()
    marks = [fold(m.name) for m in bench.make_marks(rng, 300, pool)]
    _align.prepare(marks)
    texts = [fold(t) for _, t in bench.make_texts(rng, bench.make_marks(rng, 300, pool), 400, pool)]
    texts += [fold(bench.imitate(rng, rng.choice(marks))) for _ in range(200)]
    skipped = sum(_check(mark, text) for text in texts for mark in marks)
    assert skipped > 10_000


chars = st.sampled_from(list("一正九阳衣久农夫山泉華為华为大药房成立白云老板娘科技天禄田甜abc 0\u200b\u3400\u9fa5𠀀"))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_DEMO + ["天禄科技", "华为", "大白"]), st.lists(chars, max_size=20).map("".join))
def test_no_means_nothing_on_any_text(mark, text):
    _align.prepare([mark])
    _check(mark, text)
