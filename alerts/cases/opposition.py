"""Opposition cases (商标异议): the 商标异议申请书 drafted from a trademark alert and the marks file.

A case against a trademark application (``Entity.kind == "trademark"``) is an opposition to
CNIPA's trademark office within three months of the preliminary-approval announcement
(Trademark Law art. 33; the deadline from ``alerts.deadlines``). The application CNIPA's form asks
for (商标异议申请书, with the papers the implementing regulations art. 24 list) is drafted here:

- the opponent (异议人): the brand owner, with ``[cases] applicant`` (name, credit code, address,
  agent, contact) when configured;
- the opposed mark (被异议商标): its application number, words, classes and similar groups, the
  applicant (被异议人), and the announcement (期号, date) that opened the opposition period;
- the request (请求): that the opposed mark not be registered (不予核准注册);
- the grounds (异议理由) in CNIPA's terms, each with its legal basis from ``provisions.yaml``:
  art. 30 when the application covers the classes (or similar groups) of the owner's mark;
  art. 13(3) when it reaches other classes and the owner's mark is well known; art. 32 (a prior
  trade-name right) when the owner's enterprise name carries the mark; and the grounds an analyst
  adds (art. 15: an agent or business partner filed it; art. 31: the owner's own earlier
  application; art. 32: a used unregistered mark), since no data here shows those;
- the owner's prior marks (引证商标) and the evidence list (证据目录): the captured gazette page
  (hashed, as every exhibit), then the papers only the owner holds (registration certificates, the
  well-known recognition, use evidence, the opponent's identity), marked "to be supplied".

The follow-up reads the application's status (``application_status``) through the sources: refused
(不予注册) or withdrawn ends the case resolved; registered ends the opposition route (next:
invalidation, art. 45); opposed or pending leaves it waiting.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from alerts.cases.errors import CaseError

CNIPA = {
    "name": "国家知识产权局商标局",
    "name_en": "CNIPA Trademark Office",
    "known": True,
    "division_code": "",
    "reason": "商标异议由国家知识产权局商标局受理（商标法第三十三条）",
}
# Grounds no data shows, added by an analyst (``cases open --ground``): provision ids of provisions.yaml.
EXTRA_GROUNDS = {
    "tml-15": "opp_agent",
    "tml-32": "opp_prior_right",
    "tml-31": "opp_prior_application",
    "tml-13": "well_known_cross_class",
    "tml-30": "opp_same_goods",
}
DECISION_MONTHS = 12  # art. 35: decided within twelve months of the end of the announcement period


def check_grounds(grounds: Iterable[str]) -> list[str]:
    """The analyst's extra grounds, known provision ids only (a typo must not vanish from the draft)."""
    out = []
    for g in grounds:
        g = g.strip().lower()
        if not g:
            continue
        if g not in EXTRA_GROUNDS:
            raise CaseError(f"unknown ground {g!r} (one of {', '.join(sorted(EXTRA_GROUNDS))})")
        if g not in out:
            out.append(g)
    return out


def decision_due(case: Any) -> date | None:
    """When CNIPA should have decided an opposition filed in time: the announcement period's end + 12 months."""
    from alerts.deadlines import add_months

    if case.opposition_deadline is None:
        return None
    return add_months(case.opposition_deadline, DECISION_MONTHS)


# -- the application's status, as the sources word it ----------------------------------------------

# (status, words): the first status whose words appear in the source's 商标状态 wins, in this order.
_STATUS_WORDS = (
    ("withdrawn", ("撤回", "放弃", "撤销申请")),
    ("refused", ("不予注册", "驳回", "不予核准", "无效")),
    ("opposed", ("异议",)),
    ("registered", ("已注册", "注册公告", "核准注册", "专用权", "商标注册证")),
    ("pending", ("初审", "初步审定", "申请中", "待审", "受理", "审查", "等待", "公告")),
)
STATUS_ZH = {
    "withdrawn": "已撤回",
    "refused": "不予注册",
    "opposed": "异议中",
    "registered": "已注册",
    "pending": "初审公告／审查中",
    "unknown": "状态不明",
}


