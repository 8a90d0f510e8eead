"""Stored exceptions applied to the marks a scan (or a rescreen) builds its matcher from.

The analysts' exceptions live in the alerts store (``alerts.exceptions``); the matcher reads only
marks. So before a scan the app writes an *effective* marks file: the configured file's marks,
each with the active exceptions for it (and the global ones) added to its ``exclude`` list. The
matcher applies ``Mark.exclude`` (plain words); the configured file is never modified. When no
exception is active, the configured file is used as it is.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from alerts.exceptions import MarkException, excludes_by_mark
from matcher import Mark

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def with_exceptions(marks: list[Mark], exceptions: list[MarkException]) -> list[Mark]:
    """The marks with the active exceptions added to their ``exclude`` lists (each word once)."""
    per, glob = excludes_by_mark(exceptions)
    if not per and not glob:
        return marks
    out = []
    for m in marks:
        extra = [*per.get(m.name, []), *glob]
        if extra:
            m = m.model_copy(update={"exclude": list(dict.fromkeys([*m.exclude, *extra]))})
        out.append(m)
    return out


def effective_marks_file(marks_path: Path, marks: list[Mark], exceptions: list[MarkException], out_dir: Path) -> Path:
    """The marks file a scan should use: ``marks_path`` itself, or a written copy with the exceptions."""
    merged = with_exceptions(marks, exceptions)
    if merged is marks:
        return marks_path
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "marks.effective.yaml"
    doc = {"marks": [m.model_dump(exclude_defaults=True) for m in merged]}
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".marks.", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"# Written by markwatch from {marks_path} and the stored exceptions; do not edit.\n")
        yaml.dump(doc, fh, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
    os.replace(tmp, target)  # a reader never sees half a file
    return target
