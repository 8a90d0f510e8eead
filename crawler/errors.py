"""The crawler's own errors: the app maps them to exit codes (``markwatch.errors``)."""

from __future__ import annotations

from matcher.fileerrors import FileError


class SourceError(FileError):
    """A source file is missing, unreadable or invalid, or a source name is unknown or repeated."""
