"""Decide which enterprise names and listings imitate which protected marks.

Pure: no I/O beyond reading the package's own data files, no Scrapy, no
Elasticsearch, so it can be benchmarked and reused anywhere.
"""

import warnings
from pathlib import Path


def _warn_if_stale() -> None:
    """In a source checkout, a module edited after `pip install -e .` compiled it
    would silently run its old build (extensions are imported before .py files)."""
    here = Path(__file__).parent
    if not (here.parent / "pyproject.toml").is_file():
        return
    for built in here.glob("*.so"):
        stem = built.name.split(".", 1)[0]
        for source in (here / f"{stem}.py", here / f"{stem}.pyx"):
            if source.is_file() and source.stat().st_mtime > built.stat().st_mtime:
                warnings.warn(
                    f"matcher/{source.name} is newer than its compiled build {built.name}, which is "
                    "what runs: rebuild with `make venv` or `pip install -e .`",
                    stacklevel=2,
                )


_warn_if_stale()

from matcher.marks import Mark, MarksFile  # noqa: E402
from matcher.screen import Matcher, search_terms  # noqa: E402
from matcher.types import Hit, NameParts, Reason, Screened, Subject  # noqa: E402

__all__ = [
    "Hit",
    "Mark",
    "MarksFile",
    "Matcher",
    "NameParts",
    "Reason",
    "Screened",
    "Subject",
    "search_terms",
]
