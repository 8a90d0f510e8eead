"""The reasons' pinyin skips pypinyin's segmentation when it cannot matter
(matcher.reasons._py): it must give exactly what pypinyin gives
(_py_reference) for any window, in the pure module and in its compiled copy."""

from __future__ import annotations

import importlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin.constants import PHRASES_DICT

from matcher import _impl, phonetic
from matcher import reasons as pure

# The pure module, and the compiled copy when it can run (test_matcher_accel.py fails without it).
MODULES = [pure] + ([importlib.import_module("matcher._compiled.reasons")] if _impl.why_not_compiled() is None else [])
COMMON = phonetic.common_chars()
PHRASES = sorted(k for k in PHRASES_DICT if 2 <= len(k) <= 4)
ODD = ["a", "Z", "1", " ", "·", "\u200b", "\u202e", "〇", "\U00020000", "\u3400", "ｶ", "\ufffd"]


@pytest.mark.parametrize("mod", MODULES, ids=lambda m: m.__name__)
def test_every_common_character_alone(mod) -> None:
    for c in COMMON:
        assert mod._py(c) == mod._py_reference(c), c


@pytest.mark.parametrize("mod", MODULES, ids=lambda m: m.__name__)
def test_windows_with_and_without_phrases(mod) -> None:
    """Random windows of common characters, half of them around a phrase of the
    dictionary (heteronyms read as the phrase wants: 银行 yín háng, not xíng)."""
    rng = random.Random(13)
    fast = 0
    for k in range(20_000):
        pad = [rng.choice(COMMON) for _ in range(rng.randint(0, 3))]
        if k % 2:
            text = "".join(pad[: len(pad) // 2]) + rng.choice(PHRASES) + "".join(pad[len(pad) // 2 :])
        else:
            text = "".join(rng.choice(COMMON) for _ in range(rng.randint(1, 6)))
        if k % 7 == 0:
            text += rng.choice(ODD)
        assert mod._py(text) == mod._py_reference(text), text
        fast += all(mod._char_py(c) is not None for c in text)
    assert fast > 10_000  # the fast path is actually taken for most windows
    assert mod._py("银行") == "yín háng" and mod._py("中国") == "zhōng guó"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from([*COMMON[:400], *ODD, "行", "长", "重", "银", "中"]), max_size=24))
def test_any_text(text: str) -> None:
    for mod in MODULES:
        assert mod._py(text) == mod._py_reference(text)
