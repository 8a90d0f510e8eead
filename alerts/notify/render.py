"""Turn a recipient's pending alerts into one digest email (plain text + HTML).

Both parts come from Jinja2 templates; the HTML one is autoescaped. Everything
crawled is passed through `sanitize` first, and headers are built only from
sanitised text, so an infringer's name can neither inject a header nor script.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alerts.model import probability_of
from alerts.notify import case_updates as cu
from alerts.notify import reminders as rm
from alerts.notify.model import DigestItem
from alerts.notify.sanitize import display_text, header_text, safe_href
from alerts.present import percent

TEMPLATE_DIR = Path(__file__).parent / "templates"
_DOMAIN_CHARS = re.compile(r"[^A-Za-z0-9.-]")


@dataclass(frozen=True, slots=True)
class Rendered:
    """A digest ready to hand to a transport."""

    message_id: str
    recipient: str
    subject: str
    alert_ids: tuple[str, ...]
    shown: int
    message: EmailMessage
    case_keys: tuple[str, ...] = ()

    def as_bytes(self) -> bytes:
        return self.message.as_bytes(policy=policy.SMTP)


@lru_cache(maxsize=4)
def environment(template_dir: str = str(TEMPLATE_DIR)) -> Environment:
    return Environment(
        loader=FileSystemLoader(template_dir),
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def message_id_for(recipient: str, alert_ids: Iterable[str], sender: str) -> str:
    """A Message-ID that is the same whenever the same alerts go to the same address.

    A digest re-sent after an interrupted run therefore carries the identical id,
    which lets receiving systems drop the duplicate.
    """
    h = hashlib.sha256(recipient.strip().lower().encode())
    for aid in sorted(set(alert_ids)):
        h.update(b"\n" + aid.encode("utf-8", "surrogatepass"))
    # Short enough (with a domain of up to 40 characters) that the header is never folded.
    domain = _DOMAIN_CHARS.sub("", parseaddr(sender)[1].rpartition("@")[2])[:40].strip(".-")
    return f"<{h.hexdigest()[:32]}.markwatch@{domain or 'markwatch.invalid'}>"


def subject_for(items: Sequence[DigestItem], max_marks: int = 3) -> str:
    """`[markwatch] 3 new suspected imitations of 一正, 九阳 and 2 more marks`."""
    marks: list[str] = []
    for it in items:
        if it.mark not in marks:
            marks.append(it.mark)
    names = [header_text(m, 40) for m in marks[:max_marks]]
    of = ", ".join(names)
    if len(marks) > max_marks:
        of += f" and {len(marks) - max_marks} more marks"
    noun = "imitation" if len(items) == 1 else "imitations"
    return header_text(f"[markwatch] {len(items)} new suspected {noun} of {of}", 200)


def _fmt_time(ts: datetime | None, tz: str = "UTC") -> str:
    """A time in the recipient's zone, with the zone's name (``2026-05-01 17:00 Asia/Shanghai``)."""
    if ts is None:
        return "unknown"
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    from zoneinfo import ZoneInfo

    return ts.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M ") + ("UTC" if tz == "UTC" else tz)


LIKELIHOOD = ((0.8, "高", "high"), (0.5, "中", "medium"), (0.0, "低", "low"))


def likelihood(chance: float) -> tuple[str, str]:
    """The calibrated chance in words (高 / 中 / 低): owners act on a level, not on a percentage."""
    for floor, zh, en in LIKELIHOOD:
        if chance >= floor:
            return zh, en
    return LIKELIHOOD[-1][1], LIKELIHOOD[-1][2]


def route_of(it: DigestItem) -> tuple[str, str]:
    """What the owner can do: a name dispute at the registering authority, or a complaint to the platform."""
    if it.kind == "trademark":
        by = f"，{it.deadline.isoformat()} 前" if it.deadline else ""
        by_en = f", by {it.deadline.isoformat()}" if it.deadline else ""
        return f"向国家知识产权局提出商标异议{by}", f"opposition at CNIPA{by_en}"
    if it.kind == "listing":
        return "向平台投诉（知识产权保护平台）", "complaint to the platform (IP protection channel)"
    if it.authority:
        return f"向{it.authority}提出企业名称争议", f"enterprise-name dispute at {it.authority}"
    return "企业名称争议（登记机关待核实）", "enterprise-name dispute (registering authority to be checked)"


def days_left_text(left: int | None, language: str) -> str:
    """ "12 days left" / "剩余 12 天" (``alerts.deadlines.days_left_label``); no deadline said so."""
    from alerts.deadlines import days_left_label

    if left is None:
        return "无异议期限（公告日期未知）" if language == "zh" else "no deadline (announcement date unknown)"
    return days_left_label(date(2000, 1, 1) + timedelta(days=left), date(2000, 1, 1), language)


def _trademark_view(it: DigestItem, base: dict, today: date, language: str) -> dict:
    """A trademark alert's own fields (application, classes, announcement, deadline, days left)."""
    left = (it.deadline - today).days if it.deadline else None
    return {
        **base,
        "mark": display_text(it.mark, 64),
        "number": display_text(it.number, 40),
        "classes": ("、" if language == "zh" else ", ").join(str(c) for c in it.classes),
        "applicant": display_text(it.applicant, 200),
        "announcement": display_text(it.announcement, 40),
        "announced": it.announced.isoformat() if it.announced else "",
        "deadline": it.deadline.isoformat() if it.deadline else "",
        "days_left": left,
        "left_text": days_left_text(left, language),
        "urgent": left is not None and 0 <= left <= 7,
    }


