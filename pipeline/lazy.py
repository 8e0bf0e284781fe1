"""Public names a package exports without importing them until first use (PEP 562).

A package's ``__init__.py`` then only imports ``__getattr__`` and ``__dir__`` from a module that
lists where each name lives, so ``import pipeline.config`` does not pay for pysindy and
``import flows`` does not pay for (or configure) Prefect and MLflow.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``where`` maps each public name to its module.

    Raises (from the returned ``__getattr__``):
        AttributeError: the name is not one of ``where`` (as for any missing module attribute).
    """

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(where[name]), name)

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__
