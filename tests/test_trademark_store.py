"""The opposition clock in both stores (SQLite and Elasticsearch): deadline windows, the deadline
sort, and the reminders' source (open, unhandled trademark deadlines)."""

from __future__ import annotations

import datetime as dt

from test_trademark_notify import add_tm

from alerts.notify.source import StoreSource
from alerts.store import AlertQuery


def test_deadline_window_sort_and_the_reminders_source(store):
    a = add_tm(store, "一正", "壹正", "95000001", "2026-01-15")  # 2026-04-15
    b = add_tm(store, "一正", "一正堂", "95000002", "2025-12-30")  # 2026-03-30
    c = add_tm(store, "一正", "壹正堂", "95000003", "")  # none
    d = add_tm(store, "一正", "一正坊", "95000004", "2026-02-27")  # 2026-05-27
    q = AlertQuery(deadline_from=dt.date(2026, 3, 30), deadline_to=dt.date(2026, 4, 15), sort="deadline")
    assert [x.id for x in store.search(q).items] == [b, a]  # both ends inclusive
    assert [x.id for x in store.search(AlertQuery(kinds=["trademark"], sort="deadline")).items] == [b, a, d, c]
    src = StoreSource(store)
    assert [i.alert_id for i in src.deadlines(["一正"], dt.date(2026, 3, 1), dt.date(2026, 4, 30))] == [b, a]
    store.review([b], "dismissed", who="t")
    store.review([a], "confirmed", who="t")
    from alerts.cases.service import close_case, open_case
    from alerts.cases.store import open_case_store

    cases = open_case_store(store)
    case = open_case(store, cases, [a])
    assert [i.alert_id for i in src.deadlines(["一正"], dt.date(2026, 3, 1), dt.date(2026, 4, 30))] == [a]
    close_case(cases, case.id, reason="the applicant is a licensee")  # decided: no opposition
    assert src.deadlines(["一正"], dt.date(2026, 3, 1), dt.date(2026, 4, 30)) == []
    items = src.deadlines(["一正"], dt.date(2026, 5, 1), dt.date(2026, 6, 1))
    assert [(i.alert_id, i.number, i.deadline, i.classes) for i in items] == [
        (d, "95000004", dt.date(2026, 5, 27), (5,))
    ]
