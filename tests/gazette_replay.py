"""A loopback replay of the trademark gazette's search service (商标公告), for the trademark tests.

It answers as crawler/sources/cnipa-gazette.yaml expects: an issue list, then each issue's
preliminary approvals by POST form (page, rows, annNum, annType=TMZCSQ), JSON ``{"total", "rows"}``
with the row fields the gazette search gives (reg_num, tm_name, reg_name, ann_num, ann_date,
page_no, int_cls). Like the real service it guards itself: the first answer sets a session cookie
and a request without it gets the verification page (安全验证), so a crawler that drops cookies is
refused, not fed; ``block_after`` pages answer the verification page from then on.

An issue's applications are generated deterministically: ordinary marks made of common
characters, and imitations of the demo marks (markwatch/demo/marks.yaml) filed in the mark's own
classes and in unrelated ones (``PLANTED``), spread through the issue.
"""

from __future__ import annotations

import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

TYC_TOKEN = "tyc-token-Gz5tR2wQ8"
ISSUES = [("1961", "2026-10-20"), ("1962", "2026-10-27"), ("1963", "2026-11-06")]
# (application text, classes, the demo mark it imitates, in the mark's own classes?)
PLANTED = [
    ("壹正", [5], "一正", True),
    ("一正堂", [5, 35], "一正", True),
    ("三元牧场", [29], "三元", True),
    ("叁元", [29], "三元", True),
    ("三元", [9], "三元", False),  # an ordinary mark in another class: lawful coexistence
    ("小熊", [41], "小熊", False),
    ("白象", [16], "白象", False),
    ("久阳", [11], "九阳", True),
    ("九阳", [25], "九阳", False),  # well-known: protected across classes all the same
    ("茅苔", [33], "茅台", True),
    ("农夫山全", [32], "农夫山泉", True),
    ("王老吉", [3], "王老吉", False),
]
# The owner's own applications and those of companies on the mark's whitelist (its group companies,
# licensees): (text, classes, applicant). They are not imitations and must never become alerts.
OWN = [
    ("一正", [5], "吉林一正药业集团有限公司"),
    ("一正", [35], "吉林一正医药集团有限公司"),
    ("九阳", [21], "杭州九阳小家电有限公司"),
    ("九阳豆浆", [29, 30], "九阳股份有限公司"),
]
# Characters of ordinary marks: none of them is a demo mark's character or a look-alike of one.
_COMMON = "春夏秋冬东西北月雨花草林森湖河江石金银铜铁红绿蓝青紫福禄寿喜乐宁和顺达昌盛兴旺"


