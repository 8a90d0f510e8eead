"""What went wrong while crawling a source, kept in the crawler stats for the scan's verdict.

Spiders, middlewares and pipelines call `note()` for each problem they see; the scan reads the
counts back (`problems()`) to decide whether a source ended `ok`, `degraded` or `failed`, with a
reason in plain words. Details are short and written by us (a status, a page number, a selector),
never a response body or a header value, so they are safe to log and to store.
"""

from __future__ import annotations

from typing import Any

PREFIX = "markwatch/health/"

# The kinds of problem a source can meet. `refused`: the site answered but said no (HTTP 401/403/
# 405/429, or an error body); `unreachable`: no answer (connection refused, DNS, timeout);
# `malformed`: an answer we could not read (truncated JSON, broken encoding); `empty`: a page that
# should have held rows held none; `offsite`: a redirect or link to a host the source does not own;
# `too_large`: a body over the size limit; `failed`: any other failed request; `cut`: a page read
# only up to a limit (rows per page); `lost`: a page whose content never reached an item (redirect
# limit or loop, a parser's recursion or depth limit, a decode error, a crash in the parser);
# `dropped`: an item the pipeline threw away; `trap`: requests refused by the crawl-trap guard;
# `store`: items whose alerts the store could not take (queued in the outbox, or not stored).
KINDS = (
    "refused",
    "unreachable",
    "malformed",
    "empty",
    "offsite",
    "too_large",
    "failed",
    "cut",
    "lost",
    "dropped",
    "trap",
    "store",
)
# Kinds counted per reason too ("2 pages lost: redirect limit; 1 page lost: decode error").
BY_REASON = ("lost", "dropped", "trap", "store")
MAX_REASONS = 20

MAX_DETAIL = 200


def note(stats: Any, kind: str, detail: str = "", *, why: str = "", count: int = 1) -> None:
    """Count *count* problems of *kind* and keep the first and the last detail (shortened).

    *why* is a short reason of our own words (the kinds in BY_REASON are also counted per *why*).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown health kind {kind!r}")
    if stats is None:
        return
    detail = " ".join(str(detail).split())[:MAX_DETAIL]
    stats.inc_value(PREFIX + kind, count)
    if kind in BY_REASON:
        reason = " ".join(str(why or detail).split())[:80] or kind
        reasons = stats.get_value(PREFIX + kind + "/by") or {}
        if reason in reasons or len(reasons) < MAX_REASONS:
            reasons = {**reasons, reason: reasons.get(reason, 0) + count}
            stats.set_value(PREFIX + kind + "/by", reasons)
    if stats.get_value(PREFIX + kind + "/first") is None:
        stats.set_value(PREFIX + kind + "/first", detail)
    stats.set_value(PREFIX + kind + "/last", detail)


def problems(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The problems recorded in a crawler's stats dict: kind → {count, first, last}."""
    out: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        count = int(stats.get(PREFIX + kind, 0) or 0)
        if count:
            out[kind] = {
                "count": count,
                "first": stats.get(PREFIX + kind + "/first", ""),
                "last": stats.get(PREFIX + kind + "/last", ""),
            }
            if kind in BY_REASON:
                out[kind]["by"] = dict(stats.get(PREFIX + kind + "/by") or {})
    return out
