"""The core stays pure; public APIs are what they say they are."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import pipeline
import pipeline.errors as errors

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"prefect", "mlflow"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted((ROOT / "pipeline").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_pipeline_module_imports_neither_prefect_nor_mlflow(path: Path) -> None:
    assert not (_imported_roots(path) & FORBIDDEN), f"{path} imports {_imported_roots(path) & FORBIDDEN}"


def test_importing_the_whole_core_loads_neither_prefect_nor_mlflow() -> None:
    code = (
        "import importlib, pkgutil, sys, pipeline\n"
        "for m in pkgutil.walk_packages(pipeline.__path__, 'pipeline.'): importlib.import_module(m.name)\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'prefect', 'mlflow'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_public_api_names_resolve() -> None:
    for name in pipeline.__all__:
        assert hasattr(pipeline, name), name


def test_every_error_is_a_deltaflow_error_and_a_builtin() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.DeltaflowError)
        if cls is not errors.DeltaflowError:
            assert issubclass(cls, (ValueError, RuntimeError, FileNotFoundError)), name
    assert issubclass(errors.DataFileNotFoundError, FileNotFoundError)
    assert issubclass(errors.ConfigError, ValueError)


UNSAFE_CALLS = {
    ("yaml", "load"), ("yaml", "unsafe_load"), ("pickle", "load"), ("pickle", "loads"),
    ("cloudpickle", "load"), ("cloudpickle", "loads"),
}  # fmt: skip


@pytest.mark.parametrize("path", sorted([*(ROOT / "pipeline").rglob("*.py"), *(ROOT / "flows").rglob("*.py")]), ids=str)
def test_no_unsafe_deserialisation_or_eval(path: Path) -> None:
    """yaml.safe_load only; no pickle of user files; no eval/exec (configs cannot run code)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                assert func.id not in {"eval", "exec"}, f"{path}:{node.lineno} calls {func.id}"
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                assert (func.value.id, func.attr) not in UNSAFE_CALLS, (
                    f"{path}:{node.lineno} {func.value.id}.{func.attr}"
                )
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            assert not {"pickle", "cloudpickle", "dill"} & set(names), f"{path}:{node.lineno} imports a pickler"