def applications(issue: str, date: str, count: int) -> list[dict]:
    """The issue's applications in gazette order (deterministic for the issue number)."""
    rnd = random.Random(f"gazette-{issue}")
    rows = []
    planted = {(i * count) // (len(PLANTED) + 1) + 7: p for i, p in enumerate(PLANTED, 1)}
    own = {(i * count) // (len(OWN) + 1) + 11: p for i, p in enumerate(OWN, 1)}
    base = int(issue) * 100_000
    for n in range(count):
        applicant = f"申请人{n % 997}号有限公司"
        if n in planted:
            text, classes, _, _ = planted[n]
        elif n in own:
            text, classes, applicant = own[n]
        else:
            text = "".join(rnd.choice(_COMMON) for _ in range(rnd.choice((2, 2, 3, 4))))
            classes = sorted(rnd.sample(range(1, 46), rnd.choice((1, 1, 2))))
        rows.append(
            {
                "id": f"{issue}-{n:06d}",
                "rn": n + 1,
                "page_no": n // 20 + 1,
                "reg_num": str(base + n),
                "tm_name": text,
                "reg_name": applicant,
                "ann_type": "商标初步审定公告",
                "ann_type_code": "TMZCSQ",
                "ann_num": issue,
                "ann_date": date,
                "int_cls": ",".join(str(c) for c in classes),
            }
        )
    return rows


class _Handler(BaseHTTPRequestHandler):
    server: GazetteServer

    def log_message(self, *a):  # quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str, cookie: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if cookie:
            self.send_header("Set-Cookie", "JSESSIONID=replay-session; Path=/")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, obj: object, cookie: bool = False) -> None:
        self._send(200, json.dumps(obj, ensure_ascii=False).encode(), "application/json;charset=UTF-8", cookie)

    def _verify_page(self) -> None:
        self._send(200, "<html><title>安全验证</title>请完成安全验证</html>".encode(), "text/html;charset=UTF-8")

    def do_GET(self):  # noqa: N802
        url = urlsplit(self.path)
        srv = self.server
        srv.log.append(("GET", url.path, dict(parse_qsl(url.query))))
        if url.path == "/robots.txt":
            return self._send(404, b"", "text/plain")
        if url.path == "/services/open/ipr/tm/search":
            return self._tyc(dict(parse_qsl(url.query)))
        if url.path == "/tmann/annInfoView/annIssues.html":
            return self._json({"total": len(srv.issues), "rows": [
                {"ann_num": n, "ann_date": d, "ann_type": "商标初步审定公告"} for n, d in srv.issues
            ]}, cookie=True)  # fmt: skip
        return self._send(404, b"not found", "text/plain")

    def _tyc(self, q: dict) -> None:
        """天眼查 商标垂搜: substring search over the first issue's applications, 20 a page."""
        if self.headers.get("Authorization") != TYC_TOKEN:
            return self._json({"error_code": 300003, "reason": "令牌无效", "result": None})
        word = q.get("keyword", "")
        number, date = self.server.issues[0]
        if word.isdigit():  # an application number: that application, in any issue, with its status now
            found = [r for n, d in self.server.issues for r in self.server.rows(n, d) if r["reg_num"] == word]
        else:
            found = [r for r in self.server.rows(number, date) if word and word in r["tm_name"]]
        if not found:
            return self._json({"error_code": 300000, "reason": "查询无结果", "result": None})
        page = int(q.get("pageNum") or 1)
        items = [
            {"regNo": r["reg_num"], "tmName": r["tm_name"], "intCls": r["int_cls"].split(",")[0],
             "applicantCn": r["reg_name"], "appDate": "2026-03-01",
             "status": self.server.statuses.get(r["reg_num"], "初审公告"), "tmPic": ""}
            for r in found[(page - 1) * 20 : page * 20]
        ]  # fmt: skip
        return self._json({"error_code": 0, "reason": "ok", "result": {"total": len(found), "items": items}})

    def do_POST(self):  # noqa: N802
        url = urlsplit(self.path)
        srv = self.server
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode("utf-8")))
        srv.log.append(("POST", url.path, form))
        if url.path != "/tmann/annInfoView/annSearchDG.html":
            return self._send(404, b"not found", "text/plain")
        with srv.lock:
            srv.pages_served += 1
            blocked = srv.block_after is not None and srv.pages_served > srv.block_after
        if blocked or "JSESSIONID=replay-session" not in (self.headers.get("Cookie") or ""):
            return self._verify_page()
        issue = form.get("annNum", "")
        date = dict(srv.issues).get(issue)
        if date is None or form.get("annType") != "TMZCSQ":
            return self._json({"total": 0, "rows": []})
        rows = srv.rows(issue, date)
        page, size = int(form.get("page") or 1), min(int(form.get("rows") or 20), 100)
        return self._json({"total": len(rows), "rows": rows[(page - 1) * size : page * size]})


class GazetteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, per_issue: int = 2000, issues: list[tuple[str, str]] | None = None, block_after=None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.per_issue = per_issue
        self.issues = issues or ISSUES
        self.block_after = block_after
        self.pages_served = 0
        self.lock = threading.Lock()
        self.log: list[tuple] = []
        self.statuses: dict[str, str] = {}  # application number -> its 商标状态 now (the follow-up reads it)
        self._rows: dict[str, list[dict]] = {}
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def rows(self, issue: str, date: str) -> list[dict]:
        with self.lock:
            if issue not in self._rows:
                self._rows[issue] = applications(issue, date, self.per_issue)
            return self._rows[issue]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> GazetteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


def main() -> None:  # pragma: no cover - for trying the source by hand
    import argparse
    import time

    ap = argparse.ArgumentParser(description="Serve a replayed trademark gazette on 127.0.0.1.")
    ap.add_argument("--per-issue", type=int, default=50_000)
    a = ap.parse_args()
    with GazetteServer(per_issue=a.per_issue) as srv:
        print(srv.url, flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":  # pragma: no cover
    main()
