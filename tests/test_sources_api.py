"""Real API shapes end to end through `markwatch scan --source`, against loopback replays (tests/sources_replay.py)."""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path

import pytest
from scan_support import cli
from sources_replay import ENV, SECRETS, ReplayServer

MARKS = """marks:
  - name: 一正
    owner: 吉林一正药业集团有限公司
    well_known: true
    classes: [5]
    industries: [医药, 药业, 制药]
    whitelist: [吉林一正药业集团有限公司]
  - name: 九阳
    owner: 九阳股份有限公司
    classes: [7, 11, 21]
    industries: [小家电, 电器]
"""


def config(tmp: Path, url: str, sources: list[str], extra: str = "") -> Path:
    (tmp / "marks.yaml").write_text(MARKS, encoding="utf-8")
    cfg = tmp / "markwatch.toml"
    cfg.write_text(
        f"""
[marks]
path = "{tmp}/marks.yaml"
[store]
sqlite_path = "{tmp}/var/alerts.sqlite"
[notify]
outbox_dir = "{tmp}/var/outbox"
[scan]
sources = {json.dumps(sources)}
sources_dirs = ["{tmp}/sources"]
state_dir = "{tmp}/var/state"
base_url = "{url}"
loopback = true
log_level = "DEBUG"
log_file = "{tmp}/var/scan.log"
{extra}
""",
        encoding="utf-8",
    )
    return cfg


def scan(cfg: Path, *args: str, **env: str):
    p = cli("scan", "--config", str(cfg), "--json", "--no-progress", *args, **env)
    data = json.loads(p.stdout) if p.stdout.strip().startswith("{") else None
    return p, data


def stored(tmp: Path) -> list[dict]:
    con = sqlite3.connect(tmp / "var" / "alerts.sqlite")
    try:
        return [json.loads(r[0]) for r in con.execute("SELECT doc FROM alerts")]
    finally:
        con.close()


def everything_written(tmp: Path) -> bytes:
    """Every byte the scan wrote under tmp, with zlib-compressed evidence bodies inflated."""
    out = []
    for f in sorted((tmp / "var").rglob("*")):
        if f.is_file():
            out.append(f.read_bytes())
    ev = tmp / "var" / "evidence.sqlite"
    if ev.exists():
        con = sqlite3.connect(ev)
        try:
            for (blob,) in con.execute("SELECT body FROM evidence"):
                out.append(zlib.decompress(blob) if blob else b"")
        finally:
            con.close()
    return b"\n".join(out)


@pytest.fixture()
def replay():
    with ReplayServer() as srv:
        yield srv


def test_qcc_signed_search_finds_variants_and_keeps_secrets_out(tmp_path, replay):
    cfg = config(tmp_path, replay.url, [])
    p, rep = scan(cfg, "--source", "qcc-search", **ENV)
    assert rep is not None, p.stderr[-2000:]
    src = rep["sources"][0]
    assert src["items"] > 0 and not src["degraded"], src
    names = {a["item"]["name"] for a in stored(tmp_path)}
    # A substring search for 一正 cannot return these: the ranked variants asked for them by name.
    assert "湖北壹正药业有限公司" in names and "依正医药科技(上海)有限公司" in names
    assert "吉林一正药业集团有限公司" not in names  # the owner, whitelisted
    a = next(a for a in stored(tmp_path) if a["item"]["name"] == "湖北壹正药业有限公司")
    assert a["item"]["uscc"] == "91420100MA4KXXXX0X" and a["item"]["legal_rep"] == "张三"
    assert a["item"]["established"] == "2018-05-16" and a["item"]["status"] == "存续"
    terms = [e["keyword"] for e in replay.log]
    assert "壹正" in terms and "依正" in terms and len(set(terms)) <= 16  # max_terms 8 per mark
    # every request freshly signed: the server rejected none
    written = everything_written(tmp_path) + p.stdout.encode() + p.stderr.encode()
    runs = cli("runs", "--config", str(cfg))
    written += runs.stdout.encode() + runs.stderr.encode()
    for secret in SECRETS:
        assert secret.encode() not in written, secret
    assert b"DEBUG" in (tmp_path / "var" / "scan.log").read_bytes()  # the debug log was written, and checked


