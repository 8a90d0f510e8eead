"""A source's verdict for one scan: `ok`, `degraded` or `failed`, with a reason in plain words.

The one place that turns what the crawler saw (the health notes of `crawler.health`, the counts in
the crawler's stats, the source's item counts in earlier runs) into a state. The scan report, the
run log, `markwatch runs`, the exit code and the operators' email all show what this returns, so a
blind scan cannot say "ok" in one place and "degraded" in another.

- `failed`: nothing usable came back (site down, every request refused, the crawl crashed).
- `degraded`: it ran but something is wrong (some pages failed or were refused, an error body,
  malformed data, rows that match nothing, a yield far below the usual, a stopped source).
- `ok`: none of that.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crawler import health

STATES = ("ok", "degraded", "failed")

# Keys the crawler's own parts keep in the stats next to the health notes.
FINAL_REQUESTS = "markwatch/requests_final"  # requests that ended (a response or a final error), robots.txt aside
TIME_BUDGET = "time budget"  # the finish reason of a source stopped at `[scan] max_minutes`
STOPPING = "markwatch/stopping"  # why a source was being stopped (crawler.shutdown), kept when it never closed

# Yield watch: at least this many earlier runs, and a drop below both bounds, before it says so.
YIELD_MIN_HISTORY = 3
YIELD_SIGMAS = 4.0
YIELD_FRACTION = 0.5


@dataclass(frozen=True)
class Outcome:
    state: str
    reason: str = ""


def usual_yield(history: Sequence[int]) -> tuple[float, float] | None:
    """Median and spread of a source's recent item counts, or None when there are too few."""
    counts = [int(c) for c in history if c is not None]
    if len(counts) < YIELD_MIN_HISTORY:
        return None
    mid = statistics.median(counts)
    spread = statistics.median(abs(c - mid) for c in counts) * 1.4826  # MAD, robust to one odd night
    return float(mid), float(spread)


def yield_drop(items: int, history: Sequence[int]) -> str:
    """'items 12, usual 480 ± 40' when *items* is far below the source's recent history, else ''."""
    usual = usual_yield(history)
    if usual is None:
        return ""
    mid, spread = usual
    if mid <= 0:
        return ""
    if items < mid * YIELD_FRACTION and items < mid - YIELD_SIGMAS * max(spread, 1.0):
        return f"items {items}, usual {mid:.0f} ± {spread:.0f}"
    return ""


def _of(kind: str, p: dict[str, Any], total: int) -> str:
    detail = p["first"] or kind
    n = p["count"]
    return f"{detail} ({n} of {max(total, n)} requests)"


