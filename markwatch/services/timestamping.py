"""Trusted timestamps for evidence and dossiers, sent to the TSA through the crawler.

``alerts.timestamps`` builds and checks RFC 3161 messages; the request itself goes out as a Scrapy
request (``crawler.spiders.lookup.TimestampSpider``) in a child crawl, so it has the crawler's host
guard, size limit, timeouts and retries like every other request leaving the machine.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from markwatch.config import Settings

log = logging.getLogger(__name__)


def crawler_post(settings: Settings):
    """An ``alerts.timestamps.Post`` that sends the queries to ``[evidence] tsa_url`` through the crawler."""
    from crawler.spiders.lookup import run_jobs
    from markwatch.services.scan import crawl_overrides

    tsa_url = settings.evidence.tsa_url

    def post(queries: dict[str, bytes]) -> dict[str, tuple[bytes | None, str]]:
        job = {
            "timestamps": {
                "tsa_url": tsa_url,
                "queries": [{"id": k, "query": base64.b64encode(v).decode("ascii")} for k, v in queries.items()],
            },
            "settings": crawl_overrides(settings),
        }
        res = run_jobs(job, timeout=max(60.0, settings.cases.timeout * 5)).get("timestamps", {})
        out: dict[str, tuple[bytes | None, str]] = {}
        for k in queries:
            r = res.get(k) or {"state": "failed", "reason": "no answer"}
            if r.get("state") == "found" and r.get("reply"):
                out[k] = (base64.b64decode(r["reply"]), "")
            else:
                out[k] = (None, str(r.get("reason") or r.get("state")))
        return out

    return post


def stamp_captures(settings: Settings, evidence: Any, *, limit: int = 500) -> dict[str, int]:
    """Stamp the captures that have no timestamp yet (after a scan); counts of stamped and failed."""
    from alerts.timestamps import stamp

    if not settings.evidence.tsa_url or not settings.evidence.stamp_captures:
        return {}
    ids = evidence.unstamped(limit)
    if not ids:
        return {"stamped": 0, "failed": 0}
    bodies = {i: evidence.get(i).body for i in ids}
    ok, failed = stamp(bodies, crawler_post(settings))
    for i, st in ok.items():
        evidence.put_stamp(i, settings.evidence.tsa_url, st.gen_time, st.reply)
    for i, why in list(failed.items())[:5]:
        log.warning("evidence %s not time-stamped: %s", i[:12], why)
    return {"stamped": len(ok), "failed": len(failed)}
