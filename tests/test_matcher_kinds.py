"""Subject kinds, graded evidence, prior rights and named rules (issue 21, items 2, 3 and 7)."""

from __future__ import annotations

import pytest

from matcher import Matcher, Subject
from matcher.marksfile import MarksFileError, parse_marks

MARKS = parse_marks(
    """
marks:
  - name: 九阳
    owner: 九阳股份有限公司
    well_known: true
    classes: [7, 11, 21]
    industries: [小家电, 电器, 豆浆机]
    whitelist: [九阳股份有限公司, 九阳官方旗舰店]
  - name: 王老吉
    owner: 广州王老吉大健康产业有限公司
    well_known: true
    classes: [32]
    industries: [凉茶, 饮料]
  - name: 蓝湖
    owner: 蓝湖科技有限公司
    classes: [9]
    groups: ["0901"]
    registered: 2015-06-01
    coexist:
      - {uscc: 91330100MA27XYW12B, reason: 2009 年起同名经营，双方已达成共存协议}
  - name: 德信达
    owner: 德信达食品有限公司
    classes: [30]
    registrations:
      - {number: "12345678", class: 30, date: 2012-03-14}
"""
)


@pytest.fixture(scope="module")
def default() -> Matcher:
    return Matcher(MARKS)


@pytest.fixture(scope="module")
def review() -> Matcher:
    return Matcher(MARKS, mode="review")


@pytest.fixture(scope="module")
def strict() -> Matcher:
    return Matcher(MARKS, mode="strict")


def codes(hits) -> list[str]:
    return hits[0].codes if hits else []


def test_a_shop_or_brand_name_with_the_mark_is_an_imitation_an_offer_of_it_is_resale(default) -> None:
    for kind in ("shop", "brand"):
        hits = default.screen(Subject("九阳厨房电器体验馆", kind))
        assert hits and hits[0].mark == "九阳", kind
        assert f"{kind}_name" in codes(hits)
    # the same words as a marketplace offer name the genuine product by its brand
    assert default.screen(Subject("九阳 豆浆机 家用 全自动", "listing")) == []
    assert default.explain(Subject("九阳 豆浆机 家用 全自动", "listing"))[0]["rule"] == "resale_of_genuine_goods"


def test_the_owners_own_shop_is_not_flagged(default) -> None:
    assert default.screen(Subject("九阳官方旗舰店", "shop")) == []


def test_a_trademark_application_is_placed_by_its_own_classes_and_groups(default) -> None:
    same = default.screen(Subject("蓝湖", "trademark", classes=(9,), groups=("0901",)))
    assert same and "same_field" in codes(same) and "trademark_name" in codes(same)
    # same class, another similar group: not the same or similar goods (exact, not inferred)
    assert default.screen(Subject("蓝湖", "trademark", classes=(9,), groups=("0913",))) == []
    # an ordinary mark does not reach another class, whatever the text says
    assert default.screen(Subject("蓝湖 软件", "trademark", classes=(43,))) == []
    # a well-known mark does
    far = default.screen(Subject("王老吉", "trademark", classes=(25,)))
    assert far and "well_known_cross_class" in codes(far)


def test_the_owners_own_application_is_not_flagged(default) -> None:
    subject = Subject("九阳", "trademark", classes=(11,), applicant="九阳股份有限公司")
    assert default.screen(subject) == []
    assert default.explain(subject)[0]["rule"] == "whitelist_applicant"


def test_founded_before_registration_is_prior_use_possible_ranked_low(default, review) -> None:
    later = default.screen(Subject("杭州德信达食品有限公司", founded="2015-01-01"))
    assert later and later[0].score >= 0.9 and "prior_use_possible" not in codes(later)
    earlier = Subject("杭州德信达食品有限公司", founded="2008-05-20")
    assert default.screen(earlier) == []  # under the default threshold: not an alert
    hits = review.screen(earlier)
    assert hits and "prior_use_possible" in codes(hits) and hits[0].score < later[0].score
    zh = next(r.zh for r in hits[0].reasons if r.code == "prior_use_possible")
    assert "2008-05-20" in zh and "2012-03-14" in zh and "仍可能构成仿冒" in zh
    # a year alone is enough when it is before the registration's year
    assert "prior_use_possible" in codes(review.screen(Subject("杭州德信达食品有限公司", founded="2009")))
    assert "prior_use_possible" not in codes(review.screen(Subject("杭州德信达食品有限公司", founded="2012")))


PARTIAL = """
marks:
  - name: 鲁锦
    owner: 山东鲁锦实业有限公司
    registered: 1999
  - name: 青花椒
    owner: 上海万翠堂餐饮管理有限公司
    classes: [43]
    registered: 2018-06
  - name: 打鼓皮
    owner: 田任月
    classes: [43]
    registrations:
      - {number: "20000001", class: 43, applied: 2014-08-25, date: 2015-10-07}
"""


