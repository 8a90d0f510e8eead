"""Follow-up on a real demo world (in-thread server on 127.0.0.1): a rename after the demo date
resolves the seed case with before/after evidence; deregistration too; a removed listing (404)
resolves its case; a deadline passed without change is reported overdue."""

from __future__ import annotations

import datetime as dt
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alerts.cases.followup import FollowupOptions, Lookup, run_followup
from alerts.cases.service import file_case, open_case
from alerts.cases.sqlite import SQLiteCaseStore
from alerts.evidence import EvidenceStore
from alerts.sqlite_store import SQLiteAlertStore
from crawler.demo.server import DemoServer, ServerConfig

D = dt.date(2026, 5, 1)
T = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
LOOKUP = Lookup(url="{base}/registry/api/company?uscc={uscc}&date={date}", found="data")


@pytest.fixture(scope="module")
def demo():
    cfg = ServerConfig(today=D, companies=2000, listings=20, fail_every=0, slow_every=0, burst_limit={})
    with DemoServer(cfg) as srv:
        yield srv


@pytest.fixture
def env(tmp_path):
    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    ev = EvidenceStore(tmp_path / "evidence.sqlite")
    yield store, SQLiteCaseStore(store.db), ev
    ev.close()
    store.close()


def _case(store, cases, ev, make_alert, company, *, deadline=None):
    eid = ev.put(f"http://x/registry/company/{company.id}", T, 200, {}, company.name.encode())
    a = make_alert(
        text=company.name,
        mark=company.truth,
        owner="owner of " + company.truth,
        source="demo-registry-api",
        item={"uscc": company.uscc, "status": company.status},
        evidence_id=eid,
        now=T,
    )
    a = a.model_copy(
        update={"matched": company.trade, "subject": a.subject.model_copy(update={"trade_name": company.trade})}
    )
    store.upsert([a])
    store.review([a.id], "confirmed", now=T)
    case = open_case(store, cases, [a.id], now=T)
    return file_case(cases, case.id, to="X", deadline=deadline, now=T)


def test_rename_after_demo_date_resolves_the_seed_case(demo, env, make_alert):
    store, cases, ev = env
    world = demo.state.world
    seed = world.companies[0]
    assert seed.name == "湖北一正药业有限公司" and seed.changes
    renamed_on = dt.date.fromisoformat(seed.changes[0][0])
    case = _case(store, cases, ev, make_alert, seed)
    opts = FollowupOptions(lookups={"demo-registry-api": LOOKUP}, base_url=demo.url, timeout=10)

    before = run_followup(store, cases, ev, opts, today=renamed_on - dt.timedelta(days=1))
    assert [o.result for o in before.outcomes] == ["unchanged"] and before.overdue == []
    assert cases.get(case.id).state == "filed"
    # Nothing changed: recorded as an event, with what was looked up and as of when.
    checked = cases.get(case.id).events[-1]
    assert checked.action == "checked" and checked.who == "follow-up" and checked.to_state == "filed"
    assert checked.data["looked_up"] == seed.uscc and checked.data["result"] == "unchanged"
    assert checked.data["as_of"] == (renamed_on - dt.timedelta(days=1)).isoformat()
    assert "湖北一正药业有限公司" in checked.data["detail"]
    assert before.lines()[0] == "follow-up: 1 case(s) checked, 0 resolved, 0 error(s), 0 overdue"

    after = run_followup(store, cases, ev, opts, today=renamed_on)
    assert [(o.case_id, o.result, o.detail) for o in after.outcomes] == [(case.id, "resolved", "renamed")]
    done = cases.get(case.id)
    assert done.state == "resolved" and done.resolution == "renamed"
    last = done.events[-1]
    assert last.action == "resolve" and last.who == "follow-up" and last.from_state == "filed"
    assert last.data["before_name"] == "湖北一正药业有限公司" and last.data["after_name"] == "湖北正元药业有限公司"
    assert last.data["as_of"] == renamed_on.isoformat()
    got = ev.get(last.data["after_evidence"])
    assert "湖北正元药业有限公司" in got.body.decode() and seed.uscc in got.url
    assert ev.exists(last.data["before_evidence"])
    assert run_followup(store, cases, ev, opts, today=renamed_on).checked == 0  # resolved: no longer checked


def test_deregistration_and_overdue(demo, env, make_alert):
    store, cases, ev = env
    world = demo.state.world
    dereg = next(c for c in world.companies if c.changes and c.changes[0][2] == "注销")
    late = max((c for c in world.companies if c.changes and c.changes[0][2] != "注销"), key=lambda c: c.changes[0][0])
    c1 = _case(store, cases, ev, make_alert, dereg)
    c2 = _case(store, cases, ev, make_alert, late, deadline=D + dt.timedelta(days=30))
    opts = FollowupOptions(lookups={"demo-registry-api": LOOKUP}, base_url=demo.url, timeout=10)
    day = dt.date.fromisoformat(dereg.changes[0][0])
    assert day < D + dt.timedelta(days=30) < dt.date.fromisoformat(late.changes[0][0])
    rep = run_followup(store, cases, ev, opts, today=D + dt.timedelta(days=31))
    assert {o.case_id: (o.result, o.detail) for o in rep.outcomes}[c1.id] == ("resolved", "deregistered")
    assert rep.overdue == [c2.id] and cases.get(c2.id).overdue(D + dt.timedelta(days=31))
    assert cases.get(c1.id).events[-1].data["after_status"] == "注销"


def test_lookup_failures_are_errors_not_resolutions(demo, env, make_alert):
    store, cases, ev = env
    seed = demo.state.world.companies[0]
    case = _case(store, cases, ev, make_alert, seed)
    bad = FollowupOptions(
        lookups={"demo-registry-api": Lookup(url="{base}/registry/search?q={uscc}&d={date}")}, base_url=demo.url
    )
    rep = run_followup(store, cases, ev, bad, today=D + dt.timedelta(days=40))
    assert [o.result for o in rep.outcomes] == ["error"] and cases.get(case.id).state == "filed"
    none = run_followup(store, cases, ev, FollowupOptions(), today=D + dt.timedelta(days=40))
    assert [o.result for o in none.outcomes] == ["skipped"]


class _Listings(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        code = 404 if self.path.startswith("/gone") else 200
        body = b"<html>removed</html>" if code == 404 else b"<html>still here</html>"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def test_removed_listing_resolves(env, make_alert):
    store, cases, ev = env
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Listings)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    try:
        ids = {}
        for path, seller in (("/gone/1", "A店"), ("/alive/2", "B店")):
            a = make_alert(
                kind="listing", text=f"1:1复刻 九阳豆浆机 {path}", seller=seller, item={"url": base + path}, now=T
            )
            store.upsert([a])
            store.review([a.id], "confirmed", now=T)
            c = open_case(store, cases, [a.id], now=T)
            ids[path] = file_case(cases, c.id, to="平台", now=T).id
        rep = run_followup(store, cases, ev, FollowupOptions(timeout=5), today=D)
        res = {o.case_id: o.result for o in rep.outcomes}
        assert res == {ids["/gone/1"]: "resolved", ids["/alive/2"]: "unchanged"}
        done = cases.get(ids["/gone/1"])
        assert done.resolution == "listing_removed" and done.events[-1].data["after_status"] == "HTTP 404"
        assert ev.get(done.events[-1].data["after_evidence"]).status == 404
    finally:
        httpd.shutdown()
        httpd.server_close()
