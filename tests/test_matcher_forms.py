"""Other forms of a mark the marks file implies (issue 21, real-case misses): Chinese aliases, digits
written as numerals, homophones of a mark with no stated field, a mark cut short or with a character
left out (graded), and financial numerals that are characters of their own."""

from __future__ import annotations

import pytest

from matcher import Matcher, Subject
from matcher.marksfile import parse_marks
from matcher.normalize import fold

MARKS = parse_marks(
    """
marks:
  - name: 国家电投
    owner: 国家电力投资集团有限公司
    aliases: [国电投]
  - name: 嘀嘀
    owner: 广州市睿驰计算机科技有限公司
    classes: [35, 38]
    aliases: [滴滴]
  - name: 际华3515
    owner: 际华三五一五皮革皮鞋有限公司
    aliases: ["3515"]
  - name: 喜茶
    owner: 深圳美西西餐饮管理有限公司
  - name: 路虎
    owner: 捷豹路虎有限公司
    well_known: true
  - name: 特仑苏
    owner: 内蒙古蒙牛乳业（集团）股份有限公司
  - name: 营养快线
    owner: 杭州娃哈哈集团有限公司
  - name: 六个核桃
    owner: 河北养元智汇饮品股份有限公司
    classes: [32]
"""
)


@pytest.fixture(scope="module")
def default() -> Matcher:
    return Matcher(MARKS)


@pytest.fixture(scope="module")
def review() -> Matcher:
    return Matcher(MARKS, mode="review")


def test_a_chinese_alias_is_screened_and_reported_under_the_mark(default: Matcher) -> None:
    hits = default.screen(Subject("国电投城市建设有限责任公司"))
    assert [h.mark for h in hits] == ["国家电投"]
    assert hits[0].codes[0] == "chinese_alias" and hits[0].matched == "国电投"
    assert "“国电投”是“国家电投”的别称" in hits[0].reasons[0].zh
    # the mark itself still hits once, not twice
    assert [h.mark for h in default.screen(Subject("国家电投城市建设有限公司"))] == ["国家电投"]


def test_a_mark_and_its_alias_in_one_text_give_one_hit(default: Matcher) -> None:
    hits = default.screen(Subject("嘀嘀滴滴", kind="brand"))  # (打车 would place it in class 39)
    assert [h.mark for h in hits] == ["嘀嘀"]


def test_digits_of_a_mark_written_as_numerals(default: Matcher) -> None:
    hits = default.screen(Subject("際華三五一五公司廣州運營中心", kind="shop"))
    assert [h.mark for h in hits] == ["际华3515"]
    assert hits[0].codes[0] == "numeral_form"


def test_homophone_of_a_mark_with_no_stated_field_is_kept_where_the_text_names_a_field(default: Matcher) -> None:
    # 茶 names a field (tea) the marks file does not give 喜茶: it cannot be placed outside it
    assert [h.mark for h in default.screen(Subject("HEEKTEA禧茶", kind="shop"))] == ["喜茶"]


def test_trademark_homophone_of_a_mark_with_no_stated_field(default: Matcher) -> None:
    hits = default.screen(Subject("陸虎", kind="trademark", classes=(12,)))
    assert [h.mark for h in hits] == ["路虎"]
    # 陸 is the traditional form of 陆 (lù), not the numeral 六: the reading printed is lù
    assert any("lù hǔ" in r.zh for r in hits[0].reasons)


def test_financial_numerals_that_are_characters_of_their_own_are_not_folded() -> None:
    assert fold("陆地港") == "陆地港"
    assert fold("陸") == "陆"
    assert fold("参元堂") == "参元堂"
    assert fold("壹正") == "一正"  # read as the numeral: still folded


@pytest.mark.parametrize(
    ("text", "mark", "code"),
    [("特侖", "特仑苏", "truncated"), ("营养线", "营养快线", "char_deleted")],
)
def test_shortened_marks_are_graded_in_review_mode_only(default: Matcher, review: Matcher, text, mark, code) -> None:
    assert default.screen(Subject(text, kind="brand")) == []
    hits = review.screen(Subject(text, kind="brand"))
    assert [h.mark for h in hits] == [mark]
    assert code in hits[0].codes and hits[0].score <= 0.55


def test_a_shortened_mark_that_is_an_everyday_word_is_dropped(review: Matcher) -> None:
    # 六个 (six of) is all that is left of 六个核桃: a word, not the mark
    assert review.screen(Subject("六个", kind="brand")) == []
    rules = {r["mark"]: r for r in review.explain(Subject("六个", kind="brand"))}
    assert any(c["rule"] == "graded_rest_is_a_word" for c in rules["六个核桃"]["considered"])


def test_explain_names_the_nearest_marks_when_no_mark_was_raised() -> None:
    """A miss is not silent: a text the candidate stage raised no mark for (a reordered sound-alike,
    the first two letters of a Latin alias swapped) is explained by the marks nearest it, rule `no_key_in_text`."""
    m = Matcher(
        parse_marks(
            """
marks:
  - name: 奥利奥
    owner: 亿滋
  - name: 格力
    owner: 珠海格力电器股份有限公司
    aliases: [GREE]
  - name: 同仁堂
    owner: 中国北京同仁堂（集团）有限责任公司
"""
        )
    )
    for text, nearest in (("粤力奥", "奥利奥"), ("RGEE", "格力")):
        assert m.screen(Subject(text, kind="brand")) == []
        records = m.explain(Subject(text, kind="brand"))
        assert records and records[0]["mark"] == nearest, records
        assert {r["rule"] for r in records} == {"no_key_in_text"}
        assert all(0.7 <= r["nearest"] <= 1.0 for r in records)
    assert m.explain(Subject("天气预报", kind="brand")) == []  # nothing near (0.57 at best): nothing listed
    # near, but under the floor of 0.7: the one nearest mark, so that such a miss is not blank
    far = m.explain(Subject("GERX", kind="brand"))
    assert [r["mark"] for r in far] == ["格力"] and 0.66 <= far[0]["nearest"] < 0.7, far
    raised = m.explain(Subject("格力电器专卖", kind="shop"))  # a raised mark: the usual record
    assert raised[0]["mark"] == "格力" and raised[0]["rule"] != "no_key_in_text"
