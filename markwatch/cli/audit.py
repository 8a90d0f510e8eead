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

from markwatch.cli.alerts import ConfigOpt, _store, visible


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_cmd)


def audit_cmd(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this analyst's actions.")] = None,
    action: Annotated[str | None, typer.Option("--action", "-a", help="Only this action (see --help).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this day or instant (UTC).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="At most this many.")] = 100,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json (one event per line).")] = "table",
    config: ConfigOpt = None,
) -> None:
    """The audit log, newest first: sign-ins, reviews, case actions and errors, with who and from where."""
    from alerts.present import QueryError, parse_when
    from alerts.sessions import AUDIT_ACTIONS, AuditQuery

    if fmt not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json")
    if action and action not in AUDIT_ACTIONS:
        raise typer.BadParameter(f"--action must be one of {', '.join(AUDIT_ACTIONS)}")
    try:
        when = parse_when("--since", since)
    except QueryError as exc:
        raise typer.BadParameter(str(exc)) from None
    query = AuditQuery(user=user[:64] if user else None, action=action or None, since=when, limit=limit)
    with _store(config) as store:
        events = store.audit_search(query)
    if fmt == "json":
        for e in events:
            print(json.dumps(e.model_dump(mode="json"), ensure_ascii=False))
        return
    t = Table(title=f"{len(events)} audit event(s), newest first")
    for col in ("When (UTC)", "Action", "User", "Client", "OK", "Targets", "Detail"):
        t.add_column(col)
    for e in events:
        # Ids shortened to the prefix `alerts show` accepts; --format json has them whole.
        targets = " ".join(x[:12] for x in e.targets[:3]) + (f" (+{len(e.targets) - 3})" if len(e.targets) > 3 else "")
        t.add_row(
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            e.action,
            Text(visible(e.user or "", 40)),
            Text(visible(e.client or "", 40)),
            "yes" if e.ok else "NO",
            Text(visible(targets, 80)),
            Text(visible(e.detail, 120)),
        )
    Console().print(t)
