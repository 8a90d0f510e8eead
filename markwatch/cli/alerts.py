"""`markwatch alerts …`: the analysts' commands (search, show, review, export, counts, calibration,
flush, migrate, rescreen).

Every command opens the store chosen by markwatch.toml (`[store]`). Crawled text is hostile:
everything shown goes through ``Text`` (no rich markup) after control and zero-width characters
are made visible; CSV cells that a spreadsheet would run as formulas are defused. Errors are one
line on stderr: exit 2 for configuration, 1 for an unknown id or an unreachable cluster.

Human output is in ``[review] language`` (``MARKWATCH_LANG`` overrides it; zh_CN by default) with
times in ``[review] timezone`` (Asia/Shanghai by default); a plain ``--since``/``--until`` day is a
day there, and ``--until`` includes its day, as on the site and in the API. Reviews, exceptions
and exports are written to the audit log with the acting user (``--by``, else the OS user).
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from alerts.i18n import Localizer
from alerts.present import CSV_BOM, csv_header, csv_row, csv_writer, plain, worth_a_look
from alerts.store import DEFAULT_SORT, MAX_PAGE
from markwatch.errors import UserError, cli_errors

if TYPE_CHECKING:
    from alerts.evidence import Evidence

alerts_app = typer.Typer(help="Search, review and export alerts.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")


# -- helpers ------------------------------------------------------------------------------------


def visible(text: Any, limit: int | None = None) -> str:
    """Control, format (zero-width, bidi) and line-break characters shown as ``⟨U+XXXX⟩``."""
    return plain(text, limit)


_err = Console(stderr=True)


def cli_localizer(config: Path | None = None) -> Localizer:
    """The language and zone of the CLI's human output: ``MARKWATCH_LANG``, else ``[review] language``."""
    from markwatch.config import load_settings

    try:
        review = load_settings(config).review
        lang, zone = review.language, review.timezone
    except Exception:  # noqa: BLE001 - a broken config is reported by the command itself
        lang, zone = "zh_CN", "Asia/Shanghai"
    return Localizer(os.environ.get("MARKWATCH_LANG") or lang, zone)


def cli_user(by: str | None) -> str:
    """Who acts from the command line: ``--by``, else the operating-system user."""
    import getpass

    if by and by.strip():
        return by.strip()[:100]
    try:
        return getpass.getuser()[:100]
    except Exception:  # noqa: BLE001 - no user database entry (a container): still someone
        return os.environ.get("USER") or "cli"


def cli_audit(
    store: Any, action: str, user: str, targets: Iterable[str] = (), detail: str = "", note: str = ""
) -> None:
    """One audit event from the command line (client ``cli``), as the site writes its own."""
    from alerts.sessions import AuditEvent

    store.audit_add(
        AuditEvent(
            action=action,
            user=user,
            client="cli",
            targets=list(targets)[:1000],
            detail=detail[:500],
            note=(note or "")[:4000],
        )
    )


@contextmanager
def _store(config: Path | None) -> Iterator[Any]:
    """Open the configured store; turn our errors into one line and an exit code."""
    with _settings_and_store(config) as (_settings, store):
        yield store