def test_a_registration_date_known_to_the_year_or_month_is_kept_at_that_precision() -> None:
    marks = {m.name: m for m in parse_marks(PARTIAL)}
    assert marks["鲁锦"].registration_date == "1999" and marks["青花椒"].registration_date == "2018-06"
    assert marks["打鼓皮"].registration_date == "2015-10-07" and marks["打鼓皮"].priority_date == "2014-08-25"
    review = Matcher(list(marks.values()), mode="review")
    for founded, prior in (("1998-12-31", True), ("1998", True), ("1999", False), ("1999-03", False)):
        assert (
            "prior_use_possible" in codes(review.screen(Subject("鄄城县鲁锦工艺品有限公司", founded=founded)))
        ) is prior
    # founded within the month the page names: not surely earlier, so no note
    for founded, prior in (("2018-05-31", True), ("2018-06-15", False), ("2018-06", False)):
        got = codes(review.screen(Subject("成都青花椒餐饮管理有限公司", founded=founded)))
        assert ("prior_use_possible" in got) is prior, founded
    hits = review.screen(Subject("成都青花椒餐饮管理有限公司", founded="2017"))
    zh = next(r.zh for r in hits[0].reasons if r.code == "prior_use_possible")
    assert "注册日 2018-06：" in zh and "2018-06-01" not in zh


def test_prior_use_is_judged_against_the_filing_date_when_the_marks_file_gives_it() -> None:
    """商标法 Art. 59(3): use before the owner applied. Founded between filing and grant: no note."""
    review = Matcher(parse_marks(PARTIAL), mode="review")
    between = review.screen(Subject("张家界打鼓皮餐饮有限公司", founded="2015-03-01"))
    assert between and "prior_use_possible" not in codes(between)
    before = review.screen(Subject("张家界打鼓皮餐饮有限公司", founded="2013-05"))
    zh = next(r.zh for r in before[0].reasons if r.code == "prior_use_possible")
    en = next(r.en for r in before[0].reasons if r.code == "prior_use_possible")
    assert "申请日 2014-08-25" in zh and "applied for (2014-08-25)" in en


@pytest.mark.parametrize("bad", ["1999-13", "99", "2015-02-30", "2015/06/01", True])
def test_a_date_that_is_not_iso_at_some_precision_is_refused(bad) -> None:
    with pytest.raises(MarksFileError):
        parse_marks(f"marks:\n  - name: 鲁锦\n    owner: x\n    registered: {str(bad).lower()}\n")


REGISTERED_ONLY = """
marks:
  - name: 松月楼
    owner: 松月食品有限公司
    {field}
"""


def test_a_marks_registrations_place_it_in_their_classes_like_classes_do() -> None:
    """A marks file that lists only `registrations` (each names its class) states the mark's field."""
    by_regs = Matcher(parse_marks(REGISTERED_ONLY.format(field='registrations: [{number: "100200", class: 30}]')))
    by_classes = Matcher(parse_marks(REGISTERED_ONLY.format(field="classes: [30]")))
    fieldless = Matcher(parse_marks(REGISTERED_ONLY.format(field="well_known: false")))
    subjects = [
        Subject("杭州松月楼食品有限公司", industry="食品制造业"),
        Subject("上海松月楼餐饮管理有限公司", industry="餐饮业"),
        Subject("松月楼糕点", kind="brand"),
        Subject("松悦楼", kind="shop"),
    ]
    for subject in subjects:
        assert [(h.mark, h.score, h.codes) for h in by_regs.screen(subject)] == [
            (h.mark, h.score, h.codes) for h in by_classes.screen(subject)
        ], subject.text
    # the field is weighed: the restaurant company is not judged as for a mark of unknown field
    restaurant = subjects[1]
    assert [h.score for h in by_regs.screen(restaurant)] != [h.score for h in fieldless.screen(restaurant)]


def test_a_coexisting_company_is_not_flagged_and_explain_says_why(default) -> None:
    subject = Subject("杭州蓝湖电子有限公司", uscc="91330100MA27XYW12B")
    assert default.screen(subject) == []
    assert [e["rule"] for e in default.explain(subject)] == ["coexist"]
    assert default.screen(Subject("杭州蓝湖电子有限公司", uscc="91330100MA27XYW13C"))


def test_a_first_character_change_is_graded_not_vetoed(default, review, strict) -> None:
    subject = Subject("李老吉凉茶饮料有限公司")
    assert default.screen(subject) == [] and strict.screen(subject) == []
    hits = review.screen(subject)
    assert hits and hits[0].mark == "王老吉" and hits[0].score <= 0.55
    assert "first_char_changed" in codes(hits)
    considered = default.explain(subject)[0]["considered"]
    assert [(c["edit"], c["rule"]) for c in considered] == [("first_char", "graded_below_threshold")]
    assert strict.explain(subject)[0]["considered"][0]["rule"] == "strict_mode"


