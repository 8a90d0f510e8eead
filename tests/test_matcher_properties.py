"""Properties that must hold for any input an infringer can write."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import Hit, Mark, Matcher, Subject
from matcher.normalize import fold, trace

_MARKS = [
    Mark(name="一正", owner="吉林一正药业集团有限公司", well_known=True, classes=[5], aliases=["YIZHENG"]),
    Mark(name="九阳", owner="九阳股份有限公司", well_known=True, classes=[11]),
    Mark(name="农夫山泉", owner="农夫山泉股份有限公司", well_known=True, classes=[32]),
]
_MATCHER = Matcher(_MARKS)

# Any code point, surrogates included, weighted towards CJK and the tricks infringers use.
tricky = st.sampled_from(list("一正九阳衣久农夫山泉華為壹玖\u200b\u200d\ufeff\u0301\u20dd ·-_\r\n\t<>&\"'ＡａΙіロ"))
any_char = st.characters(codec=None, categories=None)
texts = st.lists(
    st.one_of(tricky, any_char, st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)), max_size=60
).map("".join)


@given(texts)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_fold_is_idempotent(text):
    once = fold(text)
    assert fold(once) == once


@given(texts)
@settings(max_examples=300)
def test_traced_fold_agrees_with_fast_fold_and_maps_back(text):
    t = trace(text)
    assert t.text == fold(text)
    assert len(t.origin) == len(t.text)
    assert all(0 <= i < len(text) for i in t.origin)
    assert list(t.origin) == sorted(t.origin)


@given(texts, st.sampled_from(["enterprise", "listing"]))
@settings(max_examples=300, deadline=None)
def test_screen_never_raises_and_hits_are_well_formed(text, kind):
    hits = _MATCHER.screen(Subject(text=text, kind=kind, seller=text[:5] or None))
    assert isinstance(hits, list)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)  # best first
    for hit in hits:
        assert isinstance(hit, Hit)
        assert 0.0 < hit.score <= 1.0
        s, e = hit.span
        assert 0 <= s < e <= len(text)
        assert hit.matched == text[s:e]
        assert hit.reasons


def test_huge_input_is_screened():
    text = ("湖北衣正药业有限公司" + "\u0301" * 7 + "好") * 10_000  # ~170 kB with combining marks
    hits = _MATCHER.screen(Subject(text=text))
    assert hits and hits[0].mark == "一正"


def test_lone_surrogates_and_controls():
    text = "\ud800一\x00正\udfff药业有限公司"
    hits = _MATCHER.screen(Subject(text=text))
    assert isinstance(hits, list) and all(isinstance(h, Hit) for h in hits)
    # The controls and surrogates fold away: 一正 is found, and its span in the original covers them.
    assert [h.mark for h in hits] == ["一正"]
    (hit,) = hits
    assert 0.0 < hit.score <= 1.0
    s, e = hit.span
    assert 0 <= s < e <= len(text) and hit.matched == text[s:e] == "一\x00正"
