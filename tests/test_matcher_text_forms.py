"""Text read as a person reads it (matcher/normalize.py, matcher/splits.py), everyday words
(matcher/words.py) and field tables (matcher/fields.py)."""

from __future__ import annotations

import pytest

from matcher import Mark, Matcher, Subject
from matcher.fields import category_field, gbt, industry_code, industry_field, relation
from matcher.normalize import fold, trace
from matcher.splits import split_forms
from matcher.words import reads_as_other_word

_MARKS = [
    Mark(name="一正", owner="吉林一正药业集团有限公司", well_known=True, classes=[5], aliases=["YIZHENG"]),
    Mark(name="九阳", owner="九阳股份有限公司", well_known=True, classes=[11]),
    Mark(name="长城", owner="长城汽车股份有限公司", well_known=True, classes=[12]),
    Mark(name="张小泉", owner="杭州张小泉集团有限公司", well_known=True, classes=[8]),
    Mark(name="雕牌", owner="纳爱斯集团有限公司", well_known=True, classes=[3]),
    Mark(name="卫龙", owner="漯河市平平食品有限责任公司", well_known=True, classes=[29, 30]),
    Mark(name="美的", owner="美的集团股份有限公司", well_known=True, classes=[7, 9, 11]),
]


@pytest.fixture(scope="module")
def m() -> Matcher:
    return Matcher(_MARKS)


def _best(m: Matcher, text: str, kind: str = "enterprise", **kw: object):
    hits = m.screen(Subject(text, kind, **kw))  # type: ignore[arg-type]
    return hits[0] if hits else None


@pytest.mark.parametrize(
    "text,folded",
    [
        ("九&#38451;", "九阳"),
        ("九&#x9633;", "九阳"),
        ("一<span>正</span>", "一正"),
        ("一<b> 正", "一正"),
        ("&amp;lt;b&amp;gt;九阳", "九阳"),
        ("Yī Zhèng", "yi zheng"),
        ("lǜ", "lv"),
        ("1正药业", "一正药业"),
        ("⻓城", "长城"),
        ("高仿1:1 3M 2024年 A4纸", "高仿1:1 3m 2024年 a4纸"),
        ("a < b & c", "a < b & c"),
    ],
)
def test_text_is_read_as_a_person_reads_it(text: str, folded: str) -> None:
    assert fold(text) == folded
    t = trace(text)
    assert t.text == folded
    assert fold(folded) == folded


def test_spans_quote_the_markup_as_written() -> None:
    t = trace("九&#38451;豆浆机")
    assert t.text == "九阳豆浆机"
    s, e = t.span(0, 2)
    assert "九&#38451;豆浆机"[s:e] == "九&#38451;"


def test_hits_on_markup_digits_radicals_pinyin_and_splits(m: Matcher) -> None:
    hit = _best(m, "九&#38451;豆浆机 高仿", "listing")
    assert hit and hit.mark == "九阳" and hit.matched == "九&#38451;" and "markup" in hit.codes
    hit = _best(m, "1正药业有限公司")
    assert hit and hit.mark == "一正" and hit.matched == "1正" and "numeral" in hit.codes
    assert any("阿拉伯数字" in r.zh for r in hit.reasons)
    hit = _best(m, "⻓城汽车配件有限公司")
    assert hit and hit.mark == "长城" and hit.matched == "⻓城"
    hit = _best(m, "jiu3yang2豆浆机", "listing")
    assert hit and hit.mark == "九阳" and hit.codes[0] == "pinyin"
    hit = _best(m, "弓长小泉剪刀", "listing")
    assert hit and hit.mark == "张小泉" and hit.matched == "弓长小泉" and hit.codes[0] == "split"
    hit = _best(m, "周住牌洗衣粉", "listing")
    assert hit and hit.mark == "雕牌" and "拆开写作“周住”" in hit.reasons[0].zh


