"""Loopback replays of real API shapes for the source tests: never the real hosts.

One server answers as the 企查查 fuzzy search (signed, tests/data/sources/qcc-*.json), the 天眼查
search (token header, tyc-*.json), a POST JSON search with offset paging and JSON detail pages,
and an HMAC-signed open-platform search with cursor paging. Every search matches **substrings**,
as the real ones do: searching 一正 never returns 湖北壹正药业.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

DATA = Path(__file__).parent / "data" / "sources"
QCC_KEY, QCC_SECRET = "qcc-key-Zq8vN3", "qcc-secret-Xw7pL2kT9"
TYC_TOKEN = "tyc-token-Hm4rB8sQ1"
API_KEY = "api-key-Jd6fW2cY5"
HMAC_KEY, HMAC_SECRET = "open-key-Pa3eR7", "open-secret-Kc9tU4vM2"
ENV = {
    "QCC_APP_KEY": QCC_KEY,
    "QCC_SECRET_KEY": QCC_SECRET,
    "TYC_TOKEN": TYC_TOKEN,
    "DEMO_API_KEY": API_KEY,
    "OPEN_APP_KEY": HMAC_KEY,
    "OPEN_APP_SECRET": HMAC_SECRET,
}
SECRETS = [QCC_KEY, QCC_SECRET, TYC_TOKEN, API_KEY, HMAC_KEY, HMAC_SECRET]

COMPANIES = [
    ("吉林一正药业集团有限公司", "91220101MA0YXXXX1A", "存续", "2001-03-02", "王一"),
    ("湖北壹正药业有限公司", "91420100MA4KXXXX0X", "存续", "2018-05-16", "张三"),
    ("依正医药科技(上海)有限公司", "91310000MA1FXXXX0X", "存续", "2016-03-01", "李四"),
    ("广州伊正制药有限公司", "91440101MA5CXXXX2B", "在业", "2019-09-09", "赵五"),
    ("杭州九阳小家电有限公司", "91330100MA2HXXXX3C", "存续", "2008-01-01", "钱六"),
    ("武汉玖阳电器有限公司", "91420100MA4LXXXX4D", "存续", "2020-02-20", "孙七"),
    ("深圳立白日化有限公司", "91440300MA5DXXXX5E", "存续", "2017-07-07", "周八"),
] + [(f"成都一正第{i}分公司", f"91510100MA6{i:03d}XXX6F", "存续", "2021-01-01", "吴九") for i in range(45)]


def _match(q: str) -> list[tuple]:
    return [c for c in COMPANIES if q and q in c[0]]


class Replay(BaseHTTPRequestHandler):
    log: list[dict]

    def log_message(self, *a):  # quiet
        pass

    def _json(self, obj, status: int = 200) -> None:
        body = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self, **kw) -> None:
        creds = {h for h in ("Authorization", "X-Api-Key", "Token", "Timespan") if self.headers.get(h)}
        self.log.append({"path": self.path, "method": self.command, "creds": creds, **kw})

    def do_GET(self):  # noqa: N802
        url = urlsplit(self.path)
        q = dict(parse_qsl(url.query, keep_blank_values=True))
        if url.path == "/robots.txt":
            return self._json({}, 404)
        if url.path == "/FuzzySearch/GetList":
            return self.qcc(q)
        if url.path == "/services/open/search/2.0":
            return self.tyc(q)
        if url.path == "/api/search":
            return self._json({"error": "method not allowed"}, 405)
        if url.path.startswith("/api/detail/"):
            return self.detail(url.path.rsplit("/", 1)[1])
        if url.path == "/open/search":
            return self.open_search(q)
        return self._json({"error": "not found"}, 404)

    def do_POST(self):  # noqa: N802
        url = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(n, 1 << 20))
        if url.path != "/api/search":
            return self._json({"error": "not found"}, 404)
        if self.headers.get("X-Api-Key") != API_KEY:
            return self._json({"error": "unauthorized"}, 401)
        body = json.loads(raw or b"{}")
        self._record(keyword=body.get("query", {}).get("keyword"), offset=body.get("offset"))
        rows = _match(body.get("query", {}).get("keyword", ""))
        off, lim = int(body.get("offset", 0)), int(body.get("limit", 10))
        chunk = rows[off : off + lim]
        return self._json(
            {
                "code": 0,
                "data": {"total": len(rows), "list": [{"id": r[1], "entName": r[0]} for r in chunk]},
            }
        )

    def detail(self, cid: str):
        if self.headers.get("X-Api-Key") != API_KEY:
            return self._json({"error": "unauthorized"}, 401)
        for r in COMPANIES:
            if r[1] == cid:
                data = {"entName": r[0], "uscc": r[1], "status": r[2], "estDate": r[3], "rep": r[4]}
                # as 天眼查's baseinfo gives them: 成立日期 in Unix milliseconds, 行业 by its GB/T 4754 name
                data["estMs"] = int(dt.datetime.fromisoformat(r[3] + "T00:00:00+08:00").timestamp() * 1000)
                data["industry"] = "医药制造业" if "药" in r[0] else "批发业"
                return self._json({"code": 0, "data": data})
        return self._json({"error": "not found"}, 404)

    def qcc(self, q: dict):
        ts, token = self.headers.get("Timespan", ""), self.headers.get("Token", "")
        self._record(keyword=q.get("searchKey"), page=q.get("pageIndex"), timespan=ts)
        if q.get("key") != QCC_KEY:
            return self._json({"Status": "101", "Message": "KEY无效", "Paging": None, "Result": None})
        want = hashlib.md5((QCC_KEY + ts + QCC_SECRET).encode()).hexdigest().upper()
        if token != want:
            return self._json({"Status": "102", "Message": "签名错误", "Paging": None, "Result": None})
        if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
            return self._json({"Status": "103", "Message": "请求已过期", "Paging": None, "Result": None})
        rows = _match(q.get("searchKey", ""))
        if not rows:
            return self._json(json.loads((DATA / "qcc-fuzzysearch-201.json").read_text("utf-8")))
        page, size = int(q.get("pageIndex", 1)), int(q.get("pageSize", 20))
        doc = json.loads((DATA / "qcc-fuzzysearch-200.json").read_text("utf-8"))
        doc["Paging"] = {"PageSize": size, "PageIndex": page, "TotalRecords": len(rows)}
        proto = doc["Result"][0]
        doc["Result"] = [
            {**proto, "Name": r[0], "CreditCode": r[1], "Status": r[2], "StartDate": r[3], "OperName": r[4]}
            for r in rows[(page - 1) * size : page * size]
        ]
        return self._json(doc)

    def tyc(self, q: dict):
        self._record(keyword=q.get("word"), page=q.get("pageNum"))
        if self.headers.get("Authorization") != TYC_TOKEN:
            return self._json({"error_code": 300006, "reason": "token无效", "result": None})
        rows = _match(q.get("word", ""))
        if not rows:
            return self._json(json.loads((DATA / "tyc-search-300000.json").read_text("utf-8")))
        page, size = int(q.get("pageNum", 1)), int(q.get("pageSize", 20))
        doc = json.loads((DATA / "tyc-search-0.json").read_text("utf-8"))
        proto = doc["result"]["items"][0]
        doc["result"] = {
            "total": len(rows),
            "items": [
                {**proto, "name": r[0], "creditCode": r[1], "regStatus": r[2], "estiblishTime": r[3] + " 00:00:00.0"}
                | {"legalPersonName": r[4]}
                for r in rows[(page - 1) * size : page * size]
            ],
        }
        return self._json(doc)

    def open_search(self, q: dict):
        sign = q.pop("sign", "")
        plain = "".join(k + v for k, v in sorted(q.items()))
        want = hmac.new(HMAC_SECRET.encode(), plain.encode(), hashlib.sha256).hexdigest().upper()
        self._record(keyword=q.get("q"), cursor=q.get("cursor"))
        if q.get("app_key") != HMAC_KEY or sign != want:
            return self._json({"success": False, "msg": "invalid signature"}, 403)
        if abs(time.time() * 1000 - int(q.get("timestamp", "0"))) > 300_000:
            return self._json({"success": False, "msg": "timestamp expired"}, 403)
        rows = _match(q.get("q", ""))
        start = int(q.get("cursor") or 0)
        chunk = rows[start : start + 10]
        nxt = str(start + 10) if start + 10 < len(rows) else ""
        items = [{"title": f"{r[0]}旗舰店 商品", "shop": r[0], "link": f"/item/{r[1]}"} for r in chunk]
        return self._json({"success": True, "data": {"items": items, "next_cursor": nxt}})


class ReplayServer:
    def __init__(self) -> None:
        handler = type("H", (Replay,), {"log": []})
        self.log = handler.log
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> ReplayServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
