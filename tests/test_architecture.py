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
