"""Success rate per platform: what became of the links complained of (Alibaba IPP and others judge a
rights holder by it; its Good-Faith programme asks ≥ 90 % over three months)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alerts.cases.model import Case


def platform_stats(cases: Iterable[Case], platforms: dict[str, str]) -> list[dict[str, Any]]:
    """One row per platform (the source's complaint channel, else the source): each link's latest outcome.

    ``success_rate`` = removed / (removed + rejected + counter-notice), None before any decision.
    """
    rows: dict[str, dict[str, Any]] = {}
    for case in cases:
        if case.entity.kind != "listing":
            continue
        name = platforms.get(case.entity.source) or case.entity.source
        row = rows.setdefault(
            name,
            {"platform": name, "links": 0, "removed": 0, "rejected": 0, "counter_notice": 0, "pending": 0, "cases": 0},
        )
        row["cases"] += 1
        for lk in case.link_states().values():
            row["links"] += 1
            if lk.outcome in ("removed", "rejected", "counter_notice"):
                row[lk.outcome] += 1
            else:
                row["pending"] += 1
    out = []
    for row in sorted(rows.values(), key=lambda r: r["platform"]):
        decided = row["removed"] + row["rejected"] + row["counter_notice"]
        row["success_rate"] = round(row["removed"] / decided, 4) if decided else None
        out.append(row)
    return out
