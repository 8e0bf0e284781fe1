"""MLflow metric keys and artifact file names from column names, without MLflow: the one naming scheme, and the
check that two names do not clean up to the same key or file (one would overwrite the other silently)."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["file_parts", "metric_key", "metric_part", "same_key"]

_NOT_IN_KEY = re.compile(r"[^A-Za-z0-9_\-]+")


def metric_key(key: str) -> str:
    """The one metric naming scheme: dot-separated parts of alphanumerics, ``_`` and ``-``.

    Anything else (spaces, commas, brackets, ``^``, ``/``) becomes one ``_`` and ``_`` at a part's ends
    is dropped, so ``pareto.x (mol/l).cv_mse`` is ``pareto.x_mol_l.cv_mse`` in every run.
    """
    parts = (_NOT_IN_KEY.sub("_", part).strip("_") for part in key.split("."))
    return ".".join(part for part in parts if part) or "unnamed"


def metric_part(text: str) -> str:
    """One part of a metric name (a state or a term): ``x^2`` -> ``xpow2``, ``x y`` -> ``x_y``, ``sin(x)`` ->
    ``sin_x``; the same text always gives the same part."""
    text = text.replace("^", "pow").replace("*", "_").replace(".", "p")
    return _NOT_IN_KEY.sub("_", text).strip("_") or "1"


def same_key(names: Sequence[str]) -> tuple[str, str, str] | None:
    """The first two of ``names`` (columns named in metric keys) whose metric keys (:func:`metric_key`) are the same,
    with that key: ``('y %', 'y #', 'y')``; None when every name has a key of its own."""
    seen: dict[str, str] = {}
    for name in names:
        key = metric_key(name)
        if key in seen and seen[key] != name:
            return seen[key], name, key
        seen.setdefault(key, name)
    return None


def file_parts(names: Sequence[str]) -> dict[str, str]:
    """A file-name part for each of ``names`` (outputs with an artifact each): letters, digits, ``_ - .`` only, so
    ``a/b`` is ``a_b`` and lands beside the others, not in a subfolder; unique, so where two names clean up alike,
    the later ones get ``_2``, ``_3``, ... (by their order in ``names``)."""
    parts: dict[str, str] = {}
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_\-.]+", "_", name).strip("_.") or "output"
        part, n = base, 1
        while part in parts.values():
            n += 1
            part = f"{base}_{n}"
        parts[name] = part
    return parts
