"""Built-in verifiers. Importing this package registers ``math``, ``format`` and ``code``."""

from rlvr.verifiers import format as _format  # noqa: F401  (registers "format")
from rlvr.verifiers import math as _math  # noqa: F401  (registers "math")
from rlvr.verifiers.base import (
    VERIFIERS,
    Verdict,
    Verifier,
    get_verifier,
    register_verifier,
    verify,
)

try:  # the code verifier needs nothing heavy at import time, but is optional while it is being built
    from rlvr.verifiers import code as _code  # noqa: F401
except ImportError:  # pragma: no cover
    pass

__all__ = ["VERIFIERS", "Verdict", "Verifier", "get_verifier", "register_verifier", "verify"]
