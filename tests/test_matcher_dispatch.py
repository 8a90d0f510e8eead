"""The two implementations of the matcher (matcher/_impl.py) give exactly the same hits.

Each implementation runs in its own process, chosen with MARKWATCH_MATCHER_IMPL,
as the choice is made once per process: the whole `Matcher.screen()` of the
compiled one (matcher._accel and matcher._compiled.*) against the pure-Python
reference, on every evaluation case and on text hypothesis writes.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import _impl

ROOT = Path(__file__).resolve().parents[1]
CI = os.environ.get("CI", "").lower() == "true"

# Reads JSON subjects, one a line; writes their hits as JSON, one line each (ASCII-escaped).
WORKER = """
import json, sys
from pathlib import Path
import matcher
from matcher.marksfile import load_marks
m = matcher.Matcher(load_marks(Path(sys.argv[1])))
print(json.dumps(matcher.IMPLEMENTATION), flush=True)
for line in sys.stdin:
    s = json.loads(line)
    hits = m.screen(matcher.Subject(**s))
    print(json.dumps([h.to_dict() for h in hits]), flush=True)
"""


def _unavailable(reason: str) -> None:
    """Skip when the compiled implementation is not built, but not in CI, where it must be."""
    if CI:
        pytest.fail(f"{reason} (CI=true: the compiled implementation must be built and tested)")
    pytest.skip(reason)


class Worker:
    def __init__(self, impl: str) -> None:
        env = {**os.environ, _impl.ENV: impl, "PYTHONIOENCODING": "utf-8"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(ROOT / "markwatch/demo/marks.yaml")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=ROOT,
            text=True,
            encoding="utf-8",
        )
        first = self.proc.stdout.readline()
        if not first:
            err = self.proc.stderr.read()
            self.proc.wait()
            raise RuntimeError(f"{impl} worker failed: {err[-2000:]}")
        self.implementation = json.loads(first)

    def screen(self, subject: dict) -> list[dict]:
        self.proc.stdin.write(json.dumps(subject) + "\n")  # ASCII: lone surrogates cross too
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def workers():
    why = _impl.why_not_compiled()
    if why is not None:
        _unavailable(f"the compiled implementation is not available: {why}")
    python, compiled = Worker("python"), Worker("compiled")
    try:
        assert (python.implementation, compiled.implementation) == ("python", "compiled")
        yield python, compiled
    finally:
        python.close()
        compiled.close()


def _cases() -> list[dict]:
    out = []
    for name in ("eval_cases.jsonl", "holdout_cases.jsonl"):
        for line in (ROOT / "tests/data" / name).read_text(encoding="utf-8").splitlines():
            c = json.loads(line)
            out.append(
                {"text": c["text"], "kind": c["kind"], "seller": c.get("seller"), "category": c.get("category_hint")}
            )
    return out


def test_both_implementations_agree_on_every_evaluation_case(workers):
    python, compiled = workers
    cases = _cases()
    assert len(cases) > 400
    flagged = 0
    for case in cases:
        want = python.screen(case)
        assert compiled.screen(case) == want, case
        flagged += bool(want)
    assert flagged > 100  # the comparison covers hits, not only empty lists


tricky = st.sampled_from(
    list(
        "一正九阳衣久农夫山泉華為壹玖蒙牛安踏ANTA安蹈HUAWEl\u200b\u200d\ufeff\u0301 ·-_\r\n\t<>&ＡａΙіロ10|il高仿原单新王"
    )
)
pieces = st.one_of(
    tricky,
    st.sampled_from(["有限公司", "科技", "食品", "北京", "豆浆机", "运动鞋", "适用于", "旗舰店"]),
    st.characters(codec=None, categories=None),  # any code point, lone surrogates included
)


@given(
    st.lists(pieces, max_size=40).map("".join),
    st.sampled_from(["enterprise", "listing"]),
    st.sampled_from([None, "小家电", "食品"]),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_both_implementations_agree_on_any_text(workers, text, kind, category):
    python, compiled = workers
    subject = {"text": text, "kind": kind, "seller": text[:4] or None, "category": category}
    assert compiled.screen(subject) == python.screen(subject)


# -- the choice itself ------------------------------------------------------------


def _run(code: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env, "PYTHONIOENCODING": "utf-8"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_variable_forces_the_pure_python_implementation():
    got = _run(
        "import matcher, matcher.screen as s, matcher.normalize as n, matcher.candidates as c\n"
        "print(matcher.IMPLEMENTATION, matcher.Matcher is s.Matcher, n.FOLDER, s.CandidateIndex is c.CandidateIndex)",
        {_impl.ENV: "python"},
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.split() == ["python", "True", "None", "True"]


def test_an_unknown_value_is_an_error():
    got = _run("import matcher; matcher.IMPLEMENTATION", {_impl.ENV: "fast"})
    assert got.returncode != 0 and "MARKWATCH_MATCHER_IMPL='fast'" in got.stderr


def test_the_default_is_the_compiled_implementation_when_it_is_current():
    why = _impl.why_not_compiled()
    if why is not None:
        _unavailable(f"the compiled implementation is not available: {why}")
    got = _run(
        "import matcher; print(matcher.IMPLEMENTATION, matcher.Matcher.__module__)",
        {_impl.ENV: ""},
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.split() == ["compiled", "matcher._compiled.screen"]


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A copy of the built package (sources, data and extensions) that a test may edit."""
    why = _impl.why_not_compiled()
    if why is not None:
        _unavailable(f"the compiled implementation is not available: {why}")
    shutil.copytree(
        ROOT / "matcher", tmp_path / "matcher", ignore=shutil.ignore_patterns("__pycache__", "*.c", "*.cpp")
    )
    return tmp_path


