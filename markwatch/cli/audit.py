"""`markwatch audit`: the review site's audit log from the command line.

The same log as `/admin/audit` and `GET /api/audit` (sign-ins, failed sign-ins, reviews, case
actions, errors), read straight from the store, so an administrator can answer "who dismissed
this alert, from where" without a browser, or feed the log to another system with ``--format
json``. Every value shown was typed by someone (user names, details): it goes through ``visible``
and ``Text``, never markup.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from markwatch.cli.alerts import ConfigOpt, _store, cli_localizer, visible


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_cmd)


def audit_cmd(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this analyst's actions.")] = None,
    action: Annotated[str | None, typer.Option("--action", "-a", help="Only this action (see --help).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this day ([review] timezone) or instant.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="To this day, included ([review] timezone).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000, help="At most this many.")] = 100,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json (one event per line).")] = "table",
    config: ConfigOpt = None,
) -> None:
    """The audit log, newest first: sign-ins, reviews, exceptions, exports, case actions and errors,
    with who, from where (``cli`` for the command line) and the note."""
    from alerts.present import QueryError, parse_when
    from alerts.sessions import AUDIT_ACTIONS, AuditQuery

    if fmt not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json")
    if action and action not in AUDIT_ACTIONS:
        raise typer.BadParameter(f"--action must be one of {', '.join(AUDIT_ACTIONS)}")
    loc = cli_localizer(config)
    try:
        when = parse_when("--since", since, time_zone=loc.tz_name)
        end = parse_when("--until", until, day_inclusive_end=True, time_zone=loc.tz_name)
    except QueryError as exc:
        raise typer.BadParameter(str(exc)) from None
    query = AuditQuery(user=user[:64] if user else None, action=action or None, since=when, until=end, limit=limit)
    with _store(config) as store:
        events = store.audit_search(query)
    if fmt == "json":
        for e in events:
            print(json.dumps(e.model_dump(mode="json"), ensure_ascii=False))
        return
    t = Table(title=loc._("%(n)s audit event(s), newest first", n=len(events)))
    zone = loc.zone_name()
    for col in (
        loc._("When (%(zone)s)", zone=zone),
        loc._("Action"),
        loc._("Analyst"),
        loc._("Via"),
        loc._("OK"),
        loc._("On"),
        loc._("Detail"),
        loc._("Note"),
    ):
        t.add_column(col)
    for e in events:
        # Ids shortened to the prefix `alerts show` accepts; --format json has them whole.
        targets = " ".join(x[:12] for x in e.targets[:3]) + (f" (+{len(e.targets) - 3})" if len(e.targets) > 3 else "")
        t.add_row(
            loc.when(e.at, "yyyy-MM-dd HH:mm:ss", zone=False),
            e.action,
            Text(visible(e.user or "", 40)),
            Text(visible(e.client or "", 40)),
            "yes" if e.ok else "NO",
            Text(visible(targets, 80)),
            Text(visible(e.detail, 120)),
            Text(visible(e.note, 120)),
        )
    Console().print(t)
