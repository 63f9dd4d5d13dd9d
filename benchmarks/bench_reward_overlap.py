"""How much grading time the trainer hides behind the log-prob passes (RLVRConfig.overlap_rewards), in one run.

Set-up: a tiny Qwen2 built in code, large enough that its no-grad log-prob passes (reference model, beta > 0, and old
log-probs with num_iterations=2) take measurable time on this CPU. The reward (``--grader``):

- ``stand-in`` (default): ``test_shares_chars`` with ``delay``, graded in the scoring engine's worker processes, a
  per-answer sleep calibrated so that grading a batch takes about as long as its log-prob passes (unless --delay);
- ``code``: the real ``code`` verifier, the Docker sandbox, on HumanEval's own tests (--humaneval, openai/human-eval's
  HumanEval.jsonl);
- ``math``: the real ``math`` verifier on MATH-500 rows (--math500, /work/shared/data/math500/test.jsonl).

The tiny model writes neither code nor math, so with ``code`` and ``math`` each completion it generates is graded as a
real answer chosen by the completion's text (crc32): for code the row's canonical solution or the row's prompt with
``return None`` as its body, both tagged with the hash so that no two completions share a cache entry; for math the
row's published solution (correct) or another row's (a wrong answer, one of 48). The grader, the sandbox, the
references and the trainer are real; only what the policy says is replaced by real text of the same kind.

Runs alternate overlap on / off with the same seeds; each run trains --steps steps. Printed per run, over its
generation steps after the first (the steps that grade; with num_iterations=2 every other step reuses the batch):
median step time, grading time (time/rewards), the time the step waited for it (time/rewards_wait) and the log-prob
passes (time/logps); then, over runs:
  hidden fraction    = 1 - rewards_wait / rewards, per overlapped step (bar: >= 0.80 where logps >= grading)
  step-time ratio    = median generation-step time with overlap / without, per on/off pair
and whether each on/off pair ended with identical weights. Results: benchmarks/results/reward_overlap.json
(stand-in), reward_overlap_code.json, reward_overlap_math.json.

    python benchmarks/bench_reward_overlap.py [--steps 10] [--repeats 5] [--delay auto]
    python benchmarks/bench_reward_overlap.py --grader code --humaneval HumanEval.jsonl --repeats 3
    python benchmarks/bench_reward_overlap.py --grader math --repeats 3
    python benchmarks/bench_reward_overlap.py --dynamic-sampling [--speculative] --delay 0.05 --repeats 3

With --dynamic-sampling both sides run DAPO dynamic sampling (extra generation rounds when groups have no reward
spread); --speculative adds speculative_resampling to the overlapped side (the next round is generated while a round
is still being graded). With a delay that makes grading outlast the log-prob passes, the two results
(reward_overlap_dapo.json, reward_overlap_dapo_speculative.json) show what speculation hides beyond the passes.
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
import zlib
from collections.abc import Callable
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
RESULTS = Path(__file__).resolve().parent / "results"
BATCH, GROUP, LENGTH = 16, 4, 24
MATH500 = "/work/shared/data/math500/test.jsonl"
PROMPTS = 64
WRONG_CHOICES = 48


class Replay(VerifierReward):
    """A real verifier reward whose answers are real texts picked by each completion's hash (see the docstring)."""

    def __init__(self, verifier: str, answer: Callable[[int, int], str], **kwargs) -> None:
        super().__init__(verifier, **kwargs)
        self.answer = answer

    def _inputs(self, completions, kwargs):
        _, references = super()._inputs(completions, kwargs)
        hashes = [zlib.crc32(repr(c).encode()) for c in completions]
        return [self.answer(row, h) for row, h in zip(kwargs["row"], hashes, strict=True)], references


def humaneval_grader(path: str) -> tuple[Callable[[], VerifierReward], list]:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()][:PROMPTS]
    references = [json.dumps({"test_code": r["test"], "entry_point": r["entry_point"]}) for r in rows]

    def answer(row: int, h: int) -> str:
        r = rows[row]
        body = r["canonical_solution"] if h % 2 == 0 else "    return None\n"
        return f"```python\n{r['prompt']}{body}\n# {h}\n```"

    return lambda: Replay("code", answer, timeout=60.0), references


def math500_grader(path: str) -> tuple[Callable[[], VerifierReward], list]:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]

    def answer(row: int, h: int) -> str:
        if h % 2 == 0:
            return rows[row]["solution"]
        return rows[(row + 1 + (h >> 1) % WRONG_CHOICES) % len(rows)]["solution"]

    return lambda: Replay("math", answer, workers=1, timeout=60.0), [r["answer"] for r in rows[:PROMPTS]]


class StepClock(TrainerCallback):
    def __init__(self) -> None:
        self.ends: list[float] = []

    def on_step_end(self, args, state, control, **kwargs):
        self.ends.append(time.perf_counter())


