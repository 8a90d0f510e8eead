"""Trusted timestamps against a real TSA on loopback (`openssl ts -reply`, tests/tsa_support.py): captures
stamped through the crawler after a scan, the dossier's manifest stamped at export, `cases verify`
checking each token against what it stamps and the TSA's root; a tampered token or file fails."""

from __future__ import annotations

import shutil
import zipfile
from datetime import UTC, datetime

import pytest
from tsa_support import LocalTSA
from typer.testing import CliRunner

from alerts.cases.dossier import DossierOptions, build_dossier, export_zip, verify
from alerts.cases.service import file_case, open_case
from alerts.cases.sqlite import SQLiteCaseStore
from alerts.evidence import EvidenceStore
from alerts.sqlite_store import SQLiteAlertStore
from alerts.timestamps import TimestampError, load_roots, verify_reply
from markwatch.cli import app
from markwatch.config import Settings
from markwatch.services.timestamping import crawler_post, stamp_captures

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
USCC = "914201000181BJ1X8M"


@pytest.fixture(autouse=True)
def _openssl():
    if not shutil.which("openssl"):
        pytest.skip("needs openssl")


@pytest.fixture(scope="module")
def tsa():
    with LocalTSA() as t:
        yield t


def _settings(tmp_path, tsa_url) -> Settings:
    return Settings.model_validate(
        {"scan": {"loopback": True, "state_dir": str(tmp_path / "state")}, "evidence": {"tsa_url": tsa_url}}
    )


def _case(tmp_path, make_alert):
    store = SQLiteAlertStore(tmp_path / "alerts.sqlite")
    ev = EvidenceStore(tmp_path / "evidence.sqlite")
    eid = ev.put("http://127.0.0.1:8700/registry/company/C1", T0, 200, {}, "<h1>湖北一正药业有限公司</h1>".encode())
    a = make_alert(
        text="湖北一正药业有限公司", mark="一正", owner="吉林一正药业集团有限公司", item={"uscc": USCC}, evidence_id=eid
    )
    store.upsert([a])
    store.review([a.id], "confirmed", now=T0)
    cases = SQLiteCaseStore(store.db)
    case = file_case(cases, open_case(store, cases, [a.id], now=T0).id, to="武汉市市场监督管理局", now=T0)
    return store, ev, case, eid


def test_capture_and_dossier_stamped_round_trip_and_tampering(tmp_path, make_alert, tsa):
    store, ev, case, eid = _case(tmp_path, make_alert)
    s = _settings(tmp_path, tsa.url)
    assert stamp_captures(s, ev) == {"stamped": 1, "failed": 0}
    assert tsa.hits == 1 and ev.unstamped() == []
    ((url, gen, reply),) = ev.stamps(eid)
    roots = load_roots(tsa.ca)
    st = verify_reply(reply, ev.get(eid).body, roots)
    assert st.gen_time == gen and "Test TSA" in st.tsa
    with pytest.raises(TimestampError):
        verify_reply(reply, b"other bytes", roots)

    opts = DossierOptions(screenshots=False, pdf=False, tsa=tsa.url, stamp_post=crawler_post(s))
    folder = build_dossier(case, store.get_many(case.alert_ids), ev, [], tmp_path / "d", opts=opts)
    assert (folder / "manifest.json.tsr").exists()
    html = (folder / "dossier.html").read_text("utf-8")
    assert "可信时间戳" in html and "仅以 SHA-256 哈希值校验" not in html
    pkg = export_zip(folder, tmp_path / "case.zip")
    res = verify(pkg, roots=roots)
    assert res.ok, res.problems
    assert any(x.startswith("manifest.json:") for x in res.stamps) and any("page.bin:" in x for x in res.stamps)

    r = CliRunner().invoke(app, ["cases", "verify", str(pkg), "--tsa-ca", str(tsa.ca)])
    assert r.exit_code == 0, r.output
    assert "timestamp OK: manifest.json" in r.output

    # a tampered token: one byte of the manifest's token changed
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(pkg) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "manifest.json.tsr":
                data = data[:-40] + bytes([data[-40] ^ 0x55]) + data[-39:]
            dst.writestr(info, data)
    r = CliRunner().invoke(app, ["cases", "verify", str(bad), "--tsa-ca", str(tsa.ca)])
    assert r.exit_code == 1 and "manifest.json.tsr" in r.output
    # a token from another TSA root does not verify either
    other = LocalTSA()
    try:
        r = CliRunner().invoke(app, ["cases", "verify", str(pkg), "--tsa-ca", str(other.ca)])
        assert r.exit_code == 1 and "signature does not verify" in r.output
    finally:
        other.httpd.server_close()
        other._tmp.cleanup()


def test_without_a_tsa_the_dossier_says_hash_only(tmp_path, make_alert):
    store, ev, case, _ = _case(tmp_path, make_alert)
    folder = build_dossier(
        case, store.get_many(case.alert_ids), ev, [], tmp_path / "d", opts=DossierOptions(screenshots=False, pdf=False)
    )
    html = (folder / "dossier.html").read_text("utf-8")
    assert "仅以 SHA-256 哈希值校验，未加盖可信时间戳" in html
    assert "以上证据仅以 SHA-256 哈希值校验" in (folder / "letter.txt").read_text("utf-8")
    res = verify(export_zip(folder, tmp_path / "c.zip"))
    assert res.ok and any("hash-only" in n for n in res.notes)


def test_a_tsa_that_is_down_is_a_named_failure(tmp_path, make_alert):
    store, ev, case, _ = _case(tmp_path, make_alert)
    s = _settings(tmp_path, "http://127.0.0.1:9/tsa")
    assert stamp_captures(s, ev) == {"stamped": 0, "failed": 1}
    from alerts.cases.errors import DossierError

    opts = DossierOptions(screenshots=False, pdf=False, tsa="http://127.0.0.1:9/tsa", stamp_post=crawler_post(s))
    with pytest.raises(DossierError, match="did not stamp manifest.json: TSA: connection refused"):
        build_dossier(case, store.get_many(case.alert_ids), ev, [], tmp_path / "d", opts=opts)
