"""The hostile world: small sites on loopback that fail the ways real ones do, one fault per path.

Each fault is a tiny marketplace site under its own path prefix, with a source file to crawl it
(`source_yaml`). The tests and the closing table of issue 12 run `markwatch scan` against them:

    ok        healthy: 3 pages of listings (a baseline, and the yield history)
    drift     the site was redesigned: the row selector matches nothing
    auth      HTTP 401 on every request (an expired key)
    errbody   HTTP 200 with an error body ({"error": "invalid token"})
    trunc     a JSON feed cut off mid-document on page 2
    bomb      page 2 is a gzip bomb (about 400 KB expanding to 400 MB of zeros)
    redirect  detail links that redirect to another host (127.0.0.2) and to another port
    slow      a page that answers after `slow_seconds` (past the scan's time budget)
    few       like ok, but `few_items` rows when `few` is switched on (a silent partial outage)
    bigjson   one JSON page of `big_rows` rows (about 3 bytes each, under the size limit): 3 real rows first
    deep      a JSON feed whose page 2 is nested `deep_levels` deep (a RecursionError for json.loads)
    redirchain  detail links behind a chain of `chain_hops` redirects (past Scrapy's limit of 20)
    redirloop   detail links that redirect in a loop (a → b → a)
    trap      a crawl trap: every list page has rows and a `next` link to a page made up on the spot
    reptrap   a trap of repeating URLs: the next page is this one's path plus `/more`
    dropped   rows without a title on page 2 (items the pipeline drops)

A site that is down is a closed port: `closed_port()`.

    python -m crawler.demo.hostile --port 0     # prints the URL, serves until Ctrl-C
"""

from __future__ import annotations

import argparse
import collections
import json
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast
from urllib.parse import parse_qs, urlsplit

FAULTS = (
    "ok",
    "drift",
    "auth",
    "errbody",
    "trunc",
    "bomb",
    "redirect",
    "slow",
    "few",
    "bigjson",
    "deep",
    "redirchain",
    "redirloop",
    "trap",
    "reptrap",
    "dropped",
)
JSON_FAULTS = ("errbody", "trunc", "auth", "bigjson", "deep")
# Counterfeit cues: every listing is a hit for one demo mark (markwatch/demo/marks.yaml).
TITLES = ("高仿 一正感冒灵", "原单 九阳豆浆机 家用", "A货 立白洗衣液 2kg", "超A 卫龙辣条 大礼包", "高仿 九牧花洒 套装")

_BOMB: dict[int, bytes] = {}
_BOMB_LOCK = threading.Lock()
_BIG: dict[int, bytes] = {}


def big_json(rows: int) -> bytes:
    """{"items": [3 real rows, then `{}` × rows], "more": false}; built once per size."""
    with _BOMB_LOCK:
        if rows not in _BIG:
            real = ",".join(json.dumps(r, ensure_ascii=False) for r in _rows("bigjson", 1, 3))
            _BIG[rows] = ('{"items": [' + real + ",{}" * rows + '], "more": false}').encode()
        return _BIG[rows]


def gzip_bomb(megabytes: int = 400) -> bytes:
    """*megabytes* MB of zeros, gzip-compressed (about 1/1000 of that on the wire); built once."""
    with _BOMB_LOCK:
        if megabytes not in _BOMB:
            co = zlib.compressobj(9, zlib.DEFLATED, 31)
            chunk = b"\0" * (1 << 20)
            parts = [co.compress(chunk) for _ in range(megabytes)]
            parts.append(co.flush())
            _BOMB[megabytes] = b"".join(parts)
        return _BOMB[megabytes]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class HostileConfig:
    pages: int = 3
    per_page: int = 10
    slow_seconds: float = 30.0
    bomb_megabytes: int = 400
    few: bool = False  # the `few` site serves only `few_items` rows in all
    few_items: int = 2
    page_delay: float = 0.0  # seconds before every list page (a long scan, to kill something mid-way)
    other_host: str = "127.0.0.2"  # where `redirect` sends its off-site links
    big_rows: int = 10_000_000
    deep_levels: int = 100_000
    chain_hops: int = 30
    trap_rows: int = 50
    hits: collections.Counter[str] = field(default_factory=collections.Counter)


