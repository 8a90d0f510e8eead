"""Latin aliases and pinyin misspelt by one letter (matcher/latin_fuzzy.py), the
pinyin of a mark as the word is said (长城 → changcheng), and a bar between two
Chinese characters read as a separator (九|阳)."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher import Matcher, Subject
from matcher.candidates import pinyin_forms
from matcher.latin_fuzzy import (
    SHORT_EDIT,
    TRANSPOSED,
    LatinFuzzyIndex,
    close_enough,
    latin_edit,
    latin_words,
    transposition,
)
from matcher.marks import Mark
from matcher.marksfile import load_marks
from matcher.normalize import fold

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_marks(ROOT / "markwatch/demo/marks.yaml"))


def _hit(m: Matcher, text: str, kind: str = "listing"):
    hits = m.screen(Subject(text, kind=kind))  # type: ignore[arg-type]
    return hits[0] if hits else None


@pytest.mark.parametrize(
    ("text", "mark", "form", "code"),
    [
        ("JOYONG 豆浆机 高仿", "九阳", "JOYOUNG", "misspelt"),  # a letter dropped
        ("Joyuong 破壁机 原单", "九阳", "JOYOUNG", "transposed"),  # two neighbours swapped
        ("SUPRO 炒锅 高仿 1:1", "苏泊尔", "SUPOR", "transposed"),  # a five-letter alias: a swap only
        ("SU BO ER 不粘锅 原单", "苏泊尔", "supoer", "misspelt"),  # spaced pinyin, 泊 read bo
        ("HAUWEI 手机 高仿", "华为", "HUAWEI", "transposed"),
        ("weilng 辣条 大面筋", "卫龙", "WEILONG", "misspelt"),  # no cue: the misspelling itself is the evasion
    ],
)
def test_misspelt_latin_form_in_the_field(matcher: Matcher, text: str, mark: str, form: str, code: str) -> None:
    hit = _hit(matcher, text)
    assert hit is not None and hit.mark == mark
    reason = next(r for r in hit.reasons if r.code == code)
    assert form in reason.en and mark in reason.zh


@pytest.mark.parametrize(
    "text",
    [
        "JOYONG 图书 正版",  # not the mark's field
        "SUPER 不粘锅 炒锅",  # an English word, one letter from supoer
        "POWER 破壁机",
        "SUPAR 炒锅",  # a five-letter alias changed, not swapped
        "XOYOUNG 豆浆机 高仿",  # the first letter changed
    ],
)
def test_not_a_misspelling(matcher: Matcher, text: str) -> None:
    hit = _hit(matcher, text)
    assert hit is None or all(r.code != "misspelt" for r in hit.reasons), hit


def test_the_genuine_alias_is_not_a_misspelling(matcher: Matcher) -> None:
    hit = _hit(matcher, "JOYOUNG 豆浆机 高仿")
    assert hit is not None and hit.mark == "九阳"
    assert [r.code for r in hit.reasons][0] == "alias"


def test_close_enough() -> None:
    assert close_enough("joyong", "joyoung")
    assert close_enough("suopr", "supor")  # swap in a 5-letter form
    assert not close_enough("supar", "supor")  # substitution in a 5-letter form
    assert not close_enough("xoyoung", "joyoung")  # first letter
    assert not close_enough("joyoung", "joyoung")  # exact is not misspelt
    assert not close_enough("joyng", "joyoung")  # two letters dropped


def test_latin_words_join_across_separators_not_across_chinese() -> None:
    words = {w for w, _s, _e in latin_words(fold("SU BO-ER 苏 xyz"))}
    assert {"su", "subo", "suboer", "bo", "boer", "er", "xyz"} <= words
    assert "erxyz" not in words and "suboerxyz" not in words


def test_index_finds_only_forms_within_one_edit() -> None:
    index = LatinFuzzyIndex([("joyoung", 0), ("supor", 1), ("huawel", 2)])
    found = index.find(fold("JOYONG HUAWE SUPRO"))
    assert set(found) == {0, 1, 2}
    assert found[0][1] == "joyoung" and found[1][1] == "supor"
    assert index.find(fold("joyoung")) == {}  # an exact form is no misspelling
    assert not LatinFuzzyIndex([("rio", 0)])  # three letters: too short to search by one edit


def test_edits_by_the_forms_length() -> None:
    assert transposition("gere", "gree") == (1, "re")
    assert transposition("gree", "gree") is None and transposition("egre", "gree") is None
    assert latin_edit("gere", "gree") == TRANSPOSED  # four letters, two inner neighbours swapped
    assert latin_edit("egre", "gree") is None  # the first letter moved
    assert latin_edit("vivi", "vivo") == SHORT_EDIT  # a four-letter form: a letter changed is graded
    assert latin_edit("vivoo", "vivo") is None and latin_edit("viv", "vivo") is None  # four: no length change
    assert latin_edit("supar", "supor") == SHORT_EDIT  # five letters: any one edit, graded
    assert latin_edit("sup", "supor") is None  # two letters dropped
    assert latin_edit("tivo", "vivo") is None  # the first letter changed


@pytest.fixture(scope="module")
def short() -> list[Mark]:
    return [
        Mark(name="ZOVA", owner="佐华公司", classes=[9]),
        Mark(name="卡朗", owner="卡朗公司", classes=[11], aliases=["KRAUN"]),
    ]


def test_a_swap_in_a_four_letter_form_is_full_strength(short: list[Mark]) -> None:
    for mode in ("default", "strict"):
        hit = _hit(Matcher(short, mode=mode), "ZVOA 智能手表", kind="brand")
        assert hit is not None and hit.mark == "ZOVA" and hit.score >= 0.6, mode
        reason = next(r for r in hit.reasons if r.code == "transposed")
        assert "（ov→vo）" in reason.zh and "ZOVA" in reason.zh


def test_one_letter_of_a_short_form_changed_is_graded(short: list[Mark]) -> None:
    assert _hit(Matcher(short), "ZOVI", kind="brand") is None  # default: below the threshold
    assert _hit(Matcher(short, mode="strict"), "ZOVI", kind="brand") is None
    hit = _hit(Matcher(short, mode="review"), "ZOVI", kind="brand")
    assert hit is not None and hit.mark == "ZOVA" and hit.score <= 0.55
    codes = [r.code for r in hit.reasons]
    assert "short_edit" in codes and "latin_no_field" in codes  # a bare brand name states no field
    hit = _hit(Matcher(short, mode="review"), "KRAWN 电暖器", kind="brand")
    assert hit is not None and hit.mark == "卡朗" and "short_edit" in [r.code for r in hit.reasons]


def test_a_short_form_changed_in_another_field_or_into_a_word_is_not_raised(short: list[Mark]) -> None:
    review = Matcher(short, mode="review")
    assert _hit(review, "ZOVI 餐厅", kind="shop") is None  # the subject names another field (class 43)
    assert _hit(review, "NOVA", kind="brand") is None  # the first letter changed (and a word)
    assert _hit(review, "zone", kind="brand") is None


def test_a_latin_mark_is_not_read_character_by_character(short: list[Mark]) -> None:
    """The character aligner would take ZOVI as one character of ZOVA swapped, at full strength."""
    hit = _hit(Matcher(short, mode="review"), "ZOVI", kind="brand")
    assert hit is not None and "one_char_swap" not in [r.code for r in hit.reasons]


def test_pinyin_as_the_word_is_said() -> None:
    assert "changcheng" in pinyin_forms("长城")["pinyin"]  # 长 alone would read zhang
    wall = Mark(name="长城", owner="中粮长城酒业有限公司", well_known=True, classes=[33], industries=["葡萄酒"])
    m = Matcher([wall])
    hit = _hit(m, "changcheng 干红葡萄酒 高仿")
    assert hit is not None and hit.mark == "长城"


@pytest.mark.parametrize("text", ["九|阳 豆浆机 高仿", "九∣阳 豆浆机 高仿", "九｜阳 豆浆机 高仿"])
def test_a_bar_between_chinese_characters_separates(matcher: Matcher, text: str) -> None:
    assert fold("九|阳") == "九阳"
    hit = _hit(matcher, text)
    assert hit is not None and hit.mark == "九阳"
    assert "separator" in [r.code for r in hit.reasons]


def test_a_bar_among_letters_still_reads_as_l(matcher: Matcher) -> None:
    hit = _hit(matcher, "HUAWE| 手机 高仿")
    assert hit is not None and hit.mark == "华为"
