"""The app's errors, and the one place where every layer's errors become a line and an exit code.

The libraries own their errors (``matcher.marksfile.MarksFileError``, ``crawler.errors.SourceError``,
``alerts.errors.AlertsError``…) and know nothing of exit codes; ``exit_code_for`` and
``cli_errors`` below are the only mapping. Every file error (configuration, marks, sources) is a
``matcher.fileerrors.FileError`` and so reads "file:line: key 'k': message" the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from alerts.errors import AlertsError
from alerts.notify.ledger import LedgerBusy
from matcher.fileerrors import FileError


class ConfigError(FileError):
    """A configuration problem; the message names file, line and key (exit 2).

    ``ConfigError("text")`` is a message as is; ``ConfigError(msg, file=…, line=…, key=…)`` is
    formatted like every other file error.
    """

    exit_code = 2


class UserError(Exception):
    """A request that cannot be carried out (unknown id, unreachable server…)."""

    exit_code = 1


# What the CLI reports as one line instead of a traceback, and with which exit code.
CONFIG_ERRORS: tuple[type[BaseException], ...] = (FileError,)  # config, marks and source files: 2
USER_ERRORS: tuple[type[BaseException], ...] = (UserError, AlertsError, LedgerBusy)  # 1
CLI_ERRORS = CONFIG_ERRORS + USER_ERRORS


def exit_code_for(exc: BaseException) -> int:
    """The exit code for an error of any layer: its own ``exit_code`` if it has one, 2 for a
    file error, 1 for a request that cannot be carried out."""
    code = getattr(exc, "exit_code", None)
    if isinstance(code, int):
        return code
    return 2 if isinstance(exc, CONFIG_ERRORS) else 1


def _stderr(line: str) -> None:
    import typer

    typer.echo(line, err=True)  # one line, never wrapped


@contextmanager
def cli_errors(
    *also: type[BaseException], echo: Callable[[str], None] = _stderr, clean: Callable[[str], str] = str
) -> Iterator[None]:
    """Turn our errors (and ``also``) into ``error: <message>`` on stderr and ``typer.Exit(code)``.

    ``clean`` renders the message of a non-file error (e.g. to show control characters that came
    from crawled data).
    """
    import typer

    try:
        yield
    except CLI_ERRORS + also as exc:
        code = exit_code_for(exc)
        text = str(exc) if isinstance(exc, CONFIG_ERRORS) else clean(str(exc))
        echo(f"error: {text}")
        raise typer.Exit(code) from None
