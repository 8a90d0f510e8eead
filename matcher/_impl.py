"""Which implementation of the matcher runs: compiled, or the pure-Python reference.

Decided once, at import, the way rapidfuzz does it:

- ``python``: the ``.py`` modules of this package, exactly as written. They are
  the reference, and they are never compiled themselves, so an edit always runs.
- ``compiled``: the C++ extension ``matcher._accel`` (folding and the candidate
  stage) plus Cython-compiled *copies* of the per-name modules, built by
  setup.py as ``matcher._compiled.<name>`` (see COMPILED_MODULES).

``MARKWATCH_MATCHER_IMPL=python|compiled`` forces one; forcing ``compiled``
when it is not built, or built from other sources, is an ImportError. By
default the compiled implementation runs when it is built from the sources
beside it (setup.py stamps each source's SHA-256 into ``matcher._accel``), and
the reference runs otherwise, with a warning naming the changed file.

The modules in COMPILED_MODULES import each other *relatively* (``from .align
import …``), so that the compiled copies reach each other; everything they
share (types, marks, notes, resources, this module) they import absolutely.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import Literal

ENV = "MARKWATCH_MATCHER_IMPL"
COMPILED_MODULES = (
    "normalize",
    "phonetic",
    "align",
    "initials",
    "context",
    "enterprise",
    "segment",
    "reasons",
    "candidates",
    "latin_fuzzy",
    "judge",
    "screen",
)
"""Per-name modules that setup.py also builds as matcher._compiled.<name>."""

HERE = Path(__file__).resolve().parent

Implementation = Literal["compiled", "python"]


def source_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def why_not_compiled() -> str | None:
    """None when the compiled implementation is built from the current sources, else why not."""
    try:
        accel = importlib.import_module("matcher._accel")
    except ImportError as exc:
        return f"matcher._accel is not built ({exc})"
    stamped = getattr(accel, "SOURCES", None)
    if not isinstance(stamped, dict):
        return f"{accel.__file__} carries no source stamp (built by an older setup.py)"
    for source in ["_accel.pyx", *(f"{name}.py" for name in COMPILED_MODULES)]:
        path = HERE / source
        if source not in stamped:
            return f"matcher/{source} was not compiled"
        if path.is_file() and source_digest(path) != stamped[source]:
            return f"matcher/{source} changed after it was compiled"
    for name in COMPILED_MODULES:
        if importlib.util.find_spec(f"matcher._compiled.{name}") is None:
            return f"matcher._compiled.{name} is not built"
    return None


def _refuse_shadows() -> None:
    """Older builds compiled the modules under their own names: such a leftover would
    be imported instead of the source beside it, whichever implementation is chosen."""
    for built in HERE.glob("*.so"):
        stem = built.name.split(".", 1)[0]
        if (HERE / f"{stem}.py").is_file():
            raise ImportError(
                f"{built} is left from an older build and would run instead of matcher/{stem}.py: "
                "delete it (`make venv` or `pip install -e .` does)"
            )


def _decide() -> Implementation:
    _refuse_shadows()
    wanted = os.environ.get(ENV, "").strip().lower()
    if wanted not in ("", "python", "compiled"):
        raise ImportError(f"{ENV}={wanted!r}: expected 'python' or 'compiled'")
    if wanted == "python":
        return "python"
    why = why_not_compiled()
    if why is None:
        return "compiled"
    if wanted == "compiled":
        raise ImportError(f"{ENV}=compiled, but {why}: rebuild with `make venv` or `pip install -e .`")
    if not why.startswith("matcher._accel is not built"):  # built, but not from these sources
        warnings.warn(
            f"{why}; the matcher runs as pure Python: rebuild with `make venv` or `pip install -e .`",
            stacklevel=2,
        )
    return "python"


IMPLEMENTATION: Implementation = _decide()


def accel() -> ModuleType | None:
    """matcher._accel when the compiled implementation runs, else None."""
    return importlib.import_module("matcher._accel") if IMPLEMENTATION == "compiled" else None


def module(name: str) -> ModuleType:
    """The matcher module `name` of the implementation that runs."""
    if IMPLEMENTATION == "compiled" and name in COMPILED_MODULES:
        return importlib.import_module(f"matcher._compiled.{name}")
    return importlib.import_module(f"matcher.{name}")