@contextmanager
def _settings_and_store(config: Path | None) -> Iterator[tuple[Any, Any]]:
    from alerts import open_store
    from markwatch.config import load_settings

    store = None
    try:
        with cli_errors(echo=lambda line: _err.print(Text(line), soft_wrap=True), clean=visible):
            settings = load_settings(config)
            store = open_store(settings)
            yield settings, store
    finally:
        if store is not None:
            store.close()


ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="markwatch.toml file.")]
MarkOpt = Annotated[list[str] | None, typer.Option("--mark", "-m", help="Protected mark (repeatable).")]
OwnerOpt = Annotated[list[str] | None, typer.Option("--owner", help="Mark owner (repeatable).")]
StatusOpt = Annotated[
    list[str] | None, typer.Option("--status", "-s", help="new, confirmed, dismissed, escalated, resolved.")
]
KindOpt = Annotated[list[str] | None, typer.Option("--kind", help="enterprise, listing, shop, brand or trademark.")]
SourceOpt = Annotated[list[str] | None, typer.Option("--source", help="Source name (repeatable).")]
MinOpt = Annotated[float | None, typer.Option("--min-score", min=0.0, max=1.0)]
MaxOpt = Annotated[float | None, typer.Option("--max-score", min=0.0, max=1.0)]
MinProbOpt = Annotated[
    float | None,
    typer.Option("--min-probability", min=0.0, max=1.0, help="Calibrated probability worth a look, at least."),
]
SinceOpt = Annotated[str | None, typer.Option("--since", help="From this day (inclusive; [review] timezone).")]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="To this day, included ([review] timezone); an ISO instant is exclusive.")
]
DateFieldOpt = Annotated[str, typer.Option("--date-field", help="first_seen or last_seen.")]
TextOpt = Annotated[str | None, typer.Option("--text", "-q", help="Words in the name, title or seller.")]
SortOpt = Annotated[
    str,
    typer.Option(
        "--sort",
        help="-probability (most likely worth a look first), probability, -score, score, -last_seen, last_seen,"
        " -first_seen, first_seen, mark, -times_seen, deadline (trademark opposition deadline, nearest first).",
    ),
]


_CLI_NAMES = {
    "mark": "--mark",
    "owner": "--owner",
    "status": "--status",
    "kind": "--kind",
    "source": "--source",
    "min_score": "--min-score",
    "max_score": "--max-score",
    "min_probability": "--min-probability",
    "since": "--since",
    "until": "--until",
    "date_field": "--date-field",
    "q": "--text",
    "sort": "--sort",
    "page": "--page",
    "size": "--size",
}


def _query(**kw: Any) -> Any:
    """The store query from the filter options (``alerts.present.build_query``, as on the site)."""
    from alerts.present import QueryError, build_query

    try:
        query = build_query(
            mark=kw.get("mark") or [],
            owner=kw.get("owner") or [],
            status=kw.get("status") or [],
            kind=kw.get("kind") or [],
            source=kw.get("source") or [],
            min_score=kw.get("min_score"),
            max_score=kw.get("max_score"),
            min_probability=kw.get("min_probability"),
            since=kw.get("since"),
            until=kw.get("until"),
            date_field=kw.get("date_field", "last_seen"),
            text=kw.get("text"),
            sort=kw.get("sort", DEFAULT_SORT),
            page=kw.get("page", 1),
            size=kw.get("size", 50),
            names=_CLI_NAMES,
            until_day_inclusive=True,
            time_zone=kw.get("time_zone") or cli_localizer(kw.get("config")).tz_name,
            extra={
                "regions": kw.get("region") or [],
                "authorities": kw.get("authority") or [],
                "usccs": kw.get("uscc") or [],
            },
        )
    except QueryError as exc:
        _err.print(Text(f"error: {visible(exc)}"))
        raise typer.Exit(2) from None
    if kw.get("due_within") is not None:  # the deadlines run on China's calendar days
        from alerts.deadlines import today_in

        today = today_in()
        query = query.model_copy(
            update={"deadline_from": today, "deadline_to": today + dt.timedelta(days=int(kw["due_within"]))}
        )
    return query


