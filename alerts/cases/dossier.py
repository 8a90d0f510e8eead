"""The dossier: what a lawyer or a market-supervision officer needs to act on a case.

Chinese by default; ``language="en"`` renders the dossier's labels in English for a brand owner
who reads English (``[notify] language``), keeping the Chinese provision texts (with their
English titles from ``provisions.yaml`` beside them) and the Chinese draft letter, which go to a
Chinese authority or platform.

``build_dossier`` writes a folder: ``dossier.html`` / ``dossier.pdf`` (the mark, the entity as
fetched, the analysis with the legal basis from ``provisions.yaml``, the evidence, the events),
``letter.txt`` (the draft letter to the registering authority, or the platform's complaint fields
plus ``complaint.csv`` for listings), ``case.json``, ``entity.json`` and per sighting
``evidence/NN/``: the page as fetched (``page.bin``, byte for byte), an inert copy
(``page.inert.html``: strict CSP, no scripts, no refresh) and its Chromium screenshot. Last,
``manifest.json`` lists every file with its SHA-256; ``verify`` checks a ZIP (or a PDF with its
``.manifest.json`` next to it) against it.

Crawled text is hostile: Jinja2 autoescapes the HTML, and ``clean`` shows control, zero-width
and bidi characters as ``⟨U+XXXX⟩`` everywhere (HTML, letter, CSV: ``alerts.present``'s notation
and CSV defusing), so a name cannot reorder or hide part of a letter.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import nh3
import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from w3lib.encoding import html_to_unicode

from alerts.cases import chromium
from alerts.cases.errors import DossierError
from alerts.cases.model import Case, alert_url
from alerts.model import Alert
from alerts.present import csv_cell, plain

MANIFEST = "manifest.json"
MAX_INERT = 2 * 1024 * 1024  # characters of a captured page rendered for its screenshot
MAX_MEMBER = 256 * 1024 * 1024  # a ZIP member larger than this is not hashed by verify
STATE_ZH = {"open": "立案", "filed": "已投诉", "awaiting": "等待处理期限", "resolved": "已解决", "closed": "已关闭"}
ACTION_ZH = {
    "open": "立案",
    "file": "提交投诉",
    "await": "设定期限",
    "resolve": "解决",
    "close": "关闭",
    "reopen": "重新打开",
    "note": "备注",
    "check": "跟踪复查",
    "checked": "跟踪复查",
}
RESOLUTION_ZH = {
    "renamed": "已更名",
    "deregistered": "已注销",
    "revoked": "已吊销",
    "listing_removed": "链接已删除",
    "refused": "不予注册",
    "withdrawn": "申请已撤回",
    "registered": "已核准注册（异议未获支持或未提出）",
}
STATE_EN = {
    "open": "open",
    "filed": "filed",
    "awaiting": "awaiting deadline",
    "resolved": "resolved",
    "closed": "closed",
}
ACTION_EN = {
    "open": "opened",
    "file": "complaint filed",
    "await": "deadline set",
    "resolve": "resolved",
    "close": "closed",
    "reopen": "reopened",
    "note": "note",
    "check": "follow-up check",
    "checked": "follow-up check",
}
LINK_ZH = {
    "": "未提交",
    "submitted": "已提交",
    "removed": "已删除",
    "online": "仍在线",
    "rejected": "投诉未获支持",
    "counter_notice": "卖家申诉",
}
LINK_EN = {
    "": "not submitted",
    "submitted": "submitted",
    "removed": "removed",
    "online": "still online",
    "rejected": "rejected",
    "counter_notice": "counter-notice",
}
RESOLUTION_EN = {
    "renamed": "renamed",
    "deregistered": "deregistered",
    "revoked": "licence revoked",
    "listing_removed": "listing removed",
    "refused": "registration refused",
    "withdrawn": "application withdrawn",
    "registered": "registered (opposition not upheld, or none filed)",
}
LANGUAGES = ("zh", "en")


@pass_context
def _t(ctx: Any, zh: str, en: str) -> str:
    """The label in the dossier's language (``lang`` in the template context)."""
    return en if ctx.get("lang") == "en" else zh


