"""One shape and one wording for every error in a user's file (config, marks, sources).

Every layer reads files a user wrote, and a user should see the same "file:line: key: message"
line whichever file it was. The error lives here, in the lowest layer, so that the matcher (marks),
the crawler (sources) and the app (configuration) can all raise it without importing each other;
the app alone decides what it means for the exit code.
"""

from __future__ import annotations


def format_file_error(
    file: str | None, message: str, *, line: int | None = None, key: str | None = None, context: str | None = None
) -> str:
    """``file:line: [context] key 'k': message``; each part left out when unknown."""
    parts = []
    if file:
        parts.append(f"{file}:{line}:" if line else f"{file}:")
    if context:
        parts.append(context)
    if key is not None:
        parts.append(f"key {key!r}:")
    parts.append(message)
    return " ".join(parts)


class FileError(Exception):
    """A problem located in a file (or an environment variable standing in for one).

    The parts stay available (``file``, ``line``, ``key``, ``context``, ``message``) for callers
    that want them; ``str()`` is the one formatted line.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
        context: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.key = key
        self.context = context

    def __str__(self) -> str:
        return format_file_error(self.file, self.message, line=self.line, key=self.key, context=self.context)
