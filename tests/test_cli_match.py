"""`markwatch match` and `markwatch evaluate` end to end, through a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MARKS = ROOT / "markwatch" / "demo" / "marks.yaml"


def run(args: list[str], stdin: bytes = b"", timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "markwatch", *args], input=stdin, capture_output=True, timeout=timeout, cwd=ROOT
    )


def test_one_json_line_per_input_line_in_order():
    lines = [
        "湖北一正药业有限公司",
        "",
        json.dumps({"kind": "listing", "text": "卫尤辣条 香辣 20包", "price": "¥9.90"}, ensure_ascii=False),
        "{not json",
        "广州成立白云贸易有限公司",
        json.dumps({"kind": "listing", "text": "<script>alert(1)</script>苏伯尔炒锅\u2028\u200b"}),
        json.dumps({"kind": "spaceship", "text": "x"}),
        json.dumps([1, 2]),
    ]
    raw = ("\n".join(lines) + "\n").encode() + b"\xff\xfe\xfa broken bytes\r\n"
    proc = run(["match", "--marks", str(MARKS)], raw)
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode().split("\n")
    assert out[-1] == ""
    results = [json.loads(x) for x in out[:-1]]
    assert len(results) == len(lines) + 1
    assert [r["flagged"] for r in results] == [True, False, True, False, False, True, False, False, False]
    assert results[0]["mark"] == "一正" and results[0]["reasons"]
    assert results[1]["error"] == "blank line"
    assert results[2]["mark"] == "卫龙" and results[2]["hits"][0]["matched"] == "卫尤"
    assert "malformed JSON" in results[3]["error"]
    assert results[5]["mark"] == "苏泊尔"
    assert "error" in results[6] and "error" in results[7]
    assert "\ufffd" in results[8]["text"]
    for r in results:
        assert set(r) >= {"text", "flagged", "mark", "score", "reasons", "hits"}


def test_threshold_option():
    line = "湖北衣正药业有限公司\n".encode()
    loose = json.loads(run(["match", "--marks", str(MARKS), "--threshold", "0.5"], line).stdout)
    strict = json.loads(run(["match", "--marks", str(MARKS), "--threshold", "0.99"], line).stdout)
    assert loose["flagged"] and not strict["flagged"]


def test_streams_before_input_ends():
    """Output for the first lines arrives while the input is still open (no reading it all first)."""
    import threading

    proc = subprocess.Popen(
        [sys.executable, "-m", "markwatch", "match", "--marks", str(MARKS)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin and proc.stdout
    release = threading.Event()

    def feed() -> None:
        proc.stdin.write(("湖北一正药业有限公司\n" * 5000).encode())
        proc.stdin.flush()
        release.wait(120)  # keep stdin open until the reader has seen output
        proc.stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        first = proc.stdout.readline()
        assert json.loads(first)["mark"] == "一正"
        assert writer.is_alive()  # stdin is still open: the command did not wait for EOF
        release.set()
        rest = proc.stdout.read().decode().count("\n")
        assert rest == 4999
        assert proc.wait(timeout=120) == 0
    finally:
        release.set()
        proc.kill()


def test_kind_option_reads_plain_lines_as_listings():
    """A plain line is an enterprise name unless --kind says listing; JSON lines keep their own kind."""
    line = "九阳豆浆机 高仿 原单\n".encode()
    as_name = json.loads(run(["match", "--marks", str(MARKS)], line).stdout)
    as_listing = json.loads(run(["match", "--marks", str(MARKS), "--kind", "listing"], line).stdout)
    assert as_listing["flagged"] and as_listing["mark"] == "九阳"
    assert as_listing["hits"][0]["parts"] is None  # read as a listing: no enterprise-name parts
    assert as_name["hits"] == [] or as_name["hits"][0]["parts"] is not None
    own = json.dumps({"text": "湖北一正药业有限公司", "kind": "enterprise"}, ensure_ascii=False)
    kept = json.loads(run(["match", "--marks", str(MARKS), "--kind", "listing"], own.encode() + b"\n").stdout)
    assert kept["hits"][0]["parts"]["trade_name"] == "一正"
    bad = run(["match", "--marks", str(MARKS), "--kind", "spaceship"], line)
    assert bad.returncode == 2


def test_jobs_keep_the_input_order_and_the_same_answers():
    """--jobs N gives byte for byte what one process gives, batches written back in order."""
    names = (ROOT / "markwatch" / "demo" / "names.txt").read_text(encoding="utf-8").splitlines()
    extra = [
        "",
        "{not json",
        json.dumps({"kind": "listing", "text": "卫尤辣条 香辣 20包", "price": "¥9.90"}, ensure_ascii=False),
    ]
    lines = (names * 3 + extra) * 2
    raw = ("\n".join(lines) + "\n").encode()
    one = run(["match", "--marks", str(MARKS)], raw)
    many = run(["match", "--marks", str(MARKS), "--jobs", "3"], raw)
    assert one.returncode == 0 and many.returncode == 0, many.stderr.decode()
    assert many.stdout == one.stdout
    results = [json.loads(x) for x in many.stdout.decode().splitlines()]
    assert len(results) == len(lines)
    for r, x in zip(results, lines, strict=True):
        assert r["text"] == (json.loads(x)["text"] if x.startswith('{"') else x.strip())
    assert sum(r["flagged"] for r in results) > 0


def test_json_line_with_broken_bytes_and_line_separators():
    """orjson rejects invalid UTF-8: such a JSON line is still screened, U+FFFD in place of the bytes;
    U+2028/2029 in the text are escaped so that line-splitting readers see one line."""
    raw = b'{"text": "\xe6\xb9\x96\xe5\x8c\x97\xe4\xb8\x80\xe6\xad\xa3\xff\xe8\x8d\xaf\xe4\xb8\x9a"}\n'
    raw += json.dumps({"text": "a\u2028b\u2029c"}, ensure_ascii=False).encode() + b"\n"
    proc = run(["match", "--marks", str(MARKS)], raw)
    out = proc.stdout.split(b"\n")
    assert len(out) == 3 and out[2] == b""
    first, second = json.loads(out[0]), json.loads(out[1])
    assert "\ufffd" in first["text"] and "error" not in first
    assert second["text"] == "a\u2028b\u2029c" and b"\\u2028" in out[1]


@pytest.mark.parametrize(
    "content,expect",
    [
        ("marks:\n  - name: 一正\n", "mark '一正' key 'owner': Field required"),
        ("marks:\n  - name: 一正\n    owner: X\n    classes: [5, 99]\n", ":4: mark '一正' key 'classes'"),
        ("marks:\n  - name: 一正\n    owner: X\n    colour: red\n", ":4: mark '一正' key 'colour': unknown key"),
        ("marks: [\n", "invalid YAML"),
        (
            "marks:\n  - name: A\n    owner: X\n    notify: [not-an-address]\n",
            "key 'notify': Value error, not an email address",
        ),
    ],
)
def test_bad_marks_file_is_one_clear_line_and_exit_2(tmp_path, content, expect):
    f = tmp_path / "marks.yaml"
    f.write_text(content, encoding="utf-8")
    proc = run(["match", "--marks", str(f)], b"x\n")
    assert proc.returncode == 2
    err = proc.stderr.decode().strip()
    assert len(err.splitlines()) == 1, err
    assert str(f) in err and expect in err, err


def test_missing_marks_file(tmp_path):
    proc = run(["match", "--marks", str(tmp_path / "nope.yaml")], b"x\n")
    assert proc.returncode == 2 and "marks file not found" in proc.stderr.decode()


def test_evaluate_reports_matcher_and_both_baselines(tmp_path):
    cases = tmp_path / "cases.jsonl"
    rows = [
        {"id": "a", "kind": "enterprise", "text": "湖北衣正药业有限公司", "expected": "一正", "category": "homophone"},
        {
            "id": "b",
            "kind": "enterprise",
            "text": "广州成立白云贸易有限公司",
            "expected": None,
            "category": "neg_word_boundary",
        },
    ]
    cases.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    proc = run(["evaluate", "--marks", str(MARKS), "--cases", str(cases), "--format", "json"])
    assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads(proc.stdout)
    assert report["matcher"]["recall"] == 1.0 and report["matcher"]["false_positive_rate"] == 0.0
    assert report["baseline_substring"]["recall"] == 0.0
    assert report["baseline_substring"]["false_positive_rate"] == 1.0  # 立白 is a substring of 成立白云
    assert "baseline_partial_ratio_66" in report


def test_new_kinds_fields_mode_and_explain():
    """shop/brand/trademark lines with their fields; --mode review shows graded evidence; --explain
    names the rule that kept or dropped every candidate mark; a bad field is that line's error."""
    lines = [
        json.dumps({"kind": "shop", "text": "九阳厨房电器体验馆"}, ensure_ascii=False),
        json.dumps({"kind": "trademark", "text": "一正", "classes": [5], "groups": ["0501"]}, ensure_ascii=False),
        json.dumps({"kind": "trademark", "text": "一正", "classes": ["x"]}, ensure_ascii=False),
        json.dumps({"text": "湖北一正医药有限公司", "founded": "not a date"}, ensure_ascii=False),
        json.dumps({"kind": "listing", "text": "九阳 豆浆机 家用"}, ensure_ascii=False),
    ]
    raw = ("\n".join(lines) + "\n").encode()
    out = [json.loads(x) for x in run(["match", "--marks", str(MARKS), "--explain"], raw).stdout.splitlines()]
    assert [r["flagged"] for r in out] == [True, True, False, False, False]
    assert "shop_name" in [r["code"] for r in out[0]["reasons"]]
    assert "trademark_name" in [r["code"] for r in out[1]["reasons"]]
    assert "classes" in out[2]["error"] and "founded" in out[3]["error"]
    assert [(e["mark"], e["rule"]) for e in out[4]["explain"]] == [("九阳", "resale_of_genuine_goods")]
    assert out[0]["explain"][0]["rule"] == "kept"
    graded = json.dumps({"text": "李老吉凉茶饮料有限公司"}, ensure_ascii=False).encode() + b"\n"
    assert not json.loads(run(["match", "--marks", str(MARKS)], graded).stdout)["flagged"]
    seen = json.loads(run(["match", "--marks", str(MARKS), "--mode", "review"], graded).stdout)
    assert seen["flagged"] and "first_char_changed" in [r["code"] for r in seen["reasons"]]


