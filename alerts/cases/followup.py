"""Follow-up: notice when an infringer complies, and resolve its case with before/after evidence.

Run at the end of each scan (and by ``markwatch cases check``) for cases in ``filed``/``awaiting``:

- an enterprise is looked up by its credit code through every source configured for it
  (``[cases.lookups.<source>]``: a JSON URL with ``{uscc}``, ``{date}``, ``{base}`` and JMESPath
  for the name and status); when its name no longer contains the imitation, or its status is
  注销/吊销, the case is resolved;
- a listing's page is fetched again; 404 or 410 means it was removed, and the case is resolved.

The answer is kept in the evidence store like any crawled page, and its id goes into the
resolving event next to the alert's own (before) evidence, so the dossier shows both. Cases past
their deadline without change are reported (``overdue``) for the digest and the site.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import jmespath

from alerts.cases.model import FOLLOWUP_STATES, Case, alert_url, normalise
from alerts.cases.service import record_check, resolve_case

MAX_BYTES = 2 * 1024 * 1024
GONE = {404, 410}
DEREGISTERED = ("注销", "吊销")


@dataclass
class Lookup:
    url: str
    name: str = "data.entName"
    status: str = "data.regState"
    found: str | None = None


@dataclass
class FollowupOptions:
    lookups: dict[str, Lookup] = field(default_factory=dict)
    base_url: str | None = None
    timeout: float = 20.0

    @classmethod
    def from_settings(cls, settings: Any, *, base_url: str | None = None) -> FollowupOptions:
        """From the app's settings (``[cases]``, ``[scan] base_url``), read by attribute only."""
        cs = settings.cases
        lookups = {
            n: Lookup(url=lk.url, name=lk.name, status=lk.status, found=lk.found) for n, lk in cs.lookups.items()
        }
        return cls(lookups=lookups, base_url=base_url or settings.scan.base_url, timeout=cs.timeout)


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


@dataclass
class Fetched:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    at: datetime


