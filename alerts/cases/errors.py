"""The cases' own errors (library code does not import the app; the CLI maps them to exit codes)."""

from __future__ import annotations


class CaseError(Exception):
    """A case request that cannot be carried out; the message says why (CLI exit 1)."""

    exit_code = 1


class CaseNotFound(CaseError):
    """No case with this id (or the prefix is ambiguous)."""


class InvalidTransition(CaseError):
    """The case's state does not allow this action (e.g. filing a closed case)."""


class DossierError(CaseError):
    """The dossier cannot be produced (no Chromium, an evidence body missing or corrupt)."""
