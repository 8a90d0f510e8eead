"""Follow-up through the crawler (crawler/spiders/lookup.py in a child crawl) against real loopback servers:
the demo world (rename, deregistration, every kind of "gone" on its marketplace), a signed 企查查
detail replay (rename → resolved; refused → unchanged with the reason), and a listing page that
redirects to 127.0.0.2 or a link-local address (never fetched there)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from alerts.cases.followup import run_followup
from alerts.cases.service import file_case, open_case
from alerts.cases.sqlite import SQLiteCaseStore
from alerts.evidence import EvidenceStore
from alerts.sqlite_store import SQLiteAlertStore
from crawler.demo.generator import DELIST_KINDS
from crawler.demo.server import DemoServer, ServerConfig
from markwatch.config import Settings
from markwatch.services.scan_followup import CrawlerLooker

D = dt.date(2026, 5, 1)
T = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def settings(tmp_path, sources, base_url=None, sources_dir=None) -> Settings:
    return Settings.model_validate(
        {
            "scan": {
                "loopback": True,
                "state_dir": str(tmp_path / "state"),
                "base_url": base_url,
                "sources_dirs": [str(sources_dir)] if sources_dir else [],
                "scrapy": {"RETRY_TIMES": 0},
            },
            "cases": {"lookup_sources": sources},
        }
    )


@pytest.fixture(scope="module")
def demo():
    cfg = ServerConfig(today=D, companies=2000, listings=400, fail_every=0, slow_every=0, burst_limit={})
    with DemoServer(cfg) as srv:
        yield srv


@pytest.fixture
def env(tmp_path):
    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    ev = EvidenceStore(tmp_path / "evidence.sqlite")
    yield store, SQLiteCaseStore(store.db), ev
    ev.close()
    store.close()


def _firm_case(store, cases, ev, make_alert, name, uscc, trade, mark, *, source="demo-registry-api", deadline=None):
    eid = ev.put(f"http://x/registry/{uscc}", T, 200, {}, name.encode())
    a = make_alert(
        text=name,
        mark=mark,
        owner="owner of " + mark,
        source=source,
        item={"uscc": uscc, "status": "存续"},
        evidence_id=eid,
        now=T,
    )
    a = a.model_copy(update={"matched": trade, "subject": a.subject.model_copy(update={"trade_name": trade})})
    store.upsert([a])
    store.review([a.id], "confirmed", now=T)
    case = open_case(store, cases, [a.id], now=T)
    return file_case(cases, case.id, to="X", deadline=deadline, now=T)


def test_rename_after_demo_date_resolves_the_seed_case(demo, env, make_alert, tmp_path):
    store, cases, ev = env
    seed = demo.state.world.companies[0]
    assert seed.name == "湖北一正药业有限公司" and seed.changes
    renamed_on = dt.date.fromisoformat(seed.changes[0][0])
    case = _firm_case(store, cases, ev, make_alert, seed.name, seed.uscc, seed.trade, seed.truth)
    looker = CrawlerLooker(settings(tmp_path, ["demo-registry-api"], demo.url))

    before = run_followup(store, cases, ev, looker, today=renamed_on - dt.timedelta(days=1))
    assert [o.result for o in before.outcomes] == ["unchanged"]
    checked = cases.get(case.id).events[-1]
    assert checked.action == "checked" and checked.who == "follow-up" and checked.to_state == "filed"
    assert checked.data["looked_up"] == seed.uscc and checked.data["result"] == "unchanged"
    assert "湖北一正药业有限公司" in checked.data["detail"]

    after = run_followup(store, cases, ev, looker, today=renamed_on)
    assert [(o.result, o.detail) for o in after.outcomes] == [("resolved", "renamed")]
    last = cases.get(case.id).events[-1]
    assert last.action == "resolve" and last.data["after_name"] == "湖北正元药业有限公司"
    got = ev.get(last.data["after_evidence"])
    assert "湖北正元药业有限公司" in got.body.decode() and seed.uscc in got.url
    assert run_followup(store, cases, ev, looker, today=renamed_on).checked == 0


def test_deregistration_and_overdue(demo, env, make_alert, tmp_path):
    store, cases, ev = env
    world = demo.state.world
    dereg = next(c for c in world.companies if c.changes and c.changes[0][2] == "注销")
    late = max((c for c in world.companies if c.changes and c.changes[0][2] != "注销"), key=lambda c: c.changes[0][0])
    c1 = _firm_case(store, cases, ev, make_alert, dereg.name, dereg.uscc, dereg.trade, dereg.truth)
    c2 = _firm_case(
        store, cases, ev, make_alert, late.name, late.uscc, late.trade, late.truth, deadline=D + dt.timedelta(days=30)
    )
    rep = run_followup(
        store, cases, ev, CrawlerLooker(settings(tmp_path, [], demo.url)), today=D + dt.timedelta(days=31)
    )
    assert {o.case_id: (o.result, o.detail) for o in rep.outcomes}[c1.id] == ("resolved", "deregistered")
    assert rep.overdue == [c2.id]


def _listing_case(store, cases, ev, make_alert, base, listings, source, seller=None):
    alerts = []
    for x in listings:
        url = f"{base}/market/item/{x.id}"
        eid = ev.put(url, T, 200, {}, x.title.encode())
        a = make_alert(
            kind="listing",
            text=x.title,
            seller=seller or x.shop_name,
            source=source,
            item={"url": url},
            evidence_id=eid,
            now=T,
            key=f"id:{x.id}",
        )
        store.upsert([a])
        store.review([a.id], "confirmed", now=T)
        alerts.append(a)
    c = open_case(store, cases, [alerts[0].id], now=T)
    if len(alerts) > 1:
        from alerts.cases.service import add_alerts

        add_alerts(store, cases, c.id, [a.id for a in alerts[1:]], now=T)
    return file_case(cases, c.id, to="平台", now=T)


def test_every_kind_of_gone_resolves_and_a_live_listing_does_not(demo, env, make_alert, tmp_path):
    store, cases, ev = env
    world = demo.state.world
    gone = [x for x in world.listings if x.delisted]
    kinds = {x.delisted[1] for x in gone}
    assert kinds == set(DELIST_KINDS)
    after = D + dt.timedelta(days=world.DELIST_AFTER)
    html_gone = {k: next(x for x in gone if x.delisted[1] == k) for k in DELIST_KINDS}
    ids = {
        k: _listing_case(store, cases, ev, make_alert, demo.url, [x], "demo-market", seller=f"店-{k}").id
        for k, x in html_gone.items()
    }
    api = _listing_case(store, cases, ev, make_alert, demo.url, [html_gone["api_code"]], "demo-market-api").id
    alive = next(x for x in world.listings if x.truth and not x.delisted)
    live = _listing_case(store, cases, ev, make_alert, demo.url, [alive], "demo-market", seller="店-live").id
    looker = CrawlerLooker(settings(tmp_path, [], demo.url))

    early = run_followup(store, cases, ev, looker, today=after - dt.timedelta(days=1))
    assert all(o.result == "unchanged" for o in early.outcomes), early.lines()

    rep = run_followup(store, cases, ev, looker, today=after)
    res = {o.case_id: (o.result, o.detail) for o in rep.outcomes}
    for k in DELIST_KINDS:
        assert res[ids[k]] == ("resolved", "listing_removed"), (k, res[ids[k]])
    assert res[api] == ("resolved", "listing_removed") and res[live][0] == "unchanged"
    how = {k: cases.get(ids[k]).events[-1].data["removed"][0]["how"] for k in DELIST_KINDS}
    assert how["http_404"] == how["http_410"] == "status"
    assert how["marker_missing"] == how["marker_off_shelf"] == "marker"
    assert how["redirect_search"] == "redirect"
    assert cases.get(api).events[-1].data["removed"][0]["how"] == "code"
    # each link's outcome is on the case: the platform's success rate comes from these
    assert [lk.outcome for lk in cases.get(ids["http_404"]).links] == ["online", "removed"]
    assert [lk.outcome for lk in cases.get(live).links] == ["online"]  # recorded when it changes, not every look
    page = ev.get(cases.get(ids["marker_missing"]).events[-1].data["after_evidence"])
    assert "宝贝不存在" in page.body.decode("utf-8")


def test_a_shop_case_resolves_when_all_its_links_are_gone(demo, env, make_alert, tmp_path):
    store, cases, ev = env
    world = demo.state.world
    by_shop: dict[str, list] = {}
    for x in world.listings:
        if x.delisted:
            by_shop.setdefault(x.shop_id, []).append(x)
    shop = max(by_shop.values(), key=len)
    assert len(shop) >= 2 and len({x.shop_name for x in shop}) == 1
    extra = next(x for x in world.listings if not x.delisted)
    whole = _listing_case(store, cases, ev, make_alert, demo.url, shop, "demo-market").id
    part = _listing_case(store, cases, ev, make_alert, demo.url, [*shop, extra], "demo-market-api", seller="另一店").id
    looker = CrawlerLooker(settings(tmp_path, [], demo.url))
    rep = run_followup(store, cases, ev, looker, today=D + dt.timedelta(days=world.DELIST_AFTER))
    res = {o.case_id: (o.result, o.detail) for o in rep.outcomes}
    assert res[whole] == ("resolved", "listing_removed")
    assert res[part][0] == "unchanged" and f"{len(shop)} of {len(shop) + 1}" in res[part][1]
    outcomes = [lk.outcome for lk in cases.get(part).links]
    assert outcomes.count("removed") == len(shop) and outcomes.count("online") == 1


# ---- a signed provider: 企查查 ECIV4/GetBasicDetailsByName, the documented answer shape -------------

QCC_KEY, QCC_SECRET = "qcc-key-Lk2mN8", "qcc-secret-Pq5rS9tU"
SEED_USCC = "914201000181BJ1X8M"


def _qcc_detail(name: str, status: str) -> dict:
    """The documented answer of 企业工商照面 (openapi.qcc.com: Status, Message, OrderNumber, Result{…})."""
    return {
        "Status": "200",
        "Message": "【有效请求】查询成功",
        "OrderNumber": "ECI2026051009000012345678",
        "Result": {
            "KeyNo": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
            "Name": name,
            "No": "420100000123456",
            "BelongOrg": "武汉市市场监督管理局",
            "OperName": "张三",
            "StartDate": "2018-05-16 00:00:00",
            "EndDate": "",
            "Status": status,
            "Province": "HB",
            "UpdatedDate": "2026-05-10 00:00:00",
            "CreditCode": SEED_USCC,
            "RegistCapi": "500万元人民币",
            "EconKind": "有限责任公司(自然人投资或控股)",
            "Address": "武汉市江汉区…",
            "Scope": "药品批发",
            "OriginalName": [{"Name": "湖北一正药业有限公司", "ChangeDate": "2026-05-10"}] if "正元" in name else [],
        },
    }


class _QccDetail(BaseHTTPRequestHandler):
    name = "湖北一正药业有限公司"
    log: list

    def log_message(self, *a):
        pass

    def _json(self, obj):
        body = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        url = urlsplit(self.path)
        q = dict(parse_qsl(url.query))
        if url.path == "/robots.txt":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        ts, token = self.headers.get("Timespan", ""), self.headers.get("Token", "")
        self.log.append({"path": url.path, "keyword": q.get("keyword"), "signed": bool(token)})
        if url.path != "/ECIV4/GetBasicDetailsByName":
            return self._json({"Status": "999", "Message": "接口不存在"})
        if q.get("key") != QCC_KEY:
            return self._json({"Status": "101", "Message": "KEY无效", "Result": None})
        if token != hashlib.md5((QCC_KEY + ts + QCC_SECRET).encode()).hexdigest().upper():
            return self._json({"Status": "102", "Message": "签名错误", "Result": None})
        if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
            return self._json({"Status": "103", "Message": "请求已过期", "Result": None})
        if q.get("keyword") != SEED_USCC:
            return self._json({"Status": "201", "Message": "查询无结果", "Result": None})
        return self._json(_qcc_detail(self.name, "存续（在营、开业、在册）"))


@pytest.fixture
def qcc():
    handler = type("H", (_QccDetail,), {"log": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield handler, f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_signed_provider_lookup_rename_resolves_and_refusal_leaves_the_case(
    qcc, env, make_alert, tmp_path, monkeypatch
):
    handler, url = qcc
    store, cases, ev = env
    case = _firm_case(
        store, cases, ev, make_alert, "湖北一正药业有限公司", SEED_USCC, "一正", "一正", source="qcc-search"
    )
    looker = CrawlerLooker(settings(tmp_path, ["qcc-search"], url))

    monkeypatch.setenv("QCC_APP_KEY", QCC_KEY)
    monkeypatch.setenv("QCC_SECRET_KEY", "wrong-secret")
    refused = run_followup(store, cases, ev, looker, today=D)
    assert [o.result for o in refused.outcomes] == ["error"]
    assert "refused" in refused.outcomes[0].detail and "签名错误" in refused.outcomes[0].detail
    c = cases.get(case.id)
    assert c.state == "filed" and c.resolution == ""
    assert c.events[-1].action == "checked" and c.events[-1].data["result"] == "failed"
    assert "签名错误" in c.events[-1].data["detail"]

    monkeypatch.setenv("QCC_SECRET_KEY", QCC_SECRET)
    same = run_followup(store, cases, ev, looker, today=D)
    assert [o.result for o in same.outcomes] == ["unchanged"] and cases.get(case.id).state == "filed"

    handler.name = "湖北正元药业有限公司"
    done = run_followup(store, cases, ev, looker, today=D)
    assert [(o.result, o.detail) for o in done.outcomes] == [("resolved", "renamed")]
    last = cases.get(case.id).events[-1]
    assert last.data["after_name"] == "湖北正元药业有限公司" and last.data["lookup"] == "qcc-search"
    kept = ev.get(last.data["after_evidence"])
    assert QCC_KEY.encode() not in kept.body and QCC_KEY not in kept.url and QCC_SECRET not in json.dumps(kept.headers)
    assert all(h["signed"] and h["keyword"] == SEED_USCC for h in handler.log)


# ---- a listing page that redirects elsewhere --------------------------------------------------------


class _Second(BaseHTTPRequestHandler):
    hits: list

    def log_message(self, *a):
        pass

    def do_GET(self):  # noqa: N802
        self.hits.append(self.path)
        body = b"<html>internal admin page</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _redirector(location: str):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):  # noqa: N802
            if self.path.startswith("/robots.txt"):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return H


LISTING_SOURCE = """name: hostile-market
kind: marketplace
mode: search
base_url: {base}
pages:
  url: "{{base}}/search?q={{keyword}}"
  rows: div.item
  fields: {{title: a::text}}