def fetch(url: str, timeout: float) -> Fetched:
    """GET with a bounded body; HTTP errors are answers (a 404 is what a removed listing says)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url[:200]!r}")
    req = urllib.request.Request(url, headers={"User-Agent": "markwatch-followup/1", "Accept": "*/*"})
    at = datetime.now(UTC)
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 - scheme checked above
    except urllib.error.HTTPError as exc:
        resp = exc
    with resp:
        body = resp.read(MAX_BYTES + 1)[:MAX_BYTES]
        return Fetched(url, int(resp.status), dict(resp.headers.items()), body, at)


def _imitations(case: Case, alerts: list[Any]) -> set[str]:
    """What the entity must no longer carry: the matched text and the trade names seen."""
    out = {normalise(m) for m in case.marks}
    for a in alerts:
        for t in (a.matched, a.subject.trade_name):
            if t and len(normalise(t)) >= 2:
                out.add(normalise(t))
    return {t for t in out if t}


def _check_enterprise(
    case: Case, alerts: list[Any], evidence: Any, opts: FollowupOptions, today: date, now: datetime
) -> tuple[str, str, dict[str, Any]]:
    order = [case.entity.source, *sorted(opts.lookups)]
    names = [n for n in dict.fromkeys(order) if n in opts.lookups]
    if not names:
        return "skipped", "no source can look up a credit code ([cases.lookups])", {}
    problems = []
    for name in names:
        lk = opts.lookups[name]
        if "{base}" in lk.url and not opts.base_url:
            problems.append(f"{name}: no base URL for {{base}}")
            continue
        url = lk.url.format(
            base=(opts.base_url or "").rstrip("/"),
            uscc=urllib.parse.quote(case.entity.uscc or ""),
            date=today.isoformat(),
        )
        try:
            got = fetch(url, opts.timeout)
            data = json.loads(got.body.decode("utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        if got.status != 200:
            problems.append(f"{name}: HTTP {got.status}")
            continue
        if not jmespath.search(lk.found or lk.name, data):
            problems.append(f"{name}: credit code not found")
            continue
        new_name = str(jmespath.search(lk.name, data) or "")
        new_status = str(jmespath.search(lk.status, data) or "")
        after = evidence.put(got.url, got.at, got.status, got.headers, got.body)
        latest = max(alerts, key=lambda a: a.last_seen) if alerts else None
        data_out = {
            "as_of": today.isoformat(),
            "lookup": name,
            "lookup_url": got.url,
            "before_name": case.entity.name,
            "after_name": new_name,
            "before_status": (latest.item.get("status", "") if latest else ""),
            "after_status": new_status,
            "before_evidence": latest.evidence_id if latest else None,
            "after_evidence": after,
        }
        if any(s in new_status for s in DEREGISTERED):
            kind = "deregistered" if "注销" in new_status else "revoked"
            return "resolved", kind, data_out
        flat = normalise(new_name)
        if flat and not any(t in flat for t in _imitations(case, alerts)):
            return "resolved", "renamed", data_out
        return "unchanged", f"still {new_name} ({new_status})", data_out
    return "error", "; ".join(problems), {}


def _check_listing(
    case: Case, alerts: list[Any], evidence: Any, opts: FollowupOptions, today: date
) -> tuple[str, str, dict[str, Any]]:
    gone, problems, data_out = [], [], {}
    urls = []
    for a in alerts:
        url = alert_url(a)
        if url:
            urls.append((a, url))
    if not urls:
        return "skipped", "no listing URL on the alerts", {}
    for a, url in urls:
        try:
            got = fetch(url, opts.timeout)
        except (OSError, ValueError) as exc:
            problems.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            continue
        if got.status in GONE:
            after = evidence.put(got.url, got.at, got.status, got.headers, got.body)
            gone.append(url)
            data_out = {
                "as_of": today.isoformat(),
                "lookup_url": url,
                "after_status": f"HTTP {got.status}",
                "before_evidence": a.evidence_id,
                "after_evidence": after,
            }
    if problems and not gone:
        return "error", "; ".join(problems), {}
    if gone and len(gone) == len(urls):
        return "resolved", "listing_removed", {**data_out, "removed": gone}
    return "unchanged", f"{len(gone)} of {len(urls)} listing(s) gone", {}


def run_followup(
    alert_store: Any,
    case_store: Any,
    evidence: Any,
    opts: FollowupOptions,
    *,
    today: date | None = None,
    who: str = "follow-up",
) -> FollowupReport:
    """Check every filed or awaiting case once; resolve those whose infringer complied."""
    now = datetime.now(UTC)
    today = today or now.date()
    report = FollowupReport()
    for case in case_store.list(states=FOLLOWUP_STATES):
        report.checked += 1
        alerts = alert_store.get_many(case.alert_ids)
        try:
            if case.entity.kind == "enterprise" and case.entity.uscc:
                result, detail, data = _check_enterprise(case, alerts, evidence, opts, today, now)
            elif case.entity.kind == "listing":
                result, detail, data = _check_listing(case, alerts, evidence, opts, today)
            else:
                result, detail, data = "skipped", "no credit code to look up", {}
        except Exception as exc:  # one case's failure must not stop the others (or the scan)
            result, detail, data = "error", f"{type(exc).__name__}: {str(exc)[:200]}", {}
        if result == "resolved":
            note = {
                "renamed": "已更名",
                "deregistered": "已注销",
                "revoked": "已吊销",
                "listing_removed": "链接已删除",
            }.get(detail, detail)
            if data.get("after_name") and detail == "renamed":
                note += f"：{data['after_name']}"
            resolve_case(case_store, case.id, resolution=detail, note=note, data=data, who=who, now=now)
        elif result == "unchanged":
            # Kept as an event (not only logged) so the case page and the dossier show each look.
            looked = case.entity.uscc if case.entity.kind == "enterprise" else f"{len(case.alert_ids)} listing page(s)"
            record_check(
                case_store,
                case.id,
                data={"result": result, "detail": detail[:300], "looked_up": looked, "as_of": today.isoformat()},
                who=who,
                now=now,
            )
        if result != "resolved" and case.overdue(today):
            report.overdue.append(case.id)
        report.outcomes.append(Outcome(case.id, case.entity.name, result, detail))
    return report
