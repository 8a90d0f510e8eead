"""Follow-up: notice when an infringer complies, and resolve its case with before/after evidence.

Run at the end of each scan (and by ``markwatch cases check``) for cases in ``filed``/``awaiting``.
This module decides; it never touches the network. The looking up is done by a ``Looker`` (the
app gives one that runs the sources' ``lookup`` sections through the crawler:
``markwatch.services.scan_followup``), so every request goes through the crawler's guards.

- an enterprise is looked up by its credit code through the sources that can (the case's own
  source first, then the others in order); when its name no longer contains the imitation, or its
  status is 注销/吊销, the case is resolved. A source that refuses, fails, or does not know the code
  hands over to the next; when none answers, the case stays as it is, with the reasons recorded;
- each listing of the case (a shop's listings are one case) is looked up on its own source, which
  declares what "gone" looks like there (a status, a marker such as 宝贝不存在, a redirect to a
  search page, an API code). When every listing is gone the case is resolved; each link's outcome
  is kept on the case (``links``) for the platform's success rate.

Every answer is kept in the evidence store, and its id goes into the event next to the alert's own
(before) evidence, so the dossier shows both. A refused or failed look is a ``checked`` event
with the reason, never a resolution. Cases past their deadline are reported (``overdue``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from alerts.cases.model import FOLLOWUP_STATES, Case, LinkOutcome, alert_url, normalise
from alerts.cases.service import record_check, record_links, resolve_case

DEREGISTERED = ("注销", "吊销")


@dataclass
class LookupTarget:
    """One thing to look up: a credit code, or an item (its page URL and identity)."""

    id: str
    uscc: str | None = None
    url: str | None = None
    key: str | None = None
    number: str | None = None  # a trademark application's number (opposition cases)


@dataclass
class LookupAnswer:
    """What a source said: found, gone, not_found, refused or failed, with the reason and the page."""

    state: str
    reason: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    fetched_at: datetime | None = None
    gone_by: str = ""


class Looker(Protocol):
    def sources_for(self, by: str) -> list[str]:
        """The sources that can look up by ``uscc`` or by ``item``, in the order to ask them."""
        ...

    def look(self, requests: dict[str, list[LookupTarget]], today: date) -> dict[str, dict[str, LookupAnswer]]:
        """Look every target up (source name → targets); answers by source and target id."""
        ...


@dataclass
class FollowupOptions:
    """Which sources the follow-up may ask (empty: every source that has a lookup of the kind)."""

    sources: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    case_id: str
    entity: str
    result: str  # resolved, unchanged, error, skipped
    detail: str = ""


@dataclass
class FollowupReport:
    checked: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)

    @property
    def resolved(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.result == "resolved"]

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.result == "error"]

    def lines(self) -> list[str]:
        out = [
            f"follow-up: {self.checked} case(s) checked, {len(self.resolved)} resolved, "
            f"{len(self.errors)} error(s), {len(self.overdue)} overdue"
        ]
        out += [f"  {o.case_id} {o.result}: {o.entity} {o.detail}".rstrip() for o in self.outcomes]
        out += [f"  {c} overdue" for c in self.overdue]
        return out


def _imitations(case: Case, alerts: list[Any]) -> set[str]:
    """What the entity must no longer carry: the marks, the matched text and the trade names seen."""
    out = {normalise(m) for m in case.marks}
    for a in alerts:
        for t in (a.matched, a.subject.trade_name):
            if t and len(normalise(t)) >= 2:
                out.add(normalise(t))
    return {t for t in out if t}


def _keep(evidence: Any, ans: LookupAnswer) -> str | None:
    if ans.body is None:
        return None
    return evidence.put(ans.url, ans.fetched_at or datetime.now(UTC), ans.status, ans.headers, ans.body)


def _enterprise_verdict(
    case: Case, alerts: list[Any], source: str, ans: LookupAnswer, evidence: Any, today: date
) -> tuple[str, str, dict[str, Any]]:
    new_name = str(ans.fields.get("name") or "")
    new_status = str(ans.fields.get("status") or "")
    after = _keep(evidence, ans)
    latest = max(alerts, key=lambda a: a.last_seen) if alerts else None
    data = {
        "as_of": today.isoformat(),
        "lookup": source,
        "lookup_url": ans.url,
        "looked_up": case.entity.uscc,
        "before_name": case.entity.name,
        "after_name": new_name,
        "before_status": (latest.item.get("status", "") if latest else ""),
        "after_status": new_status,
        "before_evidence": latest.evidence_id if latest else None,
        "after_evidence": after,
    }
    if any(s in new_status for s in DEREGISTERED):
        return "resolved", ("deregistered" if "注销" in new_status else "revoked"), data
    flat = normalise(new_name)
    if flat and not any(t in flat for t in _imitations(case, alerts)):
        return "resolved", "renamed", data
    return "unchanged", f"still {new_name} ({new_status})", data


def _enterprise_order(case: Case, looker: Looker, opts: FollowupOptions) -> list[str]:
    able = looker.sources_for("uscc")
    if opts.sources:
        able = [s for s in opts.sources if s in able]
    return list(dict.fromkeys([s for s in [case.entity.source] if s in able] + able))


def run_followup(
    alert_store: Any,
    case_store: Any,
    evidence: Any,
    looker: Looker,
    opts: FollowupOptions | None = None,
    *,
    today: date | None = None,
    who: str = "follow-up",
) -> FollowupReport:
    """Check every filed or awaiting case once; resolve those whose infringer complied."""
    opts = opts or FollowupOptions()
    now = datetime.now(UTC)
    today = today or now.date()
    report = FollowupReport()
    cases = list(case_store.list(states=FOLLOWUP_STATES))
    alerts_of = {c.id: alert_store.get_many(c.alert_ids) for c in cases}
    verdicts: dict[str, tuple[str, str, dict[str, Any]]] = {}

    # Enterprises: round after round, each case asks its next source until one answers.
    firms = [c for c in cases if c.entity.kind == "enterprise" and c.entity.uscc]
    queue = {c.id: _enterprise_order(c, looker, opts) for c in firms}
    problems: dict[str, list[str]] = {c.id: [] for c in firms}
    pending = {c.id: c for c in firms}
    for c in firms:
        if not queue[c.id]:
            verdicts[c.id] = ("skipped", "no source can look up a credit code (no lookup: by uscc)", {})
            pending.pop(c.id)
    while pending:
        requests: dict[str, list[LookupTarget]] = {}
        asked: dict[str, str] = {}
        for cid, c in pending.items():
            src = queue[cid].pop(0)
            asked[cid] = src
            requests.setdefault(src, []).append(LookupTarget(id=cid, uscc=c.entity.uscc))
        answers = looker.look(requests, today)
        for cid, src in asked.items():
            c = pending[cid]
            ans = answers.get(src, {}).get(cid) or LookupAnswer("failed", "no answer")
            if ans.state == "found":
                verdicts[cid] = _enterprise_verdict(c, alerts_of[cid], src, ans, evidence, today)
                continue
            what = "credit code not found" if ans.state in ("not_found", "gone") else ans.state
            problems[cid].append(f"{src}: {what}" + (f": {ans.reason}" if ans.reason else ""))
            if not queue[cid]:
                verdicts[cid] = ("error", "; ".join(problems[cid]), {"looked_up": c.entity.uscc})
        pending = {cid: c for cid, c in pending.items() if cid not in verdicts}

    # Listings: every link of the case on its own source, at once.
    shops = [c for c in cases if c.entity.kind == "listing"]
    able = set(looker.sources_for("item"))
    requests = {}
    links_of: dict[str, list[tuple[Any, str, str]]] = {}
    for c in shops:
        for a in alerts_of[c.id]:
            url = alert_url(a)
            tid = f"{c.id}:{a.id}"
            links_of.setdefault(c.id, []).append((a, tid, url))
            if a.source in able and (url or a.subject_key):
                sk = str(a.subject_key or "")
                key = sk[3:] if sk.startswith("id:") else None  # the source's own item id (crawler.items.identity)
                requests.setdefault(a.source, []).append(LookupTarget(id=tid, url=url or None, key=key))
    answers = looker.look(requests, today) if requests else {}
    for c in shops:
        verdicts[c.id] = _listing_verdict(
            c, links_of.get(c.id, []), answers, able, evidence, case_store, today, who, now
        )

    # Oppositions: each application by its number, source after source until one answers.
    oppositions = [c for c in cases if c.kind == "opposition"]
    verdicts.update(_opposition_verdicts(oppositions, alerts_of, looker, opts, evidence, today))

    for c in cases:
        report.checked += 1
        result, detail, data = verdicts.get(c.id, ("skipped", "no credit code to look up", {}))
        try:
            _record(case_store, c, result, detail, data, today, who, now)
        except Exception as exc:  # one case's failure must not stop the others (or the scan)
            result, detail = "error", f"{type(exc).__name__}: {str(exc)[:200]}"
        if result != "resolved" and c.overdue(today):
            report.overdue.append(c.id)
        report.outcomes.append(Outcome(c.id, c.entity.name, result, detail))
    return report


def _opposition_verdicts(
    cases: list[Case],
    alerts_of: dict[str, list[Any]],
    looker: Looker,
    opts: FollowupOptions,
    evidence: Any,
    today: date,
) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """The opposed applications' status (opposed, registered, refused, withdrawn) through the sources."""
    verdicts: dict[str, tuple[str, str, dict[str, Any]]] = {}
    able = looker.sources_for("number")
    if opts.sources:
        able = [s for s in opts.sources if s in able]
    queue: dict[str, list[str]] = {}
    pending: dict[str, Case] = {}
    for c in cases:
        if not c.entity.number:
            verdicts[c.id] = ("skipped", "no application number to look up", {})
            continue
        order = list(dict.fromkeys([s for s in [c.entity.source] if s in able] + able))
        if not order:
            verdicts[c.id] = ("skipped", "no source can look up an application (no lookup: by number)", {})
            continue
        queue[c.id], pending[c.id] = order, c
    problems: dict[str, list[str]] = {cid: [] for cid in pending}
    while pending:
        requests: dict[str, list[LookupTarget]] = {}
        asked: dict[str, str] = {}
        for cid, c in pending.items():
            src = queue[cid].pop(0)
            asked[cid] = src
            requests.setdefault(src, []).append(LookupTarget(id=cid, number=c.entity.number))
        answers = looker.look(requests, today)
        for cid, src in asked.items():
            c = pending[cid]
            ans = answers.get(src, {}).get(cid) or LookupAnswer("failed", "no answer")
            got = normalise(str(ans.fields.get("number") or ""))
            if ans.state == "found" and (not got or got == normalise(c.entity.number or "")):
                verdicts[cid] = _opposition_verdict(c, alerts_of[cid], src, ans, evidence, today)
                continue
            if ans.state == "found":
                what = f"answered for another application ({got[:40]})"
            else:
                what = "application not found" if ans.state in ("not_found", "gone") else ans.state
            problems[cid].append(f"{src}: {what}" + (f": {ans.reason}" if ans.reason else ""))
            if not queue[cid]:
                verdicts[cid] = ("error", "; ".join(problems[cid]), {"looked_up": c.entity.number})
        pending = {cid: c for cid, c in pending.items() if cid not in verdicts}
    return verdicts


