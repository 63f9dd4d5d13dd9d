#!/usr/bin/env bash
# Everything the `code` verifier needs on a fresh Debian/Ubuntu machine, idempotently, as root:
#   1. docker.io and debootstrap installed (apt-get, only if missing);
#   2. a Docker daemon that answers (started in the background if none does; log in $RLVR_DOCKERD_LOG);
#   3. the sandbox image $RLVR_SANDBOX_IMAGE (default rlvr-sandbox-python:latest), built offline from Debian packages
#      only when missing or built from another Dockerfile or worker.py.
# Fast (about a second) when all three are already there. `make docker` and `make test` run it.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
IMAGE="${RLVR_SANDBOX_IMAGE:-rlvr-sandbox-python:latest}"
LOG="${RLVR_DOCKERD_LOG:-/var/log/rlvr-dockerd.log}"
say() { echo "setup-docker.sh: $*" >&2; }
as_root() { if [[ $EUID -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root for: $*"; exit 1; fi; }

# 1. packages
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2. daemon (no bridge or NAT: sandbox boxes run with network_mode=none anyway)
if ! docker info >/dev/null 2>&1; then
    say "starting dockerd (log: $LOG)"
    as_root bash -c "nohup dockerd --iptables=false --ip-masq=false --bridge=none >>'$LOG' 2>&1 &"
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { say "dockerd did not answer within 30 s; see $LOG"; tail -20 "$LOG" >&2; exit 1; }
fi

# 3. image, rebuilt only when missing or built from another worker.py
want="$(cat "$HERE/python/Dockerfile" "$HERE/python/worker.py" | sha256sum | cut -d' ' -f1)"
have="$(docker image inspect -f '{{ index .Config.Labels "rlvr.sandbox.worker_sha256" }}' "$IMAGE" 2>/dev/null || true)"
if [[ "$have" != "$want" ]]; then
    say "building $IMAGE (${have:+stale: }${have:-missing})"
    as_root bash "$HERE/python/build-offline.sh" "$IMAGE"
fi
say "ok: daemon answers, $IMAGE is current"
