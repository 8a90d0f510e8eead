"""`markwatch notify`: send each brand owner one digest of the alerts they have not had yet."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from markwatch.cli.alerts import visible
from markwatch.errors import cli_errors

_STYLE = {
    "sent": "green",
    "failed": "red",
    "uncertain": "yellow",
    "would-send": "cyan",
    "would-resend": "cyan",
}


def register(app: typer.Typer) -> None:
    app.command("notify")(notify_command)


def notify_command(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="markwatch.toml file.")] = None,
    marks: Annotated[Path | None, typer.Option("--marks", help="Marks file (default: marks.path).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what is pending.")] = False,
    show: Annotated[bool, typer.Option("--show", help="With --dry-run, print each digest's text.")] = False,
) -> None:
    """Send (or show) the pending email digests: one per recipient, each alert once."""
    from markwatch.config import load_settings
    from markwatch.services.notify_run import notify
    from matcher.marksfile import load_marks

    with cli_errors():
        settings = load_settings(config)
        mark_list = load_marks(marks or settings.marks.path)
        report = notify(settings, dry_run=dry_run, marks=mark_list)

    out = Console()
    if not report.outcomes:
        out.print(Text(f"Nothing to send ({report.transport}: {report.destination})."))
        return
    title = f"{'Pending' if dry_run else 'Sent'} via {report.transport}: {report.destination}"
    table = Table(title=Text(title), show_footer=True)
    states = Counter(o.state for o in report.outcomes)
    table.add_column("Recipient", footer=f"{len(report.outcomes)} digest(s)")
    table.add_column("Alerts", justify="right", footer=str(sum(o.alerts for o in report.outcomes)))
    table.add_column("Case updates", justify="right", footer=str(sum(o.cases for o in report.outcomes)))
    table.add_column("Result", footer=", ".join(f"{n} {state}" for state, n in sorted(states.items())))
    table.add_column("Subject / error")
    for o in report.outcomes:
        state = o.state + (" (re-send)" if o.retry else "")
        table.add_row(
            Text(visible(o.recipient)),
            str(o.alerts),
            str(o.cases),
            Text(state, style=_STYLE.get(o.state, "")),
            Text(visible(o.error or o.subject, 300)),
        )
    out.print(table)
    if dry_run and show:
        for o in report.outcomes:
            if o.preview:
                out.rule(Text(o.recipient))
                out.print(Text(o.preview))
    if report.failed:
        n = len(report.failed)
        for o in report.failed:  # whole, on one line each: the table's cell wraps on a narrow terminal
            typer.echo(visible(f"{o.recipient}: {o.state}: {o.error}", 500), err=True)
        typer.echo(f"{n} digest(s) not delivered; they stay pending for the next run.", err=True)
        raise typer.Exit(1)
