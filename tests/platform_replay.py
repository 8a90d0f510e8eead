"""Loopback replicas of the open platforms' documented request and response shapes: never the real hosts.

- 淘宝 TOP `/router/rest` (taobao.tbk.dg.material.optional): query or form parameters, sign_method md5 /
  hmac / hmac-sha256, timestamp `yyyy-MM-dd HH:mm:ss` GMT+8 within 10 minutes, `error_response` on HTTP 200.
- 京东联盟 `/routerjson` (jd.union.open.goods.query): `360buy_param_json`, md5, `…_responce` with
  `queryResult` a JSON string.
- 多多进宝 `/api/router` (pdd.ddk.goods.search): a POST form, md5 over every field, Unix seconds, fen.
- An OAuth2 client-credentials API (`/oauth/token`, Bearer, 401 with WWW-Authenticate when expired).
- A JSONP search, a GBK legacy JSON search that reads the query as GBK bytes, a SAMR-style XML API
  (GBK prolog, a namespace, CamelCase names), an .asmx reply holding XML as text.
- A bureau's daily index page linking a GBK CSV (a title line above the header) and an XLSX per day,
  with file names not derivable from the date.

The signatures are checked here by code written from the platforms' documents, independently of
crawler.signers. Searches match substrings, as the real ones do.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote_to_bytes, urlsplit

TB_KEY, TB_SECRET, TB_ADZONE = "23456789", "tb-secret-Qm3xR8", "109876543210"
JD_KEY, JD_SECRET = "jd-key-Vb7n", "jd-secret-Lp4kW9"
PDD_ID, PDD_SECRET, PDD_PID = "pdd-client-Hy6t", "pdd-secret-Zc2mN5", "1234567_890123"
OAUTH_ID, OAUTH_SECRET = "oauth-client-Fr8e", "oauth-secret-Tw3qY7"
ENV = {
    "TAOBAO_APP_KEY": TB_KEY,
    "TAOBAO_APP_SECRET": TB_SECRET,
    "TAOBAO_ADZONE_ID": TB_ADZONE,
    "JD_APP_KEY": JD_KEY,
    "JD_APP_SECRET": JD_SECRET,
    "PDD_CLIENT_ID": PDD_ID,
    "PDD_CLIENT_SECRET": PDD_SECRET,
    "PDD_PID": PDD_PID,
    "OAUTH_CLIENT_ID": OAUTH_ID,
    "OAUTH_CLIENT_SECRET": OAUTH_SECRET,
}
SECRETS = [TB_SECRET, JD_SECRET, PDD_SECRET, OAUTH_SECRET, JD_KEY, PDD_ID, OAUTH_ID]
CST = dt.timezone(dt.timedelta(hours=8))

GOODS = [
    # (id, title, price yuan, shop)
    (600001, "一正 感冒灵颗粒 10袋", "19.90", "一正官方旗舰店"),
    (600002, "壹正 感冒灵颗粒 家庭装", "9.90", "壹正大药房"),
    (600003, "依正 板蓝根颗粒 20袋", "12.50", "依正医药专营店"),
    (600004, "伊正 维生素C泡腾片", "15.00", "伊正保健"),
    (600005, "九阳 豆浆机 家用全自动", "299.00", "九阳官方旗舰店"),
    (600006, "玖阳 破壁机 静音", "159.00", "玖阳电器"),
] + [(610000 + i, f"一正 同款 颗粒 第{i}款", f"{10 + i}.00", f"一正小店{i}") for i in range(70)]


def goods_for(q: str) -> list[tuple]:
    return [g for g in GOODS if q and q in g[1]]


def md5_sign(secret: str, params: dict[str, str]) -> str:
    plain = "".join(k + v for k, v in sorted(params.items()) if k != "sign" and k and v != "")
    return hashlib.md5((secret + plain + secret).encode("utf-8")).hexdigest().upper()


def top_sign(secret: str, params: dict[str, str]) -> str:
    method = params.get("sign_method", "md5")
    plain = "".join(k + v for k, v in sorted(params.items()) if k != "sign" and k and v != "")
    if method == "hmac":
        return hmac.new(secret.encode(), plain.encode(), hashlib.md5).hexdigest().upper()
    if method == "hmac-sha256":
        return hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest().upper()
    return md5_sign(secret, params)


def fresh_text_time(ts: str, window: float = 600) -> bool:
    try:
        t = dt.datetime.strptime(ts, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)
    except ValueError:
        return False
    return abs(time.time() - t.timestamp()) <= window


class Platforms(BaseHTTPRequestHandler):
    # HTTP/1.1 with Content-Length on every answer, as the platforms' gateways: a connection is kept and
    # reused, never closed under a client that was told nothing (an HTTP/1.0 close would fail POSTs).
    protocol_version = "HTTP/1.1"
    log: list[dict]
    tokens: dict[str, float]
    days: dict[str, bytes]  # day → files the bureau has published (set by the test)

    def log_message(self, *a):
        pass

    def _send(self, body: bytes, ctype: str = "application/json; charset=utf-8", status: int = 200, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, obj, status: int = 200, headers=None):
        self._send(json.dumps(obj, ensure_ascii=False).encode("utf-8"), status=status, headers=headers)

    def _params(self, encoding: str = "utf-8") -> dict[str, str]:
        url = urlsplit(self.path)
        q = dict(parse_qsl(url.query, keep_blank_values=True, encoding=encoding))
        if self.command == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(min(n, 1 << 20))
            self.raw_body = raw
            if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                q.update(parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding=encoding))
        return q

    def do_GET(self):  # noqa: N802
        self.route()

    def do_POST(self):  # noqa: N802
        self.route()

    def route(self):
        path = urlsplit(self.path).path
        handler = {
            "/robots.txt": lambda: self._send(b"", "text/plain", 404),
            "/router/rest": self.top,
            "/routerjson": self.jd,
            "/api/router": self.pdd,
            "/oauth/token": self.oauth_token,
            "/v1/goods/search": self.oauth_search,
            "/jsonp/search": self.jsonp,
            "/gbk/search": self.gbk,
            "/samr/xml/search": self.samr_xml,
            "/Service.asmx/QueryEnt": self.asmx,
            "/xwgs/index.html": self.bureau_index,
        }.get(path)
        if handler is None and path.startswith("/u/cms/"):
            return self.bureau_file(path)
        if handler is None and path.startswith("/xwgs/index_") and path.endswith(".html"):
            return self.bureau_index(int(path[len("/xwgs/index_") : -len(".html")] or 1))
        if handler is None:
            return self._json({"error": "not found"}, 404)
        return handler()

    # ---- 淘宝 TOP ----
    def top(self):
        p = self._params()
        self.log.append({"api": "top", "method": self.command, **p})
        err = None
        if p.get("app_key") != TB_KEY:
            err = (29, "Invalid app Key", "isv.appkey-not-exists")
        elif p.get("sign") != top_sign(TB_SECRET, p):
            err = (25, "Invalid signature", "isv.invalid-signature")
        elif not fresh_text_time(p.get("timestamp", "")):
            err = (31, "Invalid timestamp", "isv.invalid-timestamp")
        elif p.get("method") != "taobao.tbk.dg.material.optional":
            err = (22, "Invalid method", "isv.invalid-method")
        elif p.get("adzone_id") != TB_ADZONE:
            err = (15, "Remote service error", "isv.invalid-parameter:adzone_id")
        if err:
            return self._json(
                {
                    "error_response": {
                        "code": err[0],
                        "msg": err[1],
                        "sub_code": err[2],
                        "sub_msg": err[1] + " (replay)",
                        "request_id": secrets.token_hex(6),
                    }
                }
            )
        rows = goods_for(p.get("q", ""))
        page, size = int(p.get("page_no") or 1), int(p.get("page_size") or 20)
        chunk = rows[(page - 1) * size : page * size]
        data = [
            {
                "item_id": gid,
                "num_iid": gid,
                "title": title,
                "zk_final_price": price,
                "reserve_price": price,
                "shop_title": shop,
                "nick": shop,
                "seller_id": 9000 + gid % 100,
                "item_url": f"https://item.taobao.com/item.htm?id={gid}",
                "category_name": "感冒用药",
                "pict_url": f"https://img.alicdn.com/i1/{gid}.jpg",
                "small_images": {"string": [f"https://img.alicdn.com/i2/{gid}.jpg"]},
                "user_type": 1,
                "volume": 12,
            }
            for gid, title, price, shop in chunk
        ]
        return self._json(
            {
                "tbk_dg_material_optional_response": {
                    "total_results": len(rows),
                    "result_list": {"map_data": data},
                    "request_id": secrets.token_hex(6),
                }
            }
        )

    # ---- 京东联盟 ----
    def jd(self):
        p = self._params()
        self.log.append({"api": "jd", "method": self.command, **p})
        if p.get("app_key") != JD_KEY:
            return self._json(
                {"error_response": {"code": "19", "zh_desc": "无效的app_key", "en_desc": "Invalid app_key"}}
            )
        if p.get("sign") != md5_sign(JD_SECRET, p):
            return self._json({"error_response": {"code": "14", "zh_desc": "签名错误", "en_desc": "Invalid signature"}})
        if not fresh_text_time(p.get("timestamp", "")):
            return self._json(
                {"error_response": {"code": "16", "zh_desc": "时间戳错误", "en_desc": "Invalid timestamp"}}
            )
        try:
            req = json.loads(p.get("360buy_param_json", ""))["goodsReqDTO"]
        except (ValueError, KeyError, TypeError):
            inner = {"code": 400, "message": "参数错误"}
        else:
            rows = goods_for(req.get("keyword", ""))
            page, size = int(req.get("pageIndex", 1)), int(req.get("pageSize", 20))
            inner = {
                "code": 200,
                "message": "success",
                "totalCount": len(rows),
                "data": [
                    {
                        "skuId": gid,
                        "skuName": title,
                        "priceInfo": {"price": float(price), "lowestPrice": float(price)},
                        "shopInfo": {"shopName": shop, "shopId": 1000 + gid % 100},
                        "categoryInfo": {"cid1Name": "医药保健", "cid3Name": "感冒用药"},
                        "imageInfo": {"imageList": [{"url": f"https://img14.360buyimg.com/{gid}.jpg"}]},
                        "materialUrl": f"item.jd.com/{gid}.html",
                        "owner": "p",
                    }
                    for gid, title, price, shop in rows[(page - 1) * size : page * size]
                ],
            }
        body = {
            "jd_union_open_goods_query_responce": {"code": "0", "queryResult": json.dumps(inner, ensure_ascii=False)}
        }
        return self._json(body)

    # ---- 多多进宝 ----
    def pdd(self):
        p = self._params()
        self.log.append({"api": "pdd", "method": self.command, "in_query": bool(urlsplit(self.path).query), **p})

        def err(code, msg):
            return self._json(
                {
                    "error_response": {
                        "error_code": code,
                        "error_msg": msg,
                        "sub_code": str(code),
                        "sub_msg": "",
                        "request_id": secrets.token_hex(6),
                    }
                }
            )

        if self.command != "POST":
            return err(10000, "请使用POST")
        if p.get("client_id") != PDD_ID:
            return err(10014, "client_id不存在")
        if p.get("sign") != md5_sign(PDD_SECRET, p):
            return err(10016, "签名错误")
        ts = p.get("timestamp", "")
        if not ts.isdigit() or abs(time.time() - int(ts)) > 600:
            return err(10017, "timestamp已过期")
        if p.get("pid") != PDD_PID:
            return err(60001, "推广位不存在")
        rows = goods_for(p.get("keyword", ""))
        page, size = int(p.get("page") or 1), int(p.get("page_size") or 100)
        out = [
            {
                "goods_sign": f"E9b2_{gid}",
                "goods_id": gid,
                "goods_name": title,
                "min_group_price": int(round(float(price) * 100)),
                "min_normal_price": int(round(float(price) * 120)),
                "mall_name": shop,
                "goods_image_url": f"https://img.pddpic.com/{gid}.jpg",
                "opt_name": "感冒药",
                "category_name": "医药",
            }
            for gid, title, price, shop in rows[(page - 1) * size : page * size]
        ]
        return self._json(
            {"goods_search_response": {"goods_list": out, "total_count": len(rows), "list_id": "l1", "search_id": "s1"}}
        )

    # ---- OAuth2 client credentials ----
    def oauth_token(self):
        p = self._params()
        auth = self.headers.get("Authorization", "")
        self.log.append({"api": "token", "grant": p.get("grant_type")})
        want = "Basic " + base64.b64encode(f"{OAUTH_ID}:{OAUTH_SECRET}".encode()).decode()
        if p.get("grant_type") != "client_credentials" or auth != want:
            return self._json(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                401,
                {"WWW-Authenticate": 'Basic realm="oauth"'},
            )
        tok = "tok-" + secrets.token_hex(8)
        self.tokens[tok] = time.time() + self.server.token_life  # type: ignore[attr-defined]
        return self._json({"access_token": tok, "token_type": "Bearer", "expires_in": self.server.token_life})  # type: ignore[attr-defined]

    def oauth_search(self):
        p = self._params()
        auth = self.headers.get("Authorization", "")
        tok = auth[7:] if auth.startswith("Bearer ") else ""
        self.log.append({"api": "oauth", "q": p.get("q"), "token": tok})
        uses = self.server.uses  # type: ignore[attr-defined]
        uses[tok] = uses.get(tok, 0) + 1
        limit = self.server.token_uses  # type: ignore[attr-defined]
        if self.tokens.get(tok, 0) < time.time() or (limit and uses[tok] > limit):
            return self._json(
                {"error": "invalid_token"},
                401,
                {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token", error_description="expired"'},
            )
        rows = goods_for(p.get("q", ""))
        return self._json({"items": [{"id": g[0], "name": g[1], "price": g[2], "shop": g[3]} for g in rows[:20]]})

    # ---- JSONP, GBK, XML, asmx ----
    def jsonp(self):
        p = self._params()
        self.log.append({"api": "jsonp", **p})
        cb = p.get("callback", "cb")
        rows = goods_for(p.get("q", ""))
        doc = {"ok": True, "list": [{"t": g[1], "p": g[2], "s": g[3], "u": f"/item/{g[0]}"} for g in rows[:20]]}
        self._send(f"/**/ {cb}({json.dumps(doc, ensure_ascii=False)});".encode(), "application/javascript")

    def gbk(self):
        raw_q = urlsplit(self.path).query
        kw = b""
        for part in raw_q.split("&"):
            k, _, v = part.partition("=")
            if k == "kw":
                kw = unquote_to_bytes(v.replace("+", " "))
        try:
            q = kw.decode("gbk")
        except UnicodeDecodeError:
            q = ""
        self.log.append({"api": "gbk", "q": q})
        rows = [
            ("吉林一正药业集团有限公司", "91220101MA0YXXXX1A"),
            ("湖北壹正药业有限公司", "91420100MA4KXXXX0X"),
            ("九阳股份有限公司", "913701007XXXXXXX1A"),
            ("武汉玖阳电器有限公司", "91420100MA4LXXXX4D"),
        ]
        found = [r for r in rows if q and q in r[0]]
        body = json.dumps({"retCode": "0", "data": [{"qymc": n, "tyshxydm": c} for n, c in found]}, ensure_ascii=False)
        self._send(body.encode("gbk"), "application/json; charset=gbk")

    def samr_xml(self):
        p = self._params()
        self.log.append({"api": "xml", **p})
        rows = [
            ("湖北壹正药业有限公司", "91420100MA4KXXXX0X", "存续"),
            ("广州伊正制药有限公司", "91440101MA5CXXXX2B", "在业"),
        ]
        found = [r for r in rows if p.get("EntName") and p["EntName"] in r[0]]
        ents = "".join(
            f"<s:Ent><s:EntName>{n}</s:EntName><s:UniScid>{c}</s:UniScid><s:RegState>{st}</s:RegState></s:Ent>"
            for n, c, st in found
        )
        xml = f'<?xml version="1.0" encoding="GBK"?><s:Response xmlns:s="http://www.samr.example/ent"><s:Total>{len(found)}</s:Total><s:EntList>{ents}</s:EntList></s:Response>'
        self._send(xml.encode("gbk"), "text/xml")

    def asmx(self):
        p = self._params()
        self.log.append({"api": "asmx", **p})
        rows = [("依正医药科技(上海)有限公司", "91310000MA1FXXXX0X"), ("湖北壹正药业有限公司", "91420100MA4KXXXX0X")]
        found = [r for r in rows if p.get("kw") and p["kw"] in r[0]]
        inner = (
            "<Root><Items>"
            + "".join(f"<Item><EntName>{n}</EntName><CreditCode>{c}</CreditCode></Item>" for n, c in found)
            + "</Items></Root>"
        )
        esc = inner.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        xml = f'<?xml version="1.0" encoding="utf-8"?>\n<string xmlns="http://tempuri.org/">{esc}</string>'
        self._send(xml.encode("utf-8"), "text/xml; charset=utf-8")

    # ---- a bureau's daily files ----
    def bureau_index(self, page: int = 1):
        """The list of published days, newest first; `per_page` days a page with a 下一页 link (0: one page)."""
        self.log.append({"api": "bureau", "path": self.path})
        days = sorted(self.days.items(), reverse=True)
        per = self.server.per_page  # type: ignore[attr-defined]
        shown = days[(page - 1) * per : page * per] if per else days
        links = []
        for day, files in shown:
            d = dt.date.fromisoformat(day)
            for name, (path, _) in files.items():
                links.append(f'<li><a href="{path}">{d.month}月{d.day}日新设立企业名单{name}</a></li>')
        more = per and page * per < len(days)
        nxt = f"<a class='next' href='/xwgs/index_{page + 1}.html'>下一页</a>" if more else ""
        html = (
            "<html><head><meta charset='utf-8'></head><body><ul class='list'>"
            + "".join(links)
            + f"<li><a href='/xwgs/about.html'>关于我们</a></li></ul>{nxt}</body></html>"
        )
        self._send(html.encode("utf-8"), "text/html; charset=utf-8")

    def bureau_file(self, path: str):
        self.log.append({"api": "bureau", "path": path})
        for files in self.days.values():
            for p, body in files.values():
                if p == path:
                    ctype = "text/csv" if path.endswith(".csv") else "application/octet-stream"
                    return self._send(body, ctype)
        return self._json({"error": "not found"}, 404)


REGISTRATIONS = [
    ("湖北壹正药业有限公司", "91420100MA4KXXXX0X", "张三", "2026-12-06", "武汉市市场监督管理局"),
    ("广州伊正制药有限公司", "91440101MA5CXXXX2B", "赵五", "2026-12-06", "广州市市场监督管理局"),
    ("武汉玖阳电器有限公司", "91420100MA4LXXXX4D", "孙七", "2026-12-06", "武汉市市场监督管理局"),
    ("杭州平安五金有限公司", "91330100MA2HXXXX3C", "钱六", "2026-12-06", "杭州市市场监督管理局"),
]
HEADER = ["序号", "企业名称", "统一社会信用代码", "法定代表人", "成立日期", "登记机关"]


def bureau_csv(rows=REGISTRATIONS) -> bytes:
    out = io.StringIO()
    out.write("湖北省新设立企业名单（2026年12月6日）\r\n")
    out.write(",".join(HEADER) + "\r\n")
    for i, r in enumerate(rows, 1):
        out.write(",".join([str(i), *r]) + "\r\n")
    return out.getvalue().encode("gbk")


def bureau_xlsx(rows=REGISTRATIONS) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append(["广东省新设立企业名单（2026年12月6日）"])
    ws.append(HEADER)
    for i, r in enumerate(rows, 1):
        ws.append([i, *r])
    ws.append([len(rows) + 1, '=HYPERLINK("http://evil.example","点我")', "91000000MA0XXXXX9Z", "x", "2026-12-06", "x"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


class PlatformServer:
    def __init__(self, token_life: int = 3600, token_uses: int = 0, per_page: int = 0) -> None:
        handler = type("H", (Platforms,), {"log": [], "tokens": {}, "days": {}})
        self.handler = handler
        self.log = handler.log
        self.tokens = handler.tokens
        self.days = handler.days
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.token_life = token_life  # type: ignore[attr-defined]
        self.httpd.token_uses = token_uses  # type: ignore[attr-defined]
        self.httpd.per_page = per_page  # type: ignore[attr-defined]
        self.httpd.uses = {}  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def publish(self, day: str, *, csv: bool = True, xlsx: bool = True) -> None:
        files = {}
        tag = secrets.token_hex(3)
        if csv:
            files["（CSV）"] = (f"/u/cms/{day.replace('-', '')}/{tag}a.csv", bureau_csv())
        if xlsx:
            files["（Excel）"] = (f"/u/cms/{day.replace('-', '')}/{tag}b.xlsx", bureau_xlsx())
        self.days[day] = files

    def __enter__(self) -> PlatformServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def quote_gbk(text: str) -> str:
    return quote(text.encode("gbk"))
