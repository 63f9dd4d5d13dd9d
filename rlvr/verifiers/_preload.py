"""Imported once by the scoring engine's forkserver: warms every registered verifier up before workers fork from it.

A worker forked after this starts with math-verify, sympy and the LaTeX parser already loaded and exercised, so a
replacement for a killed worker costs milliseconds, not the ~2 s of CPU a cold import costs.
"""

from rlvr.verifiers.base import VERIFIERS

for _name, _cls in VERIFIERS.items():
    try:
        _cls.warm_up()
    except Exception:  # a warm-up is an optimisation; a verifier that fails it still works (slower) in its worker
        pass
