"""`markwatch alerts calibration` and the queue's probability in the CLI, on real stores.

The reliability table is read from a store's review decisions (SQLite and a real Elasticsearch node
through the same command), with the probability the alerts were given beside the confirmed share.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from conftest import T0
from test_store_probability import store_as_before, with_p
from typer.testing import CliRunner

from alerts.model import probability_of
from alerts.reliability import decision, reliability, wilson
from alerts.sqlite_store import SQLiteAlertStore
from alerts.store import AlertQuery
from markwatch.cli import alerts as cmd_alerts
from markwatch.services.rescreen import NOTE as RESCREEN_NOTE


@pytest.fixture
def app():
    a = typer.Typer()
    cmd_alerts.register(a)

    @a.callback()
    def _root() -> None:
        """markwatch (test root)."""

    return a


def config_for(store, tmp_path: Path, monkeypatch) -> str:
    """A markwatch.toml naming the test's store (its SQLite file, or its Elasticsearch prefix)."""
    for var in [v for v in list(__import__("os").environ) if v.startswith("MARKWATCH_")]:
        monkeypatch.delenv(var)
    cfg = tmp_path / "markwatch.toml"
    if isinstance(store, SQLiteAlertStore):
        cfg.write_text(f'[store]\nsqlite_path = "{store.path}"\n', encoding="utf-8")
    else:
        url = store.client.transport.node_pool.get().base_url
        cfg.write_text(
            f'[store]\nurls = ["{url}"]\nindex_prefix = "{store.prefix}"\nreplicas = 0\nrefresh = true\n'
            f'outbox_path = "{tmp_path / "cli-outbox.sqlite"}"\n',
            encoding="utf-8",
        )
    return str(cfg)


# (score, probability, status, note) of each decided or undecided alert
DECISIONS = [
    (0.95, 0.98, "confirmed", ""),
    (0.96, 0.98, "escalated", ""),
    (0.97, 0.98, "dismissed", "owner's licensee"),
    (0.98, 0.98, "new", ""),
    (0.91, 0.90, "resolved", ""),
    (0.92, 0.90, "dismissed", ""),
    (0.93, 0.90, "dismissed", RESCREEN_NOTE),  # the matcher's decision, not an analyst's
    (0.72, 0.85, "dismissed", ""),
    (0.73, 0.85, "dismissed", ""),
    (0.55, 0.40, "new", ""),
]


@pytest.fixture
def decided(store, make_alert):
    alerts = [
        with_p(make_alert(f"第{i}九阳电器有限公司", score=s, now=T0 + timedelta(hours=i)), p)
        for i, (s, p, _, _) in enumerate(DECISIONS)
    ]
    store.upsert(alerts)
    for a, (_, _, status, note) in zip(alerts, DECISIONS, strict=True):
        if status == "resolved":
            store.review([a.id], "confirmed", "copy", who="li")
        if status != "new":
            store.review([a.id], status, note, who="li")
    old = make_alert("天津九阳电器有限公司", mark="九阳", score=0.75, now=T0 - timedelta(days=9))
    store_as_before(store, [old])  # stored before probabilities: counted with the one of its score
    other = with_p(make_alert("立白洗衣液 原单", mark="立白", owner="立白", kind="listing", score=0.99), 0.99)
    store.upsert([other])
    store.review([other.id], "confirmed", "", who="li")
    return alerts, old, other


def band(rows: list[dict], low: float) -> dict:
    return next(r for r in rows if r["low"] == low)