def _labeller(zh: dict[str, str], en: dict[str, str]) -> Any:
    @pass_context
    def label(ctx: Any, key: str) -> str:
        table = en if ctx.get("lang") == "en" else zh
        return table.get(key, key)

    return label


def clean(value: Any, limit: int | None = 2000) -> str:
    """One line of crawled text, control/format characters written ``⟨U+XXXX⟩`` (``alerts.present.plain``), bounded."""
    return plain(value, limit)


@cache
def provisions() -> dict[str, Any]:
    """The legal provisions and the CNIPA terms of each reason code (alerts/cases/provisions.yaml)."""
    text = resources.files("alerts.cases").joinpath("provisions.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("alerts.cases", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clean"] = clean
    env.filters["dt"] = lambda d: d.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if d else ""
    env.globals["STATE_ZH"] = STATE_ZH
    env.globals["ACTION_ZH"] = ACTION_ZH
    env.globals["RESOLUTION_ZH"] = RESOLUTION_ZH
    env.globals["alert_url"] = alert_url
    env.globals["t"] = _t
    env.globals["state_label"] = _labeller(STATE_ZH, STATE_EN)
    env.globals["action_label"] = _labeller(ACTION_ZH, ACTION_EN)
    env.globals["resolution_label"] = _labeller(RESOLUTION_ZH, RESOLUTION_EN)
    env.globals["link_label"] = _labeller(LINK_ZH, LINK_EN)
    return env


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- the captured page, made inert ------------------------------------------------------------

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'"
# What the inert copy keeps: nh3's (ammonia's) allow-list of tags and attributes, plus the
# presentational ones a captured page is drawn with; scripts, frames, objects, embeds, forms'
# targets, <meta> (refresh) and <base> are not on it, nor is any on* handler or javascript: URL.
_TAGS = nh3.ALLOWED_TAGS | {"style", "font", "center", "section", "header", "footer", "nav", "main", "article"}
_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"class", "id", "style", "title", "lang", "dir", "align", "width", "height", "bgcolor", "color"},
    "img": {"src", "alt", "width", "height"},
}


def _utf8_or_gb18030(body: bytes) -> str:
    """For a page that declares no charset: UTF-8 if it decodes as such, else GB18030 (legacy pages)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def decode_body(body: bytes, headers: dict[str, str]) -> str:
    """The page as text (w3lib, as Scrapy reads it): BOM, the declared charset, else UTF-8, else GB18030."""
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    return html_to_unicode(ctype, body, auto_detect_fun=_utf8_or_gb18030)[1]


def inert_html(body: bytes, headers: dict[str, str], url: str) -> str:
    """A copy of the page that renders but cannot run, load or navigate anything.

    The body goes through nh3's allow-list (what is not listed is dropped), and the strict CSP
    in front forbids every load but inline styles and data: images, whatever slipped through.
    """
    text = decode_body(body, headers)[:MAX_INERT]
    head = (
        f'<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<!-- markwatch: inert copy of {escape(clean(url, 500))} -->"
    )
    stripped = text.lstrip()
    if stripped[:1] in ("{", "[") or "json" in json.dumps(headers).lower():
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False, indent=1)
        except ValueError:
            pass
        return f"{head}<pre style='white-space:pre-wrap;font:14px monospace'>{escape(text, quote=False)}</pre>"
    safe = nh3.clean(
        text,
        tags=_TAGS,
        clean_content_tags={"script", "noscript", "template"},
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "data", "mailto"},
        link_rel=None,
    )
    return head + safe


# -- building ----------------------------------------------------------------------------------


@dataclass
class Sighting:
    n: int
    alert: Alert | None
    evidence_id: str
    url: str
    fetched_at: datetime
    status: int
    sha256: str
    size: int
    folder: str
    screenshot: str | None
    label: str
    error: str = ""
    proves: str = ""  # what the exhibit proves (证明内容)
    stamp: str = ""  # the trusted timestamp over page.bin, described; "" = hash only
    stamp_file: str = ""


@dataclass
class DossierOptions:
    """How to build a dossier. ``applicant``: ``[cases] applicant`` (name, credit_code, address, agent,
    contact). ``tsa``: whether a TSA is configured; ``stamp_post`` sends the manifest to it."""

    chromium: str = "chromium"
    timeout: float = 30.0
    platforms: dict[str, str] = field(default_factory=dict)
    screenshots: bool = True
    pdf: bool = True
    applicant: dict[str, str] = field(default_factory=dict)
    tsa: str = ""  # [evidence] tsa_url: the manifest (or PDF) is stamped at export
    stamp_post: Any = None  # alerts.timestamps.Post
    max_links: dict[str, int] = field(default_factory=dict)  # source -> links per complaint (default 300)


def _entity_facts(case: Case, alerts: list[Alert]) -> dict[str, Any]:
    """The entity as fetched by the crawler: which source, when, and the registry's fields."""
    latest = max(alerts, key=lambda a: a.last_seen) if alerts else None
    item = latest.item if latest else {}
    return {
        "name": case.entity.name,
        "uscc": case.entity.uscc or item.get("uscc") or "",
        "legal_rep": item.get("legal_rep", ""),
        "address": item.get("address", ""),
        "status": item.get("status", ""),
        # as the matcher read it (天眼查 gives Unix milliseconds), else as the source wrote it
        "established": (latest.subject.founded if latest else None) or item.get("established", ""),
        "capital": item.get("capital", ""),
        "registry_authority": item.get("authority", ""),
        "seller": case.entity.seller or (latest.subject.seller if latest else "") or "",
        "source": latest.source if latest else case.entity.source,
        "fetched_at": str(item.get("fetched_at") or (latest.last_seen.isoformat() if latest else "")),
        "url": alert_url(latest) if latest else "",
    }


