"""`markwatch cases …`: from confirmed alerts to a filed complaint, a dossier and a changed name.

Contract: ``open ALERT_ID… [--note]`` prints the new case's id; ``list [--format table|json]``;
``show ID``; ``file ID --to AUTHORITY [--ref] [--deadline]``; ``close ID --reason``; ``resolve``;
``reopen``; ``export ID --format pdf|zip --output FILE``; ``verify FILE`` (exit 1 when a hash
does not match); ``check [--date]`` runs the follow-up now. Errors are one line on stderr: exit 2
for configuration, 1 for everything a case request can get wrong.
"""

from __future__ import annotations

import getpass
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from markwatch.cli.alerts import visible
from markwatch.errors import cli_errors

cases_app = typer.Typer(
    help="Cases: group confirmed alerts, file complaints, export dossiers, follow up.", no_args_is_help=True
)
_err = Console(stderr=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="markwatch.toml file.")]
WhoOpt = Annotated[str | None, typer.Option("--who", "--by", help="Who acts (default: the login name).")]


def register(app: typer.Typer) -> None:
    app.add_typer(cases_app, name="cases")


def _who(who: str | None) -> str:
    if who:
        return visible(who, 64)
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


def _owner_language(case: Any, marks: Any, settings: Any) -> str:
    """The brand owner's language: that of the recipients of the case's marks when they agree
    (``[notify.recipients."addr"] language``), else ``[notify] language``."""
    from alerts.notify.recipients import recipients_for

    langs = {r.language for r in recipients_for(marks, settings.notify) if set(r.marks) & set(case.marks)}
    return langs.pop() if len(langs) == 1 else settings.notify.language


@contextmanager
def _audited(store: Any, user: str, action: str, targets: list[str]) -> Iterator[list[str]]:
    """Record a CLI case change in the site's audit log (action ``case``), as the web does.

    Yields the targets list so the command can add the ids it learns (a new case's id). A refused
    change is recorded with ``ok=False`` and re-raised; a failing audit write never hides the change.
    """
    from alerts.sessions import AuditEvent

    ok, detail = True, f"cli {action}"
    try:
        yield targets
    except Exception as exc:
        ok, detail = False, f"cli {action}: {exc}"
        raise
    finally:
        try:
            event = AuditEvent(
                action="case", user=user[:64], client="cli", ok=ok, targets=targets[:1000], detail=detail[:500]
            )
            store.audit_add(event)
        except Exception:  # noqa: BLE001 - logged; the case change itself stands
            import logging

            logging.getLogger(__name__).exception("audit log write failed for case %s", action)


@contextmanager
def _ctx(config: Path | None) -> Iterator[tuple[Any, Any, Any]]:
    """(settings, alert store, case store); our errors become one line and an exit code."""
    from alerts import open_store
    from alerts.cases.store import open_case_store
    from markwatch.config import load_settings

    store = None
    try:
        with cli_errors(clean=visible):
            settings = load_settings(config)
            store = open_store(settings)
            yield settings, store, open_case_store(store)
    finally:
        if store is not None:
            store.close()


def _date(value: str | None, opt: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=opt) from None


def _today() -> date:
    return datetime.now(UTC).date()