def verdict(stats: dict[str, Any], *, history: Sequence[int] = ()) -> Outcome:
    """The state and reason of one source from its crawler's stats dict (and earlier item counts)."""
    probs = health.problems(stats)
    items = int(stats.get("item_scraped_count", 0) or 0)
    total = int(stats.get(FINAL_REQUESTS, 0) or 0)
    finish = str(stats.get("finish_reason", "") or "")
    reasons: list[str] = []

    if finish and finish not in ("finished", "shutdown", "degraded", TIME_BUDGET):
        # An exception or a stop we did not ask for: the crawl did not run to its end.
        return Outcome("failed", f"crawl stopped: {finish}")

    unreachable = probs.get("unreachable")
    refused = probs.get("refused")
    answered = total - (unreachable["count"] if unreachable else 0)
    # Why the source was stopped (crawler.failfast.STOPPED): nothing more was sent after it.
    stopped = str(stats.get("markwatch/stopped", "") or "")
    if unreachable and answered <= 0 and items == 0:
        if stopped.startswith("site unreachable"):  # names the tries in a row and the host, not "1 of 1"
            return Outcome("failed", stopped)
        return Outcome("failed", "site unreachable: " + _of("unreachable", unreachable, total))
    if refused and items == 0 and refused["count"] >= answered > 0:
        return Outcome("failed", "refused: " + _of("refused", refused, total))
    if stopped and items == 0:  # stopped with nothing read (a token refused after its renewal): its own words
        return Outcome("failed", stopped)

    if unreachable:
        reasons.append("unreachable: " + _of("unreachable", unreachable, total))
    if refused:
        reasons.append("refused: " + _of("refused", refused, total))
    if stats.get("markwatch/degraded") and stats.get("markwatch/degraded_reason"):
        reasons.append(str(stats["markwatch/degraded_reason"]))
    for kind in ("malformed", "too_large", "offsite", "failed", "cut"):
        p = probs.get(kind)
        if p:
            label = {"too_large": "too large", "failed": "failed requests"}.get(kind, kind)
            more = f" (+{p['count'] - 1} more)" if p["count"] > 1 else ""
            reasons.append(f"{label}: {p['first']}{more}")
    for kind, noun in (("lost", "page"), ("dropped", "item"), ("trap", "request")):
        p = probs.get(kind)
        if p:
            verb = {"lost": "lost", "dropped": "dropped", "trap": "refused as a crawl trap"}[kind]
            by = p.get("by") or {p["first"]: p["count"]}
            reasons.append("; ".join(f"{n:,} {noun}{'s' if n != 1 else ''} {verb}: {why}" for why, n in by.items()))
    if stats.get("markwatch/flood"):
        reasons.append(str(stats["markwatch/flood"]))
    store = probs.get("store")
    if store:
        by = store.get("by") or {store["first"]: store["count"]}
        reasons.append("; ".join(f"{n:,} item{'s' if n != 1 else ''} {why}" for why, n in by.items()))
    empty = probs.get("empty")
    if empty and items == 0:  # a search with no results is normal; a source where nothing matched is not
        pages = f"on {empty['count']} page" + ("s" if empty["count"] > 1 else "")
        reasons.append(f"0 rows: {empty['first']} {pages}")
    if finish == TIME_BUDGET or (not finish and stats.get(STOPPING) == TIME_BUDGET):
        reasons.append("time budget")
    elif finish == "shutdown" or stats.get(STOPPING) == "shutdown":
        reasons.append("interrupted: stopped before the end")
    elif not finish and stats.get("start_time") is not None:
        reasons.append("interrupted: stopped before the end")
    resumed = int(stats.get("markwatch/resume_skipped", 0) or 0) > 0  # a resumed run fetches less by design
    unpublished = stats.get("markwatch/not_published")  # a data file not out yet (published_by): expected
    if unpublished and items == 0 and not reasons:
        return Outcome("ok", f"not published yet: {unpublished}")
    if items == 0 and not reasons and not resumed:
        if stats.get("markwatch/no_issue"):  # a gazette publishes weekly: a day without an issue is normal
            return Outcome("ok", str(stats["markwatch/no_issue"]))
        reasons.append("yielded nothing")
    drop = "" if resumed else yield_drop(items, history)
    if drop:
        reasons.append(drop)
    if reasons:
        return Outcome("degraded", "; ".join(dict.fromkeys(reasons)))
    return Outcome("ok", "")


def worst(states: Sequence[str]) -> str:
    """The run's state from its sources': failed beats degraded beats ok."""
    if not states:
        return "failed"
    return max(states, key=STATES.index)


def flood_limit(history: Sequence[int], *, factor: float = 10.0, minimum: int = 100) -> tuple[int, str]:
    """(new alerts past which a source's new alerts are held, 'M ± S'), or (0, '') without enough history.

    "By far": over *factor* times the median, over the median plus ten spreads, and over *minimum*.
    """
    usual = usual_yield(history)
    if usual is None or minimum <= 0:
        return 0, ""
    mid, spread = usual
    return int(max(minimum, mid * factor, mid + 10 * spread)), f"{mid:.0f} ± {spread:.0f}"