# Imports the copy, not the installed package (which an editable install may put first).
_FROM_COPY = "import sys; sys.path.insert(0, {where!r}); sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"


def _run_copy(where: Path, code: str, impl: str) -> subprocess.CompletedProcess[str]:
    return _run(_FROM_COPY.format(where=str(where)) + code, {_impl.ENV: impl}, cwd=where)


def test_a_source_edited_after_the_build_is_run_as_python_with_a_warning(package_copy):
    code = "import warnings; warnings.simplefilter('always')\nimport matcher; print(matcher.__file__, matcher.IMPLEMENTATION)"
    fresh = _run_copy(package_copy, code, "")
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.split() == [str(package_copy / "matcher/__init__.py"), "compiled"], fresh.stderr

    judge = package_copy / "matcher/judge.py"
    judge.write_text(judge.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    stale = _run_copy(package_copy, code, "")
    assert stale.returncode == 0, stale.stderr
    assert stale.stdout.split()[-1] == "python"
    assert "matcher/judge.py changed after it was compiled" in stale.stderr

    forced = _run_copy(package_copy, code, "compiled")
    assert forced.returncode != 0
    assert "ImportError: MARKWATCH_MATCHER_IMPL=compiled, but matcher/judge.py changed" in forced.stderr


def test_forcing_the_compiled_implementation_without_the_extension_is_an_error(package_copy):
    for built in (package_copy / "matcher").glob("_accel*.so"):
        built.unlink()
    code = "import matcher; print(matcher.IMPLEMENTATION)"
    assert _run_copy(package_copy, code, "").stdout.split() == ["python"]  # no compiler: quietly pure Python
    forced = _run_copy(package_copy, code, "compiled")
    assert forced.returncode != 0 and "matcher._accel is not built" in forced.stderr


def test_a_module_compiled_under_its_own_name_is_refused(package_copy):
    """Older setup.py built matcher/screen.py as matcher.screen, which the import system prefers to the source."""
    (built,) = (package_copy / "matcher/_compiled").glob("screen.*.so")
    shadow = package_copy / "matcher" / built.name
    shutil.copy(built, shadow)
    got = _run_copy(package_copy, "import matcher; print(matcher.IMPLEMENTATION)", "python")
    assert got.returncode != 0
    assert f"{shadow} is left from an older build and would run instead of matcher/screen.py" in got.stderr


def test_every_compiled_copy_is_built_from_the_source_beside_it():
    why = _impl.why_not_compiled()
    if why is not None:
        _unavailable(f"the compiled implementation is not available: {why}")
    for name in _impl.COMPILED_MODULES:
        copy = importlib.import_module(f"matcher._compiled.{name}")
        assert copy.__file__.endswith(".so"), copy.__file__
        assert copy.__source_sha256__ == _impl.source_digest(ROOT / "matcher" / f"{name}.py"), name


def test_importing_the_types_loads_neither_jieba_nor_pypinyin():
    got = _run(
        "import sys, matcher, matcher.types\n"
        "from matcher import Subject, Hit\n"
        "print(sorted(m for m in ('jieba', 'pypinyin', 'matcher.screen') if m in sys.modules))",
        {},
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "[]"


def test_compiled_modules_import_each_other_relatively():
    """A compiled copy that imported `matcher.align` would run the pure module, not its compiled sibling."""
    for name in _impl.COMPILED_MODULES:
        tree = ast.parse((ROOT / "matcher" / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                parts = node.module.split(".")
                if parts == ["matcher"]:
                    for alias in node.names:
                        assert alias.name not in _impl.COMPILED_MODULES, f"{name}.py imports {alias.name} absolutely"
                elif parts[0] == "matcher":
                    assert parts[1] not in _impl.COMPILED_MODULES, f"{name}.py imports {node.module} absolutely"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    assert not (parts[0] == "matcher" and len(parts) > 1 and parts[1] in _impl.COMPILED_MODULES), (
                        f"{name}.py imports {alias.name} absolutely"
                    )
