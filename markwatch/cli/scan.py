"""`markwatch scan`: every configured source through crawl → screen → store, then the digests.

Exit codes: 0 every source ok, 1 some source degraded or failed (or the run had errors, or it was
stopped), 2 configuration error, 3 another scan is running (the lock).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from markwatch.errors import cli_errors
from matcher.fileerrors import FileError


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_command)


def scan_command(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="markwatch.toml file.")] = None,
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Replace every source's {base} URL.")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Scan date for feed sources (YYYY-MM-DD).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Scan the demo world (demo config).")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Live counts on a terminal.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of a table.")] = False,
    trigger: Annotated[str, typer.Option("--trigger", hidden=True)] = "cli",
) -> None:
    """Scan the configured sources, store the alerts, send the digests, record the run."""
    from markwatch.cli.scan_view import Progress, summary
    from markwatch.config import load_settings
    from markwatch.services.scan import run_scan
    from markwatch.services.scanlock import ScanBusy

    out = Console()
    if not out.is_terminal:
        out = Console(width=max(out.width, 140))  # a log file or pipe gets the whole table, unwrapped
    world = None
    try:
        with cli_errors(ScanBusy, ConnectionError):
            if demo:
                from markwatch.demo.world import DEMO_CONFIG, DemoWorld

                settings = load_settings(config or DEMO_CONFIG)
                world = DemoWorld().start()
                base_url = base_url or world.url
                trigger = "demo" if trigger == "cli" else trigger
                out.print(f"Demo world on {world.url}; config {settings.source}", highlight=False)
            else:
                settings = load_settings(config)
            view = Progress(out, enabled=progress and not as_json)
            started = time.time()
            try:
                report = run_scan(
                    settings,
                    sources=source or None,
                    base_url=base_url,
                    date=date,
                    trigger=trigger,
                    on_start=view.on_start,
                )
            except FileError as exc:
                if trigger == "schedule":  # nobody reads a scheduled scan's terminal: a failed run, like any other
                    from markwatch.services.config_failure import record_config_failure

                    record_config_failure(str(config) if config else None, str(exc), started=started, settings=settings)
                raise
            finally:
                view.stop()
    finally:
        if world is not None:
            world.stop()
    if as_json:
        data = {k: v for k, v in asdict(report).items() if k != "sources"}
        data["sources"] = [asdict(s) for s in report.sources]
        data["totals"] = report.totals()
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        out.print(summary(report))
    from crawler import shutdown

    if shutdown.stopped_at_once():
        # The reactor was stopped at once: its worker threads may still wait on a socket, and the
        # interpreter would wait for them at exit. Everything is recorded and printed: leave now.
        import logging
        import os
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(report.exit_code)
    raise typer.Exit(report.exit_code)
