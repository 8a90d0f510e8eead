"""Real API shapes end to end through `markwatch scan --source`, against loopback replays (tests/sources_replay.py)."""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path

import pytest
from scan_support import cli
from sources_replay import ENV, SECRETS, ReplayServer
from sources_support import source_config, stored_alerts

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
    extra = f'log_level = "DEBUG"\nlog_file = "{tmp}/var/scan.log"\n{extra}'
    return source_config(tmp, MARKS, url=url, sources=sources, sources_dir=True, extra=extra)


def scan(cfg: Path, *args: str, **env: str):
    p = cli("scan", "--config", str(cfg), "--json", "--no-progress", *args, **env)
    data = json.loads(p.stdout) if p.stdout.strip().startswith("{") else None
    return p, data


stored = stored_alerts


def scan_one(tmp: Path, url: str, name: str, text: str | None = None, **envs: str):
    """Scan the one source *name* (its file *text* put in tmp/sources first, if given): the process and its stats."""
    if text is not None:
        (tmp / "sources").mkdir(exist_ok=True)
        (tmp / "sources" / f"{name}.yaml").write_text(text, encoding="utf-8")
    p, rep = scan(config(tmp, url, [name]), **{**ENV, **envs})
    assert rep is not None, p.stderr[-2000:]
    return p, rep["sources"][0]


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
    p, src = scan_one(tmp_path, replay.url, "qcc-search", QCC_SECRET_KEY="not-the-secret")
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
    p, src = scan_one(tmp_path, replay.url, "tyc-search")
    assert src["items"] > 0 and not src["degraded"], (src, p.stderr[-1500:])
    items = {a["item"]["name"]: a["item"] for a in stored(tmp_path)}
    it = items["湖北壹正药业有限公司"]
    assert it["uscc"] == "91420100MA4KXXXX0X" and it["legal_rep"] == "张三" and it["status"] == "存续"
    assert it["capital"] == "1000万人民币" and it["address"] == "sh"
    # pages: 成都一正第N分公司 × 45 for 一正 → 3 pages of 20 (total known, no 4th call)
    pages = sorted(int(e["page"]) for e in replay.log if e["keyword"] == "一正")
    assert pages == [1, 2, 3]


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
    p, src = scan_one(tmp_path, replay.url, "post-api", POST_SOURCE)
    assert not src["degraded"] and src["items"] > 45, (src, p.stderr[-1500:])
    offsets = sorted(e["offset"] for e in replay.log if e["keyword"] == "一正")
    assert offsets == [0, 10, 20, 30, 40]  # 46 rows (45 分公司 + the owner), 10 a page, total known
    items = {a["item"]["name"]: a["item"] for a in stored(tmp_path)}
    assert items["湖北壹正药业有限公司"]["legal_rep"] == "张三"
    assert items["湖北壹正药业有限公司"]["established"] == "2018-05-16"


# The same source file, but GET with the keyword in the query: the endpoint answers 405.
GET_SOURCE = (
    POST_SOURCE.replace("  method: POST\n", "")
    .replace("  body: {query", "  # body: {query")
    .replace('url: "{base}/api/search"', 'url: "{base}/api/search?q={keyword}"')
)


@pytest.mark.parametrize(
    ("source", "text", "envs", "reason"),
    [
        ("tyc-search", None, {"TYC_TOKEN": "wrong-token-value"}, "300006"),
        ("post-api", GET_SOURCE, {}, "HTTP 405"),
        ("post-api", POST_SOURCE, {"DEMO_API_KEY": "wrong"}, "HTTP 401"),
    ],
    ids=["tyc-bad-token", "get-to-a-post-endpoint", "post-without-key"],
)
def test_refused_source_is_degraded_with_nothing(tmp_path, replay, source, text, envs, reason):
    p, src = scan_one(tmp_path, replay.url, source, text, **envs)
    assert src["degraded"] and reason in src["degraded_reason"] and src["items"] == 0, src
    assert src["refused"] >= 1 and src["pages"] == 0


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
    p, src = scan_one(tmp_path, replay.url, "open-market", HMAC_SOURCE)
    assert not src["degraded"] and src["items"] >= 46, (src, p.stderr[-1500:])
    cursors = [e["cursor"] for e in replay.log if e["keyword"] == "一正"]
    assert cursors == ["", "10", "20", "30", "40"]
    _, bad = scan_one(tmp_path, replay.url, "open-market", OPEN_APP_SECRET="wrong-secret")
    assert bad["degraded"] and "HTTP 403" in bad["degraded_reason"]
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


