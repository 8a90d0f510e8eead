"""Case lifecycle on both stores (SQLite and a real Elasticsearch node): same contract."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from alerts.cases.errors import CaseError, CaseNotFound, InvalidTransition
from alerts.cases.model import TRANSITIONS, entity_of
from alerts.cases.service import close_case, file_case, open_case, reopen_case, resolve_case
from alerts.cases.store import CaseConflict, open_case_store

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
USCC = "914201000181BJ1X8M"  # valid check character, division 420100 (武汉市)


@pytest.fixture
def cases(store):
    cs = open_case_store(store)
    yield cs
    if hasattr(store, "client"):
        store.client.options(ignore_status=404).indices.delete(index=f"{store.prefix}-cases")


def _confirmed(store, make_alert, **kw):
    a = make_alert(**kw)
    store.upsert([a])
    store.review([a.id], "confirmed", who="ana", now=T0)
    return a


def test_lifecycle_open_file_await_resolve(store, cases, make_alert):
    a = _confirmed(
        store,
        make_alert,
        text="湖北一正药业有限公司",
        mark="一正",
        owner="吉林一正药业集团有限公司",
        item={"uscc": USCC},
    )
    b = _confirmed(
        store,
        make_alert,
        text="湖北一正药业有限公司",
        mark="一正",
        owner="吉林一正药业集团有限公司",
        source="other",
        item={"uscc": USCC},
    )
    case = open_case(store, cases, [a.id, b.id[:12]], note="seed case", who="ana", now=T0)
    assert case.state == "open" and case.entity.key == f"uscc:{USCC}" and set(case.alert_ids) == {a.id, b.id}
    assert case.authority["name"] == "武汉市市场监督管理局" and case.authority["known"]
    assert cases.get(case.id[:6]).id == case.id
    filed = file_case(
        cases, case.id, to="武汉市市场监督管理局", ref="武市监〔2026〕12号", who="bob", now=T0 + timedelta(days=1)
    )
    assert filed.state == "filed" and filed.filing.ref == "武市监〔2026〕12号"
    assert filed.deadline == date(2026, 3, 2) + timedelta(days=30)  # default for a name dispute
    waited = file_case(
        cases, case.id, to="武汉市市场监督管理局", deadline=date(2026, 4, 15), who="bob", now=T0 + timedelta(days=2)
    )
    assert waited.state == "awaiting" and waited.deadline == date(2026, 4, 15)
    assert waited.overdue(date(2026, 4, 16)) and not waited.overdue(date(2026, 4, 15))
    done = resolve_case(
        cases,
        case.id,
        resolution="renamed",
        data={"after_name": "湖北正元药业有限公司"},
        who="follow-up",
        now=T0 + timedelta(days=20),
    )
    again = cases.get(case.id)
    assert again.state == "resolved" and again.resolution == "renamed" and again == done
    assert [(e.action, e.from_state, e.to_state, e.who) for e in again.events] == [
        ("open", None, "open", "ana"),
        ("file", "open", "filed", "bob"),
        ("file", "filed", "filed", "bob"),
        ("await", "filed", "awaiting", "bob"),
        ("resolve", "awaiting", "resolved", "follow-up"),
    ]
    assert all(x.at < y.at for x, y in zip(again.events, again.events[1:], strict=False))
    assert [c.id for c in cases.list(states=["resolved"])] == [case.id]
    assert cases.list(states=["open", "filed"]) == []
    with pytest.raises(InvalidTransition, match="resolved: cannot close"):
        close_case(cases, case.id, reason="x")
    assert reopen_case(cases, case.id, who="ana").state == "open"


def test_close_needs_reason_and_rejects_refiling(store, cases, make_alert):
    a = _confirmed(
        store,
        make_alert,
        kind="listing",
        text="1:1复刻 九阳豆浆机",
        seller="潮品工厂店",
        item={"url": "http://127.0.0.1:1/x"},
    )
    case = open_case(store, cases, [a.id], who="ana", now=T0)
    assert case.entity.kind == "listing" and case.entity.seller == "潮品工厂店" and case.authority == {}
    with pytest.raises(CaseError, match="reason"):
        close_case(cases, case.id, reason="  ")
    closed = close_case(cases, case.id, reason="genuine reseller after all", who="ana")
    assert closed.state == "closed" and closed.close_reason == "genuine reseller after all"
    with pytest.raises(InvalidTransition):
        file_case(cases, case.id, to="platform")
    reopened = reopen_case(cases, case.id)
    assert file_case(cases, reopened.id, to="平台").deadline is None


def test_open_rules(store, cases, make_alert):
    new = make_alert(text="上海九阳电器有限公司")
    store.upsert([new])
    with pytest.raises(CaseError, match="confirm it first"):
        open_case(store, cases, [new.id])
    with pytest.raises(CaseError, match="no alert|unknown"):
        open_case(store, cases, ["0" * 32])
    a = _confirmed(store, make_alert, text="上海九阳电器有限公司", key="k1")
    b = _confirmed(store, make_alert, text="北京九阳电器有限公司", key="k2")
    with pytest.raises(CaseError, match="different entities"):
        open_case(store, cases, [a.id, b.id])
    first = open_case(store, cases, [a.id])
    with pytest.raises(CaseError, match=f"case {first.id} is already open"):
        open_case(store, cases, [a.id])
    with pytest.raises(CaseNotFound):
        cases.get("C-doesnotexist")


def test_concurrent_saves_do_not_lose_events(store, cases, make_alert):
    a = _confirmed(store, make_alert)
    case = open_case(store, cases, [a.id], now=T0)
    stale = cases.get(case.id)
    file_case(cases, case.id, to="X", now=T0 + timedelta(hours=1))
    with pytest.raises(CaseConflict):
        cases.save(stale.model_copy(update={"updated_at": T0 + timedelta(hours=2)}), stale.updated_at)
    assert [e.action for e in cases.get(case.id).events] == ["open", "file"]


def test_entity_of_prefers_valid_uscc(make_alert):
    assert entity_of(make_alert(item={"uscc": USCC.lower()})).key == f"uscc:{USCC}"
    bad = USCC[:-1] + ("A" if USCC[-1] != "A" else "B")
    assert (
        entity_of(make_alert(text="湖北\u200b一正药业有限公司", item={"uscc": bad})).key == "text:湖北一正药业有限公司"
    )
    assert entity_of(make_alert(kind="listing", text="t", seller="店 A", source="m")).key == "seller:m:店A"


def test_transitions_table_is_closed():
    states = {"open", "filed", "awaiting", "resolved", "closed"}
    for table in TRANSITIONS.values():
        assert set(table) <= states and set(table.values()) <= states
