"""Compiles the matcher's per-name path when a C++ compiler is present.

Two kinds of extension: matcher._accel (C++ written for speed: folding and the
candidate stage), and the matcher's own modules compiled unchanged by Cython
(`COMPILED` below), which makes the Python-level judgement about 1.5× faster.
Everything else is declared in pyproject.toml. Without a compiler the install
still succeeds and the matcher runs as plain Python (same results, slower);
`markwatch evaluate` and benchmarks/bench_matcher.py say which one ran.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# Modules on the per-name path; matcher/__init__.py warns when one is newer than its build.
COMPILED = ["normalize", "align", "screen", "phonetic", "context", "enterprise", "segment", "reasons"]


class OptionalBuildExt(build_ext):
    """A failed compile is a warning, not a failed install."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any compiler failure
            self.warn(f"matcher extensions not built ({exc}); the matcher runs as plain Python")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self.warn(f"{ext.name} not built ({exc}); it runs as plain Python")


extensions = [Extension("matcher._accel", ["matcher/_accel.pyx"], language="c++")]
extensions += [Extension(f"matcher.{name}", [f"matcher/{name}.py"]) for name in COMPILED]

setup(
    ext_modules=cythonize(extensions, language_level=3, quiet=True),
    cmdclass={"build_ext": OptionalBuildExt},
    options={"build_ext": {"parallel": 2}},
)
