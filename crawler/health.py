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
# `too_large`: a body over the size limit; `failed`: any other failed request.
KINDS = ("refused", "unreachable", "malformed", "empty", "offsite", "too_large", "failed")

MAX_DETAIL = 200


def note(stats: Any, kind: str, detail: str = "") -> None:
    """Count one problem of *kind* and keep the first and the last detail (shortened)."""
    if kind not in KINDS:
        raise ValueError(f"unknown health kind {kind!r}")
    if stats is None:
        return
    detail = " ".join(str(detail).split())[:MAX_DETAIL]
    stats.inc_value(PREFIX + kind)
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
    return out
