"""Long series: wall time and peak memory of the default config's discovery path against the series length.

    python benchmarks/long_series.py [--sizes 10000 100000 200000 1000000] [--cli 200000] [--profile]

For each size, a Lorenz series (3 states, 1 % noise, on [0, 50]) is written to a CSV first; then one
fresh subprocess per size runs the core path of a default discovery config (``data.path`` only, every
other field its default): ``load_timeseries`` → ``smooth_and_differentiate`` (``auto``) → ``discover``
(weak form, bagging, shooting, refinement, stability check: all on by default). The child reports each
stage's wall time; the parent reads the child's own peak resident memory from ``os.wait4`` (the
child's ``ru_maxrss``, so one size's peak never hides another's). ``--cli N`` also runs the size N
through the command line (``python -m flows run``: Prefect flow, MLflow run in a temporary SQLite store,
plots, report and pyfunc model), measured the same way. ``--profile`` writes the 25 functions with the
most cumulative time of each core run next to the table (to find a stage that is not linear).

Writes benchmarks/results/long_series.md. Target: 2e5 samples ≤ 1 GB and ≤ 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

T_END = 50.0
TIMEOUT_SECONDS = 600


def make_data(folder: Path, n: int) -> Path:
    """A Lorenz CSV of n samples and a default discovery config naming it; returns the config path."""
    import yaml

    from pipeline.systems import sample_system

    frame = sample_system("lorenz", n=n, noise=0.01, seed=0, t_end=T_END)
    data = folder / f"lorenz_{n}.csv"
    frame.to_csv(data, index=False, float_format="%.8g")
    config = folder / f"lorenz_{n}.yaml"
    config.write_text(yaml.safe_dump({"name": f"lorenz-{n}", "data": {"path": data.name}}))
    return config


STAGES = (
    "as_trajectories", "fit_scaling", "_laws", "build_design", "propose_models", "_shooting_problem",
    "judge_proposals", "_stability_test", "_refine", "_uncertainty", "_model", "score_model", "_choices_made",
)  # fmt: skip
"""The stage functions ``pipeline.discovery.chain.discover`` calls, one line each (timed by ``--stages``)."""


def trace_stages(record: dict[str, list[float]]) -> None:
    """Wrap each of :data:`STAGES` in ``pipeline.discovery.chain`` to record its wall time (s) and how much it
    raised this process's peak memory (MB); nothing in the discovery code changes."""
    import functools
    import resource

    from pipeline.discovery import chain

    def peak() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    for name in STAGES:
        original = getattr(chain, name)

        @functools.wraps(original)
        def timed(*args: object, _original=original, _name=name, **kwargs: object) -> object:
            before, start = peak(), time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                seconds, growth = time.perf_counter() - start, peak() - before
                total = record.setdefault(_name, [0.0, 0.0])
                total[0] += seconds
                total[1] += growth

        setattr(chain, name, timed)


def child_core(config_path: Path, profile: Path | None, stages: bool = False) -> dict[str, object]:
    """Run load → differentiate → discover in this process; returns stage times (s) and the equations."""
    from pipeline.config import load_config
    from pipeline.data import load_timeseries
    from pipeline.differentiation.derivatives import smooth_and_differentiate
    from pipeline.discovery.chain import discover

    config = load_config(config_path)
    times: dict[str, object] = {}
    if stages:
        trace_stages(times.setdefault("discover_stages", {}))  # type: ignore[arg-type]

    def stages() -> None:
        start = time.perf_counter()
        series = load_timeseries(config.data.path, time_column=config.data.time_column)
        times["load"] = time.perf_counter() - start
        start = time.perf_counter()
        derivative = smooth_and_differentiate(series.t, series.x, method=config.differentiation.method)
        times["differentiate"] = time.perf_counter() - start
        start = time.perf_counter()
        result = discover(
            series.t, series.x, config=config.discovery, feature_names=series.names, derivatives=[derivative]
        )
        times["discover"] = time.perf_counter() - start
        times["method"] = derivative.method
        times["equations"] = " ; ".join(result.equations)

    if profile is None:
        stages()
    else:
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(stages)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        profile.write_text(text.getvalue())
    return times


def measure(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int, str]:
    """Run ``command`` as a child; returns (wall s, peak RSS MB of that child, exit code, its stdout)."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the child writes to it; closed below
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    deadline = start + TIMEOUT_SECONDS
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    out.seek(0)
    text = out.read().decode(errors="replace")
    out.close()
    return wall, usage.ru_maxrss / 1024, process.returncode, text


def environment(work: Path) -> dict[str, str]:
    """Quiet, offline-safe, single-threaded BLAS (2 shared cores), stores under ``work``."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DO_NOT_TRACK": "true",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "PREFECT_HOME": str(work / "prefect"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }


