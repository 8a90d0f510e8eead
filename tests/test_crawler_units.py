"""Crawler parts that need no server: credit codes, text cleanup, source files, the world generator."""

from __future__ import annotations

import random

import pytest
from crawler_fixtures import TODAY
from scrapy.exceptions import DropItem

from crawler import uscc
from crawler.demo.generator import SEED_CASE, World
from crawler.errors import SourceError
from crawler.items import Listing, Registration
from crawler.pipelines.normalize import NormalizePipeline
from crawler.pipelines.validate import ValidatePipeline
from crawler.sources import available_sources, parse_source
from crawler.text import clean, parse_price
from markwatch.errors import exit_code_for
from matcher.types import Subject


def test_uscc_check_digit_accepts_real_codes_and_rejects_one_changed_character():
    for code in ("91350100M000100Y43", "911100007109250324"):
        assert uscc.is_valid(code)
        last = code[-1]
        wrong = uscc.CHARSET[(uscc.CHARSET.index(last) + 1) % 31]
        assert not uscc.is_valid(code[:-1] + wrong)
    assert not uscc.is_valid("91350100M000100Y4")  # 17 chars
    assert not uscc.is_valid("91350100M000100YI3")  # I is not in the charset
    rng = random.Random(3)
    assert all(uscc.is_valid(uscc.generate(rng, "420100")) for _ in range(200))


def test_clean_undoes_infringers_tricks_but_keeps_fullwidth_brackets():
    assert clean("九\u200b阳\ufeff豆浆机") == "九阳豆浆机"
    assert clean('<script>alert("x")</script><b>九阳</b> 破壁机') == "九阳 破壁机"
    assert clean("&lt;em&gt;九阳&lt;/em&gt;\r\n  破壁机\r\n") == "九阳 破壁机"
    assert clean("李宁（中国）体育用品有限公司") == "李宁（中国）体育用品有限公司"
    assert len(clean("x" * 10**6)) == 1000


def test_parse_price():
    assert parse_price("¥1,299.00") == (1299.0, "CNY")
    assert parse_price(" 59.9 ") == (59.9, None)
    assert parse_price(12) == (12.0, None)
    assert parse_price("面议") == (None, None)


def test_validate_drops_and_counts_items_missing_their_key_field():
    stats = _Stats()
    v = ValidatePipeline(stats)
    with pytest.raises(DropItem):
        v.process_item(Registration(name="\u200b \r\n", url="http://x/1", source="s"))
    with pytest.raises(DropItem):
        v.process_item(Listing(title="九阳豆浆机", source="s"))  # no URL
    ok = Registration(name="湖北一正药业有限公司", uscc="91350100M000100Y44", source="s")
    assert v.process_item(ok) is ok
    timed = stats.values.pop("markwatch/seconds/parse")  # every stage is timed, drops included
    assert timed > 0
    assert stats.values == {
        "markwatch/dropped/missing_name": 1,
        "markwatch/dropped": 2,
        "markwatch/dropped/missing_url": 1,
    }


def test_normalize_keeps_raw_and_parses_price():
    item = NormalizePipeline().process_item(
        Listing(title="高仿 九\u200b阳\r\n豆浆机", price="¥59.00", url="http://x/i", source="s")
    )
    assert item["title"] == "高仿 九阳 豆浆机"
    assert item["raw"]["title"] == "高仿 九\u200b阳\r\n豆浆机"
    assert (item["price"], item["currency"]) == (59.0, "CNY")
    assert item["identity"] == "url:http://x/i"
    assert item["subject"] == Subject(text="高仿 九阳 豆浆机", kind="listing", price=59.0)


