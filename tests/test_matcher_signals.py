"""Each matcher signal on its own, on names written the way imitators write them."""

from __future__ import annotations

import pytest

from matcher import Mark, Matcher, Subject

MARKS = [
    Mark(
        name="一正",
        owner="吉林一正药业集团有限公司",
        well_known=True,
        classes=[5],
        industries=["医药", "药业"],
        aliases=["YIZHENG"],
        whitelist=["吉林一正药业集团有限公司"],
    ),
    Mark(
        name="九阳",
        owner="九阳股份有限公司",
        well_known=True,
        classes=[7, 11, 21],
        industries=["小家电"],
        aliases=["JOYOUNG"],
        whitelist=["九阳股份有限公司", "杭州九阳小家电有限公司"],
    ),
    Mark(name="九牧", owner="九牧厨卫股份有限公司", well_known=True, classes=[11, 19], industries=["厨卫", "卫浴"]),
    Mark(name="立白", owner="立白科技集团有限公司", well_known=True, classes=[3], industries=["洗涤用品"]),
    Mark(name="卫龙", owner="漯河市卫龙商贸有限公司", well_known=True, classes=[29, 30], industries=["辣条"]),
    Mark(name="苏泊尔", owner="浙江苏泊尔股份有限公司", well_known=True, classes=[8, 11, 21], industries=["炊具"]),
    Mark(name="老板", owner="杭州老板电器股份有限公司", well_known=True, classes=[11], industries=["油烟机"]),
    Mark(name="茅台", owner="中国贵州茅台酒厂（集团）有限责任公司", well_known=True, classes=[33]),
    Mark(name="周黑鸭", owner="周黑鸭食品股份有限公司", well_known=True, classes=[29, 43]),
    Mark(name="农夫山泉", owner="农夫山泉股份有限公司", well_known=True, classes=[32]),
    Mark(name="同仁堂", owner="中国北京同仁堂（集团）有限责任公司", well_known=True, classes=[5]),
    Mark(name="华为", owner="华为技术有限公司", well_known=True, classes=[9], aliases=["HUAWEI"]),
    Mark(name="伊利", owner="内蒙古伊利实业集团股份有限公司", well_known=True, classes=[29]),
    Mark(name="康师傅", owner="康师傅控股有限公司", well_known=True, classes=[30]),
    Mark(name="小熊", owner="小熊电器股份有限公司", well_known=False, classes=[11]),
    Mark(name="三元", owner="北京三元食品股份有限公司", well_known=False, classes=[29]),
]


@pytest.fixture(scope="module")
def m() -> Matcher:
    return Matcher(MARKS)


def best(m: Matcher, text: str, kind: str = "enterprise", **kw):
    hits = m.screen(Subject(text=text, kind=kind, **kw))
    return hits[0] if hits else None


def codes(hit) -> set[str]:
    return set(hit.codes) if hit else set()


# -- enterprise-name structure ----------------------------------------------


def test_trade_name_in_another_province_is_flagged_with_parts(m):
    hit = best(m, "湖北一正药业有限公司")
    assert hit and hit.mark == "一正" and hit.score >= 0.9
    assert "trade_name" in codes(hit)
    assert hit.parts.region == "湖北" and hit.parts.trade_name == "一正"
    assert hit.parts.industry == "药业" and hit.parts.form == "有限公司"
    assert hit.span == (2, 4) and hit.matched == "一正"


def test_trade_name_first_form_with_bracketed_region(m):
    hit = best(m, "九阳（上海）小家电有限公司")
    assert hit and hit.mark == "九阳"
    assert hit.parts.trade_name == "九阳" and hit.parts.bracket_region == "上海"


def test_partnership_and_individual_business_forms(m):
    hit = best(m, "深圳市九阳电器投资合伙企业（有限合伙）")
    assert hit and hit.mark == "九阳" and hit.parts.form == "合伙企业(有限合伙)"
    hit = best(m, "武汉市江夏区一正大药房")
    assert hit and hit.mark == "一正"
    # registries and enterprise-data APIs append the kind of a sole trader or partnership in brackets
    for note in ("（个体工商户）", "(个体工商户)", "（特殊普通合伙）", "（个人独资）"):
        hit = best(m, f"广州市天河区一正药店{note}")
        assert hit and hit.parts.trade_name == "一正" and hit.parts.industry == "药店", note
        assert "个体工商户" not in hit.parts.industry and hit.parts.form.endswith(")"), note


def test_owner_and_its_branches_are_never_flagged(m):
    assert best(m, "吉林一正药业集团有限公司") is None
    assert best(m, "吉林一正药业集团有限公司通化分公司") is None
    assert best(m, "杭州九阳小家电有限公司滨江分公司") is None


def test_region_that_sounds_like_a_mark_is_not_flagged(m):
    assert best(m, "新疆伊犁天山乳业有限公司") is None
    assert best(m, "伊犁哈萨克自治州草原乳业有限公司") is None
    assert best(m, "三原县秦川乳业有限公司") is None


# -- word boundaries ----------------------------------------------------------


@pytest.mark.parametrize("name", ["广州成立白云贸易有限公司", "深圳十九阳光电器有限公司", "老板娘私房菜馆"])
def test_characters_across_a_word_boundary_are_not_the_mark(m, name):
    assert best(m, name) is None


# -- sound --------------------------------------------------------------------


