"""Optional parts of markwatch and the one-line error when the extra that brings one is missing.

What runs by default (SQLite store, HTTP sources, the local queue) needs no extra. Elasticsearch
(``es``), the Redis queue (``redis``) and ``render: browser`` (``browser``) are pip extras;
``require`` imports the module a feature needs, or raises ``MissingExtra`` naming the extra and
the install line. It lives in the lowest layer that needs it (the Elasticsearch store is here);
the crawler and the app call it too.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from alerts.errors import AlertsError


class MissingExtra(AlertsError):
    """A configured feature whose optional dependency is not installed (exit code 2: fix the install)."""

    exit_code = 2


def require(module: str, extra: str, feature: str) -> ModuleType:
    """``module`` imported, or ``MissingExtra``: "<feature> needs the '<extra>' extra: pip install …"."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{feature} needs the '{extra}' extra: pip install 'markwatch[{extra}]'") from None
