#!/usr/bin/env bash
# Build deltaflow's image with podman on a machine with no Docker engine and no registry access:
#   1. a local base image, Debian bookworm with python3.11 (debootstrap, then `podman import`), made once and cached;
#   2. the locked wheels, downloaded on the host with pip (cached) and put into the build context;
#   3. `podman build` installing them offline; prints the image's size and the build time.
#
#   docker/build-local.sh                      # -> localhost/deltaflow:0.1.0 (also: make image)
#
# Environment (all optional):
#   IMAGE            tag to build                        (localhost/deltaflow:0.1.0)
#   BASE_IMAGE       the local base image's tag          (localhost/deltaflow-base:bookworm-py311)
#   DELTAFLOW_CACHE  wheels, base tarball, containers.conf (/var/cache/deltaflow as root, else ~/.cache/deltaflow)
#   PYTHON           a Python 3.11 with pip, to download the wheels (python3.11)
#   DEBIAN_MIRROR    for debootstrap                     (http://deb.debian.org/debian)
#
# Podman runs here with three settings (see docker/README.md): the runc runtime, no default ulimits
# (containers.conf), host networking. Run containers of the image with the same: source the file this script
# prints (`podman-env`) or pass `--runtime runc --network host` and CONTAINERS_CONF yourself.
#
# Exit codes: 0 built; 3 this machine cannot build or run containers (the reason is on stderr); else a failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${IMAGE:-localhost/deltaflow:0.1.0}"
BASE_IMAGE="${BASE_IMAGE:-localhost/deltaflow-base:bookworm-py311}"
if [ "$(id -u)" = 0 ]; then DEFAULT_CACHE=/var/cache/deltaflow; else DEFAULT_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/deltaflow"; fi
CACHE="${DELTAFLOW_CACHE:-$DEFAULT_CACHE}"
PYTHON="${PYTHON:-python3.11}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
EXIT_UNSUPPORTED=3

say() { printf 'build-local: %s\n' "$*" >&2; }
unsupported() { say "cannot build or run containers here: $*"; exit "$EXIT_UNSUPPORTED"; }

ensure_tools() {
    local missing=()
    command -v podman > /dev/null || missing+=(podman)
    command -v runc > /dev/null || missing+=(runc)
    command -v debootstrap > /dev/null || missing+=(debootstrap)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
        unsupported "missing ${missing[*]} (install them as root: apt-get install ${missing[*]})"
    fi
    say "installing ${missing[*]} with apt-get"
    apt-get update -qq > /dev/null || unsupported "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null \
        || unsupported "apt-get install ${missing[*]} failed"
}

configure_podman() {
    mkdir -p "$CACHE"
    # Setting RLIMIT_NOFILE/NPROC in a container is refused here: no default ulimits.
    printf '[containers]\ndefault_ulimits = []\n' > "$CACHE/containers.conf"
    export CONTAINERS_CONF="${CONTAINERS_CONF:-$CACHE/containers.conf}"
    printf 'export CONTAINERS_CONF=%q\n' "$CONTAINERS_CONF" > "$CACHE/podman-env"
    PODMAN=(podman --runtime runc)
}

