"""Opposition cases end to end: a replayed gazette issue scanned, an imitating application confirmed,
a case of kind `opposition` opened, its dossier (商标异议申请书, PDF, evidence, manifest) exported and
verified, filed, then followed up through the provider's trademark search until CNIPA refuses it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import zipfile

import pytest
from conftest import unavailable
from gazette_replay import TYC_TOKEN, GazetteServer
from scan_support import ROOT, cli
from sources_support import source_config

from alerts.cases.opposition import application_status, draft
from alerts.sqlite_store import SQLiteAlertStore
from matcher.marksfile import load_marks

MARKS = ROOT / "markwatch/demo/marks.yaml"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("初审公告", "pending"),
        ("商标异议申请中", "opposed"),
        ("注册公告", "registered"),
        ("商标已注册", "registered"),
        ("不予注册", "refused"),
        ("驳回复审中", "refused"),
        ("撤回商标注册申请", "withdrawn"),
        ("", "unknown"),
        ("等待实质审查", "pending"),
    ],
)
def test_application_status_words(text, status):
    assert application_status(text) == status


def _scan_gazette(tmp_path, srv):
    cfg = source_config(
        tmp_path, MARKS.read_text(encoding="utf-8"), url=srv.url, sources=["cnipa-gazette"], extra="days = 20"
    )
    p = cli("scan", "--config", str(cfg), "--date", "2026-11-06", "--json", "--no-progress")
    assert p.returncode in (0, 1), p.stderr[-3000:]
    return cfg


def _alerts(tmp_path) -> dict[str, object]:
    store = SQLiteAlertStore(tmp_path / "var" / "alerts.sqlite")
    try:
        return {a.subject.text: a for a in store.export(__import__("alerts.store").store.AlertQuery())}
    finally:
        store.close()


def _confirm(tmp_path, ids):
    store = SQLiteAlertStore(tmp_path / "var" / "alerts.sqlite")
    try:
        store.review(ids, "confirmed", who="ana")
    finally:
        store.close()


@pytest.mark.slow
def test_grounds_same_class_and_well_known_across_classes(tmp_path):
    """Art. 30 where the application covers the mark's class, art. 13 where a well-known mark is
    reached across classes, art. 32 where the owner's trade name carries the mark."""
    from alerts.cases.model import Case, CaseEvent, entity_of

    with GazetteServer(per_issue=300) as srv:
        _scan_gazette(tmp_path, srv)
    found = _alerts(tmp_path)
    marks = load_marks(MARKS)
    now = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)

    def case_for(alert):
        return Case(
            id="C-test",
            owner=alert.owner,
            marks=[alert.mark],
            entity=entity_of(alert),
            alert_ids=[alert.id],
            opposition_deadline=alert.deadline,
            events=[CaseEvent(at=now, who="t", action="open", to_state="open")],
            created_at=now,
            updated_at=now,
        )

    same = found["壹正"]
    d = draft(case_for(same), [same], marks, {"name": "吉林一正药业集团有限公司"}, now.date())
    ids = [g["id"] for g in d["grounds"]]
    assert ids[:2] == ["tml-30", "tml-32"] and "tml-13" not in ids
    assert d["opposed"]["classes"] == [5] and d["opposed"]["number"] == same.subject.number
    assert d["deadline"] == same.deadline.isoformat() and d["days_left"] == (same.deadline - now.date()).days
    assert "第 DEMO-1234567 号“一正”商标注册证（第 5 类）" in d["evidence_owner"]
    cross = found["九阳"]  # class 25, well-known 九阳 (classes 7, 11, 21)
    assert cross.subject.classes == [25]
    d = draft(case_for(cross), [cross], marks, {"name": "九阳股份有限公司"}, now.date())
    ids = [g["id"] for g in d["grounds"]]
    assert "tml-13" in ids and "tml-30" not in ids
    assert any("驰名商标认定文件" in e for e in d["evidence_owner"])


