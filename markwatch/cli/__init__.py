"""The `markwatch` command line: one Typer app, each command group in its own module."""

from __future__ import annotations

from importlib import import_module

import typer

from markwatch import __version__

app = typer.Typer(
    name="markwatch",
    help="Find enterprise names and marketplace listings that imitate protected marks (傍名牌).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One module per command group (markwatch/cli/<group>.py), each with register(app).
GROUPS = (
    "match",
    "notify",
    "alerts",
    "held",
    "exceptions",
    "audit",
    "scan",
    "runs",
    "schedule",
    "init",
    "serve",
    "sources",
    "cases",
    "parse",
)
for _group in GROUPS:
    import_module(f"markwatch.cli.{_group}").register(app)


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
