"""The sandbox pool's life cycle against a real Docker daemon: check, replacement, faults, and clean-up on every exit."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest

from rlvr import sandbox
from rlvr.sandbox import Job, SandboxConfig, SandboxFault, SandboxPool, SandboxUnavailable
from tests.conftest import require_sandbox

pytestmark = pytest.mark.docker

ADD = Job("call", "def add(a, b):\n    return a + b\n", [[1, 2]], time_limit=5, fn_name="add")


@pytest.fixture(scope="module")
def client():
    return require_sandbox()


def labelled(client, **match: str) -> list:
    found = sandbox.labelled_containers(client)
    return [c for c in found if all((c["Labels"] or {}).get(f"{sandbox.LABEL}.{k}") == v for k, v in match.items())]


def wait_gone(client, ids: list[str], seconds: float = 15.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [c["Id"] for c in client.api.containers(all=True) if c["Id"] in ids]
        if not left:
            return []
        time.sleep(0.2)
    return left


def test_rlvr_sandbox_check_round_trips(client, capsys):
    from rlvr.cli import main as cli_main

    assert cli_main(["sandbox", "check"]) == 0
    out = capsys.readouterr().out
    assert "ok  daemon" in out and "ok  round trip add(2, 3) -> 5" in out


def test_box_is_replaced_after_n_jobs(client):
    with SandboxPool(SandboxConfig(containers=1, jobs_per_container=2)) as pool:
        first = pool.containers()
        for _ in range(3):
            assert pool.run(ADD)[0].result == "3"
        assert pool.replaced == 1 and pool.containers() != first


def test_a_dead_box_is_a_fault_then_replaced(client):
    with SandboxPool(SandboxConfig(containers=1)) as pool:
        client.api.kill(pool.containers()[0])
        with pytest.raises(SandboxFault):
            pool.run(ADD)
        assert pool.run(ADD)[0].result == "3"  # a fresh box took the slot


def test_close_removes_every_box(client):
    pool = SandboxPool(SandboxConfig(containers=2))
    ids = pool.containers()
    assert len(labelled(client, pool=pool.id)) == 2
    pool.close()
    assert wait_gone(client, ids) == []


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["kill", "term", "ctrl-c"])
def test_no_box_outlives_its_host_process(client, sig):
    code = (
        "import sys, time\nfrom rlvr.sandbox import SandboxPool, SandboxConfig\n"
        "pool = SandboxPool(SandboxConfig(containers=2))\nprint(' '.join(pool.containers()), flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        ids = proc.stdout.readline().split()
        assert len(ids) == 2
        proc.send_signal(sig)
        proc.wait(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    assert wait_gone(client, ids) == []


def test_stale_boxes_of_dead_owners_are_swept(client):
    dead_owner = f"{socket.gethostname()}:999999999:0"
    c = client.containers.create(
        sandbox.DEFAULT_IMAGE, labels={sandbox.LABEL: "1", f"{sandbox.LABEL}.owner": dead_owner}
    )
    try:
        assert sandbox.sweep_stale(client) >= 1
        assert wait_gone(client, [c.id]) == []
    finally:
        try:
            c.remove(force=True)
        except Exception:
            pass


def test_missing_image_is_a_clear_error(client):
    with pytest.raises(SandboxUnavailable, match="rlvr sandbox build"):
        SandboxPool(SandboxConfig(image="rlvr-test-no-such-image:0"))