def test_qcc_wrong_secret_is_refused_and_degraded(tmp_path, replay):
    cfg = config(tmp_path, replay.url, ["qcc-search"])
    p, rep = scan(cfg, **{**ENV, "QCC_SECRET_KEY": "not-the-secret"})
    src = rep["sources"][0]
    assert p.returncode == 1 and src["degraded"] and src["items"] == 0
    assert "refused" in src["degraded_reason"] and "签名错误" in src["degraded_reason"]
    assert "not-the-secret" not in everything_written(tmp_path).decode("utf-8", "replace")


def test_qcc_stale_signature_is_refused(tmp_path, replay):
    """A signer that froze its timestamp (once per scan) would be refused like this after 5 minutes."""
    (tmp_path / "sources").mkdir()
    (tmp_path / "stale.py").write_text(
        "import time\nfrom crawler.signers import md5_token, SignedRequest\n"
        "def sign(spec, req):\n    req.now = time.time() - 600\n    md5_token(spec, req)\n",
        encoding="utf-8",
    )
    text = (Path(__file__).parents[1] / "crawler" / "sources" / "qcc-search.yaml").read_text("utf-8")
    (tmp_path / "sources" / "qcc-stale.yaml").write_text(
        text.replace("name: qcc-search", "name: qcc-stale").replace("signer: md5_token", "signer: stale:sign"),
        encoding="utf-8",
    )
    cfg = config(tmp_path, replay.url, ["qcc-stale"])
    p, rep = scan(cfg, **ENV, PYTHONPATH=str(tmp_path))
    src = rep["sources"][0]
    assert src["degraded"] and "103" in src["degraded_reason"], src


def test_missing_secret_is_one_line_exit_2(tmp_path, replay):
    cfg = config(tmp_path, replay.url, ["tyc-search"])
    p, _ = scan(cfg)
    assert p.returncode == 2
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "tyc-search.yaml" in lines[0] and "TYC_TOKEN" in lines[0] and "headers" in lines[0]


def test_tyc_token_search(tmp_path, replay):
    cfg = config(tmp_path, replay.url, ["tyc-search"])
    p, rep = scan(cfg, **ENV)
    src = rep["sources"][0]
    assert src["items"] > 0 and not src["degraded"], (src, p.stderr[-1500:])
    items = {a["item"]["name"]: a["item"] for a in stored(tmp_path)}
    it = items["湖北壹正药业有限公司"]
    assert it["uscc"] == "91420100MA4KXXXX0X" and it["legal_rep"] == "张三" and it["status"] == "存续"
    assert it["capital"] == "1000万人民币" and it["address"] == "sh"
    # pages: 成都一正第N分公司 × 45 for 一正 → 3 pages of 20 (total known, no 4th call)
    pages = sorted(int(e["page"]) for e in replay.log if e["keyword"] == "一正")
    assert pages == [1, 2, 3]


def test_tyc_bad_token_is_refused(tmp_path, replay):
    cfg = config(tmp_path, replay.url, ["tyc-search"])
    p, rep = scan(cfg, **{**ENV, "TYC_TOKEN": "wrong-token-value"})
    src = rep["sources"][0]
    assert src["degraded"] and "300006" in src["degraded_reason"] and src["items"] == 0


POST_SOURCE = """
name: post-api
kind: registry
mode: search
pages:
  url: "{base}/api/search"
  method: POST
  body: {query: {keyword: "{keyword}"}, offset: "{offset}", limit: "{size}"}
  page_size: 10
  format: json
  rows: data.list
  fields:
    name: {json: entName}
  total: data.total
  max_pages: 10
detail:
  url: "{base}/api/detail/{row.id}"
  format: json
  fields:
    name: {json: data.entName}
    uscc: {json: data.uscc}
    status: {json: data.status}
    established: {json: data.estDate}
    legal_rep: {json: data.rep}
headers:
  X-Api-Key: "${DEMO_API_KEY}"
keywords: [壹正]
max_terms: 1
error: {json: code, ok: ["0"]}
"""


