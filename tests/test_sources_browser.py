"""`render: browser`: a page whose items exist only after its script runs, through headless Chromium."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from crawler_fixtures import start_server
from scan_support import ROOT, cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _config(tmp, url, source):
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "marks.yaml").write_text(
        "marks:\n  - name: 一正\n    owner: 吉林一正药业集团有限公司\n    classes: [5]\n    industries: [医药]\n",
        encoding="utf-8",
    )
    cfg = tmp / "markwatch.toml"
    cfg.write_text(
        f"""
[marks]
path = "{tmp}/marks.yaml"
[store]
sqlite_path = "{tmp}/var/alerts.sqlite"
[notify]
enabled = false
[scan]
sources = ["{source}"]
state_dir = "{tmp}/var/state"
base_url = "{url}"
loopback = true
""",
        encoding="utf-8",
    )
    return cfg


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian chromium not installed (scripts/test-deps)")
def test_browser_rendered_page_gives_items_plain_http_gives_none(tmp_path):
    srv = start_server(fail_every=0, slow_every=0, companies=200, listings=400)
    try:
        cfg = _config(tmp_path / "browser", srv.url, "demo-market-app")
        p = cli("scan", "--config", str(cfg), "--json", "--no-progress", timeout=400)
        assert p.returncode in (0, 1), p.stderr[-2000:]
        src = json.loads(p.stdout)["sources"][0]
        rendered = cli("sources", "check", "demo-market-app", "--keyword", "一正", "--base-url", srv.url, "--json")
        # The same file without the browser: the HTML shell holds no item, and check says so (exit 1).
        text = (ROOT / "crawler" / "sources" / "demo-market-app.yaml").read_text("utf-8")
        text = text.replace("render: browser\n", "").replace("wait_for:", "# wait_for:")
        (tmp_path / "plain.yaml").write_text(text.replace("name: demo-market-app", "name: plain-app"), "utf-8")
        plain = cli("sources", "check", str(tmp_path / "plain.yaml"), "-k", "一正", "--base-url", srv.url, "--json")
    finally:
        srv.stop()
    world_hits = len(srv.state.world.search_listings("一正"))
    assert world_hits > 0
    assert src["items"] >= world_hits and not src["degraded"], src
    con = sqlite3.connect(tmp_path / "browser" / "var" / "alerts.sqlite")
    docs = [json.loads(r[0]) for r in con.execute("SELECT doc FROM alerts")]
    con.close()
    assert all(d["item"]["title"] and d["item"]["url"].startswith(srv.url) for d in docs)
    shown = json.loads(rendered.stdout)
    for row in shown["rows"]:  # every field of every rendered row filled
        assert all(f["value"] for f in row), row
    assert shown["rows"] and {f["name"] for f in shown["rows"][0]} == {"title", "url", "price", "seller"}
    assert json.loads(rendered.stdout)["row_count"] > 0 and rendered.returncode == 0  # check renders too
    assert plain.returncode == 1 and json.loads(plain.stdout)["row_count"] == 0
