"""The analysts' review site: a FastAPI app over the configured alert store (`markwatch serve`).

``create_app(settings, store=None, evidence=None)`` builds it; pages are server-rendered with
Jinja2, a little static JavaScript adds keyboard shortcuts, and ``/api/`` serves the same data as
JSON for analysts' scripts. Kept import-light: markwatch.config imports ``passwords`` from here.
"""

from __future__ import annotations

from typing import Any


def create_app(*args: Any, **kwargs: Any) -> Any:
    from markwatch.web.app import create_app as _create

    return _create(*args, **kwargs)