def application_status(text: Any) -> str:
    """``withdrawn``, ``refused``, ``opposed``, ``registered``, ``pending`` or ``unknown`` from a 商标状态 text."""
    t = str(text or "").strip()
    if not t:
        return "unknown"
    for status, words in _STATUS_WORDS:
        if any(w in t for w in words):
            return status
    return "unknown"


# -- the draft --------------------------------------------------------------------------------------


def _overlap(alert: Any, mark: Any) -> tuple[list[int], list[str]]:
    """Classes and similar groups the application shares with the owner's mark (registered or declared)."""
    mark_classes = {r.class_ for r in mark.registrations} | set(mark.classes)
    classes = sorted(set(alert.subject.classes) & mark_classes)
    groups = sorted(set(alert.subject.groups) & set(mark.groups))
    return classes, groups


def _owner_trade_name(owner: str, mark: str) -> bool:
    """Does the owner's enterprise name carry the mark (a prior trade-name right, art. 32)?"""
    from alerts.cases.model import normalise

    return bool(mark) and normalise(mark) in normalise(owner)


def _short(law: str) -> str:
    """《商标法》 for 中华人民共和国商标法, and so on: how the draft names a law in a list."""
    return "《" + law.removeprefix("中华人民共和国") + "》"


def draft(case: Any, alerts: list[Any], marks: Iterable[Any], applicant: dict[str, str], today: date) -> dict[str, Any]:
    """The fields of the 商标异议申请书 for this case (raw text: the templates escape and ``clean`` it)."""
    from alerts.cases.dossier import provisions
    from alerts.deadlines import opposition_deadline

    data = provisions()
    by_id = {p["id"]: p for p in data["provisions"]}
    terms = data.get("reason_terms", {})
    by_name = {m.name: m for m in marks}
    first = min(alerts, key=lambda a: a.first_seen) if alerts else None
    sub = first.subject if first else None
    item = (first.item or {}) if first else {}
    announced = sub.announced if sub else None
    clock = opposition_deadline(announced) if announced else None
    deadline = case.opposition_deadline or (clock.deadline if clock else None)

    grounds: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(pid: str, code: str, facts: str, term_zh: str | None = None) -> None:
        if pid in seen or pid not in by_id:
            return
        seen.add(pid)
        p = by_id[pid]
        grounds.append(
            {
                "id": pid,
                "code": code,
                "term": term_zh or terms.get(code, code),
                "facts": facts,
                "law": p["law"],
                "article": p["article"],
                "title": p["title"],
                "title_en": p.get("title_en", ""),
                "revision": p.get("revision", ""),
                "verified": bool(p.get("verified")),
            }
        )

    prior: list[dict[str, Any]] = []
    similarity: list[dict[str, str]] = []
    for a in alerts:
        for r in a.reasons:
            similarity.append({"code": r.code, "term": terms.get(r.code, r.code), "zh": r.zh, "en": r.en})
    sim_text = "；".join(dict.fromkeys(s["zh"] or s["term"] for s in similarity if s["zh"] or s["term"])) or "商标近似"
    for name in case.marks:
        m = by_name.get(name)
        regs = list(m.registrations) if m else []
        prior.append(
            {
                "name": name,
                "owner": (m.owner if m else case.owner),
                "well_known": bool(m and m.well_known),
                "well_known_ref": (m.well_known_ref or "") if m else "",
                "registrations": [
                    {
                        "number": r.number,
                        "class": r.class_,
                        "date": r.date.isoformat() if r.date else "",
                        "valid_until": r.valid_until.isoformat() if r.valid_until else "",
                    }
                    for r in regs
                ],
                "classes": sorted({r.class_ for r in regs} | set(m.classes if m else [])),
            }
        )
        if first is None or m is None:
            continue
        classes, groups = _overlap(first, m)
        text = sub.text if sub else ""
        if classes or groups:
            where = "、".join(f"第{c}类" for c in classes) + (("，类似群 " + "、".join(groups)) if groups else "")
            add(
                "tml-30",
                "opp_same_goods",
                f"被异议商标“{text}”指定使用在{where}，与异议人在先注册的“{name}”商标核定使用的商品／服务"
                f"相同或类似；两商标近似（{sim_text}），易使相关公众对商品来源产生误认。",
            )
        elif m.well_known:
            ref = f"（{m.well_known_ref}）" if m.well_known_ref else "（驰名商标认定文件待补充）"
            if not regs:
                ref += "（注册号待补充：第十三条第三款保护已在中国注册的驰名商标）"
            add(
                "tml-13",
                "well_known_cross_class",
                f"“{name}”为异议人已在中国注册的驰名商标{ref}；被异议商标“{text}”在不相同或不相类似的"
                f"第{'、'.join(str(c) for c in (sub.classes if sub else []))}类上复制、摹仿该驰名商标，误导公众，"
                "致使异议人的利益可能受到损害。",
                "复制、摹仿驰名商标（商标法第十三条第三款）",
            )
        if _owner_trade_name(m.owner, name):
            add(
                "tml-32",
                "opp_prior_right",
                f"“{name}”是异议人企业名称“{m.owner}”的字号，异议人对其享有在先的字号权；被异议商标的注册"
                "损害异议人现有的在先权利。",
            )
    for g in case.grounds:
        code = EXTRA_GROUNDS.get(g, g)
        add(g, code, "（分析人员认定的理由：事实与证据待补充）")
    if similarity:
        add("spc-2002-32-9", "similarity", f"近似判断：{sim_text}。", "商标近似的判断标准")
    procedure = [by_id[p] for p in ("tml-33", "tmr-24", "tml-35") if p in by_id]

    opposed = {
        "text": sub.text if sub else case.entity.name,
        "number": (sub.number if sub else None) or case.entity.number or "",
        "classes": list(sub.classes) if sub else [],
        "groups": list(sub.groups) if sub else [],
        "goods": str(item.get("goods") or ""),
        "mark_type": str(item.get("mark_type") or ""),
        "applicant": (sub.applicant if sub else None) or case.entity.applicant or "",
        "applicant_address": str(item.get("applicant_address") or ""),
        "agent": str(item.get("agent") or ""),
        "filed": str(item.get("filed") or ""),
        "announcement": str(item.get("announcement") or ""),
        "announced": announced.isoformat() if announced else "",
        "status": str(item.get("status") or ""),
    }
    missed = deadline is not None and deadline < today
    evidence_owner = [
        "异议人主体资格证明（营业执照副本，加盖公章）",
        *(
            f"第 {r['number']} 号“{p['name']}”商标注册证（第 {r['class']} 类）"
            for p in prior
            for r in p["registrations"]
        ),
    ]
    if any(g["id"] == "tml-13" for g in grounds):
        evidence_owner.append("驰名商标认定文件及使用、宣传证据（商标法第十四条所列因素）")
    if any(g["id"] in ("tml-32", "tml-15") for g in grounds):
        evidence_owner.append("在先权利或业务往来关系的证据（企业登记信息、合同、往来函件等）")
    return {
        "opponent": applicant,
        "opposed": opposed,
        "request": f"请求对第 {opposed['number'] or '（申请号待补充）'} 号“{opposed['text']}”商标不予核准注册。",
        "grounds": grounds,
        "similarity": similarity,
        "prior": prior,
        "procedure": procedure,
        "deadline": deadline.isoformat() if deadline else "",
        "period_end": clock.period_end.isoformat() if clock else "",
        "moved": bool(clock and clock.moved),
        "holidays_known": bool(clock.holidays_known) if clock else True,
        "days_left": (deadline - today).days if deadline else None,
        "missed": missed,
        "evidence_owner": evidence_owner,
        "unverified": [_short(g["law"]) + g["article"] for g in grounds if not g["verified"]]
        + [_short(p["law"]) + p["article"] for p in procedure if not p.get("verified")],
    }