def checkpoint(path: str, layers: int = 6) -> str:
    tokenizer = tiny_tokenizer()
    model = tiny_model(tokenizer, hidden_size=256, layers=layers, heads=8, kv_heads=4, intermediate_size=768)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def run(
    ckpt: str, steps: int, reward: VerifierReward, references: list, overlap: bool, out: str, dapo: dict | None = None
) -> dict:
    """One training run; ``dapo``: dynamic-sampling options (speculative_resampling applies with overlap only)."""
    close_all()  # a fresh scorer: no verdict cached by the previous run
    extra = {}
    if dapo is not None:
        extra = dict(dynamic_sampling=True, max_resample_rounds=dapo["rounds"])
        extra["speculative_resampling"] = overlap and dapo["speculative"]
    args = RLVRConfig(
        **extra,
        output_dir=out, bf16=False, use_cpu=True, per_device_train_batch_size=BATCH, num_generations=GROUP,
        max_completion_length=LENGTH, max_steps=steps, learning_rate=1e-4, beta=0.04, num_iterations=2,
        report_to=[], logging_steps=1, save_strategy="no", disable_tqdm=True, seed=0, overlap_rewards=overlap,
    )  # fmt: skip
    n = len(references)
    data = Dataset.from_dict(
        {"prompt": [f"question {i}: " for i in range(n)], "reference": references, "row": list(range(n))}
    )
    trainer = RLVRTrainer(
        model=AutoModelForCausalLM.from_pretrained(ckpt),
        reward_funcs=[reward],
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
        "extra_rounds": sum(e.get("dynamic_sampling/extra_rounds", 0) for e in logs),
        "speculative_rounds": [
            sum(e.get(f"dynamic_sampling/speculative_rounds{x}", 0) for e in logs) for x in ("", "_used")
        ],
        "statuses": {k.rsplit("/", 1)[-1]: statistics.mean(e[k] for e in logs) for k in logs[0] if "/status/" in k},
        "params": {k: v.detach().clone() for k, v in trainer.model.named_parameters()},
    }


def stand_in(delay: float) -> tuple[Callable[[], VerifierReward], list]:
    return lambda: VerifierReward("test_shares_chars", delay=delay, workers=1, timeout=60.0), ["aeiou"] * PROMPTS


def calibrate(ckpt: str, out: str) -> float:
    """A per-answer delay that makes grading a batch last about as long as its log-prob passes."""
    make, references = stand_in(0.0)
    probe = run(ckpt, 3, make(), references, overlap=False, out=out)
    return statistics.median(probe["logps_s"]) / BATCH


