"""The cost of one right-hand-side call, the unit of every simulation discovery runs: the numba kernel of
``pipeline/discovery/compiled_rhs.py`` against numpy.

    python benchmarks/rhs_speed.py [--calls 20000]

Anchors, on the same models and states: the library's reference evaluator (``Library.evaluate``, then the
coefficients' product) and the numpy evaluator the kernel replaced (gathered monomials, one numpy call per
family: ``_compiled_terms`` of ``pipeline/discovery/simulate.py`` at commit 322639a, loaded from git). Models:
a sparse Lorenz (3 states, 7 terms), the dense model over the library discovery builds for a 3-state
non-polynomial record (degree-2 monomials and 19 function terms: sin, cos, exp, log, saturations with rates),
and a dense 4-state cubic (35 monomials); one state (a single simulation) and batches of 5 and 24 (a shooting
check's segments integrated together). Also a whole simulation: the Lorenz from 5 starts over 10 time units.
Times are medians of 5 repeats, one BLAS thread. Writes ``benchmarks/results/rhs_speed.md``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.publish_cost import commit_label  # noqa: E402
from pipeline.discovery.compiled_rhs import compile_model  # noqa: E402
from pipeline.discovery.library import Library  # noqa: E402
from pipeline.discovery.simulate import simulate_model  # noqa: E402

REPLACED_AT = "322639a"


def _degree_powers(d: int, degree: int) -> np.ndarray:
    """Every monomial of total degree <= ``degree`` in d states: (p, d) exponents."""
    grid = np.array(np.meshgrid(*[range(degree + 1)] * d, indexing="ij")).reshape(d, -1).T
    return grid[grid.sum(axis=1) <= degree]


def models() -> dict[str, tuple[Library, np.ndarray]]:
    """name -> (library, coefficients (d, p))."""
    rng = np.random.default_rng(0)
    lorenz_powers = _degree_powers(3, 2)
    lorenz = Library(("x", "y", "z"), lorenz_powers)
    index = {tuple(p): k for k, p in enumerate(lorenz_powers.tolist())}
    coefficients = np.zeros((3, lorenz.size))
    for i, (term, value) in enumerate(
        [((0, 1, 0), 10.0), ((1, 0, 0), -10.0), ((1, 0, 0), 28.0), ((0, 1, 0), -1.0), ((1, 0, 1), -1.0),
         ((1, 1, 0), 1.0), ((0, 0, 1), -8 / 3)]  # fmt: skip
    ):
        coefficients[0 if i < 2 else 1 if i < 5 else 2, index[term]] += value
    functions = tuple((f, j) for f in ("sin", "cos", "exp") for j in range(3)) + (("log", 2),)
    functions += tuple(("saturation", j) for j in range(3)) + tuple(("saturation", j, k) for j in range(3)
                                                                     for k in range(3) if k != j)  # fmt: skip
    rates = tuple(rng.uniform(0.3, 2.0, len(functions)))
    wide = Library(("x", "y", "z"), lorenz_powers, functions, np.array([1.5, 2.0, 0.5]), rates)
    quartic = Library(("a", "b", "c", "e"), _degree_powers(4, 3))
    return {
        "Lorenz, sparse (3 states, 7 of 10 terms)": (lorenz, coefficients),
        "non-polynomial library, dense (3 states, 29 terms)": (wide, rng.normal(size=(3, wide.size)) * 0.1),
        "4-state cubic, dense (35 terms)": (quartic, rng.normal(size=(4, quartic.size)) * 0.1),
    }


def _replaced_evaluator() -> Callable[[Library], Callable[[np.ndarray], np.ndarray]] | None:
    """``_compiled_terms`` as it was before the kernel, from git; None outside a clone with that commit."""
    try:
        source = subprocess.run(
            ["git", "show", f"{REPLACED_AT}:pipeline/discovery/simulate.py"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    module = sys.modules["replaced_simulate"] = types.ModuleType("replaced_simulate")  # dataclasses look it up
    exec(compile(source, f"simulate.py@{REPLACED_AT}", "exec"), module.__dict__)  # noqa: S102 (our own past code)
    return module._compiled_terms


def _per_call(evaluate: Callable[[np.ndarray], np.ndarray], states: np.ndarray, calls: int) -> float:
    """Median over 5 repeats of the seconds one call of ``evaluate(states)`` takes."""
    evaluate(states)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            evaluate(states)
        runs.append((time.perf_counter() - start) / calls)
    return float(np.median(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    replaced = _replaced_evaluator()
    rng = np.random.default_rng(1)
    rows = []
    for name, (library, coefficients) in models().items():
        transposed = np.ascontiguousarray(coefficients.T)
        candidates = {"reference (Library.evaluate)": lambda s, lib=library, w=transposed: lib.evaluate(s) @ w}
        if replaced is not None:
            active = np.flatnonzero(np.any(coefficients != 0.0, axis=0))  # it evaluated the active terms only
            n_powers = library.powers.shape[0]
            reduced = Library(
                library.names, library.powers[active[active < n_powers]],
                tuple(library.functions[k - n_powers] for k in active if k >= n_powers), library.argument_scale,
                tuple(library.rates[k - n_powers] for k in active if k >= n_powers) if library.rates else (),
            )  # fmt: skip
            terms, weights = replaced(reduced), np.ascontiguousarray(coefficients[:, active].T)
            candidates[f"numpy evaluator replaced ({REPLACED_AT})"] = lambda s, f=terms, w=weights: f(s) @ w
        candidates["numba kernel (compiled_rhs)"] = compile_model(coefficients, library)
        for batch in (1, 5, 24):
            states = rng.uniform(0.2, 1.5, size=(batch, len(library.names)))
            reference = library.evaluate(states) @ transposed
            for method, evaluate in candidates.items():
                np.testing.assert_allclose(evaluate(states), reference, rtol=1e-10, atol=1e-12)
                rows.append((name, batch, method, 1e6 * _per_call(evaluate, states, args.calls)))
            print(rows[-1], flush=True)
    lorenz, coefficients = models()["Lorenz, sparse (3 states, 7 of 10 terms)"]
    starts = np.array([[1.0, 1.0, 1.0], [-5.0, 2.0, 20.0], [3.0, -3.0, 15.0], [0.5, 8.0, 25.0], [-8.0, -8.0, 27.0]])
    t = np.linspace(0.0, 10.0, 512)
    simulate_model(coefficients, lorenz, starts, t)
    start = time.perf_counter()
    for _ in range(5):
        simulate_model(coefficients, lorenz, starts, t)
    whole = (time.perf_counter() - start) / 5
    _write(rows, whole)


def _write(rows: list[tuple[str, int, str, float]], whole: float) -> None:
    methods = list(dict.fromkeys(row[2] for row in rows))
    lines = [
        "# One right-hand-side call: the numba kernel against numpy",
        "",
        f"`python benchmarks/rhs_speed.py` at commit {commit_label()}: microseconds per call (median of 5 repeats, "
        "one BLAS thread), the same models and states for every method, results checked equal to the reference "
        "to 1e-10. Batch = states evaluated in one call (1: one simulation; 5 and 24: a shooting check's "
        "segments integrated together).",
        "",
        "| model | batch | " + " | ".join(methods) + " | kernel's speed-up over the replaced evaluator |",
        "|---|---|" + "---|" * len(methods) + "---|",
    ]
    for name, batch in dict.fromkeys((row[0], row[1]) for row in rows):
        cost = {row[2]: row[3] for row in rows if row[0] == name and row[1] == batch}
        replaced = next((value for method, value in cost.items() if "replaced" in method), None)
        ratio = f"{replaced / cost['numba kernel (compiled_rhs)']:.1f}x" if replaced else "n/a"
        lines.append(f"| {name} | {batch} | " + " | ".join(f"{cost[m]:.1f}" for m in methods) + f" | {ratio} |")
    lines += ["", f"Whole simulation, the Lorenz from 5 starts over [0, 10] (512 outputs): {whole * 1e3:.1f} ms", ""]
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "rhs_speed.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
