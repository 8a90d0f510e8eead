"""Nice classes and 类似群 codes as gazettes and providers write them, read into lists.

Sources write classes as ``5``, ``"05"``, ``"第5类"``, ``"5,35"``, ``"5类;35类"`` or a list of any of
those, and similar groups as ``"0501"``, ``"0501,0502"`` or a list. Anything else in the value
(a class 0 or 46, letters) is dropped: a wrong class would screen the application against the
wrong goods.
"""

from __future__ import annotations

import re
from typing import Any

_CLASS = re.compile(r"(?<!\d)(\d{1,2})(?!\d)")
_GROUP = re.compile(r"(?<!\d)(\d{4})(?!\d)")
MAX_VALUES = 200


def _flatten(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        out: list[str] = []
        for v in list(value)[:MAX_VALUES]:
            out.extend(_flatten(v))
        return out
    return [str(value)[:4000]]


def parse_classes(value: Any) -> list[int]:
    """Nice classes 1–45, in order of first appearance, each once."""
    found: dict[int, None] = {}
    for text in _flatten(value):
        for m in _CLASS.finditer(text):
            n = int(m.group(1))
            if 1 <= n <= 45:
                found.setdefault(n)
    return list(found)[:MAX_VALUES]


def parse_groups(value: Any) -> list[str]:
    """类似群 codes (four digits: class then group, ``0501``), each once, whose class is 01–45."""
    found: dict[str, None] = {}
    for text in _flatten(value):
        for m in _GROUP.finditer(text):
            code = m.group(1)
            if 1 <= int(code[:2]) <= 45:
                found.setdefault(code)
    return list(found)[:MAX_VALUES]
