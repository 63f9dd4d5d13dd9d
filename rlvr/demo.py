"""The embedded CPU demo behind a bare ``rlvr train``: a tiny model that visibly learns arithmetic from rewards.

Why the demo is built this way: a randomly initialised model never samples a correct ``\\boxed{85}``, so RL alone
gets zero reward and learns nothing, and a model trained to convergence leaves RL nothing to show. So the demo

1. builds a ~0.5M-parameter Qwen2 model and a character tokenizer in code (``rlvr.tiny``: nothing to download);
2. gives it a supervised warm start on part of the ``demo`` task's train split (AdamW steps on gold completions)
   until greedy accuracy on 200 train-split problems it does not learn from reaches ``warm_start_target``;
3. hands it to ``RLVRTrainer`` with the real ``demo`` task and the real ``math`` verifier (``rlvr.train``);
4. measures greedy accuracy on held-out problems (the ``test`` split, disjoint from ``train``) before and after RL,
   with the ``rlvr eval`` protocol (``EvalCallback``).

What makes the gain large (measured over seeds; ``benchmarks/demo_seeds.py``): almost every wrong answer of the
warm-started model has the right tens digit and a wrong units digit, i.e. the model has not yet learned the table
``(a + b) mod 10``. With the earlier recipe (MLP width 2 x hidden, stop at 25%) RL had to learn that table almost
from nothing, and whether it did within the budget depended on the seed and on float rounding: +18.6 points on one
machine, +50.8 on another. Started from a model that already holds part of the table (stop at 45%, checked every 25
steps so the sharp jump in accuracy is not overshot by much), with an MLP 4 x hidden wide and an RL learning rate
decayed by a cosine (at a constant rate seed 1 swung 0.72-0.81 late in RL), RL completes the table on this CPU:
+27.6 to +40.4 points on seeds 0-4, the same with 1 or 2 threads.

What it does not make robust: another CPU's rounding. Run with AVX2 kernels (``demo_seeds.py --isa avx2``), the same
seeds take other paths and 3 of 5 gain under 25 points (seed 0: +7.4). RL on this tiny model is chaotic: some starts
"click" (0.9 within 200 steps), some never do, and neither the start's accuracy nor its warm-start length predicts
which. Tried and rejected: RL learning rate 1e-3 (collapse), 32 prompts per step, 16 samples per prompt, and
6000 warm-start problems (rescued the AVX2 seeds, broke two native ones). Figures: the README's demo
section and ``benchmarks/results/demo_seeds_cosine.json``.

The demo is a recipe on ``rlvr.train`` (``RECIPE``, the one hook ``rlvr.train.run`` takes): its settings are
``recipes/demo.yaml``, shipped inside the package and read by ``rlvr train`` when no model is named, and the
warm-start settings of ``DemoArguments`` take their defaults from that file. Only the command layer imports this
module; the library never does.

"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from rlvr.files import UsageError, write_json

if TYPE_CHECKING:
    from rlvr.train import Plan, Run

WARM_START_DIR = "warm_start"
RECIPE_FILE = "recipes/demo.yaml"  # inside the rlvr package: found from an install as from a checkout


def recipe_settings() -> dict[str, Any]:
    """The demo recipe: every setting a bare ``rlvr train`` starts from (the YAML and flags override them)."""
    import yaml

    return yaml.safe_load(files("rlvr").joinpath(RECIPE_FILE).read_text(encoding="utf-8"))


_SETTINGS = recipe_settings()


@dataclass
class DemoArguments:
    """The demo's own settings, parsed with the others by ``rlvr train`` (defaults: ``recipes/demo.yaml``)."""

    warm_start_steps: int = field(
        default=_SETTINGS["warm_start_steps"],
        metadata={"help": "Demo: most supervised warm-start steps before RL (0: start RL from the random model)."},
    )
    warm_start_target: float = field(
        default=_SETTINGS["warm_start_target"],
        metadata={
            "help": "Demo: stop the warm start once greedy accuracy on 200 train-split problems it does not "
            "learn from reaches this (checked every warm_start_check_every steps; 0: always run warm_start_steps)."
        },
    )
    warm_start_problems: int = field(
        default=_SETTINGS["warm_start_problems"],
        metadata={"help": "Demo: train-split problems the warm start learns from."},
    )
    demo_hidden_size: int = field(
        default=_SETTINGS["demo_hidden_size"], metadata={"help": "Demo: hidden size of the tiny model."}
    )
    demo_layers: int = field(default=_SETTINGS["demo_layers"], metadata={"help": "Demo: layers of the tiny model."})
    demo_intermediate_size: int = field(
        default=_SETTINGS["demo_intermediate_size"],
        metadata={"help": "Demo: MLP width of the tiny model (wide enough to hold the digit-sum table)."},
    )
    warm_start_check_every: int = field(
        default=_SETTINGS["warm_start_check_every"],
        metadata={"help": "Demo: warm-start steps between two validations (the stopping rule's resolution)."},
    )


