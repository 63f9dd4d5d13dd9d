"""``rlvr train``: one command from a task and a model to a trained checkpoint, a summary and a learning curve.

    rlvr train                                             # the embedded CPU demo (rlvr.demo): no download
    rlvr train --config examples/recipes/qwen2.5-math-1.5b-math-gspo.yaml --max_steps 200 --learning_rate 2e-6
    accelerate launch -m rlvr train --config recipe.yaml   # unchanged under accelerate (one process per device)
    rlvr train --config recipe.yaml --resume               # continue from the last checkpoint in output_dir

The run itself is ``rlvr.train``; this command adds the demo recipe (``rlvr.demo.RECIPE``, used when no model is
named), accelerate's CPU launch (``rlvr.cli.launcher``) and the summary line on stderr.
"""

from __future__ import annotations

import sys
import time
from typing import Any


def run(argv: list[str]) -> int:
    from rlvr.cli.launcher import cpu_launch_processes, launch_cpu_workers

    started = time.time()
    workers = cpu_launch_processes()
    if workers:
        return launch_cpu_workers(workers, ["train", *argv])
    from rlvr import demo, train
    from rlvr.report import summary_line

    summary = train.run(argv, recipe=demo.RECIPE, started=started)
    if summary is not None:  # None on the processes other than the main one
        print(summary_line(summary), file=sys.stderr)
    return 0


def parse(argv: list[str]) -> Any:
    """The parsed command line, as ``rlvr train`` sees it (with the demo recipe's settings)."""
    from rlvr import demo, train

    return train.parse(argv, recipe=demo.RECIPE)
