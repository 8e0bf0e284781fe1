"""The container image: build time (cached, or from nothing with ``--cold``) and what its size is made of.

    python benchmarks/image.py [--cold]

Runs ``docker/build-local.sh`` (podman, local Debian base, offline wheels; root or a cached base needed) and
times it; then measures the image's parts inside a container of it (``du``: the base, the venv, its largest
packages, the compiled bytecode). ``--cold`` builds in a throwaway podman storage and cache (debootstrap, wheel
download and every layer from nothing; removed afterwards). Writes benchmarks/results/image.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SITE = "/opt/venv/lib/python3.11/site-packages"
MEASURE = (
    f"du -sm /opt/venv /usr | sed 's/^/dir /'; cd {SITE} && du -sm * | sort -rn | head -10 | sed 's/^/pkg /'; "
    "find /opt/venv -name '*.pyc' -printf '%s\\n' | awk '{s+=$1} END {printf \"pyc %d\\n\", s/1e6}'"
)


def build(env: dict[str, str]) -> tuple[dict[str, str], float]:
    """Run build-local.sh; return its machine-readable facts and the wall time in seconds."""
    start = time.perf_counter()
    out = subprocess.run(["bash", str(ROOT / "docker" / "build-local.sh")], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"build-local.sh exited {out.returncode}: {out.stderr[-2000:]}")
    facts = dict(part.split("=", 1) for part in out.stdout.strip().splitlines()[-1].split())
    return facts, seconds


def parts(image: str, env: dict[str, str]) -> list[tuple[str, int]]:
    """(what, MB) rows measured inside a container of ``image``."""
    out = subprocess.run(
        ["podman", "--runtime", "runc", "run", "--rm", "--network", "host", "--no-healthcheck", image, "sh", "-c",
         MEASURE],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = []
    for line in out.stdout.splitlines():
        kind, size, *name = line.split()
        if kind == "dir":
            label = f"`{name[0]}`"
        elif kind == "pkg":
            label = f"venv: {name[0]}"
        else:
            label = "venv: compiled bytecode (all packages)"
        rows.append((label, int(size)))
    return rows


def write(facts: dict[str, str], seconds: float, rows: list[tuple[str, int]], cold: bool) -> Path:
    """The results table in benchmarks/results/image.md."""
    lines = [
        "# The container image: size and build time",
        "",
        f"`python benchmarks/image.py{' --cold' if cold else ''}`: `docker/build-local.sh` with podman "
        f"({'from nothing: debootstrap, wheel download, every layer' if cold else 'with its cache'}); "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| image | {facts['image']} |",
        f"| size (MB) | {int(facts['size_bytes']) / 1e6:.0f} |",
        f"| podman build (s) | {facts['build_seconds']} |",
        f"| whole script (s) | {seconds:.0f} |",
        "",
        "| part | MB |",
        "|---|---|",
        *[f"| {label} | {size} |" for label, size in rows],
    ]
    path = HERE / "results" / "image.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="build from nothing in a throwaway storage and cache")
    args = parser.parse_args()
    env = {**os.environ, "IMAGE": "localhost/deltaflow:bench"}
    scratch = Path(tempfile.mkdtemp(prefix="deltaflow-image-")) if args.cold else None
    if scratch:
        (scratch / "storage.conf").write_text(
            f'[storage]\ndriver = "overlay"\ngraphroot = "{scratch}/graph"\nrunroot = "{scratch}/run"\n'
        )
        env.update(CONTAINERS_STORAGE_CONF=str(scratch / "storage.conf"), DELTAFLOW_CACHE=str(scratch / "cache"))
    try:
        facts, seconds = build(env)
        rows = parts(facts["image"], {**env, "CONTAINERS_CONF": facts["containers_conf"]})
        print(write(facts, seconds, rows, args.cold).read_text())
    finally:
        if scratch:
            subprocess.run(["podman", "rmi", "--all", "--force"], env=env, capture_output=True)
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
