"""Enterprise-name parsing: companynameparser's gold trade names, and `markwatch parse`."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from matcher.enterprise import parse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "names"))

from run import rows  # noqa: E402


@pytest.mark.parametrize("split,floor", [("tune", 0.98), ("holdout", 0.94), ("all", 0.96)])
def test_gold_trade_names(split: str, floor: float) -> None:
    data = rows(split)
    right = sum(parse(name).trade_name == gold for name, gold in data)
    assert len(data) > 200
    assert right / len(data) >= floor, (split, right, len(data))


def test_parts_keep_the_characters_as_written() -> None:
    p = parse("陆地港(福建)融资租赁有限公司")
    assert (p.trade_name, p.bracket_region, p.industry, p.form) == ("陆地港", "福建", "融资租赁", "有限公司")
    p = parse("九陽（上海）小家電有限公司")
    assert (p.trade_name, p.industry) == ("九陽", "小家電")
    p = parse("湖北衣正药业有限公司武汉分公司")
    assert (p.region, p.trade_name, p.industry, p.form, p.branch) == ("湖北", "衣正", "药业", "有限公司", "武汉分公司")


def test_town_and_zone_belong_to_the_region() -> None:
    assert parse("昆山千灯镇南野智能科技店").trade_name == "南野"
    assert parse("张家港保税区博美特电气国际贸易有限公司").trade_name == "博美特"


def test_parse_command_answers_every_line_in_order() -> None:
    from markwatch.cli.parse import parse_stream

    lines = ['{"text": "周口市大象园林有限责任公司"}', "宁波明州环境能源有限公司", '{"text": 5}', "", "{broken"]
    out = io.BytesIO()
    assert parse_stream(io.BytesIO(("\n".join(lines) + "\n").encode()), out) == 5
    got = [json.loads(line) for line in out.getvalue().decode().splitlines()]
    assert [g.get("trade_name") for g in got[:2]] == ["大象", "明州"]
    assert got[0]["region"] == "周口市" and got[0]["industry"] == "园林"
    assert [g.get("error") is not None for g in got] == [False, False, True, True, True]
    assert all(set(g) >= {"text", "region", "trade_name", "industry", "form", "branch"} for g in got)


def test_lists_are_read_as_the_text_is_folded() -> None:
    # 伍 folds to 五 (a financial numeral): the region list must be folded alike to find 伍家岗 in brackets.
    p = parse("花木然（伍家岗）精密机械有限公司")
    assert (p.trade_name, p.bracket_region, p.industry) == ("花木然", "伍家岗", "精密机械")


def test_a_region_taken_into_the_trade_name_is_put_back() -> None:
    # 白玉 is a county, but what it leaves (机电) is an industry word, not a trade name.
    assert parse("白玉机电工程有限公司").trade_name == "白玉"
    # A trade name has two characters at least: 宝丰 (a county) and 隆 before 摄影 are one trade name.
    assert parse("宝丰隆摄影有限公司").trade_name == "宝丰隆"
    # A landmark named after a region starts the trade name (龙潭湖, not the district 龙潭).
    assert parse("龙潭湖（天津）服装设计有限公司").trade_name == "龙潭湖"
    # After a city, another province's city is the trade name (阿里斯顿), not the prefecture 阿里;
    # after a province it is still a registrant's slip for a place.
    p = parse("佛山阿里斯顿公司")
    assert (p.region, p.trade_name) == ("佛山", "阿里斯顿")
    # A province alone never becomes the trade name.
    p = parse("贵州民族酒业（集团）销售有限公司")
    assert (p.region, p.trade_name) == ("贵州", "民族")


def test_group_in_brackets_and_stores_named_after_their_company() -> None:
    p = parse("云南利他实业（集团）有限公司")
    assert (p.trade_name, p.industry, p.form) == ("利他", "实业", "（集团）有限公司")
    p = parse("上海豫园商城(集团)股份有限公司南翔馒头店")
    assert (p.region, p.trade_name, p.form, p.branch) == ("上海", "豫园商城", "(集团)股份有限公司", "南翔馒头店")


def test_development_zones_and_full_division_names() -> None:
    # Real names companynameparser's author logged as hard (its tests/bug_0425.txt, Apache-2.0).
    p = parse("合肥经济技术开发区妍丽雅服装店")
    assert (p.region, p.trade_name) == ("合肥经济技术开发区", "妍丽雅")
    p = parse("江北新区揽亦悦数码电子产品经营部")
    assert (p.region, p.trade_name) == ("江北新区", "揽亦悦")
    p = parse("西咸新区沣东新城未科诚百货店")
    assert (p.region, p.trade_name) == ("西咸新区沣东新城", "未科诚")
    p = parse("盘锦市辽河口生态经济区石新镇梦想无限网络工作室")
    assert (p.region, p.trade_name) == ("盘锦市辽河口生态经济区石新镇", "梦想无限")
    # A division written in full (雁塔区) is a region even when the rest reads as industry words.
    p = parse("西安市雁塔区创意网络工作室")
    assert (p.region, p.trade_name) == ("西安市雁塔区", "创意")