def _opposition_verdict(
    case: Case, alerts: list[Any], source: str, ans: LookupAnswer, evidence: Any, today: date
) -> tuple[str, str, dict[str, Any]]:
    from alerts.cases.opposition import STATUS_ZH, application_status

    text = str(ans.fields.get("status") or "")
    status = application_status(text)
    latest = max(alerts, key=lambda a: a.last_seen) if alerts else None
    data = {
        "as_of": today.isoformat(),
        "lookup": source,
        "lookup_url": ans.url,
        "looked_up": case.entity.number,
        "before_status": str((latest.item or {}).get("status") or "") if latest else "",
        "after_status": text,
        "application_status": status,
        "before_evidence": latest.evidence_id if latest else None,
        "after_evidence": _keep(evidence, ans),
    }
    if status in ("refused", "withdrawn", "registered"):
        return "resolved", status, data
    return "unchanged", f"{STATUS_ZH[status]} ({text or 'no status given'})", data


def _listing_verdict(
    case: Case,
    links: list[tuple[Any, str, str]],
    answers: dict[str, dict[str, LookupAnswer]],
    able: set[str],
    evidence: Any,
    case_store: Any,
    today: date,
    who: str,
    now: datetime,
) -> tuple[str, str, dict[str, Any]]:
    if not links:
        return "skipped", "no listing on the case", {}
    gone: list[dict[str, Any]] = []
    present, problems = 0, []
    outcomes: list[LinkOutcome] = []
    for a, tid, url in links:
        if a.source not in able:
            problems.append(f"{a.source}: no lookup by item")
            continue
        ans = answers.get(a.source, {}).get(tid) or LookupAnswer("failed", "no answer")
        after = _keep(evidence, ans)
        if ans.state == "gone":
            gone.append({"url": url, "how": ans.gone_by, "reason": ans.reason, "before": a.evidence_id, "after": after})
            outcomes.append(LinkOutcome(url=url, alert_id=a.id, outcome="removed", at=now, detail=ans.reason))
        elif ans.state == "found":
            present += 1
            outcomes.append(LinkOutcome(url=url, alert_id=a.id, outcome="online", at=now))
        else:
            problems.append(f"{a.source}: {ans.state}: {ans.reason}")
    latest = case_store.get(case.id).link_states()
    changed = [o for o in outcomes if o.url not in latest or latest[o.url].outcome != o.outcome]
    if changed:
        record_links(case_store, case.id, changed)
    data: dict[str, Any] = {"as_of": today.isoformat(), "looked_up": f"{len(links)} listing page(s)"}
    if gone and len(gone) == len(links):
        first = gone[0]
        data.update(
            {
                "lookup_url": first["url"],
                "after_status": first["reason"],
                "before_evidence": first["before"],
                "after_evidence": first["after"],
                "removed": gone,
            }
        )
        return "resolved", "listing_removed", data
    if problems and not gone and not present:
        return "error", "; ".join(problems), data
    detail = f"{len(gone)} of {len(links)} listing(s) gone"
    if problems:
        detail += "; " + "; ".join(problems)
    return "unchanged", detail, {**data, "removed": gone}


