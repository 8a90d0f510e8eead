"""Values and pages kept only in part say so: the original size (or "more than N"), the SHA-256 of what was kept.

A real site on 127.0.0.1 serves a listing with a 90,000-character title and a page that declares
1,000,000 bytes but stops after a few thousand; a real crawl stores the alerts and the evidence.
The evidence store's own cut (MAX_BODY) is checked on a real SQLite file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from crawler_fixtures import run_crawl

from alerts import evidence as ev_mod
from alerts.evidence import EvidenceStore
from crawler.demo.hostile import source_yaml

LONG_TITLE = "A货 立白洗衣液 2kg " + "超值装" * 30_000
DECLARED = 1_000_000
HUGE = 3 * 1024 * 1024


def _page(titles: list[str]) -> bytes:
    lis = "".join(
        f'<li class="item"><a class="t" href="/x/item/i{i}">{t}</a><span class="p">9.90</span></li>'
        for i, t in enumerate(titles)
    )
    return f"<html><body><ul>{lis}</ul></body></html>".encode()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def do_GET(self):  # noqa: N802
        if self.path == "/robots.txt":
            body = b"User-agent: *\nAllow: /\n"
        elif self.path.startswith("/big/list?page=1"):
            body = _page([LONG_TITLE])
        elif self.path.startswith(("/huge/list?page=1", "/stream/list?page=1")):
            # 3 MB of padding: with its length declared, or (stream) delimited by closing the connection.
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if self.path.startswith("/huge/"):
                self.send_header("Content-Length", str(HUGE))
            self.end_headers()
            try:
                for _ in range(HUGE // 65536):
                    self.wfile.write(b" " * 65536)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the crawler stopped reading: that is the point
            self.close_connection = True
            return
        elif self.path.startswith("/cut/list?page=1"):
            # Declares a megabyte, sends the first rows and a little padding, then hangs up.
            head = _page(["高仿 九阳豆浆机 家用"])[: -len(b"</ul></body></html>")] + b"<!--" + b"x" * 4000
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(DECLARED))
            self.end_headers()
            self.wfile.write(head)
            self.wfile.flush()
            self.close_connection = True
            return
        else:
            body = _page([])
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _alerts(tmp) -> list[dict]:
    con = sqlite3.connect(tmp / "alerts.sqlite")
    try:
        return [json.loads(r[0]) for r in con.execute("SELECT doc FROM alerts")]
    finally:
        con.close()


def test_cut_title_and_stopped_page_are_recorded_as_such(tmp_path, site):
    for fault in ("big", "cut"):
        (tmp_path / f"t-{fault}.yaml").write_text(source_yaml(fault, site, f"t-{fault}"), encoding="utf-8")
    stats = run_crawl(
        ["t-big", "t-cut"],
        site,
        tmp_path,
        "--sources-dir",
        str(tmp_path),
        "--set",
        "DOWNLOAD_FAIL_ON_DATALOSS=false",
    )
    assert stats["t-big"]["alerts_new"] >= 1 and stats["t-cut"]["alerts_new"] >= 1, stats
    alerts = {a["source"]: a for a in _alerts(tmp_path)}

    # The title: cut to 1,000 characters for screening and storing, and the record says so.
    big = alerts["t-big"]
    title = big["item"]["title"]
    assert len(title) == 1000
    assert big["item"]["truncated"]["title"] == {
        "original_chars": len(LONG_TITLE),
        "kept_chars": 1000,
        "sha256": hashlib.sha256(title.encode()).hexdigest(),
    }
    store = EvidenceStore(tmp_path / "evidence.sqlite")
    try:
        whole = store.get(big["evidence_id"])
        assert not whole.truncated and whole.original_size is None  # the page itself came whole
        assert whole.body == _page([LONG_TITLE])

        # The page that stopped: what arrived is kept and hashed, with the size the site declared.
        cut = store.get(alerts["t-cut"]["evidence_id"])
        assert cut.truncated and (cut.original_size, cut.size_exact) == (DECLARED, True)
        assert cut.id == hashlib.sha256(cut.body).hexdigest() and 4000 < len(cut.body) < DECLARED
        assert cut.captures[0].size_note(len(cut.body)) == f"truncated: first {len(cut.body)} bytes of {DECLARED} bytes"
        assert "truncated" not in alerts["t-cut"]["item"]  # its text fields were short
    finally:
        store.close()


def test_evidence_over_max_body_keeps_the_first_part_and_says_so(tmp_path):
    store = EvidenceStore(tmp_path / "evidence.sqlite")
    at = datetime(2025, 6, 30, 8, 0, tzinfo=UTC)
    try:
        body = b"<html>" + b"0123456789" * (ev_mod.MAX_BODY // 10) + b"</html>"
        eid = store.put("http://127.0.0.1/p", at, 200, {}, body)
        got = store.get(eid)
        assert len(got.body) == ev_mod.MAX_BODY and got.body == body[: ev_mod.MAX_BODY]
        assert eid == hashlib.sha256(got.body).hexdigest()
        assert got.truncated and (got.original_size, got.size_exact) == (len(body), True)
        assert "of more than" not in got.captures[0].size_note(len(got.body))
        # A download that stopped: "more than" what arrived.
        eid2 = store.put("http://127.0.0.1/q", at, 200, {}, b"partial", original_size=7, size_exact=False)
        cap = store.get(eid2).captures[0]
        assert cap.truncated and cap.size_note(7) == "truncated: first 7 bytes of more than 7 bytes"
        # A whole page says nothing of the kind.
        whole = store.get(store.put("http://127.0.0.1/r", at, 200, {}, b"whole"))
        assert not whole.truncated and whole.original_size is None and whole.captures[0].size_note(5) == ""
    finally:
        store.close()


def test_an_evidence_file_from_before_gets_the_new_columns(tmp_path):
    path = tmp_path / "evidence.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE evidence (id TEXT PRIMARY KEY, size INTEGER NOT NULL, body BLOB NOT NULL);"
        "CREATE TABLE captures (evidence_id TEXT NOT NULL, url TEXT NOT NULL, fetched_at TEXT NOT NULL,"
        " status INTEGER NOT NULL, headers TEXT NOT NULL, UNIQUE (evidence_id, url, fetched_at));"
    )
    import zlib

    body = b"old page"
    eid = hashlib.sha256(body).hexdigest()
    con.execute("INSERT INTO evidence VALUES (?, ?, ?)", (eid, len(body), zlib.compress(body)))
    con.execute("INSERT INTO captures VALUES (?, 'http://a/', '2025-01-01T00:00:00.000000Z', 200, '{}')", (eid,))
    con.commit()
    con.close()
    store = EvidenceStore(path)
    try:
        old = store.get(eid)
        assert old.body == body and not old.truncated and old.original_size is None
        new = store.get(store.put("http://b/", datetime.now(UTC), 200, {}, b"x" * 10, original_size=99))
        assert new.truncated and new.original_size == 99
    finally:
        store.close()


def test_a_dossier_names_a_page_kept_in_part(tmp_path, make_alert):
    """The capture.json handed to an authority says what part of the page the evidence holds."""
    from alerts.cases.dossier import DossierOptions, build_dossier
    from alerts.cases.service import file_case, open_case
    from alerts.cases.sqlite import SQLiteCaseStore
    from alerts.sqlite_store import SQLiteAlertStore
    from matcher.marksfile import parse_marks

    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    ev = EvidenceStore(tmp_path / "evidence.sqlite")
    try:
        at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
        page = "<html><body><h1>上海九阳电器有限公司</h1>".encode()
        eid = ev.put("http://127.0.0.1:8700/c/1", at, 200, {}, page, original_size=DECLARED)
        a = make_alert(item={"url": "http://127.0.0.1:8700/c/1"}, evidence_id=eid)
        store.upsert([a])
        store.review([a.id], "confirmed", now=at)
        cases = SQLiteCaseStore(store.db)
        case = open_case(store, cases, [a.id], who="ana", now=at)
        case = file_case(cases, case.id, to="上海市市场监督管理局", who="ana", now=at)
        marks = parse_marks("marks:\n  - name: 九阳\n    owner: 九阳股份有限公司\n", "marks.yaml")
        opts = DossierOptions(timeout=90, screenshots=False, pdf=False)
        folder = build_dossier(case, store.get_many(case.alert_ids), ev, marks, tmp_path / "d", opts=opts, now=at)
    finally:
        ev.close()
        store.close()
    (capture,) = [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("evidence/*/capture.json")]
    assert capture["sha256"] == eid == hashlib.sha256(page).hexdigest()
    assert capture["captures"][0]["truncated"] == f"truncated: first {len(page)} bytes of {DECLARED} bytes"


def test_a_page_over_the_size_limit_is_noted_with_its_size(tmp_path, site):
    """Declared too large: its declared size; read until the limit: "more than" the limit, nothing past it."""
    for fault in ("huge", "stream"):
        (tmp_path / f"t-{fault}.yaml").write_text(source_yaml(fault, site, f"t-{fault}"), encoding="utf-8")
    stats = run_crawl(
        ["t-huge", "t-stream"], site, tmp_path, "--sources-dir", str(tmp_path), "--set", "DOWNLOAD_MAXSIZE=1000000"
    )
    assert stats["t-huge"]["reason"] == f"too large: body over the size limit ({HUGE} bytes declared, limit 1000000)"
    assert (
        stats["t-stream"]["reason"] == "too large: body over the size limit (more than 1000000 bytes; reading stopped)"
    )
    assert stats["t-huge"]["pages"] == stats["t-stream"]["pages"] == 0


def test_alerts_show_says_the_evidence_was_kept_in_part(tmp_path, make_alert, monkeypatch):
    """The analyst reading an alert learns the page was cut, from the CLI as from the dossier."""
    import typer
    from typer.testing import CliRunner

    from alerts.sqlite_store import SQLiteAlertStore
    from markwatch.cli import alerts as cmd_alerts

    for var in [v for v in list(__import__("os").environ) if v.startswith("MARKWATCH_")]:
        monkeypatch.delenv(var)
    at = datetime(2025, 6, 30, 8, 0, tzinfo=UTC)
    ev = EvidenceStore(tmp_path / "evidence.sqlite")
    eid = ev.put("http://127.0.0.1/p", at, 200, {}, b"partial page", original_size=12, size_exact=False)
    ev.close()
    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    alert = make_alert(evidence_id=eid)
    store.upsert([alert])
    store.close()
    cfg = tmp_path / "markwatch.toml"
    cfg.write_text(f'[store]\nsqlite_path = "{tmp_path / "alerts.sqlite"}"\n', encoding="utf-8")
    app = typer.Typer()
    cmd_alerts.register(app)

    @app.callback()
    def _root() -> None:
        """markwatch (test root)."""

    runner = CliRunner(env={"COLUMNS": "200"})
    r = runner.invoke(app, ["alerts", "show", alert.id, "-c", str(cfg)])
    assert r.exit_code == 0, r.output
    assert "truncated: first 12 bytes of more than 12 bytes" in r.output
    r = runner.invoke(app, ["alerts", "show", alert.id, "--format", "json", "-c", str(cfg)])
    assert json.loads(r.stdout)["evidence"]["truncated"] is True
