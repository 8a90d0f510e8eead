"""The package layers hold: markwatch (app) → crawler → alerts → matcher, and matcher imports nothing of ours.

The contracts are in pyproject.toml ([tool.importlinter]); this runs the real ``lint-imports``
so a layer violation fails the suite (and CI), not only a separate lint step.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = str(LINT_IMPORTS) if LINT_IMPORTS.exists() else shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports is not installed: pip install -e '.[dev]'")
    return subprocess.run(
        [exe, "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


def test_the_layers_contracts_are_kept() -> None:
    proc = _lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 4 kept, 0 broken." in proc.stdout, proc.stdout  # layers, pure matcher, web no-cycle


def test_a_library_importing_the_app_breaks_the_contract(tmp_path: Path) -> None:
    """The same contracts on a tiny tree with one upward import (inside a function) must fail."""
    for pkg in ("markwatch", "crawler", "alerts", "matcher"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "markwatch" / "config.py").write_text("import crawler\n")
    (tmp_path / "matcher" / "marksfile.py").write_text(
        textwrap.dedent(
            """
            def load():
                from markwatch.config import x  # the kind of import this issue removed
            """
        )
    )
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    start = config.index("[tool.importlinter]")
    end = config.index("[tool.mypy]")
    (tmp_path / "pyproject.toml").write_text(config[start:end])
    proc = _lint_imports(tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "matcher.marksfile -> markwatch.config" in proc.stdout, proc.stdout
    assert "2 broken" in proc.stdout, proc.stdout