def _deadline_order(it: DigestItem) -> tuple:
    """Nearest deadline first, those without one last, then the queue's order."""
    return (it.deadline is None, it.deadline or date.max, -_chance(it), it.alert_id)


def review_link(base_url: str, alert_id: str) -> str:
    return f"{base_url.rstrip('/')}/alerts/{quote(alert_id, safe='')}"


def review_list_link(base_url: str, mark: str) -> str:
    return f"{base_url.rstrip('/')}/alerts?{urlencode({'mark': mark, 'status': 'new'})}"


def _select(groups: dict[str, list[DigestItem]], cap: int) -> dict[str, list[DigestItem]]:
    """Pick up to `cap` items round-robin across marks, best first, so no mark is crowded out."""
    chosen: dict[str, list[DigestItem]] = {m: [] for m in groups}
    depth = 0
    left = cap
    while left > 0:
        took = False
        for mark, items in groups.items():
            if depth < len(items) and left > 0:
                chosen[mark].append(items[depth])
                left -= 1
                took = True
        if not took:
            break
        depth += 1
    return chosen


def _chance(it: DigestItem) -> float:
    """The item's calibrated probability; an item made without one gets that of its score."""
    return probability_of(it.score, it.probability)


def _order(it: DigestItem, now: datetime) -> tuple:
    """The queue's order: most likely worth a look, then score, then longest waiting, then id."""
    return (-_chance(it), -it.score, it.first_seen or now, it.alert_id)


_KIND_EN = {"listing": "listing", "trademark": "trademark application"}
_KIND_ZH = {"listing": "商品", "trademark": "商标申请"}


def _item_view(
    it: DigestItem,
    base_url: str,
    language: str = "en",
    *,
    tz: str = "UTC",
    link: str | None = None,
    page: str | None = None,
) -> dict:
    href = safe_href(page or it.url)
    reasons = it.reasons_zh if language == "zh" and it.reasons_zh else it.reasons
    level_zh, level_en = likelihood(_chance(it))
    route_zh, route_en = route_of(it)
    return {
        "level": level_zh if language == "zh" else level_en,
        "uscc": display_text(it.uscc, 18),
        "authority": display_text(it.authority, 80),
        "route": route_zh if language == "zh" else route_en,
        "link": link or "",
        "name": display_text(it.name, 200) or "(no name)",
        "kind": _KIND_EN.get(it.kind, "enterprise name"),
        "kind_zh": _KIND_ZH.get(it.kind, "企业名称"),
        "source": display_text(it.source, 80),
        "url": href,
        "url_text": display_text(page or it.url, 200) if (page or it.url) else "",
        "score": f"{max(0.0, min(1.0, float(it.score))):.2f}",
        "percent": percent(_chance(it)),
        "reasons": [display_text(r, 300) for r in reasons[:8] if r],
        "more_reasons": max(0, len(reasons) - 8),
        "first_seen": _fmt_time(it.first_seen, tz),
        "review_url": review_link(base_url, it.alert_id),
    }


