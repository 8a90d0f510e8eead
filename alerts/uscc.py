"""统一社会信用代码 (GB 32100-2015): the one check of a unified social credit code.

18 characters from an alphabet of 31 (digits and capitals without I, O, S, V, Z); the 18th is a
check character over the first 17 (weights 3^i mod 31). It lives here, in the lowest layer that
needs it: the alert model keys an enterprise by its code only when the check holds, the cases
derive the registering authority from it, and the crawler's validate stage flags codes that fail
(``crawler.uscc`` re-exports it beside the demo world's generator).
"""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, …


def check_char(first17: str) -> str:
    """The 18th character for the first 17 (raises KeyError on a character outside the charset)."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def is_valid(code: object) -> bool:
    """True when *code* is a string of 18 characters from the GB 32100 charset with a correct check character."""
    if not isinstance(code, str) or len(code) != 18:
        return False
    code = code.upper()
    if any(c not in _VALUE for c in code):
        return False
    return check_char(code[:17]) == code[17]