def test_post_search_offset_paging_and_json_detail(tmp_path, replay):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "post-api.yaml").write_text(POST_SOURCE, encoding="utf-8")
    cfg = config(tmp_path, replay.url, ["post-api"])
    p, rep = scan(cfg, **ENV)
    src = rep["sources"][0]
    assert not src["degraded"] and src["items"] > 45, (src, p.stderr[-1500:])
    offsets = sorted(e["offset"] for e in replay.log if e["keyword"] == "一正")
    assert offsets == [0, 10, 20, 30, 40]  # 46 rows (45 分公司 + the owner), 10 a page, total known
    items = {a["item"]["name"]: a["item"] for a in stored(tmp_path)}
    assert items["湖北壹正药业有限公司"]["legal_rep"] == "张三"
    assert items["湖北壹正药业有限公司"]["established"] == "2018-05-16"


def test_get_to_a_post_endpoint_is_refused(tmp_path, replay):
    (tmp_path / "sources").mkdir()
    text = POST_SOURCE.replace("  method: POST\n", "").replace("  body: {query", "  # body: {query")
    text = text.replace('url: "{base}/api/search"', 'url: "{base}/api/search?q={keyword}"')
    (tmp_path / "sources" / "post-api.yaml").write_text(text, encoding="utf-8")
    cfg = config(tmp_path, replay.url, ["post-api"])
    p, rep = scan(cfg, **ENV)
    src = rep["sources"][0]
    assert src["degraded"] and "HTTP 405" in src["degraded_reason"], src


def test_post_without_key_is_refused(tmp_path, replay):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "post-api.yaml").write_text(POST_SOURCE, encoding="utf-8")
    cfg = config(tmp_path, replay.url, ["post-api"])
    p, rep = scan(cfg, **{**ENV, "DEMO_API_KEY": "wrong"})
    src = rep["sources"][0]
    assert src["degraded"] and "HTTP 401" in src["degraded_reason"] and src["items"] == 0


HMAC_SOURCE = """
name: open-market
kind: marketplace
mode: search
pages:
  url: "{base}/open/search"
  params: {q: "{keyword}", cursor: "{cursor}"}
  format: json
  rows: data.items
  fields:
    title: {json: title}
    seller: {json: shop}
    url: {json: link}
  cursor: data.next_cursor
  max_pages: 10
sign: {signer: hmac_sha256, key: "${OPEN_APP_KEY}", secret: "${OPEN_APP_SECRET}"}
error: {json: success, ok: ["True"], message: msg}
max_terms: 2
"""


def test_hmac_signed_search_with_cursor(tmp_path, replay):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "open-market.yaml").write_text(HMAC_SOURCE, encoding="utf-8")
    cfg = config(tmp_path, replay.url, ["open-market"])
    p, rep = scan(cfg, **ENV)
    src = rep["sources"][0]
    assert not src["degraded"] and src["items"] >= 46, (src, p.stderr[-1500:])
    cursors = [e["cursor"] for e in replay.log if e["keyword"] == "一正"]
    assert cursors == ["", "10", "20", "30", "40"]
    p2, rep2 = scan(cfg, **{**ENV, "OPEN_APP_SECRET": "wrong-secret"})
    assert rep2["sources"][0]["degraded"] and "HTTP 403" in rep2["sources"][0]["degraded_reason"]
    for secret in SECRETS:
        assert secret.encode() not in everything_written(tmp_path)


def test_headers_and_credentials_go_to_their_own_source_only(tmp_path, replay):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "post-api.yaml").write_text(POST_SOURCE, encoding="utf-8")
    cfg = config(tmp_path, replay.url, ["tyc-search", "post-api", "qcc-search"])
    p, rep = scan(cfg, **ENV)
    assert p.returncode == 0 and all(s["items"] > 0 for s in rep["sources"]), p.stderr[-1500:]
    by_path: dict[str, set] = {}
    for e in replay.log:
        by_path.setdefault(e["path"].split("?")[0], set()).update(e["creds"])
    assert by_path["/services/open/search/2.0"] == {"Authorization"}
    assert by_path["/api/search"] == {"X-Api-Key"}
    assert by_path["/FuzzySearch/GetList"] == {"Token", "Timespan"}