def test_reliability_counts_decisions_per_band_on_both_stores(store, decided):
    alerts, old, other = decided
    r = reliability(store.export(AlertQuery(marks=["九阳"])))
    d = r.to_dict()
    assert d["total"]["alerts"] == 11 and d["total"]["decided"] == 7 and d["total"]["confirmed"] == 3
    assert d["derived"] == 1
    top = band(d["by_score"], 0.95)
    assert (top["alerts"], top["decided"], top["confirmed"], top["share"], top["predicted"]) == (4, 3, 2, 0.6667, 0.98)
    nine = band(d["by_score"], 0.9)
    assert (nine["alerts"], nine["decided"], nine["confirmed"], nine["share"]) == (3, 2, 1, 0.5)
    seven = band(d["by_score"], 0.7)
    assert (seven["alerts"], seven["decided"], seven["confirmed"], seven["share"]) == (3, 2, 0, 0.0)
    low = band(d["by_score"], 0.0)
    assert (low["alerts"], low["decided"], low["share"], low["predicted"], low["ci95"]) == (1, 0, None, None, None)
    # "Of alerts scored ≥ 0.9, what share did analysts confirm": 3 of 5 decided, the calibration said ~95 %.
    at9 = band(d["score_at_least"], 0.9)
    assert (at9["alerts"], at9["decided"], at9["confirmed"], at9["share"]) == (7, 5, 3, 0.6)
    assert at9["predicted"] == round((3 * 0.98 + 2 * 0.90) / 5, 4)
    lo, hi = wilson(3, 5)
    assert at9["ci95"] == [round(lo, 4), round(hi, 4)] and lo < 0.6 < hi
    # Per probability band (the old alert's comes from its score, so only its count is fixed here).
    old_low = max(b["low"] for b in d["by_probability"] if b["low"] <= probability_of(0.75))
    assert band(d["by_probability"], 0.95)["alerts"] == 4 + (old_low == 0.95)
    assert band(d["by_probability"], 0.9)["decided"] == 2
    assert sum(b["alerts"] for b in d["by_probability"]) == 11
    assert band(d["by_probability"], old_low)["alerts"] >= 1
    # Everything (both marks): the listing of 立白 adds one confirmed alert at the top.
    assert reliability(store.export(AlertQuery())).total.confirmed == 4


def test_calibration_command_prints_tables_and_json(store, decided, app, tmp_path, monkeypatch):
    cfg = config_for(store, tmp_path, monkeypatch)
    runner = CliRunner(env={"COLUMNS": "200", "MARKWATCH_LANG": "en"})
    r = runner.invoke(app, ["alerts", "calibration", "--mark", "九阳", "-c", cfg])
    assert r.exit_code == 0, r.output
    out = r.output
    for title in ("By score", "By calibrated probability", "Scored at least"):
        assert title in out
    row = next(line for line in out.splitlines() if "≥ 0.90" in line)
    assert re.findall(r"\d+%?(?:–\d+%)?", row.split("≥ 0.90")[1])[:5] == ["7", "5", "3", "60%", "23%–88%"]
    assert "11 alert(s), 7 decided, 3 confirmed (43%)" in " ".join(out.split())
    assert "1 alert(s) were stored before probabilities were kept" in " ".join(out.split())

    r = runner.invoke(app, ["alerts", "calibration", "--mark", "九阳", "--json", "-c", cfg])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert band(doc["score_at_least"], 0.9)["share"] == 0.6 and doc["total"]["alerts"] == 11
    r = runner.invoke(app, ["alerts", "calibration", "--format", "json", "--kind", "listing", "-c", cfg])
    doc = json.loads(r.stdout)
    assert (doc["total"]["alerts"], doc["total"]["confirmed"], doc["derived"]) == (1, 1, 0)
    r = runner.invoke(app, ["alerts", "calibration", "--format", "xml", "-c", cfg])
    assert r.exit_code == 2


def test_decision_rules(make_alert):
    a = make_alert()
    assert decision(a) is None
    from alerts.model import reviewed

    for status, want in (("confirmed", True), ("escalated", True), ("resolved", True), ("dismissed", False)):
        assert decision(reviewed(a, status, "", "li", T0)) is want
    assert decision(reviewed(a, "dismissed", RESCREEN_NOTE, "li", T0)) is None
    back = reviewed(reviewed(a, "confirmed", "", "li", T0), "new", "reopened", "li", T0)
    assert decision(back) is None
    assert wilson(0, 0) is None and wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)


# -- the queue's order, filter and display in `alerts search` ---------------------------------


@pytest.fixture
def cli(tmp_path, make_alert, monkeypatch):
    store = SQLiteAlertStore(tmp_path / "var" / "alerts.sqlite")
    alerts = [
        with_p(make_alert("上海九阳电器有限公司", score=0.99), 0.62),
        with_p(make_alert("北京九阳电器有限公司", score=0.80), 0.97),
        with_p(make_alert("九阳豆浆机\u202e包邮 <b>[red]x[/red]</b>", kind="listing", score=0.85), 0.9),
    ]
    store.upsert(alerts)
    cfg = config_for(store, tmp_path, monkeypatch)
    store.close()
    return cfg, alerts, CliRunner(env={"COLUMNS": "200", "MARKWATCH_LANG": "en"})


