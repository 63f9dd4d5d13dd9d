"""The ``rlvr`` command, apart from the library: ``rlvr verifiers | tasks | score | sandbox | train | eval``.

One module per command (``score.py``, ``eval.py``, ``train.py``, ``sandbox.py``, ``catalog.py`` for ``verifiers`` and
``tasks``) plus ``launcher.py`` (accelerate's CPU launch, worked around). Library modules never import this package.
"""

from rlvr.cli.main import main

__all__ = ["main"]
