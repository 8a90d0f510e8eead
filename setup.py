"""Builds matcher._accel, the C++ fast path of the matcher, when a compiler is present.

Everything else is declared in pyproject.toml. Without a compiler the install
still succeeds and the matcher runs its pure-Python path (same results, slower);
`markwatch evaluate` and benchmarks/bench_matcher.py say which one ran.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """A failed compile is a warning, not a failed install."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any compiler failure
            self.warn(f"matcher._accel not built ({exc}); the matcher runs in pure Python")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self.warn(f"{ext.name} not built ({exc}); the matcher runs in pure Python")


setup(
    ext_modules=cythonize(
        [Extension("matcher._accel", ["matcher/_accel.pyx"], language="c++")],
        language_level=3,
    ),
    cmdclass={"build_ext": OptionalBuildExt},
)
