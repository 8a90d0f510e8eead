"""The dossier: PDF opens with its pages and Chinese text, the manifest verifies, tampering fails,
hostile names stay inert and visible in every field (headless Debian chromium, poppler)."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import unavailable
from typer.testing import CliRunner

from alerts.cases.dossier import DossierOptions, build_dossier, export_pdf, export_zip, inert_html, verify
from alerts.cases.errors import DossierError
from alerts.cases.service import file_case, open_case
from alerts.cases.sqlite import SQLiteCaseStore
from alerts.evidence import EvidenceStore
from alerts.sqlite_store import SQLiteAlertStore
from markwatch.cli import app
from matcher.marksfile import parse_marks

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _need_chromium_and_poppler() -> None:
    """Skipped on a developer's machine without them; a failure in CI (conftest's policy)."""
    if not (shutil.which("chromium") and shutil.which("pdftotext")):
        unavailable("needs Debian chromium and poppler-utils (scripts/test-deps installs them)")


T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
USCC = "914201000181BJ1X8M"
HOSTILE = '湖北一正<script>alert(1)</script>\u202e药业\r\n有限公司"<img src=x onerror=alert(2)>'
MARKS = """
marks:
  - name: 一正
    owner: 吉林一正药业集团有限公司
    well_known: true
    classes: [5]
    registrations: [{number: "1234567", class: 5, valid_until: 2031-06-27}]
    well_known_ref: 商标驰字〔2008〕第1号