@cases_app.command("open")
def open_cmd(
    alert_ids: Annotated[list[str], typer.Argument(help="Confirmed alerts against one entity (ids or prefixes).")],
    note: Annotated[str, typer.Option("--note", help="Why this case is opened.")] = "",
    ground: Annotated[
        list[str] | None,
        typer.Option(
            "--ground",
            help="Oppositions: a ground no data shows, by provision (tml-15 agent's filing, tml-31 earlier "
            "application, tml-32 prior right or used mark, tml-13, tml-30); repeatable.",
        ),
    ] = None,
    who: WhoOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Open a case for confirmed alerts against one entity; prints the case id.

    Against a trademark application the case is an opposition (kind ``opposition``) with the
    application's opposition deadline."""
    from alerts.cases.service import open_case

    with _ctx(config) as (_s, store, cases), _audited(store, _who(who), "open", list(alert_ids)) as targets:
        case = open_case(store, cases, alert_ids, note=note, who=_who(who), grounds=ground or [])
        targets[:] = [case.id, *case.alert_ids]
        store.review(case.alert_ids, "escalated", note=f"case {case.id}", who=_who(who))
    typer.echo(case.id)


@cases_app.command("list")
def list_cmd(
    state: Annotated[list[str] | None, typer.Option("--state", help="open, filed, awaiting, resolved, closed.")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only cases whose deadline passed (oppositions: not filed in time).")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    config: ConfigOpt = None,
) -> None:
    """The cases, most recently changed first."""
    from alerts.cases.model import STATES

    if fmt not in ("table", "json"):
        raise typer.BadParameter("table or json", param_hint="--format")
    bad = [s for s in state or [] if s not in STATES]
    if bad:
        raise typer.BadParameter(f"{bad[0]!r} (one of {', '.join(STATES)})", param_hint="--state")
    today = _today()
    with _ctx(config) as (_s, _store, cases):
        found = cases.list(states=state or [], owner=owner)
    if overdue:  # a deadline passed: the authority's while waiting, or an opposition's before it was filed
        found = [c for c in found if c.overdue(today) or c.opposition_missed(today)]
    if fmt == "json":
        for c in found:
            doc = c.to_doc()
            doc["kind"] = c.kind
            doc["overdue"] = c.overdue(today)
            doc["opposition_missed"] = c.opposition_missed(today)
            typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    t = Table(show_lines=False)
    for col in ("id", "kind", "state", "owner", "entity", "authority / channel", "deadline", "updated"):
        t.add_column(col)
    for c in found:
        dl = Text(c.deadline.isoformat() if c.deadline else "")
        if c.overdue(today):
            dl = Text(f"{c.deadline.isoformat()} overdue", style="bold red")
        if c.kind == "opposition" and c.state == "open" and c.opposition_deadline:
            left = (c.opposition_deadline - today).days
            dl = Text(
                f"{c.opposition_deadline.isoformat()} " + ("missed" if left < 0 else f"{left} d to oppose"),
                style="bold red" if left <= 7 else "",
            )
        t.add_row(
            Text(c.id),
            Text(c.kind),
            Text(c.state),
            Text(visible(c.owner, 40)),
            Text(visible(c.entity.name, 60)),
            Text(visible(c.authority.get("name") or (c.filing.to if c.filing else ""), 40)),
            dl,
            Text(c.updated_at.strftime("%Y-%m-%d %H:%M")),
        )
    Console(width=max(Console().width, 160)).print(t)
    typer.echo(f"{len(found)} case(s)")


@cases_app.command("show")
def show_cmd(
    case_id: Annotated[str, typer.Argument(help="Case id or prefix.")],
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    config: ConfigOpt = None,
) -> None:
    """One case: entity, authority, alerts and every event."""
    from alerts.cases.model import alert_url

    with _ctx(config) as (_s, store, cases):
        case = cases.get(case_id)
        alerts = store.get_many(case.alert_ids)
    if fmt == "json":
        doc = case.to_doc()
        doc["kind"] = case.kind
        doc["alerts"] = [a.to_doc() for a in alerts]
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=1))
        return
    out = Console(width=max(Console().width, 120))
    a = case.authority
    lines = [
        f"case {case.id}  [{case.kind}, {case.state}]{'  OVERDUE' if case.overdue(_today()) else ''}",
        f"owner:     {visible(case.owner)}",
        f"marks:     {', '.join(visible(m) for m in case.marks)}",
        f"entity:    {visible(case.entity.name)}  ({case.entity.kind}, {visible(case.entity.key, 80)})",
    ]
    if case.entity.kind == "enterprise":
        lines.append(
            f"authority: {visible(a.get('name', ''))}" + (f"  ({visible(a.get('reason'))})" if a.get("reason") else "")
        )
    if case.kind == "opposition":
        from alerts.deadlines import days_left_label

        lines.append(
            f"applicant: {visible(case.entity.applicant or '-')}  application No. {visible(case.entity.number or '-')}"
        )
        if case.opposition_deadline:
            by = case.opposition_deadline
            lines.append(
                f"oppose by: {by.isoformat()} ({days_left_label(by, _today())})"
                + ("  MISSED: only invalidation is left" if case.opposition_missed(_today()) else "")
            )
        if case.grounds:
            lines.append(f"grounds:   {', '.join(case.grounds)} (added by an analyst)")
    if case.filing:
        lines.append(
            f"filed:     to {visible(case.filing.to)} ref {visible(case.filing.ref) or '-'}"
            f" at {case.filing.at:%Y-%m-%d %H:%M} UTC"
        )
    if case.deadline:
        lines.append(f"deadline:  {case.deadline.isoformat()}")
    if case.resolution:
        lines.append(f"resolved:  {visible(case.resolution)}")
    if case.close_reason:
        lines.append(f"closed:    {visible(case.close_reason)}")
    lines.append("alerts:")
    for al in alerts:
        lines.append(
            f"  {al.id[:12]}  {al.score:.2f}  {al.status:<9} {visible(al.subject.text, 80)}"
            f"  {visible(alert_url(al), 100)}"
        )
    lines.append("events:")
    for e in case.events:
        extra = " ".join(f"{k}={visible(v, 80)}" for k, v in e.data.items() if v not in (None, ""))
        lines.append(
            f"  {e.at:%Y-%m-%d %H:%M:%S} {visible(e.who, 30):<16} {e.action:<8} {e.from_state or '-'} -> {e.to_state}"
            f"{'  ' + visible(e.note, 200) if e.note else ''}{'  ' + extra if extra else ''}"
        )
    for line in lines:
        out.print(Text(line))


