"""Alert store figures, run by hand: bulk-write throughput and analyst query latency.

    .venv/bin/python benchmarks/bench_store.py [--n 200000]

Uses $MARKWATCH_ES_URL, or starts a node with scripts/es-node (name "bench") and stops it.
1. Bulk write: the same N alerts through ``ElasticsearchAlertStore.upsert`` (mget + merge +
   helpers.bulk) and, as the naive baseline, raw ``helpers.bulk`` of their prepared documents
   into an identical index; target store/raw ≥ 0.8.
2. Five typical analyst queries on the store's index: median and p95 over 50 runs each, through
   the store (parsed into Alert models) and raw ``client.search`` of the same body; target p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import helpers

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from alerts.es_store import ElasticsearchAlertStore  # noqa: E402
from alerts.model import alert_from_hit  # noqa: E402
from alerts.settings import StoreSettings  # noqa: E402
from alerts.store import AlertQuery  # noqa: E402
from matcher.types import Hit, NameParts, Reason, Subject  # noqa: E402

MARKS = [
    ("九阳", "九阳股份有限公司"),
    ("九牧", "九牧厨卫股份有限公司"),
    ("立白", "立白科技集团有限公司"),
    ("一正", "吉林一正药业集团有限公司"),
    ("格力", "珠海格力电器股份有限公司"),
    ("美的", "美的集团股份有限公司"),
]
REGIONS = ["上海", "深圳市", "杭州", "广州市", "义乌市", "东莞市", "成都", "武汉市"]
INDUSTRIES = ["电器", "小家电", "卫浴", "日化", "药业", "科技", "贸易", "厨具"]
FORMS = ["有限公司", "有限责任公司", "商行", "经营部"]
WORDS = ["正品", "包邮", "旗舰", "新款", "豆浆机", "洗衣液", "热水器", "空调", "特价", "原装"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_alerts(n: int, seed: int = 7) -> list:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        mark, owner = MARKS[i % len(MARKS)]
        now = T0 + timedelta(days=rnd.randrange(90), seconds=rnd.randrange(86400))
        if rnd.random() < 0.6:
            region, ind, form = rnd.choice(REGIONS), rnd.choice(INDUSTRIES), rnd.choice(FORMS)
            text = f"{region}{mark}{rnd.choice('鑫华盛达源')}{ind}{form}"
            subject = Subject(text=text, kind="enterprise")
            parts = NameParts(region=region, trade_name=mark, industry=ind, form=form)
            source = "gsxt"
        else:
            text = f"{mark}{' '.join(rnd.sample(WORDS, 3))} {rnd.randrange(1000)}型"
            subject = Subject(
                text=text,
                kind="listing",
                seller=f"{rnd.choice(REGIONS)}小店{rnd.randrange(500)}",
                price=round(rnd.uniform(9, 999), 2),
            )
            parts = None
            source = rnd.choice(["taobao", "jd", "pinduoduo"])
        hit = Hit(
            mark=mark,
            owner=owner,
            score=round(rnd.uniform(0.5, 1.0), 3),
            span=(0, 2),
            matched=mark,
            parts=parts,
            reasons=(Reason("contains_mark", "包含商标", "contains the mark"),),
        )
        out.append(
            alert_from_hit(
                hit,
                subject,
                source=source,
                subject_key=f"{source}:{i}",
                item={"title": text, "url": f"https://example.invalid/{i}"},
                evidence_id=None,
                now=now,
            )
        )
    return out


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()

    url = os.environ.get("MARKWATCH_ES_URL")
    started = False
    if not url:
        url = (
            subprocess.run(
                [str(REPO / "scripts/es-node"), "start", "--name", "bench"], check=True, capture_output=True, text=True
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        started = True
    tag = uuid.uuid4().hex[:6]
    tmp = Path(f"/tmp/bench-store-{tag}")

    def open_store(name: str) -> ElasticsearchAlertStore:
        return ElasticsearchAlertStore.from_settings(
            StoreSettings(
                urls=[url],
                index_prefix=f"bench-{name}-{tag}",
                replicas=0,
                timeout=120,
                outbox_path=tmp / f"{name}.sqlite",
            )
        )

    stores = []
    try:
        t = time.perf_counter()
        alerts = make_alerts(args.n)
        print(f"generated {len(alerts):,} alerts in {time.perf_counter() - t:.1f} s")

        warm = open_store("warm")
        stores.append(warm)
        warm.upsert(alerts[:5000])

        docs = [a.to_doc() for a in alerts]  # the baseline gets its documents ready-made

        def run_raw(round_: int) -> float:
            raw = open_store(f"raw{round_}")
            stores.append(raw)
            raw.ensure_index()
            t = time.perf_counter()
            ok, _ = helpers.bulk(
                raw.client.options(request_timeout=120),
                ({"_index": raw.alias, "_id": d["id"], "_source": d} for d in docs),
                chunk_size=500,
            )
            raw.client.indices.refresh(index=raw.alias)
            assert ok == len(docs)
            return time.perf_counter() - t

        def run_store(round_: int) -> tuple[float, ElasticsearchAlertStore]:
            st = open_store(f"store{round_}")
            stores.append(st)
            t = time.perf_counter()
            res = st.upsert(alerts)
            st.client.indices.refresh(index=st.alias)
            assert res.new == len(alerts), (res.new, res.errors[:3])
            return time.perf_counter() - t, st

        # Two rounds in alternating order, so neither side always gets the warmer node.
        raw_times, store_times = [], []
        raw_times.append(run_raw(1))
        st_s, store = run_store(1)
        store_times.append(st_s)
        st_s, _ = run_store(2)
        store_times.append(st_s)
        raw_times.append(run_raw(2))
        raw_s, store_s = sum(raw_times) / 2, sum(store_times) / 2
        print(
            "rounds (s): raw "
            + ", ".join(f"{x:.1f}" for x in raw_times)
            + "; store "
            + ", ".join(f"{x:.1f}" for x in store_times)
        )

        t = time.perf_counter()
        again = store.upsert(alerts[:20_000])
        again_s = time.perf_counter() - t

        print(f"\nbulk write of {args.n:,} alerts (chunks of 500)")
        print(f"  raw helpers.bulk      {args.n / raw_s:10,.0f} docs/s  ({raw_s:.1f} s)")
        print(f"  store.upsert          {args.n / store_s:10,.0f} docs/s  ({store_s:.1f} s)")
        print(f"  ratio store/raw       {raw_s / store_s:10.2f}  (target >= 0.8)")
        m = min(args.n, 20_000)
        print(f"  re-upsert {m:,} seen {m / again_s:10,.0f} docs/s  ({again.unchanged:,} unchanged)")

        last = max(a.last_seen for a in alerts)
        queries = {
            "mark=九阳 status=new, top 20 by score": AlertQuery(marks=["九阳"], statuses=["new"], size=20),
            "text '九阳 豆浆机', newest first": AlertQuery(text="九阳 豆浆机", sort="-last_seen", size=20),
            "last 7 days, score >= 0.9, kind=listing": AlertQuery(
                since=last - timedelta(days=7), min_score=0.9, kinds=["listing"], size=20
            ),
            "source=taobao text '包邮' page 5": AlertQuery(sources=["taobao"], text="包邮", page=5, size=20),
        }
        print(f"\nanalyst queries on {args.n:,} alerts ({args.runs} runs each, after 5 warm-ups), ms")
        print(f"  {'query':44s} {'store med':>9s} {'p95':>7s} {'raw med':>9s} {'p95':>7s}  hits")
        for name, q in queries.items():
            body = store._query(q)
            sort = store._sort(q)
            timings, raw_t = [], []
            for i in range(args.runs + 5):
                t = time.perf_counter()
                page = store.search(q)
                d1 = time.perf_counter() - t
                t = time.perf_counter()
                store.client.search(
                    index=store.alias,
                    query=body,
                    sort=sort,
                    from_=(q.page - 1) * q.size,
                    size=q.size,
                    track_total_hits=True,
                )
                d2 = time.perf_counter() - t
                if i >= 5:
                    timings.append(d1 * 1000)
                    raw_t.append(d2 * 1000)
            print(
                f"  {name:44s} {statistics.median(timings):9.1f} {percentile(timings, 95):7.1f} "
                f"{statistics.median(raw_t):9.1f} {percentile(raw_t, 95):7.1f}  {page.total:,}"
            )
        timings = []
        for i in range(args.runs + 5):
            t = time.perf_counter()
            c = store.counts()
            if i >= 5:
                timings.append((time.perf_counter() - t) * 1000)
        print(
            f"  {'counts by mark, status and day':44s} {statistics.median(timings):9.1f} "
            f"{percentile(timings, 95):7.1f} {'-':>9s} {'-':>7s}  {len(c.by_day)} days"
        )
    finally:
        for s in stores:
            s.client.options(ignore_status=404).indices.delete(index=f"{s.prefix}-alerts-*")
            s.client.options(ignore_status=404).indices.delete_index_template(name=s.alias)
            s.close()
        if started:
            subprocess.run([str(REPO / "scripts/es-node"), "stop", "--name", "bench"], check=False)


if __name__ == "__main__":
    main()
