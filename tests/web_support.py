"""Helpers for the review-site tests: settings with analysts, sample alerts, a live server."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn

from alerts.evidence import EvidenceStore
from alerts.model import alert_from_hit
from alerts.settings import StoreSettings
from markwatch.config import ReviewSettings, Settings
from markwatch.web.passwords import hash_password
from matcher.types import Hit, NameParts, Reason, Subject

PASSWORD = "correct horse battery"
# Cheaper scrypt for tests (the format carries the cost; production uses the default).
_HASH = hash_password(PASSWORD, log2_n=10)
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

HOSTILE_TITLE = '<script>window.__pwned="title"</script>九阳<img src=x onerror="window.__pwned=\'img\'">豆浆机'
HOSTILE_SELLER = "<a href=\"javascript:window.__pwned='link'\">点我</a>"
HOSTILE_URL = "javascript:window.__pwned='url'"


def settings(tmp: Path, es_url: str | None = None, **review: object) -> Settings:
    """Two analysts (li, wang; admin: boss) on SQLite, or on Elasticsearch with a fresh index prefix."""
    values: dict = {"users": {"li": _HASH, "wang": _HASH, "boss": _HASH}, "admins": ["boss"], "secret_key": "k" * 40}
    # The older tests read the site in English; the Chinese ones (the default) pass language="zh_CN".
    values["language"] = "en"
    values.update(review)
    if es_url:
        store = StoreSettings(
            urls=[es_url],
            index_prefix=f"mwsec-{uuid.uuid4().hex[:10]}",
            replicas=0,
            refresh=True,
            timeout=30,
            retries=1,
            sqlite_path=tmp / "alerts.sqlite",
            outbox_path=tmp / "outbox.sqlite",
        )
    else:
        store = StoreSettings(sqlite_path=tmp / "alerts.sqlite")
    return Settings(store=store, review=ReviewSettings(**values))


def drop_store(store) -> None:
    """Remove an Elasticsearch test store's indices (alerts, sessions, audit) and template."""
    client = getattr(store, "client", None)
    if client is None:
        return
    client.options(ignore_status=404).indices.delete(index=f"{store.prefix}-*")
    client.options(ignore_status=404).indices.delete_index_template(name=f"{store.prefix}-alerts")


def other_hash(password: str) -> str:
    return hash_password(password, log2_n=10)


def alert(
    text: str,
    mark: str = "九阳",
    score: float = 0.9,
    kind: str = "enterprise",
    source: str = "gsxt",
    now: datetime = T0,
    seller: str | None = None,
    evidence_id: str | None = None,
    item: dict | None = None,
    trade_name: str | None = None,
):
    """An alert made the crawler's way: a matcher Hit and Subject through alert_from_hit."""
    parts = (
        NameParts(region="上海", trade_name=trade_name or mark, industry="电器", form="有限公司")
        if kind == "enterprise"
        else None
    )
    hit = Hit(
        mark=mark,
        owner=f"{mark}股份有限公司",
        score=score,
        span=(2, 4),
        matched=mark,
        parts=parts,
        reasons=(
            Reason("contains_mark", "字号包含商标", "the trade name contains the mark"),
            Reason("same_industry", "行业相同", "same industry as the mark's goods"),
        ),
        well_known=True,
    )
    subject = Subject(text=text, kind=kind, seller=seller, price=199.0 if kind == "listing" else None)  # type: ignore[arg-type]
    return alert_from_hit(
        hit,
        subject,
        source=source,
        subject_key=text,
        item=item or {"name": text, "reg_no": "9131"},
        evidence_id=evidence_id,
        now=now,
    )


def sample_alerts(evidence: EvidenceStore | None = None) -> list:
    """A small, varied queue, including crawled text written to attack the page."""
    ev_id = None
    if evidence is not None:
        ev_id = evidence.put(
            "https://gsxt.example/corp/123",
            T0,
            200,
            {"Content-Type": "text/html; charset=utf-8"},
            "<html><body><h1>上海九阳电器有限公司</h1><p>统一社会信用代码 9131…</p></body></html>".encode(),
        )
    out = [
        alert("上海九阳电器有限公司", score=0.97, evidence_id=ev_id, now=T0),
        alert("九阳（深圳）豆浆机有限公司", score=0.91, now=T0 + timedelta(days=1)),
        alert("杭州九阳小家电科技有限公司", score=0.62, now=T0 + timedelta(days=2)),
        alert("九牧王卫浴（福建）有限公司", mark="九牧", score=0.88, source="qcc", now=T0 + timedelta(days=2)),
        alert("立白日化用品有限公司", mark="立白", score=0.75, now=T0 + timedelta(days=3)),
        alert(
            "正品九阳破壁机 家用全自动 包邮",
            kind="listing",
            source="taobao",
            seller="九阳官方旗舰店",
            score=0.83,
            now=T0 + timedelta(days=3),
        ),
    ]
    return out + hostile_alerts(evidence)


