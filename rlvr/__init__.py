"""rlvr: reinforcement learning with verifiable rewards.

    import rlvr
    rlvr.verify("math", "... so the answer is \\boxed{\\frac{1}{2}}", "0.5")   # Verdict(reward=1.0, status='correct', ...)
"""

from rlvr.registry import DuplicateNameError, RegistryError, UnknownNameError
from rlvr.scoring import Scorer, score
from rlvr.verifiers import VERIFIERS, Verdict, Verifier, get_verifier, register_verifier, verify

__version__ = "0.1.0"

__all__ = [
    "VERIFIERS",
    "DuplicateNameError",
    "RegistryError",
    "Scorer",
    "UnknownNameError",
    "Verdict",
    "Verifier",
    "get_verifier",
    "register_verifier",
    "score",
    "verify",
]
