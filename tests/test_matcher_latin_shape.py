"""Latin letters read as their look-alikes (matcher/latin_fuzzy.py LatinShapeIndex,
matcher/data/latin_lookalikes.tsv): open and closed bowls, mirrored and turned letters."""

from __future__ import annotations

import pytest

from matcher import Matcher, Subject
from matcher.latin_fuzzy import shape_swaps
from matcher.marks import Mark


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(
        [
            Mark(name="ZOPPA", owner="甲公司", classes=[9]),
            Mark(name="德拓", owner="乙公司", aliases=["DEXTOR"]),
        ]
    )


def _hits(m: Matcher, text: str, **kw):
    return m.screen(Subject(text, **kw))  # type: ignore[arg-type]


def test_shape_swaps_pairs_and_limits() -> None:
    assert shape_swaps("zocca", "zoppa") is None  # c/p is no pair of the table
    assert shape_swaps("zoqqa", "zoppa") == [("q", "p"), ("q", "p")]
    assert shape_swaps("zoppa", "zoppa") is None  # the form itself
    assert shape_swaps("cuqqe", "zoppa") is None  # more than two letters
    assert shape_swaps("zopp", "zoppa") is None  # another length


@pytest.mark.parametrize(
    ("text", "kw"), [("ZOQQA", {"kind": "brand"}), ("zoqpa", {"kind": "trademark", "classes": [9]})]
)
def test_lookalike_letters_read_as_the_form(matcher: Matcher, text: str, kw: dict) -> None:
    hit = _hits(matcher, text, **kw)[0]
    assert hit.mark == "ZOPPA"
    reason = next(r for r in hit.reasons if r.code == "letter_shape")
    assert "ZOPPA" in reason.zh and "/" in reason.zh


def test_alias_with_a_mirrored_letter(matcher: Matcher) -> None:
    hit = _hits(matcher, "DEXTOR", kind="brand")  # the alias itself
    assert hit and hit[0].mark == "德拓"
    hit = _hits(matcher, "BEXTOR", kind="brand")  # b/d mirrored
    assert hit and hit[0].mark == "德拓" and any(r.code == "letter_shape" for r in hit[0].reasons)


def test_other_field_or_inside_a_word_is_not_read(matcher: Matcher) -> None:
    # the subject names a field that is not the mark's
    assert not any(h.mark == "ZOPPA" for h in _hits(matcher, "ZOQQA", kind="trademark", classes=[30]))
    # part of a longer Latin word is another word
    assert not any(h.mark == "ZOPPA" for h in _hits(matcher, "ZOQQAXY", kind="brand"))