# The filter options that `search` and `export` share, added to both by `filter_options`.
FILTER_OPTIONS: list[tuple[str, Any, Any]] = [
    ("mark", MarkOpt, None),
    ("owner", OwnerOpt, None),
    ("status", StatusOpt, None),
    ("kind", KindOpt, None),
    ("source", SourceOpt, None),
    ("min_score", MinOpt, None),
    ("max_score", MaxOpt, None),
    ("min_probability", MinProbOpt, None),
    ("since", SinceOpt, None),
    ("until", UntilOpt, None),
    ("date_field", DateFieldOpt, "last_seen"),
    ("text", TextOpt, None),
    ("sort", SortOpt, DEFAULT_SORT),
    ("uscc", Annotated[list[str] | None, typer.Option("--uscc", help="Credit code (repeatable).")], None),
    (
        "authority",
        Annotated[list[str] | None, typer.Option("--authority", help="Registering authority (repeatable).")],
        None,
    ),
    (
        "region",
        Annotated[list[str] | None, typer.Option("--region", help="Division code of the credit code (repeatable).")],
        None,
    ),
    (
        "due_within",
        Annotated[
            int | None,
            typer.Option(
                "--due-within",
                min=0,
                max=3660,
                help="Trademark alerts whose opposition deadline is within this many days from today.",
            ),
        ],
        None,
    ),
]


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the shared filter options; it receives them as one ``filters`` dict."""
    own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "filters"]
    shared = [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a) for n, a, d in FILTER_OPTIONS
    ]
    names = {n for n, _, _ in FILTER_OPTIONS}

    @functools.wraps(func)
    def command(**kw: Any) -> Any:
        filters = {k: kw.pop(k) for k in list(kw) if k in names}
        return func(filters=filters, **kw)

    command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*shared, *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own)]
    )
    command.__annotations__ = {p.name: p.annotation for p in command.__signature__.parameters.values()}  # type: ignore[attr-defined]
    del command.__wrapped__  # typer must read the signature above, not the wrapped function's
    return command


def _write(
    alerts: Iterable[Any], fmt: str, out: Any, *, envelope: dict | None = None, loc: Localizer | None = None
) -> int:
    n = 0
    if fmt == "csv":  # as the site's: BOM, headings, status, likelihood and reasons in the reader's language
        out.write(CSV_BOM)
        w = csv_writer(out)
        w.writerow(csv_header(loc))
        for a in alerts:
            w.writerow(csv_row(a, loc))
            n += 1
    elif envelope is not None:  # search --format json: one object with the page
        items = [a.to_doc() for a in alerts]
        json.dump({**envelope, "items": items}, out, ensure_ascii=False, indent=2)
        out.write("\n")
        n = len(items)
    else:  # export --format json: JSON Lines, one alert a line
        for a in alerts:
            out.write(json.dumps(a.to_doc(), ensure_ascii=False) + "\n")
            n += 1
    return n


def _table(page: Any, loc: Localizer) -> Table:
    """The search result as a table that fits 80 columns: short ids (8, never wrapped), the text wraps."""
    from alerts.present import STATUS_NAMES

    _ = loc._
    table = Table(
        title=Text(_("%(total)s alert(s), page %(page)s", total=page.total, page=page.page)),
        show_lines=False,
        box=None,
        pad_edge=False,
        padding=(0, 1),
    )
    table.add_column(_("ID"), no_wrap=True, min_width=8, max_width=8)
    table.add_column(_("Likely"), justify="right", no_wrap=True)
    table.add_column(_("Score"), justify="right", no_wrap=True)
    table.add_column(_("Status"), no_wrap=True)
    table.add_column(_("Mark"), no_wrap=True, max_width=8)
    table.add_column(_("Name / title"), overflow="fold", ratio=1, min_width=16)
    table.add_column(_("Last seen"), no_wrap=True)
    deadlines = any(a.deadline is not None for a in page.items)
    if deadlines:  # trademark alerts: the opposition deadline and the days left
        from alerts.deadlines import today_in

        today = today_in()
        table.add_column(_("Deadline"), no_wrap=True, min_width=9)
    for a in page.items:
        extra = [f"{a.deadline:%m-%d} {(a.deadline - today).days}d" if a.deadline else "-"] if deadlines else []
        table.add_row(
            Text(a.id[:8]),
            Text(_("est. %(p)s", p=loc.percent(a.chance))),
            f"{a.score:.2f}",
            Text(loc.gettext(STATUS_NAMES.get(a.status, a.status))),
            Text(visible(a.mark, 8)),
            Text(visible(a.subject.text, 80) + (f" [{visible(a.source, 20)}]" if a.source else "")),
            loc.day(a.last_seen, "MM-dd"),
            *extra,
        )
    return table


def _resolve_ids(store: Any, ids: list[str]) -> list[str]:
    """Full ids; a unique prefix of at least 8 characters (the table shows 12) is accepted."""
    out = []
    for raw in ids:
        i = raw.strip().lower()
        if len(i) >= 32 or len(i) < 8:
            out.append(i)
            continue
        matches = store.ids_with_prefix(i, limit=2)
        if len(matches) > 1:
            raise UserError(f"id prefix {i!r} is ambiguous; give more characters")
        out.append(matches[0] if matches else i)
    return out


# -- commands -----------------------------------------------------------------------------------


@alerts_app.command("list")
@alerts_app.command("search")
@filter_options
def search_cmd(
    filters: dict[str, Any],
    page: Annotated[int, typer.Option("--page", min=1, max=MAX_PAGE)] = 1,
    size: Annotated[int, typer.Option("--size", min=1, max=1000)] = 20,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    config: ConfigOpt = None,
) -> None:
    """Find alerts by mark, owner, status, kind, source, score, probability, date and text.

    Most likely worth a look first (the calibrated probability; ties by score, then first seen).
    """
    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("--format must be table, json or csv")
    q = _query(**filters, page=page, size=size, config=config)
    with _store(config) as store:
        result = store.search(q)
    if fmt == "table":
        Console().print(_table(result, cli_localizer(config)))
    else:
        _write(
            result.items,
            fmt,
            sys.stdout,
            envelope={"total": result.total, "page": result.page, "size": result.size} if fmt == "json" else None,
        )


def _trademark_rows(alert: Any) -> list[tuple[str, str]]:
    """A trademark alert's application and its opposition clock (alerts.deadlines)."""
    from alerts.deadlines import days_left_label, opposition_deadline, today_in

    s = alert.subject
    item = alert.item or {}
    rows = [
        ("Application", f"No. {visible(s.number or '?')}, class {', '.join(map(str, s.classes)) or '?'}"),
        ("Applicant", visible(s.applicant or "-")),
        (
            "Announced",
            (f"issue {visible(item.get('announcement'), 20)}, " if item.get("announcement") else "")
            + (s.announced.isoformat() if s.announced else "date unknown"),
        ),
    ]
    if alert.deadline is None:
        rows.append(("Opposition deadline", "none (no announcement date: the gazette has not announced it yet)"))
        return rows
    text = f"{alert.deadline.isoformat()} ({days_left_label(alert.deadline, today_in())})"
    if s.announced:
        d = opposition_deadline(s.announced)
        if d.moved:
            text += f"; the three months end {d.period_end.isoformat()}, a rest day"
        if not d.holidays_known:
            text += "; holidays of that year not yet published: weekends only"
    rows.append(("Opposition deadline", text))
    return rows


