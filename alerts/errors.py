"""The alerts layer's own errors; the app maps them to exit code 1 and one line (``markwatch.errors``)."""

from __future__ import annotations


class AlertsError(Exception):
    """A request the alerts layer cannot carry out: an unknown id or status, a store that is down…"""


class AlertNotFound(AlertsError):
    """An alert id that the store does not hold."""


class StoreUnavailable(AlertsError):
    """The store cannot be reached (e.g. Elasticsearch down) and the request needs it now."""


class EvidenceNotFound(AlertsError):
    """An evidence id that the evidence store does not hold."""