class DemoRecipe:
    """The hook ``rlvr.train.run`` takes: applies when no model is named (see ``rlvr.train.Recipe``)."""

    name = "rlvr.tiny (demo, built in code)"
    arguments = DemoArguments

    def defaults(self) -> dict[str, Any]:
        return recipe_settings()

    def check(self, run: Run) -> None:
        if run.task.task != "demo":
            raise UsageError(
                f"task {run.task.task!r} needs a model: pass --model_name_or_path (without one, rlvr train runs the "
                "built-in demo, whose tiny model only learns the 'demo' task)"
            )
        # The demo always measures held-out accuracy before and after RL: an emptied setting means the recipe's.
        run.task.eval_task = run.task.eval_task or _SETTINGS["eval_task"]
        if run.task.eval_task == _SETTINGS["eval_task"]:
            run.task.eval_split = run.task.eval_split or _SETTINGS["eval_split"]
        run.task.eval_problems = run.task.eval_problems or _SETTINGS["eval_problems"]

    def policy(self, run: Run, plan: Plan) -> tuple[Any, Any, dict[str, Any]]:
        return demo_policy(run, plan)


RECIPE = DemoRecipe()


def demo_policy(run: Run, plan: Plan) -> tuple[Any, Any, dict[str, Any]]:
    """Rank 0 builds, warm-starts, evaluates and saves the model; the other ranks (and --resume) load that copy."""
    from accelerate import PartialState

    args: DemoArguments = run.recipe_args
    folder = os.path.join(run.config.output_dir, WARM_START_DIR)
    settings = {
        "steps": args.warm_start_steps,
        "target": args.warm_start_target,
        "problems": args.warm_start_problems,
        "hidden_size": args.demo_hidden_size,
        "layers": args.demo_layers,
        "intermediate_size": args.demo_intermediate_size,
        "check_every": args.warm_start_check_every,
        "seed": run.config.seed,
        "eval_problems": len(plan.evaluator.problems),
    }
    with PartialState().main_process_first():
        saved = load_warm_start(folder, settings)
        if saved is None:
            model, tokenizer = build(
                DemoModel(
                    args.demo_hidden_size,
                    args.demo_layers,
                    intermediate_size=args.demo_intermediate_size,
                    seed=run.config.seed,
                )
            )
            _run_warm_start(run, model, tokenizer)
            before = plan.evaluator.run(model, tokenizer, step=0)
            _say(f"held-out accuracy before RL: {before['accuracy']:.3f} on {before['problems']} problems (greedy)")
            save_warm_start(folder, model, tokenizer, {"settings": settings, "before": before})
        else:
            model, tokenizer, info = saved
            before = info["before"]
    return model, tokenizer, before


def _run_warm_start(run: Run, model: Any, tokenizer: Any) -> None:
    """Fine-tune on the first ``warm_start_problems`` train problems; validate on the next 200 (never the test split)."""
    from rlvr.tasks import load_task

    args: DemoArguments = run.recipe_args
    if args.warm_start_steps <= 0:
        return
    task = load_task("demo", size=args.warm_start_problems + 200, seed=run.config.seed)
    examples = task.examples()
    train, validation = examples[: args.warm_start_problems], examples[args.warm_start_problems :]
    max_tokens = run.config.max_completion_length or 12
    result = warm_start(
        model,
        tokenizer,
        train,
        [task.solution(ex) for ex in train],
        max_steps=args.warm_start_steps,
        target=args.warm_start_target or None,
        check_every=args.warm_start_check_every,
        validate=lambda m: greedy_accuracy(m, tokenizer, validation, max_tokens),
        seed=run.config.seed,
    )
    _say(f"warm start done after {result['steps']} steps (loss {result['loss']:.3f})")


@dataclass(frozen=True)
class DemoModel:
    """Shape of the demo's tiny model (Qwen2 architecture)."""

    hidden_size: int = 128
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    max_positions: int = 64
    intermediate_size: int | None = None  # None: 4 x hidden_size
    seed: int = 0


def build(shape: DemoModel = DemoModel()) -> tuple[Any, Any]:
    """A fresh tiny model and its character tokenizer (``rlvr.tiny``)."""
    from rlvr.tiny import tiny_model, tiny_tokenizer

    tokenizer = tiny_tokenizer()
    model = tiny_model(
        tokenizer,
        hidden_size=shape.hidden_size,
        layers=shape.layers,
        heads=shape.heads,
        kv_heads=shape.kv_heads,
        intermediate_size=shape.intermediate_size or 4 * shape.hidden_size,
        max_positions=shape.max_positions,
        seed=shape.seed,
    )
    return model, tokenizer


