"""Two forms issue 21 item 6 asks the matcher to read: a mark written as the initials of its
pinyin (jy for 九阳) where the rest of the text points to the mark's goods, and a numeral of a
mark changed to its neighbour (七个核桃 for 六个核桃). Every reason is checked as written."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_matcher_reasons_true import check, target_of

from matcher import Mark, Matcher, Subject
from matcher.candidates import neighbour_numerals
from matcher.initials import initials_of, spelled

MARKS = [
    Mark(name="九阳", owner="o", classes=[7, 11, 21], industries=["豆浆机", "小家电"]),
    Mark(name="海底捞", owner="o", classes=[43], industries=["火锅"]),
    Mark(name="六个核桃", owner="o", classes=[32], industries=["饮料", "核桃乳"]),
    Mark(name="1點點", owner="o", classes=[43], industries=["奶茶"]),
    Mark(name="三九", owner="o", classes=[5]),
    Mark(name="三只松鼠", owner="o", classes=[29, 30, 35], industries=["坚果"]),
    Mark(name="四只松鼠", owner="o", classes=[29]),
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(MARKS)


def _hit(matcher: Matcher, subject: Subject):
    hits = matcher.screen(subject)
    by_name = {m.name: m for m in MARKS}
    for h in hits:  # every reason is true as written
        target = target_of(h, by_name)
        for r in h.to_dict()["reasons"]:
            check(r, subject, h, target)
    return hits[0] if hits else None


def test_initials_of_a_mark_follow_every_reading() -> None:
    assert initials_of("九阳") == ["jy"]
    assert set(initials_of("重庆")) >= {"cq", "zq"}  # 重 is chóng or zhòng
    assert initials_of("九") == [] and initials_of("中华人民共和国") == []
    assert spelled("海底捞", "hdl") == "hǎi dǐ lāo"


def test_initials_count_among_the_marks_goods(matcher: Matcher) -> None:
    hit = _hit(matcher, Subject("jy 豆浆机 家用全自动", "listing"))
    assert hit is not None and hit.mark == "九阳" and hit.reasons[0].code == "pinyin_initials"
    assert "jiǔ yáng" in hit.reasons[0].zh
    hit = _hit(matcher, Subject("HDL火锅底料", "listing"))
    assert hit is not None and hit.mark == "海底捞"


def test_initials_elsewhere_are_any_abbreviation(matcher: Matcher) -> None:
    assert _hit(matcher, Subject("JY 蓝牙耳机", "listing")) is None  # not the mark's goods
    assert _hit(matcher, Subject("jyx豆浆机", "listing")) is None  # not a token of its own
    assert _hit(matcher, Subject("jy2豆浆机", "listing")) is None
    explained = matcher.explain(Subject("JY 蓝牙耳机", "listing"))
    assert any(c["rule"] == "initials_outside_field" for e in explained for c in e.get("considered", []))


def test_neighbour_numerals_need_the_rest_of_the_mark() -> None:
    assert neighbour_numerals("六个核桃") == ["五个核桃", "七个核桃"]
    assert neighbour_numerals("三九") == []  # all numerals: another number, not this mark changed
    assert neighbour_numerals("九阳") == []  # one character left: too little of the mark
    assert neighbour_numerals("际华三五一五")[:2] == ["际华二五一五", "际华四五一五"]


def test_a_changed_numeral_is_reported_as_such(matcher: Matcher) -> None:
    hit = _hit(matcher, Subject("七个核桃核桃乳", "brand"))
    assert hit is not None and hit.mark == "六个核桃"
    assert hit.reasons[0].code == "numeral_changed"
    assert "“六”换成了相邻的“七”" in hit.reasons[0].zh
    assert not any(r.zh.startswith("包含商标") for r in hit.reasons)  # 七个核桃 is not the mark
    exact = _hit(matcher, Subject("六个核桃核桃乳", "brand"))
    assert exact is not None and exact.score > hit.score
    assert _hit(matcher, Subject("八个核桃", "brand")) is None  # two steps away: not a neighbour
    digits = _hit(matcher, Subject("2点点奶茶", "shop"))  # a mark written with digits
    assert digits is not None and digits.mark == "1點點" and digits.reasons[0].code == "numeral_changed"


def test_a_form_that_is_another_mark_stays_that_mark(matcher: Matcher) -> None:
    hits = matcher.screen(Subject("四只松鼠坚果", "brand"))
    assert [h.mark for h in hits][:1] == ["四只松鼠"]
    assert all(h.reasons[0].code != "numeral_changed" for h in hits)


def test_numbered_pinyin_with_any_reading_of_a_polyphone() -> None:
    """华为 is hua2wei2 as the brand is said; 为's commonest reading is wèi (hua2wei4): both are read."""
    from matcher.phonetic import numbered_pinyin

    assert {"hua2wei2", "hua2wei4"} <= set(numbered_pinyin("华为"))
    m = Matcher([Mark(name="华为", owner="o", classes=[9], industries=["手机"], aliases=["HUAWEI"])])
    for text in ("hua2wei2手机", "hua2wei4手机"):
        hit = _hit(m, Subject(text, "listing"))
        assert hit is not None and hit.mark == "华为", text


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="0123456789aZ 正九-:年\t１", max_size=10))
def test_the_lone_digit_prefilter_misses_no_lone_digit(text) -> None:
    """fold() asks _MAYBE_LONE_DIGIT before the per-digit loop: it must hold wherever that loop finds one."""
    from matcher.normalize import _MAYBE_LONE_DIGIT, _lone_digits

    if _lone_digits(text):
        assert _MAYBE_LONE_DIGIT.search(text), text


def test_digits_in_sizes_and_counts_stay_digits_and_lone_ones_read_as_numerals() -> None:
    from matcher.normalize import fold, trace

    assert fold("九1 正品 999ml 2024年 3M") == "九一正品 999ml 2024年 3m"
    assert trace("1正 x1 1x").text == "一正 x1 1x" and trace("1正").why[0] == "digit"
