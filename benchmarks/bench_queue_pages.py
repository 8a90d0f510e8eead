"""How long the review queue takes for 200 rows against 50 (issue 24), on SQLite and Elasticsearch.

    .venv/bin/python benchmarks/bench_queue_pages.py [--db var/demo/alerts.sqlite] [--es URL] [--runs 30]

Reads the alerts of a store made by `make demo` (SQLite), copies them into a fresh Elasticsearch index
when --es is given, and times the whole page (search, facets, tab counts, rendering) through the
real app with a signed-in analyst: medians and p90 of --runs requests after 3 warm-ups, the
pages alternated so the two sizes see the same machine. Also compares the facet counts of the two
stores for the whole queue.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fastapi.testclient import TestClient  # noqa: E402
from web_support import PASSWORD, settings  # noqa: E402

from alerts import AlertQuery  # noqa: E402
from alerts.sqlite_store import SQLiteAlertStore  # noqa: E402
from markwatch.web import create_app  # noqa: E402


def sign_in(c: TestClient) -> None:
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    c.post("/login", data={"username": "li", "password": PASSWORD, "csrf_token": token})


def time_pages(store, label: str, runs: int) -> dict[int, list[float]]:
    tmp = Path(tempfile.mkdtemp())
    app = create_app(settings(tmp, language="zh_CN"), store=store)
    out: dict[int, list[float]] = {50: [], 200: []}
    with TestClient(app) as c:
        sign_in(c)
        for size in (50, 200, 50, 200, 50, 200):
            assert c.get("/alerts", params={"size": size, "density": "compact"}).status_code == 200
        for _ in range(runs):
            for size in (50, 200):
                t = time.perf_counter()
                r = c.get("/alerts", params={"size": size, "density": "compact"})
                out[size].append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200 and r.text.count('class="row"') == min(
                    size, store.search(AlertQuery()).total
                )
    for size, ms in out.items():
        ms.sort()
        print(f"{label} size={size}: median {statistics.median(ms):.1f} ms, p90 {ms[int(len(ms) * 0.9) - 1]:.1f} ms")
    print(f"{label} ratio 200/50 (medians): {statistics.median(out[200]) / statistics.median(out[50]):.2f}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="var/demo/alerts.sqlite")
    ap.add_argument("--es")
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    src = SQLiteAlertStore(args.db)
    alerts = list(src.export(AlertQuery()))
    print(f"{len(alerts)} alerts from {args.db}")
    time_pages(src, "sqlite", args.runs)
    if args.es:
        from alerts.es_store import ElasticsearchAlertStore
        from alerts.settings import StoreSettings

        es = ElasticsearchAlertStore.from_settings(
            StoreSettings(
                urls=[args.es],
                index_prefix=f"mwbench-{uuid.uuid4().hex[:8]}",
                replicas=0,
                refresh=True,
                outbox_path=Path(tempfile.mkdtemp()) / "outbox.sqlite",
            )
        )
        try:
            es.upsert(alerts)
            a, b = src.facets(AlertQuery(), size=50), es.facets(AlertQuery(), size=50)
            print("facet counts equal on both stores:", a == b)
            for name in a:
                print(f"  {name}: sqlite {a[name][:6]}")
                print(f"  {name}: es     {b[name][:6]}")
            time_pages(es, "elasticsearch", args.runs)
        finally:
            es.client.options(ignore_status=404).indices.delete(index=f"{es.prefix}-*")
            es.client.options(ignore_status=404).indices.delete_index_template(name=f"{es.prefix}-alerts")
            es.close()
    src.close()


if __name__ == "__main__":
    main()
