"""rlvr: reinforcement learning with verifiable rewards.

import rlvr
rlvr.verify("math", "... so the answer is \\boxed{\\frac{1}{2}}", "0.5")   # Verdict(reward=1.0, status='correct', ...)
"""

from importlib.metadata import PackageNotFoundError, version

from rlvr.registry import DuplicateNameError, RegistryError, UnknownNameError
from rlvr.scoring import Scorer, score, verify
from rlvr.tasks import TASKS, Task, load_task, register_task
from rlvr.verifiers import VERIFIERS, Verdict, Verifier, get_verifier, register_verifier

try:  # one place for the version: pyproject.toml, as installed
    __version__ = version("rlvr")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"

__all__ = [
    "TASKS",
    "VERIFIERS",
    "DuplicateNameError",
    "RegistryError",
    "Scorer",
    "Task",
    "UnknownNameError",
    "Verdict",
    "Verifier",
    "get_verifier",
    "load_task",
    "register_task",
    "register_verifier",
    "score",
    "verify",
]