def _marks_facts(case: Case, marks: Iterable[Any]) -> list[dict[str, Any]]:
    by_name = {m.name: m for m in marks}
    out = []
    for name in case.marks:
        m = by_name.get(name)
        out.append(
            {
                "name": name,
                "owner": m.owner if m else case.owner,
                "classes": list(m.classes) if m else [],
                "well_known": bool(m and m.well_known),
                "well_known_ref": (m.well_known_ref or "") if m else "",
                "registrations": [
                    {
                        "number": r.number,
                        "class": r.class_,
                        "valid_until": r.valid_until.isoformat() if r.valid_until else "",
                    }
                    for r in (m.registrations if m else [])
                ],
            }
        )
    return out


def _analysis(alerts: list[Alert]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each alert's reasons in CNIPA terms, and the provisions those reasons bring in."""
    data = provisions()
    terms = data.get("reason_terms", {})
    codes: set[str] = set()
    rows = []
    for a in alerts:
        reasons = []
        for r in a.reasons:
            codes.add(r.code)
            reasons.append({"code": r.code, "term": terms.get(r.code, r.code), "zh": r.zh, "en": r.en})
        rows.append({"alert": a, "reasons": reasons})
    for a in alerts:
        if a.subject.kind == "enterprise":
            codes.add("name_dispute")
            # The imitation sits in the 字号: Trademark Law art. 58 applies even if the matcher's
            # reasons name the trick (homophone, look-alike) rather than the trade name.
            if a.matched and a.subject.trade_name and a.matched in a.subject.trade_name:
                codes.add("trade_name")
    basis = [p for p in data["provisions"] if codes & set(p.get("applies", []))]
    return rows, basis


def _sightings(case: Case, alerts: list[Alert], evidence: Any, out: Path, opts: DossierOptions) -> list[Sighting]:
    """Every captured page of the case: each alert's, then the follow-up's before/after captures."""
    wanted: list[tuple[Alert | None, str, str, str]] = []
    firm = case.entity.kind == "enterprise"
    for a in alerts:
        if a.evidence_id:
            if case.entity.kind == "trademark":
                proves = (
                    f"第 {clean(a.subject.number or '?', 40)} 号“{clean(a.subject.text, 200)}”商标经初步审定公告"
                    f"（{clean((a.item or {}).get('announcement') or '期号未知', 20)} 期，"
                    f"{a.subject.announced.isoformat() if a.subject.announced else '日期未知'}；取证时的公告数据）"
                )
                wanted.append((a, a.evidence_id, "初步审定公告", proves))
                continue
            proves = (
                f"被申请人以“{clean(a.subject.text, 200)}”为企业名称登记（取证时的登记信息）"
                if firm
                else f"被投诉店铺在售“{clean(a.subject.text, 200)}”（取证时的商品页面）"
            )
            wanted.append((a, a.evidence_id, "取证页面", proves))
    for e in case.events:
        when = e.data.get("as_of") or e.at.date().isoformat()
        state = clean(
            "，".join(str(x) for x in (e.data.get("after_name"), e.data.get("after_status")) if x),
            200,
        )
        after_label = "复查（处理后）" if e.action == "resolve" else "复查"
        for key, label, proves in (
            ("before_evidence", "复查（处理前）", "处理前的状态"),
            ("after_evidence", after_label, f"截至 {when} 的状态：{state or '见页面'}"),
        ):
            if e.data.get(key):
                wanted.append((None, str(e.data[key]), label, proves))
    seen: set[str] = set()
    result: list[Sighting] = []
    for alert, eid, label, proves in wanted:
        if eid in seen:
            continue
        seen.add(eid)
        n = len(result) + 1
        folder = f"evidence/{n:02d}-{eid[:12]}"
        (out / folder).mkdir(parents=True, exist_ok=True)
        try:
            ev = evidence.get(eid)
        except Exception as exc:  # a missing or corrupt body is named in the dossier, never hidden
            (out / folder / "MISSING.txt").write_text(f"{eid}: {exc}\n", encoding="utf-8")
            result.append(
                Sighting(n, alert, eid, "", datetime.now(UTC), 0, eid, 0, folder, None, label, str(exc)[:300], proves)
            )
            continue
        (out / folder / "page.bin").write_bytes(ev.body)
        inert = out / folder / "page.inert.html"
        inert.write_text(inert_html(ev.body, ev.headers, ev.url), encoding="utf-8")
        capture = {
            "sha256": ev.id,
            "size": ev.size,
            "captures": [
                {
                    "url": c.url,
                    "fetched_at": c.fetched_at.isoformat(),
                    "status": c.status,
                    "headers": c.headers,
                    # A page kept only in part says so (alerts.evidence): never more claimed than held.
                    **({"truncated": c.size_note(ev.size)} if c.truncated else {}),
                }
                for c in ev.captures
            ],
        }
        (out / folder / "capture.json").write_text(json.dumps(capture, ensure_ascii=False, indent=1), encoding="utf-8")
        shot = None
        if opts.screenshots:
            png = out / folder / "screenshot.png"
            chromium.screenshot(opts.chromium, inert, png, timeout=opts.timeout)
            shot = f"{folder}/screenshot.png"
        stamp_text, stamp_file = "", ""
        stamps = evidence.stamps(eid) if hasattr(evidence, "stamps") else []
        if stamps:
            from alerts.timestamps import TimestampError, read_reply

            tsa_url, _gen, reply = stamps[0]
            (out / folder / "page.bin.tsr").write_bytes(reply)
            stamp_file = f"{folder}/page.bin.tsr"
            try:
                stamp_text = read_reply(reply, ev.body).describe()
            except TimestampError as exc:
                stamp_text = f"（时间戳无效：{exc}）"
        result.append(
            Sighting(
                n,
                alert,
                eid,
                ev.url,
                ev.fetched_at,
                ev.status,
                ev.id,
                ev.size,
                folder,
                shot,
                label,
                "",
                proves,
                stamp_text,
                stamp_file,
            )
        )
    return result


def build_dossier(
    case: Case,
    alerts: list[Alert],
    evidence: Any,
    marks: Iterable[Any],
    out: Path,
    *,
    opts: DossierOptions | None = None,
    now: datetime | None = None,
    language: str = "zh",
) -> Path:
    """Write the dossier folder ``out`` (created empty) and its manifest; returns ``out``.

    ``language`` ("zh" or "en") is that of the dossier's labels; the letter stays Chinese.
    """
    if language not in LANGUAGES:
        raise DossierError(f"dossier language {language!r}: zh or en")
    opts = opts or DossierOptions()
    now = now or datetime.now(UTC)
    if out.exists() and any(out.iterdir()):
        raise DossierError(f"{out} is not empty")
    out.mkdir(parents=True, exist_ok=True)
    sightings = _sightings(case, alerts, evidence, out, opts)
    entity = _entity_facts(case, alerts)
    marks = list(marks)
    mark_facts = _marks_facts(case, marks)
    rows, basis = _analysis(alerts)
    platform = ""
    if case.entity.kind == "listing":
        platform = opts.platforms.get(case.entity.source, "") or "（未配置该来源的知识产权投诉渠道）"
    given = opts.applicant or {}
    applicant = {k: clean(given.get(k) or "", 300) for k in ("name", "credit_code", "address", "agent", "contact")}
    applicant["name"] = applicant["name"] or clean(case.owner, 300)
    ctx = {
        "case": case,
        "alerts": alerts,
        "entity": entity,
        "marks": mark_facts,
        "analysis": rows,
        "basis": basis,
        "sightings": sightings,
        "platform": platform,
        "generated_at": now,
        "authority": case.authority or {},
        "lang": "zh",
        "applicant": applicant,
        "tsa": opts.tsa,
        "stamped": [x for x in sightings if x.stamp],
        "links": _links(case, alerts),
        "packs": [],
        "doc_title": "",
    }
    env = _env()
    if case.kind == "opposition":
        from alerts.cases.opposition import draft

        ctx["opposition"] = draft(case, alerts, marks, applicant, now.date())
        letter = env.get_template("letter_opposition.txt").render(**ctx)
        (out / "letter.txt").write_text(letter, encoding="utf-8")
        (out / "opposition.json").write_text(
            json.dumps(ctx["opposition"], ensure_ascii=False, indent=1, default=str), encoding="utf-8"
        )
        ctx["letter"] = letter
        ctx["doc_title"] = "Trademark opposition (商标异议申请书)" if language == "en" else "商标异议申请材料"
        html = env.get_template("dossier_opposition.html").render(**{**ctx, "lang": language})
        return _finish(out, case, alerts, entity, html, opts, now)
    if case.entity.kind == "listing":
        ctx["packs"] = write_complaint_packs(
            out, case, alerts, mark_facts, applicant, opts.max_links.get(case.entity.source, DEFAULT_MAX_LINKS)
        )
    letter_name = "letter_enterprise.txt" if case.entity.kind == "enterprise" else "letter_listing.txt"
    letter = env.get_template(letter_name).render(**ctx)
    (out / "letter.txt").write_text(letter, encoding="utf-8")
    ctx["letter"] = letter
    firm = case.entity.kind == "enterprise"
    ctx["doc_title"] = (
        ("Application for an enterprise-name dispute" if firm else "Complaint to a platform: trademark infringement")
        if language == "en"
        else ("企业名称争议处理申请材料" if firm else "知识产权侵权投诉材料")
    )
    html = env.get_template("dossier.html").render(**{**ctx, "lang": language})
    return _finish(out, case, alerts, entity, html, opts, now)


def _finish(
    out: Path, case: Case, alerts: list[Alert], entity: dict[str, Any], html: str, opts: DossierOptions, now: datetime
) -> Path:
    """The dossier's HTML, JSON files, PDF, manifest and (with a TSA) the manifest's stamp."""
    (out / "dossier.html").write_text(html, encoding="utf-8")
    (out / "case.json").write_text(
        json.dumps({**case.to_doc(), "kind": case.kind}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (out / "entity.json").write_text(json.dumps(entity, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    (out / "alerts.json").write_text(
        json.dumps([a.to_doc() for a in alerts], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    if opts.pdf:
        chromium.print_pdf(opts.chromium, out / "dossier.html", out / "dossier.pdf", timeout=max(opts.timeout, 60))
    write_manifest(out, case_id=case.id, created_at=now)
    if opts.tsa and opts.stamp_post is not None:
        stamp_file(out / MANIFEST, opts.stamp_post)
    return out


DEFAULT_MAX_LINKS = 300  # Alibaba IPP: up to 300 links per complaint
PACK_COLUMNS = [
    "权利人",
    "权利人统一社会信用代码",
    "商标",
    "注册号",
    "类别",
    "侵权类型",
    "侵权链接",
    "店铺名称",
    "店铺链接",
    "商品标题",
    "投诉理由",
    "证据文件SHA-256",
]


def _links(case: Case, alerts: list[Alert]) -> list[dict[str, Any]]:
    """Each link of the case with its latest outcome (shops: every listing is a sighting of one shop)."""
    states = case.link_states()
    out = []
    for a in alerts:
        url = alert_url(a)
        lk = states.get(url)
        out.append({"alert": a, "url": url, "outcome": lk.outcome if lk else "", "at": lk.at if lk else None})
    return out


def write_complaint_packs(
    out: Path, case: Case, alerts: list[Alert], mark_facts: list[dict[str, Any]], applicant: dict[str, str], limit: int
) -> list[str]:
    """``complaint.csv`` (all links) and, past the platform's limit per request, ``complaint-NN.csv`` packs.

    One row per link with the fields complaint forms ask for; formula cells defused (``csv_cell``).
    """
    regs = "; ".join(r["number"] for m in mark_facts for r in m["registrations"])
    classes = "; ".join(str(c) for m in mark_facts for c in m["classes"])
    rows = []
    for a in alerts:
        item = a.item or {}
        rows.append(
            [
                csv_cell(applicant.get("name") or a.owner),
                csv_cell(applicant.get("credit_code", "")),
                csv_cell(a.mark),
                csv_cell(regs),
                csv_cell(classes),
                "商标侵权",
                csv_cell(alert_url(a)),
                csv_cell(a.subject.seller or item.get("seller") or ""),
                csv_cell(item.get("seller_url") or ""),
                csv_cell(a.subject.text),
                csv_cell("；".join(r.zh for r in a.reasons if r.zh)),
                csv_cell(a.evidence_id or ""),
            ]
        )

    def write(name: str, chunk: list[list[str]]) -> None:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(PACK_COLUMNS)
        w.writerows(chunk)
        (out / name).write_text("\ufeff" + buf.getvalue(), encoding="utf-8")

    write("complaint.csv", rows)
    packs = ["complaint.csv"]
    if len(rows) > limit:
        packs = []
        for i in range(0, len(rows), limit):
            name = f"complaint-{i // limit + 1:02d}.csv"
            write(name, rows[i : i + limit])
            packs.append(name)
    return packs


def stamp_file(path: Path, post: Any) -> Path:
    """``<path>.tsr``: a TSA's reply over the file's bytes; DossierError when the TSA does not stamp it."""
    from alerts.timestamps import stamp

    ok, failed = stamp({"f": path.read_bytes()}, post)
    if "f" not in ok:
        raise DossierError(f"the time-stamping authority did not stamp {path.name}: {failed.get('f', 'no answer')}")
    tsr = path.with_name(path.name + ".tsr")
    tsr.write_bytes(ok["f"].reply)
    return tsr


def write_manifest(folder: Path, *, case_id: str, created_at: datetime) -> dict[str, Any]:
    files = {
        p.relative_to(folder).as_posix(): {"sha256": sha256_file(p), "size": p.stat().st_size}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    manifest = {"case": case_id, "created_at": created_at.isoformat(), "algorithm": "sha256", "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def export_zip(folder: Path, output: Path) -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder).as_posix())
    tmp.replace(output)
    return output


def export_pdf(folder: Path, output: Path, *, case_id: str, created_at: datetime, stamp_post: Any = None) -> Path:
    """The PDF, and next to it ``<name>.manifest.json`` with its hash (what ``verify`` reads) and,
    with a TSA, ``<name>.tsr`` stamping the PDF."""
    output.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "dossier.pdf", output)
    manifest = {
        "case": case_id,
        "created_at": created_at.isoformat(),
        "algorithm": "sha256",
        "files": {output.name: {"sha256": sha256_file(output), "size": output.stat().st_size}},
    }
    sidecar = output.with_name(output.name + ".manifest.json")
    sidecar.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    if stamp_post is not None:
        stamp_file(output, stamp_post)
    return output


# -- verifying --------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    stamps: list[str] = field(default_factory=list)  # "<file>: <time, TSA>" for each token that verified
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.checked > 0 and not self.problems


def _check_stamp(res: VerifyResult, name: str, reply: bytes, data: bytes | None, roots: list[Any] | None) -> None:
    from alerts.timestamps import TimestampError, read_reply, verify_reply

    target = name[: -len(".tsr")]
    if data is None:
        res.problems.append(f"{name}: stamps {target}, which is missing")
        return
    try:
        st = verify_reply(reply, data, roots) if roots else read_reply(reply, data)
    except TimestampError as exc:
        res.problems.append(f"{name}: {exc}")
        return
    res.stamps.append(f"{target}: {st.describe()}")
    if not roots:
        res.notes.append(f"{name}: stamps {target}; signature not checked (give the TSA's certificate: --tsa-ca)")


def verify(path: Path, *, roots: list[Any] | None = None) -> VerifyResult:
    """Check every file against the manifest, and every time-stamp token (``*.tsr``) against the file it
    stamps (and, with *roots*, the TSA's signature); extra, missing and altered files are problems."""
    res = VerifyResult()
    if not path.exists():
        res.problems.append(f"{path}: no such file")
        return res
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                names = {i.filename: i for i in zf.infolist() if not i.is_dir()}
                if MANIFEST not in names:
                    res.problems.append(f"{MANIFEST} missing from the package")
                    return res
                manifest = json.loads(zf.read(MANIFEST))
                files = manifest.get("files", {})
                for name, meta in sorted(files.items()):
                    info = names.get(name)
                    if info is None:
                        res.problems.append(f"{name}: listed in the manifest, missing from the package")
                        continue
                    if info.file_size > MAX_MEMBER:
                        res.problems.append(f"{name}: larger than {MAX_MEMBER} bytes, not checked")
                        continue
                    h = hashlib.sha256()
                    with zf.open(info) as fh:
                        while block := fh.read(1 << 20):
                            h.update(block)
                    res.checked += 1
                    if h.hexdigest() != meta.get("sha256"):
                        res.problems.append(f"{name}: SHA-256 does not match the manifest")
                stamp_of_manifest = MANIFEST + ".tsr"
                for name in sorted(set(names) - set(files) - {MANIFEST, stamp_of_manifest}):
                    res.problems.append(f"{name}: in the package but not in the manifest")
                for name in sorted(n for n in names if n.endswith(".tsr")):
                    target = name[: -len(".tsr")]
                    info = names.get(target)
                    data = zf.read(info) if info is not None and info.file_size <= MAX_MEMBER else None
                    _check_stamp(res, name, zf.read(names[name]), data, roots)
                if stamp_of_manifest not in names:
                    res.notes.append("the package itself carries no trusted timestamp (hash-only)")
        except (zipfile.BadZipFile, ValueError, KeyError) as exc:
            res.problems.append(f"{path.name}: unreadable package: {exc}")
        return res
    sidecar = path.with_name(path.name + ".manifest.json")
    if not sidecar.exists():
        res.problems.append(f"{path.name}: not a ZIP package and no {sidecar.name} next to it")
        return res
    try:
        files = json.loads(sidecar.read_text(encoding="utf-8")).get("files", {})
    except ValueError as exc:
        res.problems.append(f"{sidecar.name}: unreadable: {exc}")
        return res
    meta = files.get(path.name)
    if meta is None:
        res.problems.append(f"{sidecar.name} does not list {path.name}")
        return res
    res.checked = 1
    if sha256_file(path) != meta.get("sha256"):
        res.problems.append(f"{path.name}: SHA-256 does not match {sidecar.name}")
    tsr = path.with_name(path.name + ".tsr")
    if tsr.exists():
        _check_stamp(res, tsr.name, tsr.read_bytes(), path.read_bytes(), roots)
    else:
        res.notes.append(f"{path.name} carries no trusted timestamp (hash-only)")
    return res