def spread(xs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grader", choices=("stand-in", "code", "math"), default="stand-in")
    parser.add_argument("--humaneval", help="HumanEval.jsonl (openai/human-eval), for --grader code")
    parser.add_argument("--math500", default=MATH500, help="MATH-500 test.jsonl, for --grader math")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--delay", default="auto", help="stand-in: grader seconds per distinct answer, or 'auto'")
    parser.add_argument("--delay-scale", type=float, default=1.0, help="stand-in: times the calibrated delay")
    parser.add_argument("--layers", type=int, default=6, help="layers of the tiny model (longer log-prob passes)")
    parser.add_argument("--dynamic-sampling", action="store_true", help="DAPO dynamic sampling on both sides")
    parser.add_argument("--speculative", action="store_true", help="with --dynamic-sampling: speculative_resampling")
    parser.add_argument("--rounds", type=int, default=3, help="max_resample_rounds with --dynamic-sampling")
    parser.add_argument("--output", help="file name under benchmarks/results (default: from --grader and the mode)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier on a shared machine)")
    opts = parser.parse_args()
    if opts.grader == "code" and not opts.humaneval:
        parser.error("--grader code needs --humaneval HumanEval.jsonl")
    torch.set_num_threads(opts.threads)
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    runs: list[dict] = []
    identical: list[bool] = []
    delay = None
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = checkpoint(os.path.join(tmp, "tiny"), opts.layers)
        if opts.grader == "code":
            make, references = humaneval_grader(opts.humaneval)
        elif opts.grader == "math":
            make, references = math500_grader(opts.math500)
        else:
            auto = opts.delay == "auto"
            delay = calibrate(ckpt, os.path.join(tmp, "out")) * opts.delay_scale if auto else float(opts.delay)
            print(f"grader delay {delay * 1000:.1f} ms per answer ({BATCH} answers per batch)")
            make, references = stand_in(delay)
        for repeat in range(opts.repeats):
            pair = {}
            for overlap in (True, False) if repeat % 2 == 0 else (False, True):
                dapo = dict(rounds=opts.rounds, speculative=opts.speculative) if opts.dynamic_sampling else None
                result = run(ckpt, opts.steps, make(), references, overlap, os.path.join(tmp, "out"), dapo)
                pair[overlap] = result
                runs.append(result)
                print(
                    f"repeat {repeat} overlap={'on ' if overlap else 'off'}: step {result['median_step_s']:.3f} s, "
                    f"grading {statistics.median(result['rewards_s']):.3f} s, waited "
                    f"{statistics.median(result['rewards_wait_s']):.3f} s, log-probs "
                    f"{statistics.median(result['logps_s']):.3f} s; statuses {result['statuses']}"
                )
            identical.append(
                all(torch.equal(pair[True]["params"][k], pair[False]["params"][k]) for k in pair[True]["params"])
            )
    close_all()
    result = summarize(runs, identical, opts, delay)
    name = {"stand-in": "reward_overlap"}.get(opts.grader, f"reward_overlap_{opts.grader}")
    if opts.dynamic_sampling:
        name += "_dapo_speculative" if opts.speculative else "_dapo"
    name = opts.output or f"{name}.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    report(result)
    return 1 if result["passes"] is False else 0


def hidden_fractions(r: dict, only_covered: bool = False) -> list[float]:
    """1 - waited / grading per graded step of run ``r``; only_covered: only steps whose log-prob passes lasted at
    least as long as the grading (the bar's condition)."""
    steps = zip(r["rewards_s"], r["rewards_wait_s"], r["logps_s"], strict=True)
    return [1 - w / g for g, w, lp in steps if g > 0 and (lp >= g or not only_covered)]


def summarize(runs: list[dict], identical: list[bool], opts, delay: float | None) -> dict:
    on = [r for r in runs if r["overlap"]]
    off = [r for r in runs if not r["overlap"]]
    hidden = [x for r in on for x in hidden_fractions(r)]
    covered = [x for r in on for x in hidden_fractions(r, only_covered=True)]
    per_run = [statistics.median(hidden_fractions(r)) for r in on]
    step_ratio = [a["median_step_s"] / b["median_step_s"] for a, b in zip(on, off, strict=True)]
    statuses = {k: statistics.mean(r["statuses"][k] for r in runs) for k in runs[0]["statuses"]}
    return {
        "grader": opts.grader,
        "dynamic_sampling": opts.dynamic_sampling,
        "speculative_resampling": opts.speculative,
        "extra_rounds_per_run": [r["extra_rounds"] for r in runs],
        "speculative_rounds_generated_used_per_run_with_overlap": [r["speculative_rounds"] for r in on],
        "delay_s_per_answer": delay,
        "layers": opts.layers,
        "steps": opts.steps,
        "repeats": opts.repeats,
        "statuses_mean": statuses,
        "hidden_fraction_with_overlap": spread(hidden),
        "hidden_fraction_with_overlap_per_run_median": spread(per_run),
        "hidden_fraction_where_logps_ge_grading": spread(covered) if covered else None,
        "steps_where_logps_ge_grading": f"{len(covered)}/{len(hidden)}",
        "hidden_fraction_without_overlap": spread([x for r in off for x in hidden_fractions(r)]),
        "step_time_ratio_on_over_off": spread(step_ratio),
        "step_time_on_s": spread([r["median_step_s"] for r in on]),
        "step_time_off_s": spread([r["median_step_s"] for r in off]),
        "grading_s": spread([x for r in runs for x in r["rewards_s"]]),
        "logps_s": spread([x for r in runs for x in r["logps_s"]]),
        "identical_weights_on_vs_off": identical,
        "bar": BAR,
        # the bar is stated for steps whose log-prob passes outlast the grading; with none, it does not apply
        "passes": statistics.median(covered) >= BAR and all(identical) if covered else None,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def report(result: dict) -> None:
    h, r, c = (
        result["hidden_fraction_with_overlap"],
        result["step_time_ratio_on_over_off"],
        result["hidden_fraction_where_logps_ge_grading"],
    )
    covered = "none" if c is None else f"median {c['median']:.2f} (min {c['min']:.2f}, max {c['max']:.2f})"
    print(
        f"[{result['grader']}] grading hidden with overlap: median {h['median']:.2f} (min {h['min']:.2f}, max "
        f"{h['max']:.2f}); on steps where log-probs >= grading ({result['steps_where_logps_ge_grading']}): "
        f"{covered}; without overlap: median {result['hidden_fraction_without_overlap']['median']:.2f}; bar >= "
        f"{BAR} -> {({True: 'PASS', False: 'FAIL'}).get(result['passes'], 'not applicable')}"
    )
    print(
        f"step time on/off: median {r['median']:.3f} (min {r['min']:.3f}, max {r['max']:.3f}); identical weights "
        f"on vs off: {result['identical_weights_on_vs_off']}"
    )


if __name__ == "__main__":
    sys.exit(main())
