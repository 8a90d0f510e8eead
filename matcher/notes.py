"""What the judgement noticed about a hit, for reasons.py to put into words.

Typed, so that the judgement and the wording cannot drift apart through a
misspelt string, and a note's value (the cue word, the brand) is a field, not
a suffix to split off again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class NoteKind(Enum):
    CROSS_CLASS = "cross_class"  # a well-known mark used outside its classes
    SAME_FIELD = "same_field"
    COUNTERFEIT_CUE = "counterfeit_cue"  # value: the cue word (高仿, 原单…)
    BRAND_AFFIX = "brand_affix"  # value: the brand the mark was grown into (安踏王)
    EVASIVE = "evasive"  # spelled to slip past keyword filters
    TRADE_NAME = "trade_name"  # the match lies in the enterprise's trade name
    WHOLE_TRADE_NAME = "whole_trade_name"
    CONTAINS_MARK = "contains_mark"  # the trade name contains the mark and more
    NAME_USE = "name_use"  # value: the subject's kind (shop, brand, trademark): the mark used as a name
    # value: "founded|registered" (ISO dates, or year / year-month), "founded|filed|applied" when
    # the marks file gives the filing date: the subject may have a prior right
    PRIOR_USE = "prior_use"
    GRADED = "graded"  # value: why the evidence is weak (other_field_sound, inside_word, first_char, two_char)


@dataclass(frozen=True, slots=True)
class Note:
    kind: NoteKind
    value: str = ""