def render_digest(
    recipient: str,
    items: Sequence[DigestItem],
    *,
    sender: str,
    base_url: str,
    max_items: int = 50,
    now: datetime | None = None,
    template_dir: Path | None = None,
    language: str = "en",
    case_updates: Sequence[cu.CaseUpdate] = (),
    timezone: str = "UTC",
    link_for: Callable[[DigestItem], str | None] | None = None,
    page_for: Callable[[DigestItem], str | None] | None = None,
    attach_csv: bool = False,
    reminders: Sequence[rm.Reminder] = (),
) -> Rendered:
    """Render one digest covering all `items` (at most `max_items` in full) and all `case_updates`.

    *timezone*: the recipient's (times are shown in it); *link_for*: a signed read-only link to an
    alert for an owner without an account (None: no link, never the analysts' site); *page_for*: the
    entity's own page (a company's page or the source's lookup, not the feed page it was found on).
    """
    if not items and not case_updates and not reminders:
        raise ValueError("a digest needs at least one alert, case update or reminder")
    now = now or datetime.now(UTC)
    today = _local_date(now, timezone)
    # Trademark applications have their own section, nearest opposition deadline first.
    marks_of = [it for it in items if it.kind != "trademark"]
    trademarks = sorted((it for it in items if it.kind == "trademark"), key=_deadline_order)
    tm_shown = trademarks[: max(1, max_items)]
    # An alert told in full in this digest already shows its deadline and days left: its reminder
    # is settled (its keys below) without a second line for the same application.
    in_full = {it.alert_id for it in tm_shown}
    reminders_shown = [r for r in reminders if r.item.alert_id not in in_full]
    groups: dict[str, list[DigestItem]] = {}
    for it in sorted(marks_of, key=lambda i: _order(i, now)):
        groups.setdefault(it.mark, []).append(it)
    # Marks with most alerts first, then by name, so the order is stable.
    groups = dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))
    chosen = _select(groups, max(1, max_items))
    shown = sum(len(v) for v in chosen.values()) + len(tm_shown)
    ordered = [*trademarks, *(it for its in groups.values() for it in its)]
    if ordered:
        subject = subject_for(ordered) if language != "zh" else subject_zh(ordered)
    elif reminders:
        subject = reminder_subject(reminders, language)
    else:
        subject = cu.subject(case_updates, language)

    def _view(it: DigestItem) -> dict:
        return _item_view(
            it,
            base_url,
            language,
            tz=timezone,
            link=link_for(it) if link_for else None,
            page=page_for(it) if page_for else None,
        )

    context = {
        "subject": subject,
        "recipient": header_text(recipient),
        "total": len(items),
        "shown": shown,
        "hidden": len(items) - shown,
        "generated": _fmt_time(now, timezone),
        "lang": "zh" if language == "zh" else "en",
        "review_url": base_url.rstrip("/") + "/alerts",
        "marks": [
            {
                "name": display_text(mark, 64),
                "total": len(its),
                "alerts": [
                    _item_view(
                        it,
                        base_url,
                        language,
                        tz=timezone,
                        link=link_for(it) if link_for else None,
                        page=page_for(it) if page_for else None,
                    )
                    for it in chosen[mark]
                ],
                "hidden": len(its) - len(chosen[mark]),
                "more_url": review_list_link(base_url, mark),
            }
            for mark, its in groups.items()
        ],
        "cases": cu.view(case_updates, base_url, language),
        "has_links": link_for is not None,
        "trademarks": [_trademark_view(it, _view(it), today, language) for it in tm_shown],
        "trademarks_total": len(trademarks),
        "trademarks_hidden": len(trademarks) - len(tm_shown),
        "reminders": [
            {**_trademark_view(r.item, _view(r.item), today, language), "reminder": r.days} for r in reminders_shown
        ],
    }
    marks_view: list[dict[str, Any]] = context["marks"]  # type: ignore[assignment]
    listed = [(m, a) for m in marks_view for a in m["alerts"]]
    context["summary"] = [{"n": i + 1, "mark": m["name"], **a} for i, (m, a) in enumerate(listed)]
    env = environment(str(template_dir or TEMPLATE_DIR))
    text = env.get_template("digest.txt").render(context)
    html = env.get_template("digest.html").render(context)

    alert_ids = tuple(it.alert_id for it in ordered)
    case_keys = tuple(u.key for u in case_updates) + tuple(k for r in reminders for k in r.keys)
    msg_id = message_id_for(recipient, alert_ids + case_keys, sender)
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = subject
    msg["From"] = header_text(sender, 300)
    msg["To"] = header_text(recipient, 300)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = msg_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    if attach_csv and ordered:
        msg.add_attachment(
            "\ufeff" + digest_csv(ordered, language, timezone, page_for),
            subtype="csv",
            charset="utf-8",
            cte="base64",
            filename="markwatch-digest.csv",
        )
    return Rendered(msg_id, recipient, subject, alert_ids, shown, msg, case_keys)