make_base() {
    if "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
        say "base $BASE_IMAGE: cached"
        return 0
    fi
    local tarball="$CACHE/base-bookworm-py311.tar"
    if [ ! -s "$tarball" ]; then
        [ "$(id -u)" = 0 ] || unsupported "making the base image needs root (debootstrap and chroot)"
        local rootfs="$CACHE/rootfs"
        rm -rf "$rootfs"
        say "debootstrap bookworm into $rootfs (a few minutes, once)"
        debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" > "$CACHE/debootstrap.log" 2>&1 \
            || unsupported "debootstrap failed (tail of $CACHE/debootstrap.log: $(tail -n 3 "$CACHE/debootstrap.log" | tr '\n' ' '))"
        # debootstrap's --include does not resolve these: install them with apt inside the new root.
        chroot "$rootfs" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            python3.11-venv python3.11-distutils > "$CACHE/base-apt.log" 2>&1 \
            || unsupported "apt-get inside the new root failed (see $CACHE/base-apt.log)"
        chroot "$rootfs" apt-get clean
        rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/tmp/*
        tar -C "$rootfs" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
        rm -rf "$rootfs"
    fi
    say "importing $tarball as $BASE_IMAGE"
    "${PODMAN[@]}" import \
        --change 'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV=LANG=C.UTF-8' \
        "$tarball" "$BASE_IMAGE" > /dev/null 2>&1
}

probe_run() {
    local out
    out="$("${PODMAN[@]}" run --rm --network host "$BASE_IMAGE" python3.11 -c 'import sqlite3, ssl, venv; print("ok")' 2>&1)" \
        || unsupported "podman cannot run a container of $BASE_IMAGE: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
}

download_wheels() {
    local wheels="$CACHE/wheels" locks=(-r "$ROOT/docker/requirements.lock" -r "$ROOT/docker/build-tools.lock")
    "$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2> /dev/null \
        || { say "PYTHON=$PYTHON is not a Python 3.11 (the wheels must match the image's interpreter)"; exit 1; }
    mkdir -p "$wheels"
    # Offline first: when every locked wheel is cached, nothing touches the network.
    if "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --no-index --find-links "$wheels" \
        -d "$wheels" "${locks[@]}" > /dev/null 2>&1; then
        say "wheels: all $(find "$wheels" -name '*.whl' | wc -l) cached in $wheels"
        return 0
    fi
    say "downloading the locked wheels into $wheels (log: $CACHE/pip-download.log)"
    "$PYTHON" -m pip download --no-deps --only-binary=:all: -d "$wheels" "${locks[@]}" > "$CACHE/pip-download.log" 2>&1 \
        || { say "pip download failed: $(grep -i error "$CACHE/pip-download.log" | tail -n 3)"; exit 1; }
}

stage_wheels() {
    # Into the build context (hard links when the cache is on the same filesystem); removed again on exit.
    local target="$ROOT/docker/wheels"
    trap 'find "$ROOT/docker/wheels" -name "*.whl" -delete' EXIT
    find "$target" -name '*.whl' -delete
    cp -l "$CACHE"/wheels/*.whl "$target"/ 2> /dev/null || cp "$CACHE"/wheels/*.whl "$target"/
}

build_image() {
    local start end size
    start=$(date +%s)
    say "building $IMAGE from $ROOT (base $BASE_IMAGE)"
    # --format docker keeps the HEALTHCHECK (the OCI format has none); --pull never: no registry here.
    "${PODMAN[@]}" build --network host --format docker --pull=never \
        --build-arg "BASE_IMAGE=$BASE_IMAGE" -f "$ROOT/docker/Dockerfile" -t "$IMAGE" "$ROOT" >&2
    end=$(date +%s)
    size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
    say "built $IMAGE: $((size / 1000000)) MB, build $((end - start)) s"
    # One machine-readable line on stdout (tests/test_image.py reads it); everything else goes to stderr.
    printf 'image=%s size_bytes=%s build_seconds=%s containers_conf=%s\n' \
        "$IMAGE" "$size" "$((end - start))" "$CONTAINERS_CONF"
}

main() {
    local t0=$SECONDS
    ensure_tools
    configure_podman
    # One build at a time per cache (a CI clone and a developer share the base's rootfs and the wheels).
    if command -v flock > /dev/null; then
        exec 9> "$CACHE/build.lock"
        flock -w 3600 9 || { say "another build held $CACHE/build.lock for an hour"; exit 1; }
    fi
    make_base
    probe_run
    download_wheels
    stage_wheels
    build_image
    say "total $((SECONDS - t0)) s (base + wheels + build); podman settings: source $CACHE/podman-env"
}

main "$@"
