"""benchmarks/generalisation.py --merge: only missing cases run, and new rows replace rows of the same case."""

from __future__ import annotations

from typing import Any

from benchmarks.generalisation import Case, merge_records, missing_cases
from pipeline.systems_published import PUBLISHED

OLD, NEW = list(PUBLISHED)[0], list(PUBLISHED)[-1]


def _row(system: str, noise: float, method: str, r2: float) -> dict[str, Any]:
    return {"system": system, "noise": noise, "method": method, "r2": r2}


def test_missing_cases_skips_what_is_on_file() -> None:
    stored = [_row(OLD, 0.0, "pysindy-default", 0.5)]
    cases = [Case(s, 0.0, m, 0, 60.0) for s in (OLD, NEW) for m in ("pysindy-default", "pysindy-grid")]
    left = missing_cases(cases, stored)
    assert [(c.system, c.method) for c in left] == [
        (OLD, "pysindy-grid"), (NEW, "pysindy-default"), (NEW, "pysindy-grid")
    ]


def test_merge_replaces_the_same_case_keeps_the_others_in_corpus_order() -> None:
    stored = [_row(OLD, 0.0, "pysindy-default", 0.5), _row(OLD, 0.01, "deltaflow", 0.7)]
    new = [_row(NEW, 0.0, "pysindy-grid", 0.9), _row(OLD, 0.0, "pysindy-default", 0.99)]
    merged = merge_records(stored, new)
    assert [(r["system"], r["noise"], r["method"], r["r2"]) for r in merged] == [
        (OLD, 0.0, "pysindy-default", 0.99),
        (OLD, 0.01, "deltaflow", 0.7),
        (NEW, 0.0, "pysindy-grid", 0.9),
    ]
