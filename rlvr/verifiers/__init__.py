"""Built-in verifiers. Importing this package registers ``math``, ``math_verify`` (plain
Math-Verify, for audits), ``format`` and ``code``.

Pure ``(completion, reference) -> Verdict`` functions: nothing here imports the scoring engine, the trainer or torch
(``tests/test_layers.py`` keeps it so). To grade with time limits and worker processes, use ``rlvr.verify`` or
``rlvr.scoring``.
"""

from rlvr.verifiers import code as _code  # noqa: F401  (registers "code"; docker is imported only when it runs)
from rlvr.verifiers import format as _format  # noqa: F401  (registers "format")
from rlvr.verifiers import math as _math  # noqa: F401  (registers "math")
from rlvr.verifiers import math_verify as _math_verify  # noqa: F401  (registers "math_verify")
from rlvr.verifiers.base import (
    VERIFIERS,
    Verdict,
    Verifier,
    get_verifier,
    register_verifier,
)

__all__ = ["VERIFIERS", "Verdict", "Verifier", "get_verifier", "register_verifier"]
