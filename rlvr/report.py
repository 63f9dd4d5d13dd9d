"""What a training run reports: one progress line per log, ``summary.json``, ``log_history.jsonl``, ``curve.png``.

Kept apart from ``rlvr.train`` (which parses, checks and launches) so that the files a run leaves behind are defined
in one short place. Only the main process writes.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from rlvr.files import write_json, write_jsonl

try:
    from transformers import TrainerCallback as _CallbackBase
except ImportError:  # pragma: no cover
    _CallbackBase = object  # type: ignore[assignment,misc]


class Progress(_CallbackBase):  # type: ignore[misc,valid-type]
    """One line per logging step: step, reward, per-verifier rewards, held-out accuracy, speed and time left."""

    def __init__(self, task: str) -> None:
        self.task = task
        self.started = 0.0
        self.first_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.started, self.first_step = time.time(), state.global_step
        if state.is_world_process_zero:
            print(
                f"[rlvr train] task {self.task}: steps {state.global_step} -> {state.max_steps}, "
                f"{args.world_size} process(es), output {args.output_dir}",
                file=sys.stderr,
                flush=True,
            )

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        parts = [f"step {state.global_step}/{state.max_steps}"]
        if "reward" in logs:
            parts.append(f"reward {logs['reward']:.3f}")
            parts += [
                f"{k[8:-5]} {v:.3f}" for k, v in logs.items() if k.startswith("rewards/") and k.endswith("/mean")
            ]
        parts += [f"{k} {v:.3f}" for k, v in logs.items() if k.startswith("eval/") and k.endswith("/accuracy")]
        if len(parts) == 1:
            return
        done = state.global_step - self.first_step
        if done > 0:
            per_step = (time.time() - self.started) / done
            parts.append(f"{per_step:.2f}s/step, {clock(per_step * (state.max_steps - state.global_step))} left")
        print("[rlvr train] " + " | ".join(parts), file=sys.stderr, flush=True)


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def summary_line(summary: dict[str, Any]) -> str:
    line = (
        f"rlvr train: steps={summary['steps']} world_size={summary['world_size']} wall_time={summary['wall_time_s']}s"
    )
    if "accuracy_before" in summary and "accuracy_after" in summary:
        line += (
            f" held-out accuracy {summary['accuracy_before']:.3f} -> {summary['accuracy_after']:.3f} "
            f"on {summary['eval_problems']} problems"
        )
    return line + f" -> {os.path.join(summary['output_dir'], 'summary.json')}"


def write_outputs(folder: str, summary: dict[str, Any], history: list[dict[str, Any]]) -> None:
    os.makedirs(folder, exist_ok=True)
    summary["curve"] = plot_curve(history, summary, os.path.join(folder, "curve.png"))
    write_jsonl(os.path.join(folder, "log_history.jsonl"), history)
    write_json(os.path.join(folder, "summary.json"), summary)  # last: its presence means the run finished


def plot_curve(history: list[dict[str, Any]], summary: dict[str, Any], path: str) -> str:
    """Reward per logged step and held-out accuracy per evaluation, on one chart (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    points = [(h["step"], h["reward"]) for h in history if "reward" in h]
    if points:
        ax.plot(*zip(*points), label="train reward (mean over samples)", color="tab:blue")
    evals = summary.get("eval_history") or []
    if "accuracy_before" in summary and not any(e["step"] == 0 for e in evals):
        evals = [{"step": 0, "accuracy": summary["accuracy_before"]}] + evals
    if evals:
        ax.plot(
            [e["step"] for e in evals],
            [e["accuracy"] for e in evals],
            "o-",
            color="tab:orange",
            label=f"held-out accuracy ({summary.get('eval_task')}, {summary.get('eval_problems')} problems)",
        )
    ax.set_xlabel("RL step")
    ax.set_ylabel("reward / accuracy")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(f"rlvr train: {summary['task']} ({summary['steps']} steps, {summary['world_size']} process(es))")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
