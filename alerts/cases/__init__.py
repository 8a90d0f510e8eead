"""Cases: from confirmed alerts against one infringing entity to a changed name (issue 14).

- ``alerts.cases.model``: ``Case``, ``CaseEvent``, ``Entity``, the states and the allowed
  transitions (as data), ``entity_of(alert)``.
- ``alerts.cases.store``: the ``CaseStore`` protocol; ``sqlite`` and ``es`` implement it on the
  alert store's own connection / client (``open_case_store(alert_store)``).
- ``alerts.cases.service``: open, file, close, resolve: every change is an event with who and when.
- ``alerts.cases.authority``: USCC → administrative division → the registering authority.
- ``alerts.cases.dossier``: the dossier (HTML → PDF with headless Chromium; ZIP with a manifest).
- ``alerts.cases.followup``: re-checks filed cases on later scans and resolves them.
"""

from alerts.cases.errors import CaseError, CaseNotFound, InvalidTransition
from alerts.cases.model import STATES, TRANSITIONS, Case, CaseEvent, Entity, entity_of

__all__ = [
    "STATES",
    "TRANSITIONS",
    "Case",
    "CaseError",
    "CaseEvent",
    "CaseNotFound",
    "Entity",
    "InvalidTransition",
    "entity_of",
]