def test_trademark_classes_as_one_string_as_providers_spell_them():
    lines = [
        json.dumps({"kind": "trademark", "text": "一正", "classes": "5,35"}, ensure_ascii=False),
        json.dumps({"kind": "trademark", "text": "一正", "classes": "5、35"}, ensure_ascii=False),
        json.dumps({"kind": "trademark", "text": "一正", "classes": "5,x"}, ensure_ascii=False),
    ]
    raw = ("\n".join(lines) + "\n").encode()
    out = [json.loads(x) for x in run(["match", "--marks", str(MARKS)], raw).stdout.splitlines()]
    assert [r["flagged"] for r in out[:2]] == [True, True]
    assert "classes" in out[2]["error"]


PRIOR = """marks:
  - name: 德信达
    owner: 德信达食品有限公司
    classes: [30]
    registered: 2012-03-14
"""


def test_fields_as_enterprise_apis_and_bureaus_spell_them(tmp_path):
    """A founding date in any source's spelling (天眼查's Unix milliseconds, a bureau's 2001年3月5日)
    gives the prior-use note an ISO date gives; a blank date is no date; 第5类 is class 5; a
    category given as its levels is that path; a kind in capitals is that kind."""
    marks = tmp_path / "marks.yaml"
    marks.write_text(PRIOR, encoding="utf-8")
    name = "杭州德信达食品有限公司"
    founded = ["2008-05-20", "2008/5/20", "2008年5月20日", "20080520", 1211212800000, "2008-05-20 00:00:00.0"]
    lines = [{"text": name, "founded": f} for f in founded] + [
        {"text": name, "founded": ""},
        {"text": name, "founded": "2015年1月1日"},
        {"text": "德信達", "kind": "Trademark", "classes": ["第30类", "第35类"]},
        {"text": "德信答", "kind": "listing", "category": ["食品", "饼干膨化"]},
        {"text": "德信答", "kind": "listing"},
        {"text": name, "founded": "2008年13月"},
    ]
    raw = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode()
    out = [json.loads(x) for x in run(["match", "--marks", str(marks), "--mode", "review"], raw).stdout.splitlines()]
    codes = [[r["code"] for r in o["reasons"]] for o in out]
    for o, c in zip(out[: len(founded)], codes, strict=False):
        assert "prior_use_possible" in c and "2008-05-20" in json.dumps(o, ensure_ascii=False), o
    assert out[len(founded)].get("error") is None and "prior_use_possible" not in codes[len(founded)]
    assert out[len(founded)]["score"] == out[len(founded) + 1]["score"] > out[0]["score"]
    assert "prior_use_possible" not in codes[len(founded) + 1]
    assert out[-4].get("error") is None and "trademark_name" in codes[-4] and "same_field" in codes[-4]
    assert "same_field" in codes[-3] and "same_field" not in codes[-2]  # the path's 食品 shows the field
    assert "founded" in out[-1]["error"]