@cases_app.command("file")
def file_cmd(
    case_id: Annotated[str, typer.Argument()],
    to: Annotated[str, typer.Option("--to", help="The authority or platform the complaint went to.")],
    ref: Annotated[str, typer.Option("--ref", help="Its reference number.")] = "",
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Deadline set by the authority (YYYY-MM-DD).")
    ] = None,
    note: Annotated[str, typer.Option("--note")] = "",
    who: WhoOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Record the complaint: to whom, reference, deadline (name disputes default to cases.deadline_days)."""
    from alerts.cases.service import file_case

    dl = _date(deadline, "--deadline")
    with _ctx(config) as (settings, store, cases), _audited(store, _who(who), "file", [case_id]):
        case = file_case(
            cases,
            case_id,
            to=to,
            ref=ref,
            deadline=dl,
            default_days=settings.cases.deadline_days,
            who=_who(who),
            note=note,
        )
    typer.echo(f"{case.id} {case.state}" + (f" deadline {case.deadline.isoformat()}" if case.deadline else ""))


@cases_app.command("close")
def close_cmd(
    case_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason", help="Why the case is dropped.")],
    who: WhoOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Drop a case, with the reason."""
    from alerts.cases.service import close_case

    with _ctx(config) as (_s, store, cases), _audited(store, _who(who), "close", [case_id]):
        case = close_case(cases, case_id, reason=reason, who=_who(who))
    typer.echo(f"{case.id} {case.state}")