def _rows(fault: str, page: int, n: int) -> list[dict]:
    return [
        {
            "id": f"{fault}-{page}-{i}",
            "title": f"{TITLES[(page * n + i) % len(TITLES)]} {fault}{page}{i}",
            "price": f"{10 + i}.00",
        }
        for i in range(n)
    ]


def _html(fault: str, rows: list[dict], cls: str = "item") -> bytes:
    lis = "".join(
        f'<li class="{cls}"><a class="t" href="/{fault}/item/{r["id"]}">{r["title"]}</a>'
        f'<span class="p">{r["price"]}</span></li>'
        for r in rows
    )
    return f"<!doctype html><html><head><meta charset='utf-8'></head><body><ul>{lis}</ul></body></html>".encode()


class _Handler(BaseHTTPRequestHandler):
    server_version = "hostile/1"
    cfg: HostileConfig

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", **headers: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k.replace("_", "-"), v)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler gave up (a timeout, a size cut): that is the point

    def do_GET(self):  # noqa: N802
        parts = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        segs = [s for s in parts.path.split("/") if s]
        cfg = self.cfg
        cfg.hits[f"{self.server.server_address[0]}{parts.path}"] += 1
        if parts.path == "/robots.txt":
            return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
        if not segs or segs[0] not in FAULTS:
            return self._send(404, b"not found", "text/plain")
        fault, rest = segs[0], segs[1:]
        page = int(params.get("page", "1") or 1)
        if rest[:1] == ["item"]:
            return self._send(200, _html(fault, [{"id": rest[1], "title": f"详情 {rest[1]}", "price": "1.00"}]))
        if fault == "redirchain" and rest[:1] == ["hop"]:
            hop, ident = int(rest[1]), rest[2]
            nxt = f"/redirchain/hop/{hop + 1}/{ident}" if hop < cfg.chain_hops else f"/redirchain/item/{ident}"
            return self._send(302, b"", Location=nxt)
        if fault == "redirloop" and rest[:1] in (["a"], ["b"]):
            other = "b" if rest[0] == "a" else "a"
            return self._send(302, b"", Location=f"/redirloop/{other}/{rest[1]}")
        if fault == "bigjson":
            return self._send(200, big_json(cfg.big_rows), "application/json")
        if fault == "deep" and page == 2:
            lv = cfg.deep_levels
            return self._send(200, b'{"items": ' + b"[" * lv + b"]" * lv + b', "more": true}', "application/json")
        if fault == "deep":
            body = json.dumps({"items": _rows(fault, page, cfg.per_page), "more": page < cfg.pages}, ensure_ascii=False)
            return self._send(200, body.encode(), "application/json; charset=utf-8")
        if fault in ("trap", "reptrap"):
            ident = "-".join(rest[1:]) or "0"
            rows = [
                {"id": f"{fault}-{len(rest)}-{abs(hash(parts.path)) % 10**8}-{i}", "title": f"{TITLES[i % 5]} 陷阱{i}"}
                for i in range(cfg.trap_rows)
            ]
            lis = "".join(
                f'<li class="item"><a class="t" href="/{fault}/item/{r["id"]}">{r["title"]}</a></li>' for r in rows
            )
            if fault == "trap":
                nxt = f"/trap/list/{ident}-{abs(hash(parts.path + 'n')) % 10**6}"
            else:
                nxt = parts.path.rstrip("/") + "/more"
            html = f'<html><body><ul>{lis}</ul><a class="next" href="{nxt}">next</a></body></html>'
            return self._send(200, html.encode())
        n = cfg.per_page
        more = page < cfg.pages
        if fault == "auth":
            return self._send(401, b'{"error": "unauthorized"}', "application/json", WWW_Authenticate="Bearer")
        if fault == "errbody":
            return self._send(200, json.dumps({"error": "invalid token", "items": None}).encode(), "application/json")
        if fault == "trunc":
            body = json.dumps({"items": _rows(fault, page, n), "more": more}, ensure_ascii=False).encode()
            return self._send(200, body[: len(body) // 2] if page == 2 else body, "application/json; charset=utf-8")
        if fault == "drift":
            return self._send(200, _html(fault, _rows(fault, page, n), cls="product-card") if page == 1 else b"")
        if fault == "bomb" and page == 2:
            body = gzip_bomb(cfg.bomb_megabytes)
            return self._send(200, body, Content_Encoding="gzip")
        if fault == "slow" and page == 2:
            time.sleep(cfg.slow_seconds)
        if fault == "redirect" and rest[:1] == ["go"]:
            port = self.server.server_address[1]
            target = f"http://{cfg.other_host}:{port}/ok/item/{rest[1]}"
            return self._send(302, b"", Location=target)
        if cfg.page_delay:
            time.sleep(cfg.page_delay)
        if page > cfg.pages:
            return self._send(200, _html(fault, []))
        if fault == "few" and cfg.few:
            return self._send(200, _html(fault, _rows(fault, 1, cfg.few_items) if page == 1 else []))
        rows = _rows(fault, page, n)
        if fault == "dropped" and page == 2:
            lis = "".join(f'<li class="item"><a class="t" href="/dropped/item/{r["id"]}"></a></li>' for r in rows)
            return self._send(200, f"<html><body><ul>{lis}</ul></body></html>".encode())
        if fault in ("redirchain", "redirloop"):
            first = "hop/1" if fault == "redirchain" else "a"
            lis = "".join(
                f'<li class="item"><a class="t" href="/{fault}/{first}/{r["id"]}">{r["title"]}</a></li>' for r in rows
            )
            return self._send(200, f"<html><body><ul>{lis}</ul></body></html>".encode())
        if fault == "redirect":
            lis = "".join(
                f'<li class="item"><a class="t" href="/redirect/go/{r["id"]}">{r["title"]}</a></li>' for r in rows
            )
            return self._send(200, f"<html><body><ul>{lis}</ul></body></html>".encode())
        return self._send(200, _html(fault, rows))


class HostileServer:
    """The hostile sites on one loopback address (127.0.0.1 by default); a context manager."""

    def __init__(self, cfg: HostileConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.cfg = cfg or HostileConfig()
        handler = type("Handler", (_Handler,), {"cfg": self.cfg})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = cast(tuple[str, int], self.httpd.server_address[:2])  # AF_INET: (host, port)
        return f"http://{host}:{port}"

    def start(self) -> HostileServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def source_yaml(fault: str, base_url: str, name: str | None = None, max_pages: int = 5) -> str:
    """A marketplace source file for one hostile site (identity from the URL: host and port do not matter)."""
    name = name or f"hostile-{fault}"
    if fault in JSON_FAULTS:
        return f"""name: {name}
kind: marketplace
mode: browse
base_url: {base_url}
identity: {{json: id}}
rate_limit: {{delay: 0, concurrency: 4}}
limits: {{retries: 1, timeout: 10}}
pages:
  url: "{{base}}/{fault}/api?page={{page}}"
  format: json
  rows: items
  has_more: more
  max_pages: 5
  fields:
    title: {{json: title}}
    price: {{json: price}}
"""
    detail = ""
    if fault in ("redirect", "redirchain", "redirloop"):
        detail = """  detail: a.t::attr(href)
detail:
  fields:
    title: a.t::text
"""
    if fault in ("trap", "reptrap"):
        detail = """  next: a.next::attr(href)
"""
        max_pages = 100_000
    return f"""name: {name}
kind: marketplace
mode: browse
base_url: {base_url}
identity: {{url: "/item/([A-Za-z0-9-]+)"}}
rate_limit: {{delay: 0, concurrency: 4}}
limits: {{retries: 1, timeout: 10}}
pages:
  url: "{{base}}/{fault}/list?page={{page}}"
  rows: li.item
  max_pages: {max_pages}
  fields:
    title: a.t::text
    url: a.t::attr(href)
    price: span.p::text
{detail}"""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m crawler.demo.hostile", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args(argv)
    srv = HostileServer(host=a.host, port=a.port).start()
    print(srv.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main()