def hostile_alerts(evidence: EvidenceStore | None, beacon: str = "http://127.0.0.1:9/") -> list:
    """Titles, sellers, items and a captured page written by an infringer who wants our page to run code."""
    ev_id = None
    if evidence is not None:
        body = (
            f'<html><head><meta http-equiv="refresh" content="0;url={beacon}refresh">'
            f'<link rel="stylesheet" href="{beacon}css"><script src="{beacon}js"></script></head><body>'
            '<h1>九阳</h1><script>parent.__pwned="frame"; top.__pwned="frame"; document.title="pwned";</script>'
            f'<img src="{beacon}img" onerror="parent.__pwned=\'frame-img\'">'
            f'<iframe src="{beacon}iframe"></iframe><form action="{beacon}form"><button>go</button></form>'
            "</body></html>"
        ).encode()
        ev_id = evidence.put(HOSTILE_URL, T0, 200, {"Content-Type": "text/html"}, body)
    return [
        alert(
            HOSTILE_TITLE,
            score=0.99,
            source="gsxt",
            evidence_id=ev_id,
            trade_name="九阳",
            item={
                "name": HOSTILE_TITLE,
                "url": HOSTILE_URL,
                "html": "<svg onload=\"window.__pwned='svg'\">",
                "zw": "九\u200b阳\u202e",
            },
        ),
        alert("九阳 listing " + HOSTILE_SELLER, kind="listing", source="1688", seller=HOSTILE_SELLER, score=0.98),
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(app, *, as_served: bool = False) -> Iterator[str]:
    """uvicorn in a thread on 127.0.0.1 and an ephemeral port; stopped on exit.

    ``as_served``: with the options ``markwatch serve`` uses (proxy headers and all).
    """
    if as_served:
        from markwatch.cli.serve import uvicorn_options

        options = uvicorn_options(app.state.settings.review, host="127.0.0.1", port=0)
        options.update(log_level="warning", lifespan="on")
        config = uvicorn.Config(app, **options)
    else:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_W = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc(region: str, org: str) -> str:
    """A credit code with a right check digit: 91 (enterprise), the 6-digit division, a 9-character org code."""
    body = f"91{region}{org}"
    assert len(body) == 17
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_W, strict=True))
    return body + _USCC_CHARS[(31 - total % 31) % 31]


# Five imitation companies behind one person: three share the legal representative and the
# address, one only the phone, one nothing; registered at different authorities and places.
COMPANIES = [
    (
        "上海九阳电器有限公司",
        "310115",
        "MA1FL0001",
        "上海市浦东新区市场监督管理局",
        "王建国",
        "上海市浦东新区川沙路100号",
        "021-5811 0001",
    ),
    ("深圳九阳厨具有限公司", "440300", "MA5G00002", "深圳市市场监督管理局", "王建国", "上海市浦东新区川沙路100号", ""),
    (
        "杭州九阳小家电科技有限公司",
        "330106",
        "MA2H00003",
        "杭州市西湖区市场监督管理局",
        "王建国",
        "杭州市西湖区文三路8号",
        "",
    ),
    (
        "苏州九阳电器销售有限公司",
        "320505",
        "MA1M00004",
        "苏州市虎丘区市场监督管理局",
        "李华",
        "苏州市高新区长江路1号",
        "+86 21 5811 0001",
    ),
    (
        "广州九阳五金有限公司",
        "440106",
        "MA9W00005",
        "广州市天河区市场监督管理局",
        "陈明",
        "广州市天河区体育西路2号",
        "",
    ),
]


def company_alerts(now: datetime = T0) -> list:
    """Alerts for ``COMPANIES`` (fields as the registry sources give them) and two listings of one shop."""
    out = []
    for i, (name, region, org, authority, rep, addr, phone) in enumerate(COMPANIES):
        item = {"name": name, "uscc": uscc(region, org), "authority": authority, "legal_rep": rep, "address": addr}
        if phone:
            item["phone"] = phone
        out.append(alert(name, score=0.95 - i * 0.05, item=item, now=now + timedelta(hours=i), source="demo-registry"))
    for j, title in enumerate(("九阳豆浆机 正品 破壁", "九阳电饭煲 4L 家用")):
        out.append(
            alert(
                title,
                kind="listing",
                source="demo-market",
                seller="九阳小家电专营店",
                score=0.8 - j * 0.1,
                now=now,
                item={"title": title, "seller": "九阳小家电专营店", "url": f"https://shop.example/item/{j}"},
            )
        )
    return out