@cases_app.command("resolve")
def resolve_cmd(
    case_id: Annotated[str, typer.Argument()],
    resolution: Annotated[
        str, typer.Option("--resolution", help="renamed, deregistered, listing_removed, or your words.")
    ],
    note: Annotated[str, typer.Option("--note")] = "",
    who: WhoOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Mark a case resolved by hand (the follow-up does it by itself when it sees the change)."""
    from alerts.cases.service import resolve_case

    with _ctx(config) as (_s, store, cases), _audited(store, _who(who), "resolve", [case_id]):
        case = resolve_case(cases, case_id, resolution=visible(resolution, 200), note=note, who=_who(who))
    typer.echo(f"{case.id} {case.state}")


@cases_app.command("reopen")
def reopen_cmd(
    case_id: Annotated[str, typer.Argument()],
    note: Annotated[str, typer.Option("--note")] = "",
    who: WhoOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Reopen a closed or resolved case."""
    from alerts.cases.service import reopen_case

    with _ctx(config) as (_s, store, cases), _audited(store, _who(who), "reopen", [case_id]):
        case = reopen_case(cases, case_id, note=note, who=_who(who))
    typer.echo(f"{case.id} {case.state}")


@cases_app.command("export")
def export_cmd(
    case_id: Annotated[str, typer.Argument()],
    fmt: Annotated[str, typer.Option("--format", help="pdf or zip.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    language: Annotated[
        str | None, typer.Option("--language", help="zh or en: the dossier's labels (default: [notify] language).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """The dossier: a PDF (with FILE.manifest.json) or a ZIP with evidence, letter and manifest."""
    from alerts import open_evidence
    from alerts.cases.dossier import build_dossier, export_pdf, export_zip
    from markwatch.services.dossier_opts import dossier_options
    from matcher.marksfile import MarksFileError, load_marks

    if fmt not in ("pdf", "zip"):
        raise typer.BadParameter("pdf or zip", param_hint="--format")
    if language is not None and language not in ("zh", "en"):
        raise typer.BadParameter("zh or en", param_hint="--language")
    with _ctx(config) as (settings, store, cases):
        case = cases.get(case_id)
        alerts = store.get_many(case.alert_ids)
        try:
            marks = load_marks(settings.marks.path)
        except MarksFileError:
            marks = []  # the dossier then says the registration numbers were not filled in
        evidence = open_evidence(settings)
        try:
            opts = dossier_options(settings)
            now = datetime.now(UTC)
            with tempfile.TemporaryDirectory(prefix="markwatch-dossier-") as tmp:
                lang = language or _owner_language(case, marks, settings)
                folder = build_dossier(
                    case, alerts, evidence, marks, Path(tmp) / "dossier", opts=opts, now=now, language=lang
                )
                if fmt == "zip":
                    export_zip(folder, output)
                else:
                    export_pdf(folder, output, case_id=case.id, created_at=now, stamp_post=opts.stamp_post)
        finally:
            evidence.close()
    typer.echo(str(output))


@cases_app.command("verify")
def verify_cmd(
    file: Annotated[Path, typer.Argument(help="A dossier ZIP, or a PDF with its .manifest.json (and .tsr).")],
    tsa_ca: Annotated[
        Path | None, typer.Option("--tsa-ca", help="The TSA's root certificate (PEM); default [evidence] tsa_ca_file.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Check every file of a dossier against its manifest and every timestamp token against what it stamps;
    exit 1 when anything does not match."""
    from alerts.cases.dossier import verify
    from alerts.timestamps import load_roots

    ca = tsa_ca
    if ca is None:
        with cli_errors(clean=visible):
            from markwatch.config import load_settings

            ca = load_settings(config).evidence.tsa_ca_file if (config or Path("markwatch.toml").exists()) else None
    try:
        roots = load_roots(ca) if ca else None
    except (OSError, ValueError) as exc:
        _err.print(Text(f"error: --tsa-ca {ca}: {visible(str(exc), 200)}"))
        raise typer.Exit(2) from None
    res = verify(file, roots=roots)
    for p in res.problems:
        _err.print(Text(f"FAIL {visible(p)}"))
    if not res.ok:
        _err.print(Text(f"{file}: NOT verified ({len(res.problems)} problem(s), {res.checked} file(s) checked)"))
        raise typer.Exit(1)
    typer.echo(f"{file}: OK, {res.checked} file(s) match the manifest")
    for st in res.stamps:
        typer.echo(visible(f"timestamp OK: {st}", 300))
    for n in res.notes:
        typer.echo(visible(f"note: {n}", 300))


@cases_app.command("check")
def check_cmd(
    on: Annotated[str | None, typer.Option("--date", help="Check as of this date (demo world).")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Replaces {base} in the sources' lookup URLs.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Run the follow-up now: look filed cases' entities up through the sources and resolve those that complied."""
    from markwatch.services.scan_followup import run_check

    day = _date(on, "--date") or _today()
    with _ctx(config) as (settings, _store, _cases):
        report = run_check(settings, base_url=base_url, today=day)
    for line in report.lines():
        typer.echo(visible(line, 300))
    if report.errors:
        sys.exit(1)


@cases_app.command("add")
def add_cmd(
    case_id: Annotated[str, typer.Argument()],
    alert_ids: Annotated[list[str], typer.Argument(help="More confirmed alerts against the case's entity.")],
    who: WhoOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Add alerts to a case: another listing of the same shop is one more link of the same complaint."""
    from alerts.cases.service import add_alerts

    with _ctx(config) as (_s, store, cases), _audited(store, _who(who), "add", [case_id, *alert_ids]):
        case = add_alerts(store, cases, case_id, alert_ids, who=_who(who))
        store.review(case.alert_ids, "escalated", note=f"case {case.id}", who=_who(who))
    typer.echo(f"{case.id} {len(case.alert_ids)} alert(s)")


@cases_app.command("links")
def links_cmd(
    case_id: Annotated[str, typer.Argument()],
    outcome: Annotated[str, typer.Option("--outcome", help="submitted, removed, online, rejected, counter_notice.")],
    urls: Annotated[list[str] | None, typer.Argument(help="The links (default: every link of the case).")] = None,
    pack: Annotated[str, typer.Option("--pack", help="The complaint pack or platform reference.")] = "",
    who: WhoOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Record what the platform did with links of a case (for its success rate: `cases platforms`)."""
    from alerts.cases.errors import CaseError
    from alerts.cases.model import LinkOutcome, alert_url
    from alerts.cases.service import record_links

    allowed = ("submitted", "removed", "online", "rejected", "counter_notice")
    if outcome not in allowed:
        raise typer.BadParameter(", ".join(allowed), param_hint="--outcome")
    now = datetime.now(UTC)
    with _ctx(config) as (_s, store, cases), _audited(store, _who(who), "links", [case_id]):
        case = cases.get(case_id)
        by_url = {alert_url(a): a.id for a in store.get_many(case.alert_ids)}
        chosen = list(urls or by_url)
        unknown = [u for u in chosen if u not in by_url]
        if unknown:
            raise CaseError(f"not a link of case {case.id}: {unknown[0][:200]}")
        outs = [
            LinkOutcome(url=u, alert_id=by_url[u], outcome=outcome, at=now, pack=visible(pack, 200))  # type: ignore[arg-type]
            for u in chosen
        ]
        case = record_links(cases, case.id, outs, who=_who(who), now=now)
    typer.echo(f"{case.id} {len(outs)} link(s) {outcome}")


@cases_app.command("platforms")
def platforms_cmd(
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    config: ConfigOpt = None,
) -> None:
    """Per platform: links complained of, removed, rejected, counter-notices, and the success rate."""
    from alerts.cases.stats import platform_stats

    with _ctx(config) as (settings, _store, cases):
        rows = platform_stats(cases.list(states=[]), settings.cases.platforms)
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    t = Table()
    for col in ("platform", "links", "removed", "rejected", "counter-notices", "pending", "success rate"):
        t.add_column(col)
    for r in rows:
        rate = "" if r["success_rate"] is None else f"{r['success_rate'] * 100:.0f} %"
        t.add_row(
            Text(visible(r["platform"], 60)),
            *(Text(str(r[k])) for k in ("links", "removed", "rejected", "counter_notice", "pending")),
            Text(rate),
        )
    Console(width=max(Console().width, 120)).print(t)