@pytest.mark.slow
@pytest.mark.browser
def test_opposition_case_dossier_verified_filed_and_followed_up_to_refusal(tmp_path):
    if not (shutil.which("chromium") and shutil.which("pdftotext")):
        unavailable("needs Debian chromium and poppler-utils (scripts/test-deps installs them)")
    with GazetteServer(per_issue=300) as srv:
        cfg = _scan_gazette(tmp_path, srv)
        alert = _alerts(tmp_path)["壹正"]
        number = alert.subject.number
        _confirm(tmp_path, [alert.id])
        p = cli("cases", "open", alert.id, "--ground", "tml-15", "--config", str(cfg))
        assert p.returncode == 0, p.stderr
        case_id = p.stdout.strip()
        p = cli("cases", "show", case_id, "--format", "json", "--config", str(cfg))
        doc = json.loads(p.stdout)
        assert doc["kind"] == "opposition" and doc["entity"]["kind"] == "trademark"
        assert doc["entity"]["number"] == number and doc["opposition_deadline"] == alert.deadline.isoformat()
        assert doc["authority"]["name"] == "国家知识产权局商标局" and doc["grounds"] == ["tml-15"]

        out = tmp_path / "dossier.zip"
        p = cli("cases", "export", case_id, "--format", "zip", "-o", str(out), "--config", str(cfg), timeout=300)
        assert p.returncode == 0, p.stderr[-2000:]
        with zipfile.ZipFile(out) as zf:
            names = set(zf.namelist())
            letter = zf.read("letter.txt").decode("utf-8")
            fields = json.loads(zf.read("opposition.json"))
            zf.extract("dossier.pdf", tmp_path)
        assert {"dossier.pdf", "dossier.html", "letter.txt", "opposition.json", "manifest.json"} <= names
        assert any(n.endswith("/page.bin") for n in names)  # the gazette page as fetched
        # the 商标异议申请书 fields, as drafted
        assert "商标异议申请书" in letter and "致：国家知识产权局商标局" in letter
        assert "名称：吉林一正药业集团有限公司" in letter
        assert f"申请号：{number}" in letter and "类别：第 5 类" in letter
        assert f"初步审定公告：第 {alert.item['announcement']} 期，{alert.subject.announced.isoformat()}" in letter
        assert f"请求对第 {number} 号“壹正”商标不予核准注册。" in letter
        assert f"异议须在 {alert.deadline.isoformat()}（含当日）前提交" in letter
        for article in ("第三十条", "第三十二条", "第十五条"):
            assert f"》{article}：" in letter
        assert "“一正”，注册人 吉林一正药业集团有限公司；第 DEMO-1234567 号（第 5 类" in letter
        assert "证据1：初步审定公告" in letter and "SHA-256" in letter
        assert "异议人主体资格证明" in letter
        assert [g["id"] for g in fields["grounds"]][:2] == ["tml-30", "tml-32"]
        pdf = subprocess.run(
            ["pdftotext", "-layout", str(tmp_path / "dossier.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "商标异议申请材料" in pdf and "被异议商标" in pdf and number in pdf
        p = cli("cases", "verify", str(out))
        assert p.returncode == 0, p.stderr
        bad = tmp_path / "bad.zip"
        with zipfile.ZipFile(out) as zin, zipfile.ZipFile(bad, "w") as zout:
            for info in zin.infolist():
                data = zin.read(info)
                zout.writestr(
                    info, data.replace("壹正".encode(), "某某".encode()) if info.filename == "letter.txt" else data
                )
        assert cli("cases", "verify", str(bad)).returncode == 1

        p = cli("cases", "file", case_id, "--to", "国家知识产权局商标局", "--ref", "YY2026-0001", "--config", str(cfg))
        assert p.returncode == 0, p.stderr
        from alerts.deadlines import add_months

        assert f"deadline {add_months(alert.deadline, 12).isoformat()}" in p.stdout  # art. 35
        srv.statuses[number] = "商标异议申请中"
        p = cli("cases", "check", "--config", str(cfg), "--base-url", srv.url, TYC_TOKEN=TYC_TOKEN, timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
        assert f"{case_id} unchanged" in p.stdout and "异议中" in p.stdout
        srv.statuses[number] = "不予注册"
        p = cli("cases", "check", "--config", str(cfg), "--base-url", srv.url, TYC_TOKEN=TYC_TOKEN, timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
        assert f"{case_id} resolved: 壹正 refused" in p.stdout
        looked = [e[2].get("keyword") for e in srv.log if e[1] == "/services/open/ipr/tm/search"]
        assert looked.count(number) == 2
    doc = json.loads(cli("cases", "show", case_id, "--format", "json", "--config", str(cfg)).stdout)
    assert doc["state"] == "resolved" and doc["resolution"] == "refused"
    checks = [e for e in doc["events"] if e["action"] in ("checked", "resolve")]
    assert [e["data"]["after_status"] for e in checks] == ["商标异议申请中", "不予注册"]
    assert all(e["data"]["after_evidence"] for e in checks)  # each answer kept as evidence
    assert TYC_TOKEN not in json.dumps(doc)


@pytest.mark.slow
def test_follow_up_with_no_answer_keeps_the_case_and_says_why(tmp_path):
    with GazetteServer(per_issue=300) as srv:
        cfg = _scan_gazette(tmp_path, srv)
        alert = _alerts(tmp_path)["一正堂"]
        _confirm(tmp_path, [alert.id])
        case_id = cli("cases", "open", alert.id, "--config", str(cfg)).stdout.strip()
        cli("cases", "file", case_id, "--to", "国家知识产权局商标局", "--config", str(cfg))
        p = cli("cases", "check", "--config", str(cfg), "--base-url", srv.url, TYC_TOKEN="wrong", timeout=300)
    assert p.returncode == 1
    assert f"{case_id} error" in p.stdout and "令牌无效" in p.stdout
    doc = json.loads(cli("cases", "show", case_id, "--format", "json", "--config", str(cfg)).stdout)
    assert doc["state"] == "filed"


def test_opposition_missed_only_while_not_filed_and_decision_due_after_art_35(tmp_path):
    from test_trademark_notify import add_tm

    from alerts.cases.service import file_case, open_case
    from alerts.cases.store import open_case_store
    from alerts.deadlines import add_months

    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    aid = add_tm(store, "一正", "壹正", "97000001", "2026-01-15")  # deadline 2026-04-15
    store.review([aid], "confirmed", who="t")
    cases = open_case_store(store)
    case = open_case(store, cases, [aid])
    assert case.kind == "opposition" and case.opposition_deadline == dt.date(2026, 4, 15)
    assert not case.opposition_missed(dt.date(2026, 4, 15)) and case.opposition_missed(dt.date(2026, 4, 16))
    filed = file_case(cases, case.id, to="国家知识产权局商标局")
    assert not filed.opposition_missed(dt.date(2026, 4, 16))
    assert filed.deadline == add_months(dt.date(2026, 4, 15), 12) and filed.state == "filed"
    assert not filed.overdue(dt.date(2027, 4, 15)) and filed.overdue(dt.date(2027, 4, 16))
    from alerts.cases.errors import CaseError

    with pytest.raises(CaseError, match="unknown ground"):
        open_case(store, cases, [aid], grounds=["tml-99"])
    store.close()
