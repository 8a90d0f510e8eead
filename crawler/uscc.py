"""统一社会信用代码 (GB 32100-2015): codes generated for the demo world; the check is ``alerts.uscc``'s.

Registrations whose code fails the check are usually typos or scraped garbage;
the validate pipeline flags them rather than trusting the code as an identity.
"""

from __future__ import annotations

import random

from alerts.uscc import CHARSET, check_char, is_valid

__all__ = ["CHARSET", "check_char", "generate", "is_valid"]

# GB 11714 organisation-code weights for positions 9-16 of the USCC.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code(rng: random.Random) -> str:
    alphabet = CHARSET
    body = "".join(rng.choice(alphabet[:10] if i < 4 else alphabet) for i in range(8))
    # Letters count as 10..35 in GB 11714 (A=10 … Z=35).
    vals = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
    r = 11 - sum(v * w for v, w in zip(vals, _ORG_WEIGHTS, strict=True)) % 11
    return body + ("X" if r == 10 else "0" if r == 11 else str(r))


def generate(rng: random.Random, region_code: str, kind: str = "91") -> str:
    """A syntactically valid code: authority+type *kind*, 6-digit region, organisation code, check."""
    first17 = kind + region_code + _org_code(rng)
    return first17 + check_char(first17)
