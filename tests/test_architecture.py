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
            assert issubclass(cls, (ValueError, RuntimeError, FileNotFoundError, ConnectionError)), name
    assert issubclass(errors.DataFileNotFoundError, FileNotFoundError)
    assert issubclass(errors.ConfigError, ValueError)
    assert issubclass(errors.ExecutorError, ConnectionError)  # a Dask scheduler that does not answer


CLOCK_READS = {"now", "today", "utcnow"}


@pytest.mark.parametrize("path", sorted((ROOT / "pipeline").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_core_never_reads_the_clock(path: Path) -> None:
    """Every choice and score of the core is bounded by counts (solver evaluations, iterations), never by wall time:
    the same data and config give the same model and the same scores on an idle and on a busy machine."""
    assert "time" not in _imported_roots(path), f"{path} imports time"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK_READS, f"{path}:{node.lineno} reads the clock ({node.func.attr})"


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


MAX_FUNCTION_LINES = 80
SOURCES = sorted([*(ROOT / "pipeline").rglob("*.py"), *(ROOT / "flows").rglob("*.py")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_is_longer_than_80_lines(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{path.relative_to(ROOT)}: {long}"


def _is_declaration(node: ast.stmt) -> bool:
    """An import, a docstring, or the ``__all__`` / ``__version__`` assignment: what an ``__init__.py`` may hold."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
        return True
    return isinstance(node, ast.Assign) and all(
        isinstance(target, ast.Name) and target.id in {"__all__", "__version__"} for target in node.targets
    )


INIT_FILES = [p for p in SOURCES if p.name == "__init__.py"]


@pytest.mark.parametrize("path", INIT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_init_files_hold_no_logic(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    logic = [node.lineno for node in tree.body if not _is_declaration(node)]
    assert not logic, f"{path.relative_to(ROOT)} has logic at lines {logic}: only imports, __all__ and docstrings"


def test_discovery_reads_as_a_chain() -> None:
    """``discover`` is one line per stage, and no discovery module imports a stage that comes after it."""
    chain = ROOT / "pipeline" / "discovery" / "chain.py"
    tree = ast.parse(chain.read_text(encoding="utf-8"))
    discover = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "discover")
    assert len(discover.body) <= 25, f"discover has {len(discover.body)} statements"
    order = ["trajectories", "scaling", "design", "fitting", "selection", "proposals", "shooting", "judging",
             "refinement", "pruning", "ensemble", "scoring", "chain"]  # fmt: skip
    for position, name in enumerate(order):
        imported = _imported_modules(ROOT / "pipeline" / "discovery" / f"{name}.py")
        later = {f"pipeline.discovery.{m}" for m in order[position + 1 :]} & imported
        assert not later, f"{name}.py imports later stages {sorted(later)}"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def _run_in_empty_folder(code: str, tmp_path: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Run ``python -c code`` in a new empty folder without deltaflow's environment variables."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_", "DELTAFLOW_"))}
    workdir = tmp_path / "empty"
    workdir.mkdir()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=workdir,
        env=env | {"PYTHONPATH": str(ROOT), "HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return workdir, out


def test_import_flows_in_an_empty_folder_creates_nothing_and_loads_neither_prefect_nor_mlflow(tmp_path: Path) -> None:
    code = (
        "import sys, flows, flows.cli, flows.kinds, flows.inputs\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'prefect', 'mlflow'}))"
    )
    workdir, out = _run_in_empty_folder(code, tmp_path)
    assert out.stdout.strip() == "[]"
    assert list(workdir.iterdir()) == []


def test_importing_every_flows_module_changes_no_prefect_setting_and_no_environment(tmp_path: Path) -> None:
    code = (
        "import importlib, os, pkgutil\n"
        "environment = dict(os.environ)\n"
        "import prefect.context\n"
        "before = prefect.context.GLOBAL_SETTINGS_CONTEXT.settings.model_dump(mode='json')\n"
        "import flows\n"
        "for m in pkgutil.walk_packages(flows.__path__, 'flows.'): importlib.import_module(m.name)\n"
        "after = prefect.context.GLOBAL_SETTINGS_CONTEXT.settings.model_dump(mode='json')\n"
        "ours = ('PREFECT_', 'MLFLOW_', 'DO_NOT_TRACK', 'DASK_', 'DELTAFLOW_')\n"
        "changed = {k for k in set(os.environ) ^ set(environment) if k.startswith(ours)}\n"
        "changed |= {k for k in environment if k.startswith(ours) and os.environ.get(k) != environment[k]}\n"
        "print(before == after, sorted(changed))"
    )
    workdir, out = _run_in_empty_folder(code, tmp_path)
    assert out.stdout.strip().splitlines()[-1] == "True []"
    assert list(workdir.iterdir()) == []


def _module_named(path: Path, doc: str, text: str) -> bool:
    """Whether ``doc`` names the module at ``path`` by its path from the root, or its section ``text`` (a section
    names the modules of its own package by file name) as `name.py`, or as `name.attribute` for a core module."""
    if path.relative_to(ROOT).as_posix() in doc:
        return True
    if path.parent == ROOT / "pipeline":
        return f"`{path.name}`" in text or f"`{path.stem}." in text
    return f"`{path.name}`" in text or f"`{path.name}`," in text


def test_the_architecture_map_names_every_module() -> None:
    """docs/architecture.md lists every module (the README says so): a subpackage's in its own section."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    sections = {title.split("\n")[0]: title for title in doc.split("\n## ")}
    where = {
        ROOT / "pipeline" / "discovery": next(s for t, s in sections.items() if t.startswith("Discovery")),
        ROOT / "pipeline" / "differentiation": sections["Differentiation"],
        ROOT / "pipeline" / "sensitivity": sections["Sensitivity"],
        ROOT / "flows": next(s for t, s in sections.items() if t.startswith("Flows")),
    }
    modules = [*(ROOT / "pipeline").rglob("*.py"), *(ROOT / "flows").glob("*.py")]
    missing = [
        path.relative_to(ROOT).as_posix()
        for path in sorted(modules)
        if path.name not in {"__init__.py", "__main__.py"} and not _module_named(path, doc, where.get(path.parent, doc))
    ]
    assert not missing, f"docs/architecture.md does not name {missing}"


@pytest.mark.parametrize("doc", ["README.md", "docs/architecture.md", "docs/reliability.md", "docs/scaling.md"])
def test_every_test_a_document_cites_exists(doc: str) -> None:
    """A cited ``tests/...py`` file exists, and each ``::test_name`` after it is defined in it."""
    import re

    missing = []
    for line in (ROOT / doc).read_text(encoding="utf-8").splitlines():
        cited = None
        for match in re.finditer(r"(tests/[\w/]+\.py)|`::(test_\w+)", line):
            if match.group(1):
                cited = ROOT / match.group(1)
                name = re.match(r"::(test_\w+)", line[match.end() :])
                names = [name.group(1)] if name else []
            else:
                names = [match.group(2)]
            if cited is None or not cited.is_file():
                missing.append(match.group(0))
                continue
            source = cited.read_text(encoding="utf-8")
            missing += [f"{cited.relative_to(ROOT)}::{n}" for n in names if f"def {n}(" not in source]
    assert not missing, f"{doc} cites {missing}"
