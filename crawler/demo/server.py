"""The demo world's web server: a registry site and a marketplace on one loopback port.

It behaves like the hostile web on purpose: some pages answer 500 the first
time, some are slow, bursts get a captcha page, some HTML is malformed, the
daily-announcement section is GBK without a declared charset, and titles carry
HTML, script, zero-width characters and CRLF.

    python -m crawler.demo.server --port 0     # prints the URL, serves until Ctrl-C
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import io
import json
import math
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast
from urllib.parse import parse_qs, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape

from crawler.demo.generator import World

ROBOTS = """User-agent: *
Disallow: /registry/admin/
Disallow: /registry/report/
Disallow: /market/cart/
Crawl-delay: 1
"""


@dataclass
class ServerConfig:
    """Knobs for the world and for how hostile the server is (tests turn them up or down)."""

    seed: int = 7
    today: dt.date | None = None
    companies: int = 5000
    listings: int = 5000
    days: int = 60
    revision: int = 0
    fail_every: int = 41  # a page whose hash falls here answers 500 once; 0 = never
    slow_every: int = 97  # a page whose hash falls here is slow; 0 = never
    slow_seconds: float = 0.5
    malformed_every: int = 13  # company pages with broken markup
    burst_limit: dict[str, int] = field(default_factory=lambda: {"registry": 400, "market": 400})
    burst_window: float = 1.0
    penalty_seconds: float = 30.0
    down_sections: set[str] = field(default_factory=set)  # always 503: a site that is down
    page_size: int = 10


class DemoState:
    """World + the server's memory (hit counts, failed-once pages, burst windows)."""

    def __init__(self, cfg: ServerConfig) -> None:
        self.cfg = cfg
        self.world = World(
            seed=cfg.seed,
            today=cfg.today,
            n_companies=cfg.companies,
            n_listings=cfg.listings,
            days=cfg.days,
            revision=cfg.revision,
        )
        self.env = Environment(
            loader=PackageLoader("crawler.demo", "templates"), autoescape=select_autoescape(["html"])
        )
        self.lock = threading.Lock()
        self.hits: collections.Counter[str] = collections.Counter()
        self.failed_once: set[str] = set()
        self.windows: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self.blocked_until: dict[str, float] = {}
        self.captchas = 0

    def render(self, name: str, **ctx) -> bytes:
        return self.env.get_template(name).render(**ctx).encode("utf-8")

    def over_burst(self, section: str) -> bool:
        """Sliding-window request counter per section; over the limit → captcha for a while."""
        limit = self.cfg.burst_limit.get(section)
        if not limit:
            return False
        now = time.monotonic()
        with self.lock:
            if self.blocked_until.get(section, 0) > now:
                return True
            win = self.windows[section]
            win.append(now)
            while win and win[0] < now - self.cfg.burst_window:
                win.popleft()
            if len(win) > limit:
                self.blocked_until[section] = now + self.cfg.penalty_seconds
                return True
        return False


def _page(params: dict, key: str = "page") -> int:
    try:
        return max(1, int(params.get(key, ["1"])[0]))
    except ValueError:
        return 1


def _company_json(c) -> dict:
    return {
        "entName": c.name,
        "uniscid": c.uscc,
        "legalRep": c.legal_rep,
        "regCap": c.capital,
        "estDate": c.established,
        "regState": c.status,
        "regOrg": c.authority,
        "dom": c.address,
        "opScope": c.scope,
        "detailUrl": f"/registry/company/{c.id}",
    }