def warm_start(
    model: Any,
    tokenizer: Any,
    examples: list[dict[str, Any]],
    completions: list[str],
    *,
    max_steps: int,
    target: float | None = None,
    validate: Callable[[Any], float] | None = None,
    check_every: int = 50,
    lr: float = 3e-3,
    batch_size: int = 64,
    seed: int = 0,
) -> dict[str, Any]:
    """Supervised fine-tuning on (prompt, gold completion) pairs, loss on completion tokens only.

    Stops after ``max_steps``, or earlier, at the first ``check_every`` boundary where ``validate(model)`` (greedy
    accuracy on train-split problems outside the fine-tuning set) reaches ``target``. A fixed step count would not
    do: the accuracy reached after N steps varies a lot with the seed (0.08 to 0.33 after 400 steps), and RL needs a
    start with reward spread. Returns ``{"steps", "loss", "validation"}``.
    """
    import torch

    pairs = [_encode(tokenizer, ex["prompt"], text) for ex, text in zip(examples, completions)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 50))  # short linear warmup
    rng, start, accuracy, step, loss = random.Random(seed), time.time(), None, 0, float("nan")
    model.train()
    for step in range(1, max_steps + 1):
        ids, mask, labels = _batch(rng.sample(pairs, min(batch_size, len(pairs))), tokenizer.pad_token_id)
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        loss = out.loss.item()
        if step % check_every == 0 and validate is not None and target is not None:
            accuracy = validate(model)
            model.train()
            _say(
                f"warm start {step}/{max_steps}: loss {loss:.3f}, validation accuracy {accuracy:.3f} "
                f"(target {target:.2f}) ({time.time() - start:.0f}s)"
            )
            if accuracy >= target:
                break
    return {"steps": step, "loss": loss, "validation": accuracy}


def _say(text: str) -> None:
    print(f"[rlvr demo] {text}", file=sys.stderr, flush=True)


def greedy_accuracy(model: Any, tokenizer: Any, examples: list[dict[str, Any]], max_tokens: int) -> float:
    """Greedy accuracy through the ``rlvr eval`` generator and the task's ``math`` verifier (scoring engine)."""
    from rlvr.generation import HFGenerator, Sampling
    from rlvr.scoring import score

    generator = HFGenerator(model, tokenizer, batch_size=256)
    sampling = Sampling(samples=1, temperature=0.0, max_tokens=max_tokens)
    texts: list[str] = []
    for i in range(0, len(examples), 256):
        chunk = examples[i : i + 256]
        gens = generator.generate([generator.render(ex["prompt"]) for ex in chunk], sampling, seed=0)
        texts += [g[0].text for g in gens]
    verdicts = score("math", texts, [ex["reference"] for ex in examples])
    return sum(v.reward for v in verdicts) / max(1, len(verdicts))


def _encode(tokenizer: Any, prompt: Any, completion: str) -> tuple[list[int], list[int]]:
    text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    prompt_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return prompt_ids, completion_ids


def _batch(pairs: list[tuple[list[int], list[int]]], pad_id: int):
    import torch

    width = max(len(p) + len(c) for p, c in pairs)
    ids = torch.full((len(pairs), width), pad_id)  # (B, T), right padded: loss positions are explicit
    labels = torch.full((len(pairs), width), -100)  # (B, T), -100 = ignored by the LM loss
    mask = torch.zeros((len(pairs), width), dtype=torch.long)  # (B, T)
    for row, (p, c) in enumerate(pairs):
        n = len(p) + len(c)
        ids[row, :n] = torch.tensor(p + c)
        mask[row, :n] = 1
        labels[row, len(p) : n] = torch.tensor(c)
    return ids, mask, labels


def save_warm_start(folder: str, model: Any, tokenizer: Any, info: dict[str, Any]) -> None:
    """Keep the warm-started model beside the run: ``--resume`` and the other ranks of a launch reuse it."""
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    write_json(os.path.join(folder, "demo.json"), info)  # last: load_warm_start trusts a folder that has it


def load_warm_start(folder: str, expect: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]] | None:
    """The saved warm start when it exists and was made with the same settings, else None."""
    path = os.path.join(folder, "demo.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        info = json.load(f)
    if info.get("settings") != expect:
        return None
    from transformers import AutoModelForCausalLM

    from rlvr.generation import load_tokenizer

    tokenizer = load_tokenizer(folder)  # not AutoTokenizer: see rlvr.generation.load_tokenizer
    model = AutoModelForCausalLM.from_pretrained(folder)
    return model, tokenizer, info
