"""The cases' own errors: ``AlertsError``s, so ``markwatch.errors`` maps them to exit code 1."""

from __future__ import annotations

from alerts.errors import AlertsError


class CaseError(AlertsError):
    """A case request that cannot be carried out; the message says why (the app maps it to exit 1)."""


class CaseNotFound(CaseError):
    """No case with this id (or the prefix is ambiguous)."""


class InvalidTransition(CaseError):
    """The case's state does not allow this action (e.g. filing a closed case)."""


class DossierError(CaseError):
    """The dossier cannot be produced (no Chromium, an evidence body missing or corrupt)."""
