"""The code a logged discovery model carries: only the ``pipeline`` modules its pyfunc wrapper imports.

``flows/pyfunc_model.py`` needs the discovered ODE's result class, its library and simulator, and the
errors: 9 of the package's 63 files. Shipping the whole package cost one artifact upload per file per
model (against an ``mlflow server``, an HTTP request each). The modules are found by following the
``from pipeline... import`` statements of the wrapper (top-level and inside functions), with every
parent package's ``__init__.py``; they are copied once per process into a temporary folder.
"""

from __future__ import annotations

import ast
import atexit
import functools
import shutil
import tempfile
from pathlib import Path

__all__ = ["model_code_path", "pipeline_modules"]

_FLOWS = Path(__file__).resolve().parent
_ROOT = _FLOWS.parent


def _module_file(name: str) -> Path | None:
    """``pipeline.discovery.result`` -> its .py file (or the package's ``__init__.py``); None if none."""
    base = _ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """Absolute ``pipeline`` modules ``path`` imports (``from pipeline.x import y`` gives ``pipeline.x`` and,
    when it is a module, ``pipeline.x.y``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "pipeline"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "pipeline":
            found.add(node.module)
            found |= {
                f"{node.module}.{alias.name}" for alias in node.names if _module_file(f"{node.module}.{alias.name}")
            }
    return found


def pipeline_modules(entry: Path = _FLOWS / "pyfunc_model.py") -> set[str]:
    """Every ``pipeline`` module ``entry`` needs, transitively, with its parent packages."""
    todo, seen = sorted(_imports(entry)), set()
    while todo:
        name = todo.pop()
        if name in seen or _module_file(name) is None:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += sorted(_imports(_module_file(name)))
    return seen


@functools.cache
def model_code_path() -> str:
    """A folder ``pipeline/`` holding only :func:`pipeline_modules` (made once per process, removed at exit)."""
    folder = Path(tempfile.mkdtemp(prefix="deltaflow-model-code-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for name in pipeline_modules():
        source = _module_file(name)
        target = folder / source.relative_to(_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return str(folder / "pipeline")
