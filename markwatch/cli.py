"""The `markwatch` command line: one Typer app, each command group in its own module."""

from __future__ import annotations

import typer

from markwatch import __version__, cmd_match

app = typer.Typer(
    name="markwatch",
    help="Find enterprise names and marketplace listings that imitate protected marks (傍名牌).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

cmd_match.register(app)
# Command groups from other modules register here, one line each:
# (alerts, notify, scan, schedule, serve, runs, init)
__import__("markwatch.cmd_notify", fromlist=["register"]).register(app)
__import__("markwatch.cmd_alerts", fromlist=["register"]).register(app)
__import__("markwatch.cmd_exceptions", fromlist=["register"]).register(app)
__import__("markwatch.cmd_audit", fromlist=["register"]).register(app)
__import__("markwatch.cmd_scan", fromlist=["register"]).register(app)
__import__("markwatch.cmd_runs", fromlist=["register"]).register(app)
__import__("markwatch.cmd_schedule", fromlist=["register"]).register(app)
__import__("markwatch.cmd_init", fromlist=["register"]).register(app)
__import__("markwatch.cmd_serve", fromlist=["register"]).register(app)
__import__("markwatch.cmd_sources", fromlist=["register"]).register(app)
__import__("markwatch.cmd_cases", fromlist=["register"]).register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"markwatch {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """markwatch protects brands against imitation in China."""


if __name__ == "__main__":  # pragma: no cover
    app()