def test_search_sorts_by_probability_filters_and_shows_it(app, cli):
    cfg, alerts, runner = cli
    r = runner.invoke(app, ["alerts", "search", "--format", "json", "-c", cfg])
    assert [a["probability"] for a in json.loads(r.stdout)["items"]] == [0.97, 0.9, 0.62]
    r = runner.invoke(app, ["alerts", "search", "--format", "json", "--sort", "-score", "-c", cfg])
    assert [a["score"] for a in json.loads(r.stdout)["items"]] == [0.99, 0.85, 0.8]
    r = runner.invoke(app, ["alerts", "search", "--format", "json", "--sort", "probability", "-c", cfg])
    assert [a["probability"] for a in json.loads(r.stdout)["items"]] == [0.62, 0.9, 0.97]
    r = runner.invoke(app, ["alerts", "search", "--format", "json", "--min-probability", "0.9", "-c", cfg])
    assert json.loads(r.stdout)["total"] == 2
    r = runner.invoke(app, ["alerts", "search", "--min-probability", "1.5", "-c", cfg])
    assert r.exit_code == 2
    r = runner.invoke(app, ["alerts", "search", "--sort", "chance", "-c", cfg])
    assert r.exit_code == 2 and "--sort" in r.stderr

    r = runner.invoke(app, ["alerts", "search", "-c", cfg])
    assert r.exit_code == 0, r.output
    lines = [line for line in r.output.splitlines() if "est." in line]
    assert [re.search(r"est\. (\S+ %)", line).group(1) for line in lines] == ["97 %", "90 %", "62 %"]
    assert "⟨U+202E⟩" in r.output and "[red]x[/red]" in r.output  # shown, neither obeyed nor styled

    r = runner.invoke(app, ["alerts", "show", alerts[1].id, "-c", cfg])
    assert "est. 97 % worth a look" in r.output
    r = runner.invoke(app, ["alerts", "export", "--format", "csv", "--min-probability", "0.95", "-c", cfg])
    lines = r.stdout.splitlines()
    assert lines[0].split(",")[4:6] == ["score", "probability"] and lines[1].split(",")[4:6] == ["0.800", "0.9700"]


def test_search_shows_a_derived_probability_for_old_alerts(app, tmp_path, make_alert, monkeypatch):
    store = SQLiteAlertStore(tmp_path / "a.sqlite")
    old = make_alert(score=0.9)
    store_as_before(store, [old])
    cfg = config_for(store, tmp_path, monkeypatch)
    store.close()
    runner = CliRunner(env={"COLUMNS": "200", "MARKWATCH_LANG": "en"})
    r = runner.invoke(app, ["alerts", "show", old.id, "-c", cfg])
    assert r.exit_code == 0, r.output
    pct = round(probability_of(0.9) * 100)
    assert f"est. {pct} % worth a look (from the score" in " ".join(r.output.split())
    r = runner.invoke(app, ["alerts", "search", "--format", "json", "-c", cfg])
    assert json.loads(r.stdout)["items"][0]["probability"] == probability_of(0.9)
    r = runner.invoke(app, ["alerts", "migrate", "-c", cfg])
    assert "1 alert(s) were given the calibrated probability" in " ".join(r.output.split())
    r = runner.invoke(app, ["alerts", "migrate", "-c", cfg])
    assert "0 alert(s) were given the calibrated probability" in " ".join(r.output.split())
    r = runner.invoke(app, ["alerts", "show", old.id, "-c", cfg])
    assert "from the score" not in r.output


def test_percent_is_what_an_analyst_reads():
    from alerts.present import percent, worth_a_look

    assert [percent(p) for p in (0.9804, 0.8571, 0.5, 0.004, 0.0, 0.996, 1.0)] == [
        "98 %",
        "86 %",
        "50 %",
        "<1 %",
        "<1 %",
        ">99 %",
        ">99 %",
    ]
    assert worth_a_look(0.93) == "est. 93 % worth a look"
