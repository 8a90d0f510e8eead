"""统一社会信用代码 (GB 32100-2015): check-digit validation, and generation for the demo world.

Registrations whose code fails the check are usually typos or scraped garbage;
the validate pipeline flags them rather than trusting the code as an identity.
"""

from __future__ import annotations

import random

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714 organisation-code weights for positions 9-16 of the USCC.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def check_char(first17: str) -> str:
    """The 18th character for the first 17 (raises KeyError on a character outside the charset)."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def is_valid(code: str | None) -> bool:
    """True when *code* has 18 characters from the GB 32100 charset and a correct check digit."""
    if not code or len(code) != 18:
        return False
    code = code.upper()
    if any(c not in _VALUE for c in code):
        return False
    return check_char(code[:17]) == code[17]


def _org_code(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "".join(rng.choice(alphabet[:10] if i < 4 else alphabet) for i in range(8))
    # Letters count as 10..35 in GB 11714 (A=10 … Z=35).
    vals = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
    r = 11 - sum(v * w for v, w in zip(vals, _ORG_WEIGHTS, strict=True)) % 11
    return body + ("X" if r == 10 else "0" if r == 11 else str(r))


def generate(rng: random.Random, region_code: str, kind: str = "91") -> str:
    """A syntactically valid code: authority+type *kind*, 6-digit region, organisation code, check."""
    first17 = kind + region_code + _org_code(rng)
    return first17 + check_char(first17)