CSV_COLUMNS_ZH = [
    "商标",
    "名称或商品",
    "类型",
    "可能性",
    "统一社会信用代码",
    "登记机关",
    "建议途径",
    "链接",
    "首次发现",
]
CSV_COLUMNS_EN = [
    "mark",
    "name or title",
    "kind",
    "likelihood",
    "credit code",
    "authority",
    "route",
    "link",
    "first seen",
]


def _cell(value: str) -> str:
    """A CSV cell that no spreadsheet runs as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def digest_csv(
    items: Sequence[DigestItem], language: str, tz: str, page_for: Callable[[DigestItem], str | None] | None = None
) -> str:
    """Every alert of a digest (listed or counted) as CSV, for the owner's own tracking."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    zh = language == "zh"
    w.writerow(CSV_COLUMNS_ZH if zh else CSV_COLUMNS_EN)
    for it in items:
        level = likelihood(_chance(it))[0 if zh else 1]
        route = route_of(it)[0 if zh else 1]
        page = (page_for(it) if page_for else None) or it.url or ""
        kind = (_KIND_ZH if zh else _KIND_EN).get(it.kind, "企业名称" if zh else "enterprise name")
        w.writerow(
            [
                _cell(display_text(x, 300))
                for x in (
                    it.mark,
                    it.name,
                    kind,
                    level,
                    it.uscc,
                    it.authority,
                    route,
                    page,
                    _fmt_time(it.first_seen, tz),
                )
            ]
        )
    return buf.getvalue()


def _local_date(now: datetime, tz: str) -> date:
    from zoneinfo import ZoneInfo

    try:
        return now.astimezone(ZoneInfo(tz)).date()
    except (KeyError, ValueError):
        return now.astimezone(UTC).date()


def reminder_subject(reminders: Sequence[rm.Reminder], language: str) -> str:
    """The subject of a digest that carries only deadline reminders: how many, and the nearest."""
    n = len(reminders)
    nearest = min(r.days_left for r in reminders)
    if language == "zh":
        return header_text(f"[markwatch] 商标异议期限提醒：{n} 件申请，最近 {nearest} 天后截止", 200)
    noun = "application" if n == 1 else "applications"
    return header_text(f"[markwatch] Opposition deadline reminder: {n} {noun}, the nearest in {nearest} days", 200)


def subject_zh(items: Sequence[DigestItem], max_marks: int = 3) -> str:
    """The Chinese subject (``[notify] language = "zh"``), built from sanitised text like the English one."""
    marks = list(dict.fromkeys(display_text(it.mark, 64) for it in items))
    of = "、".join(f"“{m}”" for m in marks[:max_marks])
    if len(marks) > max_marks:
        of += f"等 {len(marks)} 个商标"
    kinds = {it.kind for it in items}
    what = "商标申请" if kinds == {"trademark"} else ("名称、商品或商标申请" if "trademark" in kinds else "名称或商品")
    return header_text(f"[markwatch] 发现 {len(items)} 个疑似仿冒{of}的{what}", 200)
