"""What the import-linter contract cannot see: functions small enough to read, and
imports at the top of their module (issue 30; docs/architecture.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from radon.complexity import cc_visit

PACKAGE = Path(__file__).resolve().parent.parent / "wasm_advisor"
MAX_COMPLEXITY = 15  # the issue's ~15; radon's grade D (21+) is far above it
MAX_BODY_LINES = 60  # a function's body, its docstring left out
# own modules a function may import, and why: each loads a heavy or optional library
DEFERRED_ON_PURPOSE = {
    ("advisor.py", ".model.estimator"): "scikit-learn, only when a profile is fitted",
    ("runtimes/__init__.py", ".wasmtime_runtime"): "the wasmtime engine (a native library)",
}


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _body_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = function.body
    docstring = (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                 and isinstance(body[0].value.value, str))
    first = body[1] if docstring and len(body) > 1 else body[0]
    return (function.end_lineno or first.lineno) - first.lineno + 1


def test_no_function_is_more_complex_than_grade_c() -> None:
    too_complex = [f"{path.relative_to(PACKAGE)}:{block.lineno} {block.fullname} "
                   f"(complexity {block.complexity})"
                   for path in _sources() for block in cc_visit(path.read_text())
                   if block.complexity > MAX_COMPLEXITY]
    assert not too_complex, too_complex


def test_no_function_is_longer_than_a_screen() -> None:
    too_long = [f"{path.relative_to(PACKAGE)}:{f.lineno} {f.name} ({_body_lines(f)} lines)"
                for path in _sources() for f in _functions(ast.parse(path.read_text()))
                if _body_lines(f) > MAX_BODY_LINES]
    assert not too_long, too_long


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(n) for n in ast.walk(node))
    return inside


def test_the_package_imports_its_own_modules_at_the_top() -> None:
    """Imports inside functions only defer a third-party library on purpose (pandas,
    matplotlib, scikit-learn, an engine binding); the package's own modules are imported
    where a reader looks for them, and a cycle cannot hide behind a deferred import."""
    deferred = []
    for path in _sources():
        tree = ast.parse(path.read_text())
        type_only = _type_checking_nodes(tree)
        for function in _functions(tree):
            for node in ast.walk(function):
                own = (isinstance(node, ast.ImportFrom) and (node.level > 0 or (
                    node.module or "").startswith("wasm_advisor"))) or (
                    isinstance(node, ast.Import)
                    and any(a.name.startswith("wasm_advisor") for a in node.names))
                key = (str(path.relative_to(PACKAGE)), "." * getattr(node, "level", 0)
                       + (getattr(node, "module", None) or ""))
                if own and id(node) not in type_only and key not in DEFERRED_ON_PURPOSE:
                    deferred.append(f"{path.relative_to(PACKAGE)}:{node.lineno} "
                                    f"{ast.unparse(node)}")
    assert not deferred, deferred


def test_the_top_level_holds_only_the_advisor_and_its_subpackages() -> None:
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert modules == ["__init__.py", "__main__.py", "advisor.py", "errors.py",
                       "recommendation.py"]


def test_a_worker_loads_neither_the_model_nor_scikit_learn() -> None:
    # a calibration starts a few dozen workers; each loading the advisor, the model and
    # scikit-learn on its way to the harness cost about a second (files/_lazy.py)
    code = ("import sys, wasm_advisor.harness.worker, wasm_advisor.calibration.tasks, "
            "wasm_advisor.verification.tasks\n"
            "print(sorted(m for m in sys.modules if m.startswith(('sklearn', 'pandas', "
            "'matplotlib', 'wasm_advisor.model', 'wasm_advisor.advisor'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
