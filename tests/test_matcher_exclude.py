"""Exceptions (`exclude`) and whitelisting by credit code, through the whole matcher."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from matcher import Matcher, Subject
from matcher.exclude import Exclusion
from matcher.marks import Mark, MarksFile

HUAWEI_USCC = "914403001922038216"


def _marks(**top: object) -> list[Mark]:
    data = {
        "marks": [
            {"name": "老干妈", "owner": "贵阳南明老干妈风味食品有限责任公司", "well_known": True, "classes": [30]},
            {
                "name": "华为",
                "owner": "华为技术有限公司",
                "well_known": True,
                "classes": [9, 38, 42],
                "exclude": ["华威;outside=9,38,42"],
                "whitelist": [HUAWEI_USCC],
            },
        ],
        **top,
    }
    return MarksFile.model_validate(data).marks


def _hits(m: Matcher, text: str, **kw: object) -> list[str]:
    return [h.mark for h in m.screen(Subject(text, **kw))]


def test_without_exceptions_the_noise_is_flagged() -> None:
    bare = Matcher([m.model_copy(update={"exclude": [], "whitelist": []}) for m in _marks()])
    assert _hits(bare, "深圳华威标识制作有限公司") == ["华为"]
    # 老干部 needs no exception any more: it is an everyday word (wordfreq, matcher/words.py)
    assert _hits(bare, "北京市老干部活动中心") == []


def test_global_word_exception_applies_to_every_mark() -> None:
    marks = _marks(exclude=["老干部"])
    assert all("老干部" in m.exclude for m in marks)
    m = Matcher(marks)
    assert _hits(m, "北京市老干部活动中心") == []
    assert _hits(m, "上海市老干部大学") == []
    # the mark itself is still caught, and so is another variant
    assert _hits(m, "北京老干妈食品有限公司") == ["老干妈"]
    assert _hits(m, "北京老千妈食品有限公司") == ["老干妈"]


def test_word_exception_is_folded_like_the_subject() -> None:
    m = Matcher(_marks(exclude=["老幹部"]))
    assert _hits(m, "北京市老干部活动中心") == []


def test_limited_exception_holds_only_outside_the_classes() -> None:
    m = Matcher(_marks())
    assert _hits(m, "深圳华威标识制作有限公司") == []
    assert _hits(m, "深圳华威手机销售有限公司") == ["华为"]


def test_pattern_exception() -> None:
    m = Matcher(_marks(exclude=["re:老干部\\w*中心"]))
    assert _hits(m, "北京市老干部活动中心") == []
    assert _hits(m, "北京市老干部食品有限公司") == ["老干妈"]


def test_whitelist_by_credit_code() -> None:
    m = Matcher(_marks())
    assert _hits(m, "深圳华为通信有限公司") == ["华为"]
    assert _hits(m, "深圳华为通信有限公司", uscc=HUAWEI_USCC) == []
    assert _hits(m, "深圳华为通信有限公司", uscc=HUAWEI_USCC.lower() + " ") == []
    assert _hits(m, "深圳华为通信有限公司", uscc="91440300MA5DXXXX1X") == ["华为"]


@pytest.mark.parametrize("entry", ["", "re:", "re:(", "华威;outside=", "华威;inside=9", "华威;outside=0", "x" * 201])
def test_bad_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValidationError):
        Mark(name="华为", owner="华为技术有限公司", exclude=[entry])
    with pytest.raises(ValueError):
        Exclusion.parse(entry)


def test_containment_either_way() -> None:
    ex = Exclusion.parse("干部")
    assert ex.covers("老干部活动中心", 0, 3, set())
    assert not ex.covers("老干部活动中心", 3, 5, set())
