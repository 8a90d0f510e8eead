"""`markwatch schedule`: run scans on a cron schedule until stopped; `--list` shows the next runs."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from markwatch.errors import cli_errors


def register(app: typer.Typer) -> None:
    app.command("schedule")(schedule_command)


def schedule_command(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="markwatch.toml file.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="Show the next run times, then exit.")] = False,
    count: Annotated[int, typer.Option("--count", min=1, max=50, help="With --list: how many run times.")] = 5,
) -> None:
    """Run scans on the configured cron (default 02:00 Asia/Shanghai) until SIGTERM."""
    from markwatch.config import find_config, load_settings
    from markwatch.services.schedule import JOB_ID, cron_trigger, next_times, open_scheduler, serve

    with cli_errors():
        settings = load_settings(config)
    found = find_config(config)
    config_path = str(Path(found).resolve()) if found else None
    sc = settings.schedule
    if not list_:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        raise typer.Exit(serve(settings, config_path))

    trigger = cron_trigger(sc.cron, sc.timezone)
    sched = open_scheduler(settings, paused=True)
    try:
        job = sched.get_job(JOB_ID)
        stored_trigger = job.trigger if job else None
        stored_next = job.next_run_time if job else None
    finally:
        sched.shutdown(wait=False)
    out = Console()
    table = Table(title=Text(f"Schedule ({sc.jobstore}; times in {sc.timezone})"), title_justify="left")
    table.add_column("Job")
    table.add_column("Cron")
    table.add_column("Next runs")
    if job is None:
        times = next_times(trigger, count)
        table.add_row(
            Text("(not stored yet: start `markwatch schedule`)"),
            Text(sc.cron),
            "\n".join(t.isoformat(sep=" ") for t in times),
        )
    else:
        first = stored_next.astimezone(trigger.timezone) if stored_next else None
        rest = next_times(stored_trigger, count - 1, first) if first else []
        times = ([first] if first else []) + rest
        changed = "" if repr(stored_trigger) == repr(trigger) else " (config changed: applied at next start)"
        table.add_row(Text(JOB_ID), Text(sc.cron + changed), "\n".join(t.isoformat(sep=" ") for t in times) or "paused")
    out.print(table)
    if os.environ.get("MARKWATCH_SCHEDULE_DEBUG"):
        out.print(repr(stored_trigger))
