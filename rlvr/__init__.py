"""rlvr: reinforcement learning with verifiable rewards.

import rlvr
rlvr.verify("math", "... so the answer is \\boxed{\\frac{1}{2}}", "0.5")   # Verdict(reward=1.0, status='correct', ...)
"""

from rlvr.registry import DuplicateNameError, RegistryError, UnknownNameError
from rlvr.scoring import Scorer, score
from rlvr.tasks import TASKS, Task, load_task, register_task
from rlvr.verifiers import VERIFIERS, Verdict, Verifier, get_verifier, register_verifier, verify

__version__ = "0.1.0"

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
