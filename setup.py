"""Builds the matcher's compiled implementation when a C++ compiler is present.

Two kinds of extension, both under names of their own so that they never
shadow a source file (matcher/_impl.py picks which implementation runs):

- matcher._accel, C++ written for speed (folding and the candidate stage);
- matcher._compiled.<name>, copies of the per-name modules compiled unchanged
  by Cython (`COMPILED_MODULES` in matcher/_impl.py), about 1.5× faster on the
  Python-level judgement. They import each other relatively, so they reach
  each other and not the pure modules.

Each source's SHA-256 is stamped into matcher._accel (`SOURCES`), so that a
build older than its sources is refused rather than run. Everything else is
declared in pyproject.toml. Without a compiler the install still succeeds and
the matcher runs as pure Python (same results, slower); `markwatch evaluate`
and benchmarks/bench_matcher.py say which one ran.
"""

import ast
import hashlib
import shutil
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
COPIES = ROOT / "build" / "matcher-compiled-src"  # generated sources; never imported


def _compiled_modules() -> tuple[str, ...]:
    """COMPILED_MODULES from matcher/_impl.py, read without importing the package."""
    tree = ast.parse((ROOT / "matcher/_impl.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "COMPILED_MODULES":
            return ast.literal_eval(node.value)
    raise RuntimeError("matcher/_impl.py defines no COMPILED_MODULES")


def _copy(source: Path, dest: Path, stamp: str) -> None:
    """Copy source to dest with `stamp` appended, rewriting dest only when it changes
    (Cython regenerates C only for sources newer than their C)."""
    text = source.read_text(encoding="utf-8") + "\n\n" + stamp + "\n"
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.is_file() or dest.read_text(encoding="utf-8") != text:
        dest.write_text(text, encoding="utf-8")


def _extensions() -> list[Extension]:
    names = _compiled_modules()
    digests = {
        src: hashlib.sha256((ROOT / "matcher" / src).read_bytes()).hexdigest()
        for src in ["_accel.pyx", *(f"{n}.py" for n in names)]
    }
    if COPIES.exists() and not (COPIES / "matcher/_compiled").is_dir():
        shutil.rmtree(COPIES)
    _copy(ROOT / "matcher/_accel.pyx", COPIES / "matcher/_accel.pyx", f"SOURCES = {digests!r}")
    exts = [Extension("matcher._accel", [str(COPIES / "matcher/_accel.pyx")], language="c++")]
    for n in names:
        dest = COPIES / f"matcher/_compiled/{n}.py"
        _copy(ROOT / f"matcher/{n}.py", dest, f"__source_sha256__ = {digests[n + '.py']!r}")
        exts.append(Extension(f"matcher._compiled.{n}", [str(dest)]))
    return exts


class OptionalBuildExt(build_ext):
    """A failed compile is a warning, not a failed install; and it leaves no older build behind."""

    def run(self) -> None:
        # Older builds compiled matcher/<name>.py as matcher.<name>, which shadows the source.
        for leftover in (ROOT / "matcher").glob("*.so"):
            if (ROOT / "matcher" / (leftover.name.split(".", 1)[0] + ".py")).is_file():
                leftover.unlink()
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any compiler failure
            self.warn(f"matcher extensions not built ({exc}); the matcher runs as plain Python")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            stale = Path(self.get_ext_fullpath(ext.name))
            stale.unlink(missing_ok=True)
            self.warn(f"{ext.name} not built ({exc}); the matcher runs as plain Python")


setup(
    ext_modules=cythonize(_extensions(), language_level=3, quiet=True),
    cmdclass={"build_ext": OptionalBuildExt},
    options={"build_ext": {"parallel": 2}},
)
