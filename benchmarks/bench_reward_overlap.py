"""How much grading time the trainer hides behind the log-prob passes (RLVRConfig.overlap_rewards), in one run.

Set-up: a tiny Qwen2 built in code, large enough that its no-grad log-prob passes (reference model, beta > 0, and old
log-probs with num_iterations=2) take measurable time on this CPU; a reward graded in the scoring engine's worker
processes that costs real wall time per distinct answer (``test_shares_chars`` with ``delay``: a stand-in for the code
verifier's sandbox runs, which wait on Docker rather than compute; Docker images are being rebuilt on this shared
machine, so the benchmark does not depend on them). The per-answer delay is calibrated so that grading a batch takes
about as long as its log-prob passes (the case the bar is stated for), unless --delay is given.

Runs alternate overlap on / off with the same seeds; each run trains --steps steps. Printed per run, over its
generation steps after the first (the steps that grade; with num_iterations=2 every other step reuses the batch):
median step time, grading time (time/rewards), the time the step waited for it (time/rewards_wait) and the log-prob
passes (time/logps); then, over runs:
  hidden fraction    = 1 - rewards_wait / rewards, per overlapped step (bar: >= 0.80)
  step-time ratio    = median generation-step time with overlap / without, per on/off pair
and whether each on/off pair ended with identical weights. Results: benchmarks/results/reward_overlap.json.

    python benchmarks/bench_reward_overlap.py [--steps 10] [--repeats 5] [--delay auto]
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
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.overlap_verifiers, for the grader workers

import torch  # noqa: E402
from datasets import Dataset  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, TrainerCallback  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

import tests.overlap_verifiers  # noqa: E402, F401  (registers test_shares_chars)
from rlvr.rewards import VerifierReward  # noqa: E402
from rlvr.scoring import close_all  # noqa: E402
from rlvr.tiny import tiny_model, tiny_tokenizer  # noqa: E402
from rlvr.trainer import RLVRConfig, RLVRTrainer  # noqa: E402

BAR = 0.80
RESULTS = Path(__file__).resolve().parent / "results" / "reward_overlap.json"
BATCH, GROUP, LENGTH = 16, 4, 24


class StepClock(TrainerCallback):
    def __init__(self) -> None:
        self.ends: list[float] = []

    def on_step_end(self, args, state, control, **kwargs):
        self.ends.append(time.perf_counter())


def checkpoint(path: str) -> str:
    tokenizer = tiny_tokenizer()
    model = tiny_model(tokenizer, hidden_size=256, layers=6, heads=8, kv_heads=4, intermediate_size=768)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def run(ckpt: str, steps: int, delay: float, overlap: bool, out: str) -> dict:
    close_all()  # a fresh scorer: no verdict cached by the previous run
    args = RLVRConfig(
        output_dir=out, bf16=False, use_cpu=True, per_device_train_batch_size=BATCH, num_generations=GROUP,
        max_completion_length=LENGTH, max_steps=steps, learning_rate=1e-4, beta=0.04, num_iterations=2,
        report_to=[], logging_steps=1, save_strategy="no", disable_tqdm=True, seed=0, overlap_rewards=overlap,
    )  # fmt: skip
    data = Dataset.from_dict({"prompt": [f"question {i}: " for i in range(64)], "reference": ["aeiou"] * 64})
    trainer = RLVRTrainer(
        model=AutoModelForCausalLM.from_pretrained(ckpt),
        reward_funcs=[VerifierReward("test_shares_chars", delay=delay, workers=1, timeout=60.0)],
        args=args,
        train_dataset=data,
        processing_class=AutoTokenizer.from_pretrained(ckpt),
    )
    trainer.remove_callback(PrinterCallback)
    clock = StepClock()
    trainer.add_callback(clock)
    trainer.train()
    # generation steps only (every other step reuses the batch: num_iterations=2, and has nothing to grade), without
    # the first (warm-up: grader processes start); step k's wall time is the time between the ends of steps k-1, k
    per_step = [e for e in trainer.state.log_history if "time/generation" in e]
    generation = [k for k, e in enumerate(per_step) if k > 0 and e["time/generation"] > 0]
    logs = [per_step[k] for k in generation]
    steps_s = [clock.ends[k] - clock.ends[k - 1] for k in generation]
    return {
        "overlap": overlap,
        "median_step_s": statistics.median(steps_s),
        "rewards_s": [e["time/rewards"] for e in logs],
        "rewards_wait_s": [e["time/rewards_wait"] for e in logs],
        "logps_s": [e["time/logps"] for e in logs],
        "params": {k: v.detach().clone() for k, v in trainer.model.named_parameters()},
    }


def calibrate(ckpt: str, out: str) -> float:
    """A per-answer delay that makes grading a batch last about as long as its log-prob passes."""
    probe = run(ckpt, 3, 0.0, overlap=False, out=out)
    return statistics.median(probe["logps_s"]) / BATCH


def spread(xs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--delay", default="auto", help="grader seconds per distinct answer, or 'auto'")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier on a shared machine)")
    opts = parser.parse_args()
    torch.set_num_threads(opts.threads)
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    runs: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = checkpoint(os.path.join(tmp, "tiny"))
        delay = calibrate(ckpt, os.path.join(tmp, "out")) if opts.delay == "auto" else float(opts.delay)
        print(f"grader delay {delay * 1000:.1f} ms per answer ({BATCH} answers per batch)")
        identical = []
        for repeat in range(opts.repeats):
            pair = {}
            for overlap in (True, False) if repeat % 2 == 0 else (False, True):
                result = run(ckpt, opts.steps, delay, overlap, os.path.join(tmp, "out"))
                pair[overlap] = result
                runs.append(result)
                print(
                    f"repeat {repeat} overlap={'on ' if overlap else 'off'}: step {result['median_step_s']:.3f} s, "
                    f"grading {statistics.median(result['rewards_s']):.3f} s, waited "
                    f"{statistics.median(result['rewards_wait_s']):.3f} s, log-probs "
                    f"{statistics.median(result['logps_s']):.3f} s"
                )
            identical.append(
                all(torch.equal(pair[True]["params"][k], pair[False]["params"][k]) for k in pair[True]["params"])
            )
    close_all()

    on = [r for r in runs if r["overlap"]]
    off = [r for r in runs if not r["overlap"]]
    hidden = [1 - w / g for r in on for g, w in zip(r["rewards_s"], r["rewards_wait_s"], strict=True) if g > 0]
    hidden_plain = [1 - w / g for r in off for g, w in zip(r["rewards_s"], r["rewards_wait_s"], strict=True) if g > 0]
    step_ratio = [a["median_step_s"] / b["median_step_s"] for a, b in zip(on, off, strict=True)]
    logps = [x for r in runs for x in r["logps_s"]]
    grading = [x for r in runs for x in r["rewards_s"]]
    result = {
        "delay_s_per_answer": delay,
        "steps": opts.steps,
        "repeats": opts.repeats,
        "hidden_fraction_with_overlap": spread(hidden),
        "hidden_fraction_without_overlap": spread(hidden_plain),
        "step_time_ratio_on_over_off": spread(step_ratio),
        "step_time_on_s": spread([r["median_step_s"] for r in on]),
        "step_time_off_s": spread([r["median_step_s"] for r in off]),
        "grading_s": spread(grading),
        "logps_s": spread(logps),
        "identical_weights_on_vs_off": identical,
        "bar": BAR,
        "passes": statistics.median(hidden) >= BAR and all(identical),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    h = result["hidden_fraction_with_overlap"]
    r = result["step_time_ratio_on_over_off"]
    print(
        f"grading hidden with overlap: median {h['median']:.2f} (min {h['min']:.2f}, max {h['max']:.2f}); "
        f"without: median {result['hidden_fraction_without_overlap']['median']:.2f}; bar >= {BAR} -> "
        f"{'PASS' if result['passes'] else 'FAIL'}"
    )
    print(
        f"step time on/off: median {r['median']:.3f} (min {r['min']:.3f}, max {r['max']:.3f}); identical weights "
        f"on vs off: {identical}"
    )
    return 0 if result["passes"] else 1


if __name__ == "__main__":
    sys.exit(main())
