"""Issue 13's noise rules and evasions, on the demo marks: real names that only
sound like a mark stay quiet, evasions an infringer would try are caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher import Matcher, Subject
from matcher.candidates import pinyin_forms
from matcher.marksfile import load_marks
from matcher.normalize import fold

ROOT = Path(__file__).resolve().parents[1]
CASES = [json.loads(line) for line in (ROOT / "tests/data/evasion_cases.jsonl").read_text("utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_marks(ROOT / "markwatch/demo/marks.yaml"))


def _best(m: Matcher, text: str, kind: str = "enterprise") -> str | None:
    hits = m.screen(Subject(text, kind=kind))  # type: ignore[arg-type]
    return hits[0].mark if hits else None


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_evasion_cases(matcher: Matcher, case: dict) -> None:
    assert _best(matcher, case["text"], case["kind"]) == case["expected"], case["note"]


def test_symbols_fold_like_separators_but_compatibility_forms_still_fold() -> None:
    assert fold("九✿阳") == "九阳"
    assert fold("一🔥正") == "一正"
    assert fold("⽼干妈") == "老干妈"  # Kangxi radical: a compatibility form, not a separator
    assert fold("九阳 ✿ 豆浆机") == "九阳豆浆机"
    assert fold("abc✿def") == "abc def"  # between letters it stays a space


def test_pinyin_forms() -> None:
    forms = pinyin_forms("九阳")
    assert forms["pinyin"] == ("jluyang",)  # Latin skeleton: i → l
    assert set(forms["mixed"]) == {"九yang", "jiu阳"}
    assert pinyin_forms("a") == {}
    assert pinyin_forms("九a") == {}


def test_pinyin_must_stand_on_word_boundaries(matcher: Matcher) -> None:
    assert _best(matcher, "jiuyangshu 图书", "listing") is None
    assert _best(matcher, "一zhenghao 药业", "listing") is None


@pytest.mark.parametrize("name", ["华纬科技", "美迪凯", "亿利达", "歌力思", "汇力资源", "威龙股份"])
def test_bare_name_that_only_sounds_like_a_mark(matcher: Matcher, name: str) -> None:
    """Real listed companies' short names: no form, no field word, sound only."""
    assert _best(matcher, name) is None


@pytest.mark.parametrize("name", ["中国海关", "海大集团"])
def test_variant_that_is_a_frequent_word_outside_the_field(matcher: Matcher, name: str) -> None:
    assert _best(matcher, name) is None


def test_ordinary_mark_variant_outside_its_field(matcher: Matcher) -> None:
    assert _best(matcher, "丰元股份") is None  # 三元 is not well known; 丰 only looks like 三


def test_registered_name_with_unplaced_industry_keeps_the_doubt(matcher: Matcher) -> None:
    """老版集成灶有限公司: the lexicon cannot place 集成灶, the form says it is a registered name."""
    assert _best(matcher, "嵊州市老版集成灶有限公司") == "老板"
    assert _best(matcher, "深圳市美迪电器有限公司") == "美的"  # same field: sound suffices


@pytest.mark.parametrize("title", ["德国苏泊尔 电压力锅", "日本九阳 破壁机"])
def test_false_foreign_origin_on_a_chinese_mark(matcher: Matcher, title: str) -> None:
    assert _best(matcher, title, "listing") is not None


def test_genuine_resale_is_still_quiet(matcher: Matcher) -> None:
    assert _best(matcher, "苏泊尔 电压力锅 德国工艺", "listing") is None
