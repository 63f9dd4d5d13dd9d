#!/usr/bin/env bash
# Build the rlvr Python sandbox image with no container registry: a minimal Debian bookworm root filesystem made by
# debootstrap from Debian packages (python3 and nothing else worth mentioning), imported with `docker import`, and the
# in-box worker copied in. Needs root, debootstrap, a running Docker daemon and an apt mirror.
#
#   sudo bash sandboxes/python/build-offline.sh [TAG]          # default tag: rlvr-sandbox-python:latest
#   MIRROR=http://deb.debian.org/debian sudo -E bash ...        # another mirror
set -euo pipefail

TAG="${1:-${RLVR_SANDBOX_IMAGE:-rlvr-sandbox-python:latest}}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SUITE="${SUITE:-bookworm}"
HERE="$(cd "$(dirname "$0")" && pwd)"

if [[ $EUID -ne 0 ]]; then echo "build-offline.sh: run as root (debootstrap needs it)" >&2; exit 1; fi
command -v debootstrap >/dev/null || { echo "build-offline.sh: apt-get install debootstrap first" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "build-offline.sh: no Docker daemon answers; run sandboxes/setup-docker.sh" >&2; exit 1; }

ROOT="$(mktemp -d /tmp/rlvr-rootfs.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT

echo "build-offline.sh: debootstrap $SUITE (minbase + python3) from $MIRROR into $ROOT" >&2
debootstrap --variant=minbase --include=python3-minimal,libpython3.11-stdlib "$SUITE" "$ROOT" "$MIRROR" >&2

# Slim the tree: nothing inside needs apt, docs, locales or the package caches once built.
rm -rf "$ROOT"/var/cache/apt/* "$ROOT"/var/lib/apt/lists/* "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* \
       "$ROOT"/usr/share/locale/* "$ROOT"/usr/share/info/*
install -d -m 0755 "$ROOT/sandbox"
install -m 0644 "$HERE/worker.py" "$ROOT/sandbox/worker.py"
python_path="$(chroot "$ROOT" /usr/bin/python3 -c 'import sys; print(sys.executable)')"
chroot "$ROOT" /usr/bin/python3 -m py_compile /sandbox/worker.py

tar -C "$ROOT" -c . | docker import \
    --change 'WORKDIR /tmp' \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1' \
    --change "CMD [\"$python_path\", \"-I\", \"-S\", \"/sandbox/worker.py\"]" \
    --change 'LABEL rlvr.sandbox.image=python' \
    - "$TAG" >&2
echo "build-offline.sh: built $TAG" >&2