PRIOR_MARKS = MARKS.replace(
    "    whitelist: [吉林一正药业集团有限公司]\n",
    "    whitelist: [吉林一正药业集团有限公司]\n    registered: 2017-01-01\n    mode: review\n",
)
DETAIL_SOURCE = POST_SOURCE.replace(
    "    established: {json: data.estDate}\n",
    "    established: {json: data.estMs}\n    industry: {json: data.industry}\n",
).replace("keywords: [壹正]\nmax_terms: 1", "keywords: [壹正, 依正]\nmax_terms: 2")


def test_founding_date_and_industry_from_the_api_reach_the_matcher_and_the_alert(tmp_path, replay):
    """天眼查-style detail: 成立日期 in Unix milliseconds and a GB/T 4754 industry. The matcher reads
    the date in China's time (prior use before the mark's registration), the alert keeps both, and a
    rescreen weighs them again."""
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "post-api.yaml").write_text(DETAIL_SOURCE, encoding="utf-8")
    cfg = source_config(tmp_path, PRIOR_MARKS, url=replay.url, sources=["post-api"], sources_dir=True)
    p, rep = scan(cfg, **ENV)
    assert rep is not None and not rep["sources"][0]["degraded"], p.stderr[-2000:]
    alerts = {a["subject"]["text"]: a for a in stored(tmp_path)}
    older, newer = alerts["依正医药科技(上海)有限公司"], alerts["湖北壹正药业有限公司"]
    assert older["subject"]["founded"] == "2016-03-01" and newer["subject"]["founded"] == "2018-05-16"
    assert older["subject"]["declared_industry"] == "医药制造业"
    assert "prior_use_possible" in [r["code"] for r in older["reasons"]]
    assert "2016-03-01" in next(r["zh"] for r in older["reasons"] if r["code"] == "prior_use_possible")
    assert "prior_use_possible" not in [r["code"] for r in newer["reasons"]]
    assert older["score"] < newer["score"]
    # the owner drops review mode: the prior-use alert (below the default threshold) no longer
    # matches, because the rescreen reads its founding date as the scan did; the other still does
    (tmp_path / "marks.yaml").write_text(PRIOR_MARKS.replace("    mode: review\n", ""), encoding="utf-8")
    dry = cli("alerts", "rescreen", "--config", str(cfg))
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "依正医药" in dry.stdout and "湖北壹正" not in dry.stdout, dry.stdout
    assert f"{len(alerts)} open alert(s) re-judged; 1 would close" in dry.stdout, dry.stdout


def test_an_empty_page_before_the_reported_total_is_lost_rows_not_ok(tmp_path):
    """An API that reports 50 rows and stops delivering after the first page lost the rest: the
    source ends degraded with the reason, never ok."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Short(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            first = "page=1" in self.path
            rows = [{"name": "湖北壹正药业有限公司"}, {"name": "武汉依正医药有限公司"}] if first else []
            body = json.dumps({"data": {"total": 50, "list": rows}}, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Short)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        text = (
            "name: short-api\nkind: registry\nmode: search\npages:\n"
            '  url: "{base}/s?q={keyword}&page={page}"\n  format: json\n  rows: data.list\n'
            "  fields:\n    name: {json: name}\n  total: data.total\n  page_size: 2\n  max_pages: 5\n"
            "keywords: [壹正]\nmax_terms: 1\n"
        )
        p, src = scan_one(tmp_path, f"http://127.0.0.1:{srv.server_address[1]}", "short-api", text)
    finally:
        srv.shutdown()
    assert src["items"] > 0 and src["state"] == "degraded", src
    assert "empty page before the reported total" in src["reason"] and p.returncode != 0, src
