"""The code a logged discovery model carries: only the ``pipeline`` modules its pyfunc wrapper imports.

``flows/pyfunc_model.py`` needs the discovered ODE's result class, its library and simulator, and the
errors: 9 of the package's 63 files. Shipping the whole package cost one artifact upload per file per
model (against an ``mlflow server``, an HTTP request each). The modules are found by following the
``from pipeline... import`` statements of the wrapper (top-level and inside functions), with every
parent package's ``__init__.py``; they are zipped once per process into one archive, which the model carries as
an artifact (one upload instead of nine).
"""

from __future__ import annotations

import ast
import atexit
import functools
import shutil
import tempfile
import zipfile
from pathlib import Path

__all__ = ["ARCHIVE_NAME", "model_code_archive", "pipeline_modules"]

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


ARCHIVE_NAME = "pipeline.zip"
"""The archive's file name: the model carries it as ``artifacts/pipeline.zip``, and ``flows/pyfunc_model.py`` puts it
on ``sys.path`` (Python imports modules from a zip archive)."""


@functools.cache
def model_code_archive() -> str:
    """A zip archive of :func:`pipeline_modules` (``pipeline/...py``), made once per process, removed at exit.

    One file instead of one per module: against an ``mlflow server`` each file of a model is an upload request.
    Entries are written in sorted order with a fixed timestamp, so the same code gives the same bytes.
    """
    folder = Path(tempfile.mkdtemp(prefix="deltaflow-model-code-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    archive = folder / ARCHIVE_NAME
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name in sorted(pipeline_modules()):
            source = _module_file(name)
            entry = zipfile.ZipInfo(source.relative_to(_ROOT).as_posix(), date_time=(2020, 1, 1, 0, 0, 0))
            # a ZipInfo entry is stored uncompressed unless told, whatever the archive's own compression
            bundle.writestr(entry, source.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
    return str(archive)