"""
PAGE = (
    '<html><head><meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/x">'
    "<script>document.title='ran'</script></head>"
    '<body onload="alert(3)"><h1>湖北一正药业有限公司</h1><p>法定代表人：张三</p>'
    '<a href="javascript:alert(4)">x</a><iframe src="http://127.0.0.1:9/"></iframe></body></html>'
).encode("gbk")


def _setup(tmp_path: Path, name: str = "湖北一正药业有限公司", kind: str = "enterprise", make_alert=None):
    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    ev = EvidenceStore(tmp_path / "evidence.sqlite")
    eid = ev.put("http://127.0.0.1:8700/registry/company/C00000", T0, 200, {"Content-Type": "text/html"}, PAGE)
    item = {
        "uscc": USCC,
        "legal_rep": "张三\u200b",
        "address": "湖北省武汉市=HYPERLINK(1)",
        "status": "存续",
        "established": "2026-02-28",
        "authority": "武汉市市场监督管理局",
        "url": "http://127.0.0.1:8700/registry/company/C00000",
    }
    a = make_alert(
        text=name,
        mark="一正",
        owner="吉林一正药业集团有限公司",
        kind=kind,
        item=item,
        evidence_id=eid,
        seller="潮品<b>店</b>" if kind == "listing" else None,
    )
    store.upsert([a])
    store.review([a.id], "confirmed", now=T0)
    cases = SQLiteCaseStore(store.db)
    case = open_case(store, cases, [a.id], who="ana", now=T0)
    case = file_case(cases, case.id, to="武汉市市场监督管理局", ref="REF-1", who="ana", now=T0)
    return store, ev, cases, case


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def test_dossier_pdf_zip_and_verify(tmp_path, make_alert):
    store, ev, cases, case = _setup(tmp_path, make_alert=make_alert)
    marks = parse_marks(MARKS)
    folder = build_dossier(
        case, store.get_many(case.alert_ids), ev, marks, tmp_path / "d", opts=DossierOptions(timeout=90)
    )
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    ev_dir = next(n.rsplit("/", 1)[0] for n in names if n.endswith("page.bin"))
    assert {"dossier.pdf", "dossier.html", "letter.txt", "manifest.json", "case.json", "entity.json"} <= names
    assert {f"{ev_dir}/page.bin", f"{ev_dir}/page.inert.html", f"{ev_dir}/screenshot.png"} <= names
    assert (folder / ev_dir / "page.bin").read_bytes() == PAGE  # as fetched, byte for byte
    assert (folder / ev_dir / "screenshot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = _pdf_text(folder / "dossier.pdf")
    for needle in (
        "企业名称争议处理申请材料",
        "吉林一正药业集团有限公司",
        "湖北一正药业有限公司",
        USCC,
        "武汉市市场监督管理局",
        "1234567",
        "商标驰字〔2008〕第1号",
        "第五十八条",
        "企业名称登记管理规定",
        "名称争议",
    ):
        assert needle in text.replace(" ", ""), needle
    assert _pages(folder / "dossier.pdf") >= 3
    # for an authority: one procedure, no internal paths or login names, an evidence list, hash-only said
    flat = text.replace(" ", "")
    assert "知识产权侵权投诉" not in flat and "provisions.yaml" not in flat and "ana" not in flat.split("证据清单")[0]
    assert "操作人" not in flat and "证据清单" in flat and "证明内容" in flat and "未加盖可信时间戳" in flat
    letter = (folder / "letter.txt").read_text(encoding="utf-8")
    assert "致：武汉市市场监督管理局" in letter and "第1234567号" in letter and "30 日内" in letter

    zpath = export_zip(folder, tmp_path / "out" / "case.zip")
    res = verify(zpath)
    assert res.ok and res.checked == len(names) - 1
    r = CliRunner().invoke(app, ["cases", "verify", str(zpath)])
    assert r.exit_code == 0 and "OK" in r.output

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(zpath) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("page.bin"):
                data = data.replace("张三".encode("gbk"), "李四".encode("gbk"))
            zout.writestr(info, data)
    res = verify(tampered)
    assert not res.ok and any("page.bin" in p for p in res.problems)
    r = CliRunner().invoke(app, ["cases", "verify", str(tampered)])
    assert r.exit_code == 1

    pdf = export_pdf(folder, tmp_path / "out" / "case.pdf", case_id=case.id, created_at=T0)
    assert verify(pdf).ok
    with pdf.open("r+b") as fh:
        fh.seek(-10, 2)
        fh.write(b"%%TAMPER%%")
    assert not verify(pdf).ok
    assert CliRunner().invoke(app, ["cases", "verify", str(pdf)]).exit_code == 1
    assert CliRunner().invoke(app, ["cases", "verify", str(tmp_path / "nothing.zip")]).exit_code == 1


def test_hostile_names_in_every_field(tmp_path, make_alert):
    store, ev, cases, case = _setup(tmp_path, name=HOSTILE, make_alert=make_alert)
    folder = build_dossier(
        case, store.get_many(case.alert_ids), ev, parse_marks(MARKS), tmp_path / "d", opts=DossierOptions(timeout=90)
    )
    html = (folder / "dossier.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\u202e" not in html and "⟨U+202E⟩" in html
    letter = (folder / "letter.txt").read_text(encoding="utf-8")
    assert "\u202e" not in letter and "\r" not in letter and "⟨U+202E⟩" in letter and "⟨U+000D⟩⟨U+000A⟩" in letter
    text = _pdf_text(folder / "dossier.pdf")
    assert "<script>alert(1)</script>" in text.replace(" ", "").replace("\n", "")  # shown as text, not run
    inert = next(folder.rglob("page.inert.html")).read_text(encoding="utf-8")
    assert "Content-Security-Policy" in inert and "<script" not in inert.lower()
    assert "onload" not in inert and "javascript:" not in inert and "refresh" not in inert.split("-->", 1)[1]
    assert "<iframe" not in inert and "湖北一正药业有限公司" in inert  # GBK decoded
    entity = json.loads((folder / "entity.json").read_text(encoding="utf-8"))
    assert entity["name"] == HOSTILE  # the data keeps the text as fetched; only displays escape it


def test_listing_dossier_has_complaint_csv(tmp_path, make_alert):
    store, ev, cases, case = _setup(
        tmp_path, name="=cmd|'/c calc'!A0 1:1复刻 一正消痔软膏", kind="listing", make_alert=make_alert
    )
    opts = DossierOptions(timeout=90, platforms={"gsxt": "演示商城知识产权保护平台"}, screenshots=False, pdf=False)
    folder = build_dossier(case, store.get_many(case.alert_ids), ev, parse_marks(MARKS), tmp_path / "d", opts=opts)
    csv_text = (folder / "complaint.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0].startswith(
        "权利人,权利人统一社会信用代码,商标,注册号,类别,侵权类型,侵权链接,店铺名称"
    )
    assert "'=cmd" in csv_text and "1234567" in csv_text and "http://127.0.0.1:8700/registry/company/C00000" in csv_text
    letter = (folder / "letter.txt").read_text(encoding="utf-8")
    assert "投诉渠道：演示商城知识产权保护平台" in letter and "潮品<b>店</b>" in letter


def test_inert_json_body():
    out = inert_html(b'{"data": {"entName": "<script>x</script>"}}', {"Content-Type": "application/json"}, "u")
    assert "<script>x" not in out and "&lt;script&gt;" in out


def test_english_dossier_labels_keep_chinese_provisions_and_letter(tmp_path, make_alert):
    store, ev, cases, case = _setup(tmp_path, name=HOSTILE, make_alert=make_alert)
    opts = DossierOptions(timeout=90, screenshots=False, pdf=False)
    alerts = store.get_many(case.alert_ids)
    zh = build_dossier(case, alerts, ev, parse_marks(MARKS), tmp_path / "zh", opts=opts, now=T0)
    en = build_dossier(case, alerts, ev, parse_marks(MARKS), tmp_path / "en", opts=opts, now=T0, language="en")
    zh_html = (zh / "dossier.html").read_text(encoding="utf-8")
    en_html = (en / "dossier.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in zh_html and "权利商标" in zh_html and "Legal basis" not in zh_html
    assert '<html lang="en">' in en_html
    for label in (
        "Application for an enterprise-name dispute",
        "2. The marks",
        "5. Legal basis",
        "7. Procedure so far",
    ):
        assert label in en_html
    assert "二、权利商标" not in en_html and "处理经过" not in en_html and "complaint filed" in en_html
    assert "第五十八条" in en_html and "Trademark Law of the PRC" in en_html  # Chinese provision + English title
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in en_html and "<script>alert(1)" not in en_html
    assert "\u202e" not in en_html
    # The letter goes to a Chinese authority: identical in both.
    assert (zh / "letter.txt").read_bytes() == (en / "letter.txt").read_bytes()
    with pytest.raises(DossierError):
        build_dossier(case, alerts, ev, parse_marks(MARKS), tmp_path / "fr", opts=opts, language="fr")


def test_applicant_block_and_complaint_packs_at_the_platform_limit(tmp_path, make_alert):
    """`[cases] applicant` on the letter and the dossier; a shop's links split at the platform's limit per request."""
    from alerts.cases.service import add_alerts

    store, ev, cases, case = _setup(tmp_path, name="1:1复刻 一正消痔软膏 0", kind="listing", make_alert=make_alert)
    more = []
    for i in range(1, 7):
        a = make_alert(
            text=f"1:1复刻 一正消痔软膏 {i}",
            mark="一正",
            owner="吉林一正药业集团有限公司",
            kind="listing",
            seller="潮品<b>店</b>",
            key=f"id:L{i}",
            item={"url": f"http://127.0.0.1:8700/market/item/L{i}"},
        )
        more.append(a)
    store.upsert(more)
    store.review([a.id for a in more], "confirmed", now=T0)
    case = add_alerts(store, cases, case.id, [a.id for a in more], now=T0)
    applicant = {
        "name": "吉林一正药业集团有限公司",
        "credit_code": "91220500123456789X",
        "address": "吉林省通化市",
        "agent": "某某知识产权代理有限公司",
        "contact": "张律师 0435-1234567",
    }
    opts = DossierOptions(
        screenshots=False,
        pdf=False,
        applicant=applicant,
        max_links={"gsxt": 3},
        platforms={"gsxt": "演示商城知识产权保护平台"},
    )
    folder = build_dossier(case, store.get_many(case.alert_ids), ev, parse_marks(MARKS), tmp_path / "d", opts=opts)
    packs = sorted(p.name for p in folder.glob("complaint-*.csv"))
    assert packs == ["complaint-01.csv", "complaint-02.csv", "complaint-03.csv"]
    rows = [len((folder / p).read_text("utf-8-sig").splitlines()) - 1 for p in packs]
    assert rows == [3, 3, 1]
    letter = (folder / "letter.txt").read_text("utf-8")
    assert "权利人统一社会信用代码：91220500123456789X" in letter and "代理人：某某知识产权代理有限公司" in letter
    assert "complaint-01.csv、complaint-02.csv、complaint-03.csv" in letter
    html = (folder / "dossier.html").read_text("utf-8")
    assert "知识产权侵权投诉材料" in html and "企业名称争议处理申请材料" not in html and "张律师 0435-1234567" in html
