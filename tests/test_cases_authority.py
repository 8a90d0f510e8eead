"""USCC → registering authority across provinces; invalid codes give "unknown", never a guess."""

from __future__ import annotations

import random

import pytest

from alerts.cases.authority import UNKNOWN, authority_for, uscc_valid
from crawler import uscc


def _code(division: str, seed: int = 1) -> str:
    return uscc.generate(random.Random(seed), division)


@pytest.mark.parametrize(
    ("division", "name", "province", "city", "county"),
    [
        ("420100", "武汉市市场监督管理局", "湖北省", "武汉市", ""),
        ("220200", "吉林市市场监督管理局", "吉林省", "吉林市", ""),
        ("220500", "通化市市场监督管理局", "吉林省", "通化市", ""),
        ("420102", "武汉市江岸区市场监督管理局", "湖北省", "武汉市", "江岸区"),
        ("420281", "大冶市市场监督管理局", "湖北省", "黄石市", "大冶市"),
        ("420000", "湖北省市场监督管理局", "湖北省", "", ""),
        ("110101", "北京市东城区市场监督管理局", "北京市", "北京市", "东城区"),
        ("500106", "重庆市沙坪坝区市场监督管理局", "重庆市", "重庆市", "沙坪坝区"),
        ("440300", "深圳市市场监督管理局", "广东省", "深圳市", ""),
        ("650100", "乌鲁木齐市市场监督管理局", "新疆维吾尔自治区", "乌鲁木齐市", ""),
        ("419001", "济源市市场监督管理局", "河南省", "", "济源市"),
    ],
)
def test_authority_across_provinces(division, name, province, city, county):
    a = authority_for(_code(division))
    assert a.known and a.name == name and a.division_code == division
    assert (a.province, a.city, a.county) == (province, city, county)


def test_lowercase_and_spaces_accepted():
    code = _code("420100")
    assert authority_for(f"  {code.lower()} ").name == "武汉市市场监督管理局"


@pytest.mark.parametrize(
    "code",
    [
        None,
        "",
        "91420100MA4KXXXXX1",  # letters outside the alphabet / wrong check
        "9142010000000000",  # too short
        "91420100" + "0" * 20,  # too long
        "91420100МА4К00001X",  # Cyrillic look-alikes
        "91420100\u200b0181BJ1X8",  # zero-width inside
    ],
)
def test_invalid_codes_are_unknown(code):
    a = authority_for(code)
    assert not a.known and a.name == UNKNOWN and "valid" in a.reason


def test_wrong_check_character_is_unknown():
    code = _code("420100")
    wrong = code[:17] + next(c for c in "0123456789" if c != code[17])
    assert uscc_valid(code) and not uscc_valid(wrong)
    assert not authority_for(wrong).known


def test_unknown_division_is_not_guessed():
    a = authority_for(_code("999999"))
    assert not a.known and a.name == UNKNOWN and "999999" in a.reason
    a = authority_for(_code("420199"))  # right province and city digits, no such county
    assert not a.known and a.name == UNKNOWN


def test_check_character_matches_crawler_reference():
    rng = random.Random(5)
    for _ in range(200):
        code = uscc.generate(rng, rng.choice(["110000", "420100", "310115"]))
        assert uscc_valid(code) == uscc.is_valid(code) is True