def test_homophone(m):
    hit = best(m, "湖北衣正药业有限公司")
    assert hit and hit.mark == "一正" and "homophone" in codes(hit)
    assert any("yī zhèng" in r.en for r in hit.reasons)


def test_near_sound_swap(m):
    hit = best(m, "农夫三泉 天然饮用水 550ml", kind="listing")
    assert hit and hit.mark == "农夫山泉" and "near_sound" in codes(hit)


# -- shape --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,mark", [("卫尤辣条 香辣味", "卫龙"), ("苏伯尔不粘锅炒锅", "苏泊尔"), ("康帅傅红烧牛肉面", "康师傅")]
)
def test_look_alike_characters(m, text, mark):
    hit = best(m, text, kind="listing")
    assert hit and hit.mark == mark and "shape" in codes(hit)


# -- variants -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text,code",
    [
        ("華為 Mate60 高仿", "traditional"),
        ("壹正 感冒灵颗粒", "numeral"),
        ("ＨＵＡＷＥＩ 手机 A货", "lookalike_script"),
        ("华\u200b为 手机 高仿", "separator"),
    ],
)
def test_variant_spellings(m, text, code):
    hit = best(m, text, kind="listing")
    assert hit and code in codes(hit), hit


@pytest.mark.parametrize("name", ["上海九-阳电器有限公司", "上海九 阳电器有限公司", "上海九·阳电器有限公司"])
def test_separators_between_characters(m, name):
    hit = best(m, name)
    assert hit and hit.mark == "九阳" and "separator" in codes(hit)
    assert hit.matched in ("九-阳", "九 阳", "九·阳")


def test_cross_script_latin_alias(m):
    hit = best(m, "HUAWEl 原单 手机 高仿", kind="listing")  # lower-case L for I
    assert hit and hit.mark == "华为" and "alias" in codes(hit)
    hit = best(m, "ΗUAWEI 手机 高仿", kind="listing")  # Greek capital Eta
    assert hit and hit.mark == "华为"


def test_latin_alias_needs_word_boundaries(m):
    assert best(m, "HUAWEIXYZ phone case", kind="listing") is None


# -- edits --------------------------------------------------------------------


def test_inserted_character(m):
    hit = best(m, "武汉周记黑鸭食品有限公司")
    assert hit and hit.mark == "周黑鸭" and "insertion" in codes(hit)


def test_prefix(m):
    hit = best(m, "浙江新九阳电器有限公司")
    assert hit and hit.mark == "九阳" and "contains" in codes(hit)


def test_reorder(m):
    hit = best(m, "北京仁同堂医药有限公司")
    assert hit and hit.mark == "同仁堂" and "reorder" in codes(hit)


def test_one_character_of_three_swapped_in_the_same_field(m):
    hit = best(m, "农夫山水 饮用水 12瓶", kind="listing")
    assert hit and hit.mark == "农夫山泉" and "one_char_swap" in codes(hit)


def test_first_character_different_is_not_similar(m):
    assert best(m, "北京德仁堂医药有限公司") is None


def test_one_character_overlap_in_same_industry_is_not_the_other_mark(m):
    hit = best(m, "九牧（厦门）卫浴有限公司")
    assert hit is None or hit.mark == "九牧"
    assert all(h.mark != "九阳" for h in m.screen(Subject("福建九牧卫浴有限公司")))


# -- context ------------------------------------------------------------------


def test_well_known_mark_protected_across_industries(m):
    hit = best(m, "贵州茅台房地产开发有限公司")
    assert hit and hit.mark == "茅台" and "well_known_cross_class" in codes(hit)


def test_ordinary_mark_not_protected_outside_its_classes(m):
    assert best(m, "深圳市小熊饼干食品有限公司") is None
    assert best(m, "佛山市小熊电器有限公司").mark == "小熊"


def test_descriptive_and_compatibility_use(m):
    assert best(m, "适用于九阳豆浆机配件 密封圈", kind="listing") is None
    assert best(m, "兼容华为手机的充电线 2米", kind="listing") is None


def test_counterfeit_cue_flags_and_plain_resale_does_not(m):
    hit = best(m, "茅台 飞天53度 高仿 1:1", kind="listing")
    assert hit and "counterfeit_cue" in codes(hit)
    assert best(m, "茅台 飞天 53度 500ml", kind="listing") is None
    assert best(m, "九阳 JYL-C012 豆浆机 官方正品", kind="listing") is None


def test_threshold_is_respected():
    strict = Matcher(MARKS, threshold=0.99)
    assert best(strict, "湖北衣正药业有限公司") is None
    assert best(strict, "湖北一正药业有限公司") is not None


def test_the_marks_own_characters_name_no_field_when_the_text_names_another(m):
    """周黑鸭 holds 鸭 (duck, class 29): in 周黑鸭同款 手机壳 the title offers a phone case, so the hit
    crosses classes (a well-known mark) rather than claiming the same field; with 鸭脖 beside it,
    or nothing else naming a field (云南黑药's 药), the field is the mark's."""
    case = best(m, "周黑鸭同款 手机壳", kind="listing")
    assert case and "well_known_cross_class" in case.codes and "same_field" not in case.codes
    neck = best(m, "周黑鸭同款 鸭脖", kind="listing")
    assert neck and "same_field" in neck.codes and neck.score > case.score
    assert "same_field" in best(m, "周黑鸭鸭翅 批发", kind="listing").codes  # the second 鸭 is the title's