def test_a_per_mark_mode_wins_over_the_matchers() -> None:
    marks = [m.model_copy(update={"mode": "review"}) if m.name == "王老吉" else m for m in MARKS]
    hits = Matcher(marks).screen(Subject("李老吉凉茶饮料有限公司"))
    assert hits and "first_char_changed" in codes(hits)


def test_an_inserted_character_is_reported_as_an_insertion() -> None:
    marks = parse_marks(
        "marks:\n  - {name: 茅台, owner: 中国贵州茅台酒厂（集团）有限责任公司, classes: [33], industries: [酒业]}\n"
    )
    hits = Matcher(marks).screen(Subject("贵州茅大台酒业有限公司"))
    assert hits and hits[0].codes[0] == "insertion", hits
    assert "homophone" not in hits[0].codes


def test_explain_names_the_rule_for_every_candidate(default) -> None:
    got = default.explain(Subject("九阳豆浆机适用 配件 九阳小家电店", "listing"))
    assert got and all(e["rule"] for e in got)
    assert Matcher(MARKS).explain(Subject("毫不相干的名字")) == []


def test_marks_file_validates_the_new_fields() -> None:
    with pytest.raises(MarksFileError):
        parse_marks("marks:\n  - {name: 甲乙, owner: x, groups: ['9901']}\n")
    with pytest.raises(MarksFileError):
        parse_marks("marks:\n  - name: 甲乙\n    owner: x\n    coexist: [{uscc: '123', reason: r}]\n")
    with pytest.raises(MarksFileError):
        parse_marks("marks:\n  - {name: 甲乙, owner: x, mode: loud}\n")
    with pytest.raises(ValueError):
        Matcher(MARKS, mode="loud")


def test_a_trademark_sound_alike_is_kept_by_the_applications_classes_not_its_text(default) -> None:
    """No word of 旺老吉 names a drink: the application's class 32 does (candidate stage included)."""
    hits = default.screen(Subject("旺佬吉", "trademark", classes=(32,)))
    assert hits and hits[0].mark == "王老吉" and "same_field" in hits[0].codes
    assert default.screen(Subject("旺佬吉", "trademark", classes=(7,))) == []


def test_a_latin_form_run_on_into_other_letters_is_graded(default, review) -> None:
    subject = Subject("JOYOUNGMAX 破壁机 家用", "listing")
    assert default.screen(subject) == []
    hits = Matcher(
        parse_marks("marks:\n  - {name: 九阳, owner: 九阳股份有限公司, classes: [7], aliases: [JOYOUNG]}\n"),
        mode="review",
    ).screen(subject)
    assert hits and "latin_run_on" in hits[0].codes and hits[0].score <= 0.55


WORDS = parse_marks(
    """
marks:
  - {name: 海天, owner: 佛山市海天调味食品股份有限公司, well_known: true, classes: [30], industries: [调味]}
  - {name: 许留山, owner: 许留山有限公司, classes: [30, 43]}
"""
)


def test_a_variant_that_is_an_everyday_word_is_graded_not_vetoed() -> None:
    """海关 is one look-alike from 海天 and a word of its own: ranked low in review mode, dropped by strict."""
    subject = Subject("海关", "brand")
    assert Matcher(WORDS).screen(subject) == []
    assert [e["rule"] for e in Matcher(WORDS, mode="strict").explain(subject)] == ["variant_is_a_word"]
    hits = Matcher(WORDS, mode="review").screen(subject)
    assert hits and hits[0].mark == "海天" and hits[0].score <= 0.55
    assert "variant_word" in hits[0].codes
    said = [r.zh for r in hits[0].reasons if r.code == "variant_word"]
    assert said and said[0].startswith("海关 本身是常用词语或名称")


def test_a_first_character_alike_only_by_a_rare_reading_is_graded() -> None:
    """于 reads xū only rarely: align() does not accept it for 许 (xǔ) as a first character; graded instead."""
    subject = Subject("于留山甜品", "shop")
    considered = Matcher(WORDS).explain(subject)[0]["considered"]
    assert [(c["window"], c["edit"], c["rule"]) for c in considered] == [
        ("于留山", "first_char", "graded_below_threshold")
    ]
    hits = Matcher(WORDS, mode="review").screen(subject)
    assert hits and hits[0].mark == "许留山" and hits[0].score <= 0.55
    assert "first_char_changed" in hits[0].codes
    # a first character align() accepts (栩, a common homophone) is kept, and not graded a second time
    (seen,) = Matcher(WORDS).explain(Subject("栩留山甜品", "shop"))
    assert [(c["edit"], c["rule"]) for c in seen["considered"]] == [("variant", "kept")]
