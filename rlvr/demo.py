"""The embedded CPU demo behind a bare ``rlvr train``: a tiny model that visibly learns arithmetic from rewards.

Why the demo is built this way: a randomly initialised model never samples a correct ``\\boxed{85}``, so RL alone
gets zero reward and learns nothing, and a model trained to convergence leaves RL nothing to show. So the demo

1. builds a ~0.3M-parameter Qwen2 model and a character tokenizer in code (``rlvr.tiny``: nothing to download);
2. gives it a short supervised warm start on part of the ``demo`` task's train split (a few hundred AdamW steps on
   gold completions), which leaves it at a middling held-out accuracy (about 30%) where samples at temperature 1 are
   sometimes right and sometimes wrong: the reward spread that GRPO-family losses learn from;
3. hands it to ``RLVRTrainer`` with the real ``demo`` task and the real ``math`` verifier (``rlvr.train``);
4. measures greedy accuracy on held-out problems (the ``test`` split, disjoint from ``train``) before and after RL,
   with the ``rlvr eval`` protocol (``EvalCallback``).

Measured on this project's 2-core CPU (``rlvr train --output_dir D``, defaults, seed 0): the warm start stops after
400 steps (about 15 s) at 0.29 held-out accuracy (500 problems, greedy); 1000 RL steps (lr 3e-4, 8 prompts x 8
samples, about 0.12 s each) raise it to 0.80; 150 s in all. Seeds 1-3 (``--seed``): +24 to +41 points after 800 steps.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

WARM_START_DIR = "warm_start"


@dataclass(frozen=True)
class DemoModel:
    """Shape of the demo's tiny model (Qwen2 architecture)."""

    hidden_size: int = 128
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    max_positions: int = 64
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
        intermediate_size=2 * shape.hidden_size,
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
    from rlvr.eval import HFGenerator, Sampling
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
    with open(os.path.join(folder, "demo.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)


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

    from rlvr.tiny import load_tokenizer

    tokenizer = load_tokenizer(folder)  # not AutoTokenizer: see rlvr.tiny.load_tokenizer
    model = AutoModelForCausalLM.from_pretrained(folder)
    return model, tokenizer, info
