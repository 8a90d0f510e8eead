"""A small bar chart of alerts per day as inline SVG: no script, no library, fine under a strict CSP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass
class Bar:
    day: str
    count: int
    x: float
    y: float
    height: float
    label: bool


@dataclass
class Chart:
    bars: list[Bar]
    width: int
    height: int
    bar_width: float
    peak: int
    gridlines: list[tuple[float, int]]


def day_chart(by_day: dict[str, int], *, width: int = 720, height: int = 180, max_days: int = 60) -> Chart:
    """Bars for the last ``max_days`` days that have data, missing days filled with zero."""
    days: dict[date, int] = {}
    for key, n in by_day.items():
        try:
            days[date.fromisoformat(key)] = int(n)
        except (ValueError, TypeError):
            continue
    if not days:
        return Chart([], width, height, 0, 0, [])
    last = max(days)
    first = max(min(days), last - timedelta(days=max_days - 1))
    span = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    peak = max(days.get(d, 0) for d in span) or 1
    top, bottom = 10, 22  # room for the day labels
    plot = height - top - bottom
    step = width / len(span)
    bw = max(2.0, step * 0.72)
    every = max(1, len(span) // 8)
    bars = []
    for i, d in enumerate(span):
        n = days.get(d, 0)
        h = plot * n / peak
        bars.append(
            Bar(
                d.isoformat(),
                n,
                round(i * step + (step - bw) / 2, 2),
                round(top + plot - h, 2),
                round(h, 2),
                i % every == 0 or i == len(span) - 1,
            )
        )
    grid = [(round(top + plot - plot * frac, 2), round(peak * frac)) for frac in (0.5, 1.0)]
    return Chart(bars, width, height, round(bw, 2), peak, grid)
