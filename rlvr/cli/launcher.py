"""``accelerate launch --cpu --num_processes N -m rlvr ...``, made to start N processes.

accelerate (up to 1.15 at least) starts CPU workers only through mpirun: without ``--mpirun_hostfile`` its simple
launcher runs the script once, with MASTER_ADDR set (only done for N > 1) and no RANK, so training would silently run
on one process. The command layer detects that case and starts the N workers itself with ``torch.distributed.run``
(gloo), as accelerate does for GPUs. Nothing here is needed once accelerate launches CPU workers on its own.
"""

from __future__ import annotations

import os
import subprocess
import sys


def cpu_launch_processes() -> int | None:
    """N when this process is the single one that ``accelerate launch --cpu --num_processes N`` (N > 1) started.

    N is read from the launcher's command line (our parent process).
    """
    env = os.environ
    if env.get("ACCELERATE_USE_CPU", "").lower() != "true" or "MASTER_ADDR" not in env:
        return None
    if any(k in env for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE")):
        return None
    parent = _parent_command_line()
    if not any("accelerate" in a for a in parent[:3]):
        return None
    return _num_processes(parent)


def _parent_command_line() -> list[str]:
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0")]
    except OSError:
        return []


def _num_processes(command_line: list[str]) -> int | None:
    for i, arg in enumerate(command_line):
        value = arg.split("=", 1)[1] if arg.startswith("--num_processes=") else None
        if arg == "--num_processes" and i + 1 < len(command_line):
            value = command_line[i + 1]
        if value is not None and value.isdigit() and int(value) > 1:
            return int(value)
    return None


def launch_cpu_workers(n: int, argv: list[str]) -> int:
    """Run ``python -m rlvr ARGV`` as ``n`` CPU workers with torch.distributed.run (gloo); return their status."""
    port = os.environ.get("MASTER_PORT", "29500")
    print(
        f"rlvr {argv[0]}: accelerate launch --cpu started 1 process for --num_processes {n}; starting {n} CPU "
        "workers with torch.distributed.run",
        file=sys.stderr,
        flush=True,
    )
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(n)]
    cmd += ["--master_addr", os.environ["MASTER_ADDR"], "--master_port", port, "-m", "rlvr", *argv]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    return subprocess.call(cmd, env=env)