def _record(
    case_store: Any, case: Case, result: str, detail: str, data: dict[str, Any], today: date, who: str, now: datetime
) -> None:
    if result == "resolved":
        note = {
            "renamed": "已更名",
            "deregistered": "已注销",
            "revoked": "已吊销",
            "listing_removed": "链接已删除",
            "refused": "被异议商标不予注册",
            "withdrawn": "被异议商标申请已撤回",
            "registered": "被异议商标已核准注册：异议途径结束，可考虑请求宣告无效（商标法第四十五条）",
        }.get(detail, detail)
        if data.get("after_name") and detail == "renamed":
            note += f"：{data['after_name']}"
        resolve_case(case_store, case.id, resolution=detail, note=note, data=data, who=who, now=now)
        return
    if result in ("unchanged", "error"):
        # Kept as an event (not only logged) so the case page and the dossier show each look,
        # including a look that failed and why: the case itself does not change.
        looked = (
            data.get("looked_up") or case.entity.uscc or case.entity.number or f"{len(case.alert_ids)} listing page(s)"
        )
        record_check(
            case_store,
            case.id,
            data={
                **{k: v for k, v in data.items() if k not in ("looked_up",)},
                "result": "failed" if result == "error" else result,
                "detail": detail[:300],
                "looked_up": looked,
                "as_of": today.isoformat(),
            },
            who=who,
            now=now,
        )