def test_split_forms_skip_everyday_words() -> None:
    forms = {f for f, _ in split_forms("明月")}
    assert "日月月" not in forms  # 日月 is a word, not a disguised 明


def test_everyday_words_are_not_the_mark(m: Matcher) -> None:
    assert reads_as_other_word("卫衣", "卫龙") and reads_as_other_word("美白", "美的")
    assert not reads_as_other_word("卫尤", "卫龙") and not reads_as_other_word("美的", "美的")
    assert _best(m, "卫衣 男 秋冬 加绒", "listing") is None
    assert _best(m, "美白面膜 补水", "listing") is None
    hit = _best(m, "卫尤辣条", "listing")
    assert hit and hit.mark == "卫龙"


@pytest.mark.parametrize(
    "value,code", [("C27", "27"), ("27", "27"), ("2710", "2710"), ("医药制造业", "27"), ("F", "F")]
)
def test_industry_codes_and_names(value: str, code: str) -> None:
    assert industry_code(value) == code


def test_industries_reach_classes_through_the_tables() -> None:
    assert 5 in industry_field("医药制造业").classes
    assert "0501" in industry_field("C27").groups
    assert 43 in industry_field("餐饮业").classes
    assert industry_code("X99") is None


def test_a_sector_names_a_field_only_where_most_of_its_divisions_agree() -> None:
    """天眼查 gives a company's industry as its sector (门类): 制造业 covers medicines and machines
    alike, so it names no field (unknown), not the class its divisions' 加工 happens to name (40)."""
    mark = Mark(name="一正", owner="x", classes=[5])
    for sector in ("C", "制造业", "F", "批发和零售业"):
        assert not industry_field(sector).known, sector
        assert relation(mark, Subject("衣正有限公司", industry=sector))[0] == "unknown", sector
    assert industry_field("H").classes == {43} and industry_field("住宿和餐饮业").classes == {43}
    for letter in "ABCDEFGHIJKLMNOPQRST":  # a sector reaches only classes its divisions reach
        divisions = [c for c, (sector, _) in gbt().items() if sector == letter and len(c) == 2]
        assert industry_field(letter).classes <= {c for d in divisions for c in industry_field(d).classes}


def test_a_class_whose_name_names_no_goods_reads_as_the_entry_above_it() -> None:
    for code in ("5251", "F5251", "西药零售", "5151"):  # 西药零售 under 525 医药及医疗器材专门零售
        assert 5 in industry_field(code).classes, code
    assert "525" in industry_field("5251").evidence[0]


def test_other_is_not_a_good() -> None:
    """The 区分表 lists its catch-all group's name 其他 among that group's goods (0924, class 9): a
    其他 in an industry or category name is not class 9."""
    assert 9 not in industry_field("其他未列明食品制造").classes
    assert 9 not in industry_field("畜牧业").classes and 9 not in industry_field("金融业").classes
    assert category_field("零食>其他").classes == category_field("零食").classes


def test_relation_of_mark_and_subject() -> None:
    mark = Mark(name="一正", owner="x", classes=[5], groups=["0501"])
    same, why = relation(mark, Subject("衣正有限公司", industry="C27"))
    assert same == "same" and any("0501" in w for w in why)
    assert relation(mark, Subject("衣正有限公司", industry="C38"))[0] == "unrelated"
    assert relation(mark, Subject("衣正有限公司"))[0] == "unknown"
    assert relation(mark, Subject("x", "trademark", classes=(5,), groups=("0502",)))[0] == "related"


def test_a_declared_industry_is_the_subject_field(m: Matcher) -> None:
    hit = _best(m, "衣正有限公司", industry="C27")
    assert hit and "same_field" in hit.codes
    assert _best(m, "衣正有限公司", industry="C38") is None


def test_groups_are_validated() -> None:
    with pytest.raises(ValueError):
        Mark(name="一正", owner="x", groups=["5001"])
