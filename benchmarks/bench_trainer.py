"""Step time of RLVRTrainer against TRL's own GRPOTrainer for the same loss, same model/data/seeds.

Default: RLVRTrainer(policy_loss="gspo") against TRL's sequence-level loss_type="grpo"; with --loss X (a TRL loss
name), RLVRConfig(loss_type=X) against GRPOConfig(loss_type=X).

Both trainers start from the same tiny checkpoint, see the same prompts with the same seed and the same reward, and
run N optimizer steps; runs are interleaved (TRL, ours, ours, TRL, ...) so that load on this shared machine hits
both alike. Printed: per-run seconds per step, the ratio of median step times ours / TRL (bar: at most 1.10), whether our run
updated the parameters, and the largest parameter difference between the two runs (the losses are the same, so the
trained weights should agree to float precision). Results go to benchmarks/results/trainer.json (trainer_mu<N>.json
with --num-iterations N, trainer_<loss>.json with --loss).

    python benchmarks/bench_trainer.py [--steps 12] [--repeats 7] [--completion-length 16] [--num-iterations 1]
                                       [--loss dapo]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRL_TELEMETRY", "0")
os.environ.setdefault("WANDB_DISABLED", "true")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")

import torch  # noqa: E402
from datasets import Dataset  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, TrainerCallback  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

from rlvr.tiny import save_tiny_checkpoint  # noqa: E402
from rlvr.trainer import RLVRConfig, RLVRTrainer  # noqa: E402

BAR = 1.10
RESULTS = Path(__file__).resolve().parent / "results" / "trainer.json"


def distinct_chars(completions, **kwargs):
    return [float(len(set(c))) for c in completions]


class StepClock(TrainerCallback):
    """Wall time at the end of each optimizer step: steady-state step time, without trainer set-up and tear-down."""

    def __init__(self) -> None:
        self.ends: list[float] = []

    def on_step_end(self, args, state, control, **kwargs):
        self.ends.append(time.perf_counter())


def common_args(out: str, steps: int, completion_length: int, num_iterations: int, loss: str | None) -> dict:
    return dict(
        output_dir=out,
        bf16=False,
        use_cpu=True,
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=completion_length,
        max_steps=steps,
        learning_rate=1e-3,
        epsilon=3e-4 if loss is None else 0.2,  # GSPO paper's clip range
        epsilon_high=4e-4 if loss is None else 0.28,
        report_to=[],
        logging_steps=1,
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
        num_iterations=num_iterations,  # > 1: reused batches, old log-probs and a ratio that moves off 1
    )


def run(kind: str, checkpoint: str, dataset: Dataset, opts: argparse.Namespace, steps: int):
    """Train ``steps`` steps; returns (seconds per step, initial params, final params)."""
    with tempfile.TemporaryDirectory() as out:
        args = common_args(out, steps, opts.completion_length, opts.num_iterations, opts.loss)
        if opts.loss is not None:
            config_cls, cls = (RLVRConfig, RLVRTrainer) if kind == "ours" else (GRPOConfig, GRPOTrainer)
            config = config_cls(loss_type=opts.loss, **args)
        elif kind == "ours":
            config, cls = RLVRConfig(policy_loss="gspo", **args), RLVRTrainer
        else:
            config, cls = GRPOConfig(importance_sampling_level="sequence", loss_type="grpo", **args), GRPOTrainer
        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        model = AutoModelForCausalLM.from_pretrained(checkpoint)
        before = {k: v.detach().clone() for k, v in model.named_parameters()}
        trainer = cls(
            model=model, reward_funcs=[distinct_chars], args=config, train_dataset=dataset, processing_class=tokenizer
        )
        trainer.remove_callback(PrinterCallback)  # keep the output to the benchmark's own lines
        clock = StepClock()
        trainer.add_callback(clock)
        trainer.train()
        seconds = (clock.ends[-1] - clock.ends[0]) / max(len(clock.ends) - 1, 1)  # steps 2..N; step 1 warms up
        after = {k: v.detach().clone() for k, v in model.named_parameters()}
    return seconds, before, after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--completion-length", type=int, default=16)
    parser.add_argument("--num-iterations", type=int, default=1, help="GRPO's mu: updates per generated batch")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier on a shared machine)")
    parser.add_argument("--loss", default=None, help="a TRL loss name: loss_type=X on both sides (default: gspo)")
    opts = parser.parse_args()
    torch.set_num_threads(opts.threads)
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    dataset = Dataset.from_dict({"prompt": [f"question {i}: " for i in range(64)]})
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = save_tiny_checkpoint(os.path.join(tmp, "tiny"))
        run("ours", checkpoint, dataset, opts, 1)  # warm-up: imports, allocator, first-call costs
        times: dict[str, list[float]] = {"trl": [], "ours": []}
        for repeat in range(opts.repeats):
            order = ("trl", "ours") if repeat % 2 == 0 else ("ours", "trl")
            finals = {}
            for kind in order:
                seconds, before, after = run(kind, checkpoint, dataset, opts, opts.steps)
                times[kind].append(seconds)
                finals[kind] = (before, after)
            print(f"repeat {repeat}: trl {times['trl'][-1]:.3f} s/step, ours {times['ours'][-1]:.3f} s/step")

    before, ours_after = finals["ours"]
    changed = sum(not torch.equal(before[k], ours_after[k]) for k in before)
    trl_after = finals["trl"][1]
    max_diff = max((ours_after[k] - trl_after[k]).abs().max().item() for k in ours_after)
    ratios = [o / t for o, t in zip(times["ours"], times["trl"], strict=True)]
    ratio = statistics.median(times["ours"]) / statistics.median(times["trl"])  # steadier than a median of ratios
    result = {
        "steps": opts.steps,
        "repeats": opts.repeats,
        "completion_length": opts.completion_length,
        "threads": opts.threads,
        "num_iterations": opts.num_iterations,
        "loss": opts.loss or "gspo (TRL: grpo, sequence level)",
        "trl_seconds_per_step": times["trl"],
        "ours_seconds_per_step": times["ours"],
        "ratio_per_repeat": ratios,
        "ratio_of_medians": ratio,
        "bar": BAR,
        "passes": ratio <= BAR,
        "ours_params_changed": changed,
        "params_total": len(before),
        "max_abs_param_diff_vs_trl": max_diff,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    path = RESULTS if opts.num_iterations == 1 else RESULTS.with_name(f"trainer_mu{opts.num_iterations}.json")
    if opts.loss is not None:
        path = path.with_name(f"{path.stem}_{opts.loss}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"ours/trl median step time: {ratio:.3f} (bar <= {BAR}) -> {'PASS' if ratio <= BAR else 'FAIL'}; "
        f"medians trl {statistics.median(times['trl']):.3f} s, ours {statistics.median(times['ours']):.3f} s"
    )
    print(
        f"our run updated {changed}/{len(before)} parameter tensors; max |ours - trl| after training: {max_diff:.2e}"
    )
    return 0 if ratio <= BAR and changed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
