"""Issue 22's table, measured: each shape scanned by a real `markwatch scan --source NAME` against the
loopback replicas in tests/platform_replay.py (never the real hosts).

For each row: the source's state and reason, items, the fields filled in the stored alerts' items
(field: alerts with a value / alerts), the calls the replay received (by API), and the time taken.
Run by hand (a few minutes on two cores):

    .venv/bin/python benchmarks/bench_sources_table.py [--marks FILE] [--only NAME…] [--json OUT]

With `--marks markwatch/demo/marks.yaml` it gives the calls per scan of the shipped platform sources
for the demo's 31 marks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from platform_replay import ENV, PlatformServer  # noqa: E402
from test_sources_api import MARKS  # noqa: E402
from test_sources_shapes import ASMX, DAILY, GBK, JSONP, OAUTH, XML  # noqa: E402

SHIPPED = ROOT / "crawler" / "sources"
TODAY_CST = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()


def _stale() -> str:
    text = (SHIPPED / "taobao-tbk.yaml").read_text("utf-8").replace("name: taobao-tbk", "name: taobao-stale")
    return text.replace("  timezone: Asia/Shanghai\n", "  timezone: Asia/Shanghai\n  clock_offset: -900\n")


def _dead_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# (row label, source name, file text or None for the shipped one, api names in the replay log, extra args, env)
ROWS: list[tuple[str, str, str | None, tuple[str, ...], tuple[str, ...], dict[str, str]]] = [
    ("Taobao TOP md5 (taobao-tbk)", "taobao-tbk", None, ("top",), (), {}),
    ("Taobao, wrong secret", "taobao-tbk", None, ("top",), (), {"TAOBAO_APP_SECRET": "wrong"}),
    ("Taobao, stale timestamp (clock 15 min behind)", "taobao-stale", _stale(), ("top",), (), {}),
    ("JD Union (jd-union)", "jd-union", None, ("jd",), (), {}),
    ("JD Union, wrong key", "jd-union", None, ("jd",), (), {"JD_APP_KEY": "wrong"}),
    ("Pinduoduo (pdd-ddk)", "pdd-ddk", None, ("pdd",), (), {}),
    ("Pinduoduo, wrong secret", "pdd-ddk", None, ("pdd",), (), {"PDD_CLIENT_SECRET": "wrong"}),
    ("OAuth2 client credentials", "oauth-goods", OAUTH, ("token", "oauth"), (), {}),
    ("OAuth2, token revoked after 2 calls", "oauth-goods", OAUTH, ("token", "oauth"), ("token_uses=2",), {}),
    ("OAuth2, wrong client secret", "oauth-goods", OAUTH, ("token", "oauth"), (), {"OAUTH_CLIENT_SECRET": "wrong"}),
    ("JSONP", "jsonp-goods", JSONP, ("jsonp",), (), {}),
    ("GBK legacy JSON (query as GBK)", "gbk-registry", GBK, ("gbk",), (), {}),
    ("XML, SAMR names, GBK prolog", "samr-xml", XML, ("xml",), (), {}),
    ("XML inside an .asmx <string>", "asmx-registry", ASMX, ("asmx",), (), {}),
    ("Bureau daily list, published day", "bureau-daily", DAILY, ("bureau",), ("--date", "2026-12-06"), {}),
    ("Bureau daily list, today not yet published", "bureau-daily", DAILY, ("bureau",), ("--date", TODAY_CST), {}),
    ("Dead host (connection refused)", "jsonp-goods", JSONP.replace("max_terms: 2", "max_terms: 8"), (), ("dead",), {}),
]


def config(tmp: Path, marks: str, url: str, name: str) -> Path:
    (tmp / "marks.yaml").write_text(marks, encoding="utf-8")
    cfg = tmp / "markwatch.toml"
    cfg.write_text(
        f'[marks]\npath = "{tmp}/marks.yaml"\n[store]\nsqlite_path = "{tmp}/var/alerts.sqlite"\n'
        f'[notify]\noutbox_dir = "{tmp}/var/outbox"\n[scan]\nstate_dir = "{tmp}/var/state"\nloopback = true\n'
        f'sources = ["{name}"]\nsources_dirs = ["{tmp}/sources"]\nbase_url = "{url}"\n'
        f'log_level = "INFO"\nlog_file = "{tmp}/var/scan.log"\n'
        f'scrapy = {{FEEDS = {{"{tmp}/items.jsonl" = {{format = "jsonlines", encoding = "utf8"}}}}}}\n',
        encoding="utf-8",
    )
    return cfg


def alerts(tmp: Path) -> list[dict]:
    db = tmp / "var" / "alerts.sqlite"
    if not db.exists():
        return []
    con = sqlite3.connect(db)
    try:
        return [json.loads(r[0]) for r in con.execute("SELECT doc FROM alerts")]
    finally:
        con.close()


def filled(docs: list[dict], fields: list[str]) -> str:
    if not docs:
        return "-"
    out = []
    for f in fields:
        n = sum(1 for d in docs if (d.get("item") or {}).get(f) not in (None, "", []))
        out.append(f"{f} {n}/{len(docs)}")
    return ", ".join(out)


def declared_fields(name: str, text: str | None) -> list[str]:
    import yaml

    data = yaml.safe_load(text if text is not None else (SHIPPED / f"{name}.yaml").read_text("utf-8"))
    names = list((data.get("pages") or {}).get("fields") or {})
    names += [f for f in (data.get("detail") or {}).get("fields") or {} if f not in names]
    return names


def run_row(row, marks: str, workdir: Path) -> dict:
    label, name, text, apis, extra, env = row
    tmp = Path(tempfile.mkdtemp(prefix="s22-", dir=workdir))
    (tmp / "sources").mkdir()
    if text is not None:
        (tmp / "sources" / f"{name}.yaml").write_text(text, encoding="utf-8")
    kw = {}
    args = list(extra)
    if "token_uses=2" in args:
        args.remove("token_uses=2")
        kw["token_uses"] = 2
    dead = "dead" in args
    if dead:
        args.remove("dead")
    with PlatformServer(**kw) as srv:
        if name == "bureau-daily":
            srv.publish("2026-12-06")
        url = f"http://127.0.0.1:{_dead_port()}" if dead else srv.url
        cfg = config(tmp, marks, url, name)
        cmd = [sys.executable, "-m", "markwatch", "scan", "--config", str(cfg), "--json", "--no-progress", *args]
        t0 = time.monotonic()
        import os

        e = {k: v for k, v in os.environ.items() if not k.startswith("MARKWATCH_")}
        e.update(ENV)
        e.update(env)
        e["PYTHONWARNINGS"] = "ignore"
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=e, timeout=1800)
        took = time.monotonic() - t0
        log = list(srv.log)
    rep = json.loads(p.stdout) if p.stdout.strip().startswith("{") else {"sources": [{}]}
    src = rep["sources"][0] if rep.get("sources") else {}
    docs = alerts(tmp)
    feed = tmp / "items.jsonl"
    items = (
        [{"item": json.loads(x)} for x in feed.read_text("utf-8").splitlines() if x.strip()] if feed.exists() else []
    )
    calls = {a: sum(1 for e in log if e["api"] == a) for a in apis}
    logf = tmp / "var" / "scan.log"
    log_lines = _count(logf, "\n")
    return {
        "row": label,
        "source": name,
        "command": " ".join(["markwatch scan --config <tmp>/markwatch.toml --json --no-progress", *args]),
        "exit": p.returncode,
        "state": src.get("state", "?"),
        "reason": src.get("reason", p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""),
        "items": src.get("items", 0),
        "alerts": len(docs),
        "fields": filled(items, declared_fields(name, text)),
        "exported_items": len(items),
        "connection_attempts": _refused_attempts(logf),
        "log_lines_refused": _count(logf, "connection refused"),
        "calls": calls,
        "terms": None,
        "seconds": round(took, 1),
        "log_lines": log_lines,
    }


def _count(path: Path, text: str) -> int:
    return path.read_text("utf-8", "replace").lower().count(text) if path.exists() else 0


def _refused_attempts(path: Path) -> int:
    """Connection attempts refused, from the stats Scrapy logs at the end (downloader/exception_type_count)."""
    import re

    if not path.exists():
        return 0
    m = re.search(r"exception_type_count/[\w.]*ConnectionRefusedError': (\d+)", path.read_text("utf-8", "replace"))
    return int(m.group(1)) if m else 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--marks", help="marks file (default: the tests' 一正 and 九阳)")
    ap.add_argument("--only", nargs="*", help="row labels or source names to run")
    ap.add_argument("--json", help="write the results here too")
    a = ap.parse_args()
    marks = Path(a.marks).read_text("utf-8") if a.marks else MARKS
    rows = [r for r in ROWS if not a.only or r[1] in a.only or r[0] in a.only]
    out = []
    with tempfile.TemporaryDirectory(prefix="s22-table-") as d:
        for row in rows:
            res = run_row(row, marks, Path(d))
            out.append(res)
            print(json.dumps(res, ensure_ascii=False), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