class Handler(BaseHTTPRequestHandler):
    server_version = "DemoWorld/1.0"
    protocol_version = "HTTP/1.1"
    state: DemoState  # set on the subclass made per server

    def log_message(self, format, *args):  # noqa: A002 - quiet: tests and benchmarks read stats instead
        pass

    def _send(
        self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Date", self.date_time_string())
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):  # noqa: N802
        self.do_GET()

    def do_GET(self):  # noqa: N802
        st = self.state
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        params = parse_qs(url.query)
        section = parts[0] if parts else ""
        with st.lock:
            st.hits[url.path] += 1
        cfg = st.cfg
        if section in cfg.down_sections:
            return self._send(503, b"<html><body>Service Unavailable</body></html>")
        if section in ("registry", "market") and st.over_burst(section):
            with st.lock:
                st.captchas += 1
            return self._send(200, st.render("captcha.html"))
        h = zlib.crc32(self.path.encode())
        if cfg.fail_every and h % cfg.fail_every == 0 and section != "robots.txt":
            with st.lock:
                first = self.path not in st.failed_once
                st.failed_once.add(self.path)
            if first:
                return self._send(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>")
        if cfg.slow_every and h % cfg.slow_every == 1:
            time.sleep(cfg.slow_seconds)
        try:
            route = getattr(self, "r_" + "_".join(parts[:2]).replace(".", "_"), None) if parts else self.r_index
            if route is None:
                return self._send(404, b"<html><body>Not Found</body></html>")
            route(parts, params)
        except (KeyError, IndexError, ValueError):
            self._send(404, b"<html><body>Not Found</body></html>")

    # ---- common --------------------------------------------------------
    def r_index(self, parts, params):
        self._send(
            200,
            b'<html><body><a href="/registry/search">registry</a> <a href="/market/search">market</a></body></html>',
        )

    def r_robots_txt(self, parts, params):
        self._send(200, ROBOTS.encode(), "text/plain")

    def r_captcha(self, parts, params):
        self._send(200, self.state.render("captcha.html"))

    # ---- registry ------------------------------------------------------
    def r_registry_search(self, parts, params):
        q = params.get("q", [""])[0]
        rows = self.state.world.search_companies(q) if q else []
        self._paged("registry_search.html", rows, _page(params), q=q)

    def _paged(self, template, rows, page, size=None, **ctx):
        size = size or self.state.cfg.page_size
        pages = max(1, math.ceil(len(rows) / size))
        chunk = rows[(page - 1) * size : page * size]
        self._send(200, self.state.render(template, rows=chunk, page=page, pages=pages, total=len(rows), **ctx))

    def r_registry_company(self, parts, params):
        c = self.state.world.company_by_id[parts[2]]
        h = zlib.crc32(c.id.encode())
        m = self.state.cfg.malformed_every
        self._send(
            200, self.state.render("registry_company.html", c=c, malformed=bool(m) and h % m == 0, crlf=h % 7 == 0)
        )

    def r_registry_report(self, parts, params):
        self._send(200, b"%PDF-1.4 demo report", "application/pdf")

    def r_registry_admin(self, parts, params):
        self._send(200, b"<html><body>admin</body></html>")

    def _day(self, params) -> tuple[str, list]:
        date = params.get("date", [self.state.world.today.isoformat()])[0]
        dt.date.fromisoformat(date)
        return date, self.state.world.by_date.get(date, [])

    def r_registry_daily(self, parts, params):
        """Legacy section: GBK bytes, and a Content-Type that declares no charset."""
        date, rows = self._day(params)
        page, size = _page(params), 20
        pages = max(1, math.ceil(len(rows) / size))
        html = self.state.env.get_template("registry_daily.html").render(
            rows=rows[(page - 1) * size : page * size], page=page, pages=pages, date=date
        )
        self._send(200, html.encode("gbk", errors="xmlcharrefreplace"), "text/html")

    def r_registry_api(self, parts, params):
        if parts[2:3] == ["company"]:
            return self._company_by_uscc(params)
        if parts[2:3] != ["daily"]:
            raise KeyError(parts)
        date, rows = self._day(params)
        page = _page(params)
        size = min(50, _page(params, "size") if "size" in params else 20)
        pages = max(1, math.ceil(len(rows) / size))
        body = {
            "code": 0,
            "data": {
                "date": date,
                "total": len(rows),
                "page": page,
                "pages": pages,
                "list": [_company_json(c) for c in rows[(page - 1) * size : page * size]],
            },
        }
        self._send(200, json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _company_by_uscc(self, params):
        """Lookup by credit code, as of ``date`` (default: the world's today): later renames show."""
        world = self.state.world
        code = params.get("uscc", [""])[0].strip().upper()
        date = params.get("date", [world.today.isoformat()])[0]
        dt.date.fromisoformat(date)
        c = world.company_by_uscc.get(code)
        data = None
        if c is not None and c.established <= date:
            name, status, former = world.as_of(c, date)
            data = {**_company_json(c), "entName": name, "regState": status, "formerNames": former, "asOf": date}
        body = {"code": 0, "data": data}
        self._send(200, json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def r_provider_registrations(self, parts, params):
        """A data provider's daily file: /provider/registrations/2025-06-30.jsonl or .csv."""
        name = parts[2]
        date, ext = name.rsplit(".", 1)
        rows = self.state.world.by_date.get(date, [])
        recs = [_company_json(c) for c in rows]
        if ext == "jsonl":
            body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode()
            return self._send(200, body, "application/x-ndjson; charset=utf-8")
        if ext == "csv":
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=list(recs[0]) if recs else ["entName"])
            w.writeheader()
            w.writerows(recs)
            return self._send(200, buf.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8")
        raise KeyError(name)

    # ---- marketplace ---------------------------------------------------
    def r_market_search(self, parts, params):
        q = params.get("q", [""])[0]
        rows = self.state.world.search_listings(q)
        self._paged("market_search.html", rows, _page(params), size=20, q=q)

    def r_market_item(self, parts, params):
        """An item page; asked ``?date=`` on or after its delisting, it answers as platforms do for a removed item."""
        x = self.state.world.listing_by_id[parts[2]]
        gone = self.state.world.delisted(x, params.get("date", [None])[0])
        if gone is None:
            return self._send(200, self.state.render("market_item.html", x=x))
        if gone in ("http_404", "http_410"):
            return self._send(int(gone[-3:]), self.state.render("market_gone.html", notice="页面不存在"))
        if gone == "marker_missing":
            return self._send(
                200, self.state.render("market_gone.html", notice="很抱歉，您查看的宝贝不存在，可能已下架或者被转移。")
            )
        if gone == "marker_off_shelf":
            return self._send(200, self.state.render("market_gone.html", notice="该商品已下架"))
        # redirect_search (and api_code, which the HTML page shows as a redirect too): to the search page
        self._send(302, b"", headers={"Location": "/market/search?q=&from=item_removed"})

    def r_market_shop(self, parts, params):
        name = self.state.world.shops[parts[2]]
        self._send(200, self.state.render("base.html").replace(b"<body>", f"<body><h1>{name}</h1>".encode()))

    def r_market_cart(self, parts, params):
        self._send(200, b"<html><body>cart</body></html>")

    def r_market_img(self, parts, params):
        self._send(200, b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif")

    def r_market_api(self, parts, params):
        """JSON search API; titles come back with <em> highlighting, as real ones do."""
        if parts[2:3] == ["item"]:
            return self._api_item(params)
        if parts[2:3] != ["search"]:
            raise KeyError(parts)
        q = params.get("q", [""])[0]
        rows = self.state.world.search_listings(q)
        page = _page(params)
        size = min(50, _page(params, "size") if "size" in params else 20)
        chunk = rows[(page - 1) * size : page * size]
        items = [
            {
                "itemId": x.id,
                "title": x.title.replace(q, f"<em>{q}</em>", 1) if q else x.title,
                "price": {"amount": x.price, "currency": x.currency},
                "shop": {"name": x.shop_name, "url": f"/market/shop/{x.shop_id}"},
                "url": f"/market/item/{x.id}",
                "category": x.category,
                "pics": x.images,
            }
            for x in chunk
        ]
        body = {"total": len(rows), "page": page, "size": size, "hasMore": page * size < len(rows), "items": items}
        self._send(200, json.dumps(body, ensure_ascii=False).encode(), "application/json")

    def _api_item(self, params):
        """One item by id, as of ``date``: ``{"code": 0, "item": …}``, or an error code for a removed item."""
        world = self.state.world
        x = world.listing_by_id.get(params.get("id", [""])[0])
        if x is None:
            body = {"code": 40404, "msg": "ITEM_NOT_FOUND", "item": None}
        elif world.delisted(x, params.get("date", [None])[0]):
            body = {"code": 40410, "msg": "商品已下架 (ITEM_OFF_SHELF)", "item": None}
        else:
            body = {
                "code": 0,
                "msg": "ok",
                "item": {
                    "itemId": x.id,
                    "title": x.title,
                    "shop": {"name": x.shop_name},
                    "url": f"/market/item/{x.id}",
                },
            }
        self._send(200, json.dumps(body, ensure_ascii=False).encode(), "application/json")

    def _market_items(self, q: str, page: int, size: int = 20) -> tuple[list, int]:
        rows = self.state.world.search_listings(q)
        return rows[(page - 1) * size : page * size], len(rows)

    def r_market_mobile(self, parts, params):
        """Mobile search: the products are JSON in <script>window.__INITIAL_STATE__ = {…}</script>."""
        if parts[2:3] != ["search"]:
            raise KeyError(parts)
        q = params.get("q", [""])[0]
        page = _page(params)
        chunk, total = self._market_items(q, page)
        state = {
            "user": {"isLogin": False},
            "search": {
                "keyword": q,
                "pager": {"page": page, "total": total, "hasMore": page * 20 < total},
                "itemList": [
                    {
                        "itemId": x.id,
                        "title": x.title,
                        "priceInfo": {"price": x.price, "currency": x.currency},
                        "shopInfo": {"shopName": x.shop_name, "shopUrl": f"/market/shop/{x.shop_id}"},
                        "itemUrl": f"/market/item/{x.id}",
                        "category": x.category,
                        "pics": x.images,
                    }
                    for x in chunk
                ],
            },
        }
        # As served in the wild: "</" escaped so a title cannot close the script.
        blob = json.dumps(state, ensure_ascii=False).replace("</", "<\\/")
        html = (
            "<!doctype html><html><head><meta charset='utf-8'><title>搜索</title></head><body>"
            '<div id=\'app\'></div><script>window.__CONFIG__ = {"env": "prod"};</script>'
            f"<script>window.__INITIAL_STATE__ = {blob};\nwindow.__READY__ = true;</script></body></html>"
        )
        self._send(200, html.encode())

    def r_market_app(self, parts, params):
        """App-style search: an empty shell; its script fetches the JSON API and draws the items."""
        if parts[2:3] != ["search"]:
            raise KeyError(parts)
        self._send(200, APP_SHELL.encode())


APP_SHELL = r"""<!doctype html><html><head><meta charset="utf-8"><title>搜索</title></head><body>
<div id="results"></div>
<script>
(function () {
  var qs = new URLSearchParams(location.search);
  var q = qs.get("q") || "", page = parseInt(qs.get("page") || "1", 10);
  fetch("/market/api/search?q=" + encodeURIComponent(q) + "&page=" + page + "&size=20")
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var box = document.getElementById("results");
      data.items.forEach(function (x) {
        var d = document.createElement("div"); d.className = "item";
        var a = document.createElement("a"); a.className = "title"; a.href = x.url;
        a.textContent = x.title.replace(/<\/?em>/g, "");
        var p = document.createElement("em"); p.className = "price"; p.textContent = String(x.price.amount);
        var s = document.createElement("a"); s.className = "shop"; s.href = x.shop.url; s.textContent = x.shop.name;
        d.appendChild(a); d.appendChild(p); d.appendChild(s); box.appendChild(d);
      });
      if (!data.items.length) {
        var n = document.createElement("p"); n.className = "none"; n.textContent = "没有找到相关商品";
        box.appendChild(n);
      }
      if (data.hasMore) {
        var nx = document.createElement("a"); nx.className = "next";
        nx.href = "/market/app/search?q=" + encodeURIComponent(q) + "&page=" + (page + 1);
        box.appendChild(nx);
      }
    });
})();
</script></body></html>
"""


class DemoServer:
    """The server in a background thread: `with DemoServer(cfg) as srv: srv.url`."""

    def __init__(self, cfg: ServerConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = DemoState(cfg or ServerConfig())
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = cast(tuple[str, int], self.httpd.server_address[:2])  # AF_INET: (host, port)
        return f"http://{host}:{port}"

    def start(self) -> DemoServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="demo-world", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread:
            self.thread.join(5)

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _burst(text: str) -> dict[str, int]:
    out = {}
    for part in filter(None, text.split(",")):
        k, _, v = part.partition("=")
        out[k.strip()] = int(v)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Serve the markwatch demo world on loopback.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--today", type=dt.date.fromisoformat, default=None, help="anchor date (default: today)")
    ap.add_argument("--companies", type=int, default=5000)
    ap.add_argument("--listings", type=int, default=5000)
    ap.add_argument("--revision", type=int, default=0)
    ap.add_argument("--fail-every", type=int, default=41)
    ap.add_argument("--slow-every", type=int, default=97)
    ap.add_argument("--slow-seconds", type=float, default=0.5)
    ap.add_argument(
        "--burst-limit",
        type=_burst,
        default=None,
        help="requests per second per section before the captcha, e.g. registry=400,market=400",
    )
    ap.add_argument("--down", default="", help="comma-separated sections that always answer 503")
    a = ap.parse_args(argv)
    cfg = ServerConfig(
        seed=a.seed,
        today=a.today,
        companies=a.companies,
        listings=a.listings,
        revision=a.revision,
        fail_every=a.fail_every,
        slow_every=a.slow_every,
        slow_seconds=a.slow_seconds,
        down_sections=set(filter(None, a.down.split(","))),
    )
    if a.burst_limit is not None:
        cfg.burst_limit = a.burst_limit
    srv = DemoServer(cfg, a.host, a.port)
    print(srv.url, flush=True)
    try:
        srv.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.httpd.server_close()


if __name__ == "__main__":
    main()