@alerts_app.command("show")
def show_cmd(
    alert_id: Annotated[str, typer.Argument(metavar="ID")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    config: ConfigOpt = None,
) -> None:
    """One alert in full: subject, reasons, evidence, notes and history."""
    from alerts import open_evidence
    from alerts.evidence import EvidenceCorrupt, EvidenceNotFound
    from markwatch.config import load_settings

    with _store(config) as store:
        alert = store.get(_resolve_ids(store, [alert_id])[0])
        evidence: Evidence | str | None = None
        if alert.evidence_id:
            ev_store = open_evidence(load_settings(config))
            try:
                evidence = ev_store.get(alert.evidence_id)
            except EvidenceNotFound:
                evidence = "not in the local evidence store"
            except EvidenceCorrupt as exc:
                evidence = f"CORRUPT: {exc}"
            finally:
                ev_store.close()
    if fmt == "json":
        doc = alert.to_doc()
        if evidence is not None and not isinstance(evidence, str):
            doc["evidence"] = {
                "url": evidence.url,
                "fetched_at": evidence.fetched_at.isoformat(),
                "status": evidence.status,
                "size": evidence.size,
                "truncated": evidence.truncated,
                "original_size": evidence.original_size,
            }
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    from alerts.model import sightings_of

    out = Console()
    s = alert.subject
    loc = cli_localizer(config)
    at = loc.when
    out.print(Text(f"Alert {alert.id}", style="bold"))
    rows = [
        ("Status", alert.status),
        ("Mark", f"{alert.mark} ({alert.owner})" + (" 驰名商标" if alert.well_known else "")),
        ("Score", f"{alert.score:.3f}"),
        (
            "Probability",
            worth_a_look(alert.chance)
            + (" (from the score: stored before probabilities were kept)" if alert.probability_derived else ""),
        ),
        ("Subject", f"{s.kind}: {visible(s.text)}"),
        ("Parsed", " | ".join(x for x in (s.region, s.trade_name, s.industry, s.form, s.branch) if x) or "-"),
        ("Seller", visible(s.seller) if s.seller else "-"),
        ("Source", visible(alert.source)),
        (
            "Sightings",
            "; ".join(
                f"{visible(sg.source, 60)} {sg.times_seen}× last {at(sg.last_seen, zone=False)}"
                for sg in sightings_of(alert)
            ),
        ),
        ("Entity", visible(alert.entity, 300) or "-"),
        ("Subject key", visible(alert.subject_key, 300)),
        (
            "Seen",
            f"{alert.times_seen}× first {at(alert.first_seen, zone=False)} last {at(alert.last_seen)}",
        ),
        ("Notified", at(alert.notified_at) if alert.notified_at else "not yet"),
    ]
    if s.kind == "trademark":
        rows[5:5] = _trademark_rows(alert)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for k, v in rows:
        grid.add_row(k, Text(v))
    out.print(grid)
    out.print(Text("Reasons", style="bold"))
    for r in alert.reasons:
        out.print(Text(f"  [{r.code}] {visible(r.zh)} / {visible(r.en)}"))
    out.print(Text("Evidence", style="bold"))
    if alert.evidence_id is None:
        out.print(Text("  none recorded"))
    elif isinstance(evidence, str):
        out.print(Text(f"  {alert.evidence_id}: {evidence}"))
    elif evidence is not None:
        out.print(Text(f"  sha256 {alert.evidence_id} ({evidence.size} bytes, verified)"))
        if note := evidence.size_note():
            out.print(Text(f"  {note}", style="yellow"))
        for c in evidence.captures:
            out.print(Text(f"  {c.fetched_at:%Y-%m-%d %H:%M:%S} UTC  HTTP {c.status}  {visible(c.url, 300)}"))
    if alert.item:
        out.print(Text("Source item", style="bold"))
        for k, v in list(alert.item.items())[:30]:
            out.print(Text(f"  {visible(k, 60)}: {visible(json.dumps(v, ensure_ascii=False), 200)}"))
    out.print(Text("History", style="bold"))
    if not alert.history:
        out.print(Text("  no review yet"))
    for h in alert.history:
        note = f" — {visible(h.note)}" if h.note else ""
        out.print(Text(f"  {at(h.at)}  {visible(h.who)}: {h.from_status} → {h.to_status}{note}"))


@alerts_app.command("review")
def review_cmd(
    ids: Annotated[list[str], typer.Argument(metavar="ID...", help="One or more alert ids.")],
    status: Annotated[str, typer.Option("--status", "-s", help="confirmed, dismissed, escalated, resolved, new.")],
    note: Annotated[str, typer.Option("--note", "-n", help="Why (kept in the history).")] = "",
    who: Annotated[
        str | None, typer.Option("--by", "--who", help="Who reviews (default: the operating-system user).")
    ] = None,
    never: Annotated[
        str | None,
        typer.Option(
            "--never-flag",
            help="With --status dismissed: never flag this word for the alerts' marks again (an exception,"
            " from the next scan on). '-' takes each alert's matched word.",
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Set the status of one or many alerts; every change is kept in the alert's history."""
    from alerts.exceptions import never_flag
    from alerts.model import STATUSES

    if status not in STATUSES:
        raise typer.BadParameter(f"--status must be one of {', '.join(STATUSES)}")
    if never is not None and status != "dismissed":
        raise typer.BadParameter("--never-flag goes with --status dismissed")
    analyst = cli_user(who)
    loc = cli_localizer(config)
    with _store(config) as store:
        done = store.review(_resolve_ids(store, ids), status, note[:4000], who=analyst)
        cli_audit(store, "review", analyst, [a.id for a in done], detail=status, note=note)
        made = [never_flag(store, a, never, analyst, note) for a in done] if never else []
        for exc in dict((e.id, e) for e in made).values():
            cli_audit(
                store,
                "exception",
                analyst,
                [f"exception:{exc.id}", *([exc.alert_id] if exc.alert_id else [])],
                detail=f"never flag {exc.word} for {exc.mark or '*'}",
                note=note,
            )
    from alerts.present import STATUS_NAMES

    label = loc.gettext(STATUS_NAMES[status])
    Console().print(Text(loc._("%(n)s alert(s) set to %(status)s.", n=len(done), status=label)))
    for exc in dict((e.id, e) for e in made).values():
        Console().print(
            Text(
                loc._(
                    "Exception %(id)s: never flag %(word)s for %(mark)s.",
                    id=exc.id,
                    word=repr(visible(exc.word)),
                    mark=visible(exc.mark),
                )
            )
        )


@alerts_app.command("export")
@filter_options
def export_cmd(
    filters: dict[str, Any],
    fmt: Annotated[str, typer.Option("--format", "-f", help="json (JSON Lines) or csv.")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default: stdout).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who exports (default: the operating-system user).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Every matching alert, unpaged, as JSON Lines or CSV (with a BOM, in the configured language)."""
    if fmt not in ("json", "csv"):
        raise typer.BadParameter("--format must be json or csv")
    q = _query(**filters, config=config)
    loc = cli_localizer(config)
    with _store(config) as store:
        if output is None:
            n = _write(store.export(q), fmt, sys.stdout, loc=loc)
        else:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                n = _write(store.export(q), fmt, fh, loc=loc)
        where = " ".join(f"{k}={v}" for k, v in filters.items() if v not in (None, [], "", DEFAULT_SORT, "last_seen"))
        cli_audit(store, "export", cli_user(by), detail=f"alerts export {fmt} {n} {where}"[:500])
    _err.print(Text(loc._("%(n)s alert(s) exported.", n=n) + (f" → {output}" if output else "")))


@alerts_app.command("counts")
def counts_cmd(
    mark: MarkOpt = None,
    status: StatusOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    config: ConfigOpt = None,
) -> None:
    """How many alerts per mark, status and day (first seen)."""
    q = _query(mark=mark, status=status, since=since, until=until, date_field="first_seen", config=config)
    with _store(config) as store:
        c = store.counts(q)
    if fmt == "json":
        print(json.dumps({"by_mark": c.by_mark, "by_status": c.by_status, "by_day": c.by_day}, ensure_ascii=False))
        return
    out = Console()
    loc = cli_localizer(config)
    by_day = loc._("By day (%(zone)s)", zone=loc.tz_name)
    for title, data in ((loc._("By mark"), c.by_mark), (loc._("By status"), c.by_status), (by_day, c.by_day)):
        t = Table(title=title)
        t.add_column("")
        t.add_column(loc._("Alerts"), justify="right")
        for k, v in data.items():
            t.add_row(Text(visible(k)), str(v))
        out.print(t)


@alerts_app.command("calibration")
def calibration_cmd(
    mark: MarkOpt = None,
    owner: OwnerOpt = None,
    kind: KindOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    date_field: Annotated[str, typer.Option("--date-field", help="first_seen (default) or last_seen.")] = "first_seen",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    json_out: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Does the shipped calibration fit your analysts' decisions? The reliability table.

    Per score band and per probability band: alerts, decided (confirmed, escalated or resolved:
    worth a look; dismissed: not), the confirmed share with its 95 % interval, and the probability
    the shipped calibration gave them. "Score ≥ 0.9" answers "of alerts scored at least 0.9, what
    share did analysts confirm".
    """
    from alerts.reliability import reliability

    if json_out:
        fmt = "json"
    if fmt not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json")
    where = {"mark": mark, "owner": owner, "kind": kind, "source": source, "since": since, "until": until}
    q = _query(**where, date_field=date_field, sort="first_seen", config=config)
    with _store(config) as store:
        r = reliability(store.export(q))
    if fmt == "json":
        print(json.dumps(r.to_dict(), ensure_ascii=False, indent=2))
        return
    out = Console()
    for title, bands, label in (
        ("By score", r.by_score, "Score"),
        ("By calibrated probability", r.by_probability, "Probability"),
        ("Scored at least", r.at_least, "Score"),
    ):
        out.print(_reliability_table(title, bands, label, cumulative=bands is r.at_least))
    t = r.total
    share = "-" if t.share is None else f"{t.share:.0%}"
    predicted = "-" if t.predicted is None else f"{t.predicted:.0%}"
    out.print(
        Text(
            f"{t.alerts} alert(s), {t.decided} decided, {t.confirmed} confirmed ({share}); "
            f"the calibration predicted {predicted}."
        )
    )
    if r.derived:
        out.print(
            Text(
                f"{r.derived} alert(s) were stored before probabilities were kept; theirs come from the score"
                " (`markwatch alerts migrate` stores them)."
            )
        )


def _reliability_table(title: str, bands: list[Any], label: str, *, cumulative: bool) -> Table:
    from alerts.reliability import wilson

    table = Table(title=Text(title))
    for col in (label, "Alerts", "Decided", "Confirmed", "Share", "95 % CI", "Predicted"):
        table.add_column(col, justify="left" if col == label else "right")
    for b in bands:
        rng = f"≥ {b.low:.2f}" if cumulative else f"{b.low:.2f}–{b.high:.2f}"
        ci = wilson(b.confirmed, b.decided)
        table.add_row(
            rng,
            str(b.alerts),
            str(b.decided),
            str(b.confirmed),
            "-" if b.share is None else f"{b.share:.0%}",
            "-" if ci is None else f"{ci[0]:.0%}–{ci[1]:.0%}",
            "-" if b.predicted is None else f"{b.predicted:.0%}",
        )
    return table


@alerts_app.command("flush")
def flush_cmd(config: ConfigOpt = None) -> None:
    """Write alerts waiting in the outbox to Elasticsearch now."""
    with _settings_and_store(config) as (settings, store):
        if not hasattr(store, "flush_outbox"):  # SQLite: alerts queued while its disk was full or read-only
            from alerts.outbox import drain

            left = drain(store, settings.store.outbox_file())
            Console().print(Text(f"Outbox written to the SQLite store; {left} alert(s) still waiting."))
            return
        res = store.flush_outbox()
    Console().print(Text(f"{res.replayed} alert(s) written from the outbox ({res.new} new, {res.updated} updated)."))


@alerts_app.command("migrate")
def migrate_cmd(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change; write nothing.")] = False,
    config: ConfigOpt = None,
) -> None:
    """One alert per (mark, entity): merge alerts stored per source, keeping every review event;
    store the calibrated probability of alerts made before it was kept.

    Safe to run twice (the second run changes nothing). See docs/store.md.
    """
    with _store(config) as store:
        r = store.migrate_entities(apply=not dry_run)
    verb = "would be" if dry_run else "were"
    Console().print(
        Text(
            f"{r.alerts_before} alert(s) before, {r.alerts_after} after (one per mark and entity); "
            f"{r.merged_groups} duplicate group(s) merged, {r.rewritten} alert(s) {verb} rewritten, "
            f"{r.deleted} old id(s) {verb} removed; "
            f"{r.backfilled} alert(s) {verb} given the calibrated probability of their score."
        )
    )


@alerts_app.command("rescreen")
def rescreen_cmd(
    apply: Annotated[bool, typer.Option("--apply", help="Close them (status dismissed, with a review event).")] = False,
    status: Annotated[
        list[str] | None, typer.Option("--status", "-s", help="Open statuses to re-judge (default: new, escalated).")
    ] = None,
    mark: MarkOpt = None,
    who: Annotated[str | None, typer.Option("--who", help="Analyst name (default: $USER).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Re-judge open alerts with the current matcher, marks and stored exceptions.

    Reports the alerts the matcher no longer flags for their mark (a dry run); ``--apply`` closes
    them with the review event "rescreened: no longer matches".
    """
    from alerts.model import STATUSES
    from markwatch.services.rescreen import rescreen

    statuses = status or ["new", "escalated"]
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise typer.BadParameter(f"--status must be one of {', '.join(STATUSES)}")
    analyst = who or os.environ.get("USER") or "analyst"
    with _settings_and_store(config) as (settings, store):
        r = rescreen(settings, store, statuses=statuses, marks=mark or [], apply=apply, who=analyst[:100])
    out = Console()
    for a in r.closing:
        out.print(Text(f"{a.id[:12]}  {visible(a.mark)}  {a.score:.2f}  {visible(a.subject.text, 60)}"))
    verb = "closed" if apply else "would close"
    out.print(Text(f"{r.checked} open alert(s) re-judged; {len(r.closing)} {verb}, {r.still} still match."))
