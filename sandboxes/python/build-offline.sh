#!/usr/bin/env bash
# Build the rlvr Python sandbox image with no container registry.
#
# 1. base image (once): a minimal Debian bookworm root filesystem made by debootstrap --variant=minbase from Debian
#    packages (python3-minimal + the standard library + python3-numpy), slimmed, and loaded with `docker import`.
# 2. the image: sandboxes/python/Dockerfile built FROM that base (a COPY of worker.py; seconds, no network).
#
#   sudo bash sandboxes/python/build-offline.sh [TAG]       # default: $RLVR_SANDBOX_IMAGE or rlvr-sandbox-python:latest
#   MIRROR=http://ftp.de.debian.org/debian sudo -E bash sandboxes/python/build-offline.sh
#   REBUILD_BASE=1 ...                                       # redo the debootstrap step
# Needs root, debootstrap, a Docker daemon that answers, and an apt mirror for step 1.
set -euo pipefail

TAG="${1:-${RLVR_SANDBOX_IMAGE:-rlvr-sandbox-python:latest}}"
BASE="${RLVR_SANDBOX_BASE:-rlvr-sandbox-base:bookworm-numpy}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SUITE="${SUITE:-bookworm}"
HERE="$(cd "$(dirname "$0")" && pwd)"
say() { echo "build-offline.sh: $*" >&2; }

docker info >/dev/null 2>&1 || { say "no Docker daemon answers; run: sudo bash sandboxes/setup-docker.sh"; exit 1; }

if [[ -n "${REBUILD_BASE:-}" ]] || ! docker image inspect "$BASE" >/dev/null 2>&1; then
    [[ $EUID -eq 0 ]] || { say "run as root (debootstrap needs it)"; exit 1; }
    command -v debootstrap >/dev/null || { say "debootstrap missing: apt-get install -y debootstrap"; exit 1; }
    ROOT="$(mktemp -d /tmp/rlvr-rootfs.XXXXXX)"
    trap 'rm -rf "$ROOT"' EXIT
    say "debootstrap $SUITE (minbase + python3 + numpy) from $MIRROR into $ROOT"
    debootstrap --variant=minbase --include=python3-minimal,libpython3.11-stdlib,python3-numpy "$SUITE" "$ROOT" "$MIRROR" >&2
    # Nothing inside needs apt, docs, locales or the package caches once built; less inside is less to attack.
    rm -rf "$ROOT"/var/cache/apt/* "$ROOT"/var/lib/apt/lists/* "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* \
           "$ROOT"/usr/share/locale/* "$ROOT"/usr/share/info/* "$ROOT"/var/log/*
    chroot "$ROOT" /usr/bin/python3 -c 'import json, resource, select, struct, numpy' # the worker's imports, numpy
    say "importing $BASE"
    tar -C "$ROOT" -c . | docker import --change 'CMD ["/usr/bin/python3"]' - "$BASE" >/dev/null
fi

SHA="$(cat "$HERE/Dockerfile" "$HERE/worker.py" | sha256sum | cut -d' ' -f1)"
say "building $TAG FROM $BASE (worker $SHA)"
# The legacy builder needs no registry once BASE is local (BuildKit would try to resolve it remotely).
if ! out="$(DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$BASE" --build-arg "WORKER_SHA256=$SHA" \
        -t "$TAG" "$HERE" 2>&1)"; then
    echo "$out" >&2; say "docker build failed"; exit 1
fi
say "built $TAG"