def test_normalize_cleans_and_checks_the_credit_code_once():
    stats = _Stats()
    n = NormalizePipeline(stats)
    good = n.process_item(Registration(name="湖北一正药业有限公司", uscc=" 9135 0100\u200bm000100y43\r\n", source="s"))
    assert (good["uscc"], good["uscc_valid"]) == ("91350100M000100Y43", True)
    assert good["raw"]["uscc"] == " 9135 0100\u200bm000100y43\r\n"
    assert good["identity"] == "uscc:91350100M000100Y43"
    assert good["subject"] == Subject(text="湖北一正药业有限公司", kind="enterprise", uscc="91350100M000100Y43")
    bad = n.process_item(Registration(name="湖北一正药业有限公司", uscc="91350100M000100Y44", source="s"))
    assert bad["uscc_valid"] is False
    assert bad["subject"].uscc is None  # only a valid code reaches the matcher's owner whitelist
    assert bad["identity"] == "name:湖北一正药业有限公司"  # an invalid code is no identity
    none = n.process_item(Registration(name="某某有限公司", source="s"))
    assert none["uscc_valid"] is False and "uscc" not in none
    assert stats.values.pop("markwatch/seconds/parse") > 0
    assert stats.values == {"markwatch/uscc_invalid": 1}


class _Stats:
    def __init__(self):
        self.values: dict[str, int] = {}

    def inc_value(self, key, count=1, start=0):
        self.values[key] = self.values.get(key, start) + count


def test_shipped_sources_load():
    found = available_sources()
    assert {
        "demo-registry",
        "demo-registry-daily",
        "demo-registry-api",
        "demo-provider-jsonl",
        "demo-market",
        "demo-market-api",
        "demo-market-browse",
    } <= set(found)
    assert found["demo-registry-daily"].encoding == "gbk"


@pytest.mark.parametrize(
    "text, where",
    [
        ("name: x\nkind: registry\nmode: search\npages:\n  url: '{base}/s?page={page}'\n", "x.yaml:1: key '(top)'"),
        (
            "name: x\nkind: registry\npages:\n  url: '{base}/s?q={keyword}'\n  fields:\n    title: h1\n",
            "x.yaml:1: key '(top)': unknown field 'title'",
        ),
        ("name: x\nkind: shop\npages:\n  url: u\n", "x.yaml:2: key 'kind'"),
        (
            "name: x\nkind: registry\npages:\n  url: '{keyword}'\n  max_page: 3\n",
            "x.yaml:5: key 'pages.max_page': unknown key",
        ),
        ("name: x\nkind: registry\nencoding: klingon\npages:\n  url: '{keyword}'\n", "x.yaml:3: key 'encoding'"),
        ("name: [x\n", "x.yaml:2: invalid YAML"),
    ],
)
def test_bad_source_file_names_file_line_and_key(text, where):
    with pytest.raises(SourceError) as exc:
        parse_source(text, "x.yaml")
    assert str(exc.value).startswith(where), str(exc.value)
    assert exit_code_for(exc.value) == 2


def test_world_is_seeded_and_holds_the_hubei_seed_case():
    a, b = World(seed=7, today=TODAY), World(seed=7, today=TODAY)
    assert [c.name for c in a.companies] == [c.name for c in b.companies]
    assert [x.title for x in a.listings] == [x.title for x in b.listings]
    assert (
        World(seed=8, today=TODAY).listings[5].title != a.listings[5].title
        or World(seed=8, today=TODAY).companies[50].name != a.companies[50].name
    )
    assert len(a.companies) >= 5000 and len(a.listings) >= 5000
    seed = [c for c in a.companies if c.name == SEED_CASE]
    assert seed and seed[0].province == "湖北" and seed[0].truth == "一正"
    imit_c = sum(1 for c in a.companies if c.truth) / len(a.companies)
    imit_l = sum(1 for x in a.listings if x.truth) / len(a.listings)
    assert 0.02 < imit_c < 0.15 and 0.05 < imit_l < 0.2
    hows = {c.how for c in a.companies} | {x.how for x in a.listings}
    assert {
        "homophone",
        "lookalike",
        "traditional",
        "inserted",
        "exact_cross_industry",
        "counterfeit_cue",
        "compatibility",
        "genuine",
        "owner",
    } <= hows
    assert any("\u200b" in x.title or "\u200d" in x.title for x in a.listings)
    assert any("<script>" in x.title for x in a.listings) and any("\r\n" in x.title for x in a.listings)