lookup:
  by: item
  url: "{{url}}"
  gone:
    redirect_to: ["/search\\\\?"]
"""


@pytest.mark.parametrize("where", ["127.0.0.2", "169.254.169.254"])
def test_listing_redirect_to_another_host_is_never_fetched(where, env, make_alert, tmp_path):
    store, cases, ev = env
    hits: list = []
    second = None
    if where == "127.0.0.2":
        second = ThreadingHTTPServer(("127.0.0.2", 0), type("S", (_Second,), {"hits": hits}))
        threading.Thread(target=second.serve_forever, daemon=True).start()
        target = f"http://127.0.0.2:{second.server_port}/admin"
    else:
        target = "http://169.254.169.254/latest/meta-data/"
    first = ThreadingHTTPServer(("127.0.0.1", 0), _redirector(target))
    threading.Thread(target=first.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{first.server_port}"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "hostile-market.yaml").write_text(LISTING_SOURCE.format(base=base), encoding="utf-8")
    try:
        url = f"{base}/item/1"
        a = make_alert(
            kind="listing", text="1:1复刻 九阳豆浆机", seller="A店", source="hostile-market", item={"url": url}, now=T
        )
        store.upsert([a])
        store.review([a.id], "confirmed", now=T)
        c = file_case(cases, open_case(store, cases, [a.id], now=T).id, to="平台", now=T)
        looker = CrawlerLooker(settings(tmp_path, [], base, sources_dir=tmp_path / "src"))
        rep = run_followup(store, cases, ev, looker, today=D)
        assert [o.result for o in rep.outcomes] == ["error"], rep.lines()
        assert f"redirect to another host ({where})" in rep.outcomes[0].detail
        got = cases.get(c.id)
        assert got.state == "filed" and got.events[-1].data["result"] == "failed"
        assert hits == []  # the second listener never saw a request
    finally:
        first.shutdown()
        first.server_close()
        if second is not None:
            second.shutdown()
            second.server_close()