def core_row(config: Path, n: int, work: Path, profile: bool, stages: bool = False) -> dict[str, object]:
    """One size through the core path in a fresh subprocess."""
    profile_path = HERE / "results" / f"long_series_profile_{n}.txt" if profile else None
    command = [sys.executable, __file__, "--child", str(config), *(["--stages"] if stages else [])] + (
        ["--profile-to", str(profile_path)] if profile else []
    )
    wall, peak, code, output = measure(command, environment(work), ROOT)
    stages = json.loads(output.strip().splitlines()[-1]) if code == 0 else {}
    return {"n": n, "path": "core", "wall": wall, "peak": peak, "code": code, "stages": stages, "output": output}


def cli_row(config: Path, n: int, work: Path) -> dict[str, object]:
    """One size through ``python -m flows run`` (Prefect + MLflow) in a fresh subprocess."""
    wall, peak, code, output = measure([sys.executable, "-m", "flows", "run", str(config)], environment(work), work)
    return {
        "n": n,
        "path": "CLI (flow + MLflow)",
        "wall": wall,
        "peak": peak,
        "code": code,
        "stages": {},
        "output": output,
    }


def write_table(rows: list[dict[str, object]], path: Path) -> None:
    lines = [
        "# Long series: the default config's discovery path against the series length",
        "",
        f"`python benchmarks/long_series.py` on 2 shared cores (timings swing about 2x). Lorenz, 3 states, 1 % noise,"
        f" on [0, {T_END:g}]; default discovery config (weak form, 40 bagging resamples, shooting, refinement,"
        " stability check). Each row is a fresh subprocess; peak = that child's `ru_maxrss`. Target: 2e5 samples"
        f" ≤ 1 GB and ≤ 30 s. Exit -9: stopped at the {TIMEOUT_SECONDS} s cap per row. The CLI row's peak is the"
        " CLI process alone (Prefect's temporary server is a process of its own).",
        "",
        "| samples | path | wall (s) | peak memory (MB) | load (s) | differentiate (s) | discover (s) | exit |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        stages = row["stages"]
        cells = [f"{stages[k]:.1f}" if k in stages else "" for k in ("load", "differentiate", "discover")]
        lines.append(
            f"| {row['n']:,} | {row['path']} | {row['wall']:.1f} | {row['peak']:.0f} | {' | '.join(cells)} |"
            f" {row['code']} |"
        )
    traced = [row for row in rows if row["stages"].get("discover_stages")]
    if traced:
        lines += ["", "Discovery stages (`--stages`): wall time (s) / growth of the peak memory (MB) in each:", ""]
        lines += ["| stage | " + " | ".join(f"{row['n']:,}" for row in traced) + " |"]
        lines += ["|---|" + "---:|" * len(traced)]
        for name in STAGES:
            cells = [row["stages"]["discover_stages"].get(name, [0.0, 0.0]) for row in traced]
            lines.append(f"| {name} | " + " | ".join(f"{t:.1f} / {m:.0f}" for t, m in cells) + " |")
        rest = [row["stages"]["discover"] - sum(t for t, _ in row["stages"]["discover_stages"].values()) for row in traced]  # noqa: E501
        label = "| rest (`Judgement.winner`: stability checks; restoring units) | "
        lines.append(label + " | ".join(f"{t:.1f}" for t in rest) + " |")
    lines += ["", "Equations found (core path):", ""]
    lines += [f"- {row['n']:,}: {row['stages'].get('equations', '(failed)')}" for row in rows if row["path"] == "core"]
    failed = [row for row in rows if row["code"] != 0]
    for row in failed:
        lines += [
            "",
            f"Row {row['n']:,} {row['path']} failed (exit {row['code']}):",
            "",
            "```",
            str(row["output"])[-2000:],
            "```",
        ]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 200_000, 1_000_000])
    parser.add_argument("--cli", type=int, nargs="*", default=[200_000], help="Sizes also run through the CLI.")
    parser.add_argument("--profile", action="store_true", help="Write a cProfile summary of each core run.")
    parser.add_argument("--stages", action="store_true", help="Time each discovery stage (and its peak growth).")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "long_series.md")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child_core(args.child, args.profile_to, args.stages)))
        return
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="long_series_") as tmp:
        work = Path(tmp)
        for n in args.sizes:
            config = make_data(work, n)
            rows.append(core_row(config, n, work, args.profile, args.stages))
            print(f"{n}: core {rows[-1]['wall']:.1f} s, {rows[-1]['peak']:.0f} MB, exit {rows[-1]['code']}", flush=True)
            if n in args.cli:
                rows.append(cli_row(config, n, work))
                print(
                    f"{n}: CLI {rows[-1]['wall']:.1f} s, {rows[-1]['peak']:.0f} MB, exit {rows[-1]['code']}", flush=True
                )
            write_table(rows, args.out)


if __name__ == "__main__":
    main()
