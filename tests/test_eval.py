"""``rlvr eval`` end to end: a tiny checkpoint on the local benchmark files, saved generations, bad input, resume,
and the in-training ``EvalCallback`` on real ``transformers`` training steps.

The data folder is ../shared/data relative to the repository, resolved from this file's location.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rlvr import eval as rlvr_eval
from rlvr import generation
from rlvr.callbacks import EvalCallback
from rlvr.cli import main as cli_main
from rlvr.eval import Problem, evaluate
from rlvr.generation import HFGenerator, Sampling
from rlvr.scoring import Scorer
from rlvr.tiny import save_tiny_checkpoint
from rlvr.verifiers import get_verifier

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))
needs_data = pytest.mark.skipif(not os.path.isdir(DATA), reason=f"offline benchmark data not found at {DATA}")


def eval_main(argv: list[str]) -> int:
    return cli_main(["eval", *argv])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return save_tiny_checkpoint(str(tmp_path_factory.mktemp("tiny") / "ckpt"))


@pytest.fixture(scope="module")
def scorer():
    s = Scorer(get_verifier("math"))
    yield s
    s.close()


def _jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}


# ---------------------------------------------------------------------------------------------- the tiny checkpoint


@needs_data
@pytest.mark.slow
def test_tiny_checkpoint_on_five_benchmarks_exact_command(tiny: str, tmp_path) -> None:
    """The issue's bar, verbatim: 5 benchmarks x 5 problems x 2 samples, 16 new tokens, local data."""
    out = tmp_path / "D"
    cmd = [sys.executable, "-m", "rlvr.cli", "eval", "--model", tiny,
           "--benchmarks", "math500,aime24,aime25,amc23,gsm8k", "--data-dir", os.path.relpath(DATA, REPO),
           "--samples", "2", "--max-tokens", "16", "--limit", "5", "--output-dir", str(out)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert set(results) == {"math500", "aime24", "aime25", "amc23", "gsm8k"}
    for name, r in results.items():
        assert r["problems"] == 5 and r["samples_per_problem"] == 2, name
        for key in ("accuracy", "pass_at_k", "maj_at_k"):
            assert 0.0 <= r[key] <= 1.0, (name, key)
        lo, hi = r["ci95"]
        assert 0.0 <= lo <= r["accuracy"] <= hi <= 1.0, name
        assert r["max_tokens"] == 16 and r["seed"] == 0 and r["model"] == tiny
        assert r["sampling"] == {"temperature": 0.0, "top_p": 1.0, "samples": 2}
        assert r["grader"]["verifier"] == "math" and r["grader"]["math_verify"] and r["grader"]["rlvr"]
        assert "\\boxed{}" in r["template"]["prompt"] and r["template"]["chat_template"] == "tokenizer"
        rows = _jsonl(out / name / "samples.jsonl")
        assert len(rows) == 10
        assert {"id", "sample", "completion", "extracted", "reward", "status"} <= set(rows[0])
        assert all(r["tokens"] <= 16 for r in rows)
    assert (out / "results.png").stat().st_size > 1000
    assert "avg@k" in proc.stdout and "gsm8k" in proc.stdout  # the printed table


@needs_data
def test_greedy_samples_repeat_and_seeded_sampling_reproduces(tiny: str, scorer: Scorer) -> None:
    gen = HFGenerator.load(tiny, batch_size=8)
    problems = rlvr_eval.problems_of(rlvr_eval._load_task("gsm8k", DATA, 3))
    greedy = evaluate(problems, gen, scorer.score, Sampling(samples=2, max_tokens=8), progress=False)
    assert all(rs[0]["completion"] == rs[1]["completion"] for rs in greedy)
    hot = Sampling(samples=3, temperature=1.0, max_tokens=8, seed=7)
    a = evaluate(problems, gen, scorer.score, hot, progress=False)
    b = evaluate(problems, gen, scorer.score, hot, progress=False)
    assert [r["completion"] for rs in a for r in rs] == [r["completion"] for rs in b for r in rs]
    assert len({r["completion"] for r in a[0]}) > 1  # temperature 1 on a random model: the samples differ


# ------------------------------------------------------------------------------------------------ resume on re-run


class _Interrupting(HFGenerator):
    """A real generator that stops (as Ctrl-C would) after ``stop_after`` calls, and counts the prompts it saw."""

    def __init__(self, *args, stop_after: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stop_after = stop_after
        self.calls = 0
        self.prompts = 0

    def generate(self, prompts, sampling, seed):
        if self.stop_after is not None and self.calls >= self.stop_after:
            raise KeyboardInterrupt
        self.calls += 1
        self.prompts += len(prompts)
        return super().generate(prompts, sampling, seed)


@needs_data
def test_an_interrupted_run_resumes_without_regenerating(tiny: str, scorer: Scorer, tmp_path) -> None:
    base = HFGenerator.load(tiny)
    problems = rlvr_eval.problems_of(rlvr_eval._load_task("aime25", DATA, 5))
    sampling = Sampling(samples=2, temperature=1.0, max_tokens=6)
    path = str(tmp_path / "samples.jsonl")
    first = _Interrupting(base.model, base.tokenizer, batch_size=4, stop_after=1)  # 2 problems per call
    with pytest.raises(KeyboardInterrupt):
        evaluate(problems, first, scorer.score, sampling, samples_path=path, progress=False)
    saved = _jsonl(path)
    assert len(saved) == 4 and {r["id"] for r in saved} == {problems[0].id, problems[1].id}
    with open(path, "a") as f:  # a torn write from the moment of the crash
        f.write('{"id": "2", "sample": 0, "compl')
    second = _Interrupting(base.model, base.tokenizer, batch_size=4)
    per_problem = evaluate(problems, second, scorer.score, sampling, samples_path=path, progress=False)
    assert second.prompts == 3  # only the 3 unfinished problems were generated
    assert [rs[0]["id"] for rs in per_problem] == [p.id for p in problems]
    rows = _jsonl(path)
    assert len(rows) == 10 and rows[:4] == saved  # finished problems kept byte for byte


@needs_data
def test_rerun_with_other_settings_is_refused(tiny: str, tmp_path, capsys) -> None:
    args = ["--model", tiny, "--benchmarks", "amc23", "--data-dir", DATA, "--limit", "2", "--max-tokens", "4",
            "--output-dir", str(tmp_path), "--no-progress", "--no-plot"]  # fmt: skip
    assert eval_main(args) == 0
    assert eval_main([*args[:-2], "--limit", "3", "--no-progress", "--no-plot"]) == 0  # more problems: fine
    assert len(_jsonl(tmp_path / "amc23" / "samples.jsonl")) == 3
    capsys.readouterr()
    assert eval_main([*args, "--temperature", "0.7"]) == 2
    err = capsys.readouterr().err
    assert "other settings" in err and "temperature" in err and str(tmp_path / "amc23") in err


# ---------------------------------------------------------------------------------------------- saved generations


def test_grading_saved_generations(tmp_path, capsys) -> None:
    rows = [
        {"id": "a", "reference": "\\frac{1}{2}", "completions": ["\\boxed{0.5}", "\\boxed{1/2}", "\\boxed{3}", "x"]},
        {"id": "b", "reference": "7", "completions": ["\\boxed{5}", "\\boxed{5}", "\\boxed{7}", "\\boxed{7.0}"]},
        {"id": "c", "reference": "10", "completions": ["\\boxed{9}", "\\boxed{8}", "\\boxed{9}", "\\boxed{11}"]},
    ]
    path = tmp_path / "api_model.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    assert eval_main(["--completions", str(path), "--output-dir", str(out), "--no-progress"]) == 0
    r = json.loads((out / "results.json").read_text())["api_model"]
    assert r["problems"] == 3 and r["samples_per_problem"] == 4
    assert r["accuracy"] == pytest.approx((2 / 4 + 2 / 4 + 0) / 3)
    assert r["pass_at_k"] == pytest.approx(2 / 3)
    # a: correct class {0.5, 1/2} (2 votes) beats "3"; b: "5" (2) ties with the correct class {7, 7.0} (2) and was
    # seen first, so the vote is wrong; c: "9" wins and is wrong.
    assert r["maj_at_k"] == pytest.approx(1 / 3)
    samples = _jsonl(out / "api_model" / "samples.jsonl")
    assert len(samples) == 12
    assert [s["status"] for s in samples[:3]] == ["correct", "correct", "wrong"]
    assert samples[3]["status"] in ("wrong", "no_answer")  # "x": whether it counts as an answer is the grader's call
    assert samples[0]["extracted"] == "0.5"
    assert "api_model" in capsys.readouterr().out
    assert (out / "results.png").exists()


def test_grading_saved_generations_with_a_name(tmp_path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps({"id": 1, "reference": "4", "completions": ["\\boxed{4}"]}) + "\n")
    assert eval_main(["--completions", str(path), "--name", "mine", "--output-dir", str(tmp_path), "--no-plot",
                           "--no-progress"]) == 0  # fmt: skip
    assert json.loads((tmp_path / "results.json").read_text())["mine"]["accuracy"] == 1.0


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"id": 1, "reference": "4"}', "missing field 'completions'"),
        ('{"id": 1, "reference": "4", "completions": "\\\\boxed{4}"}', "non-empty list of strings"),
        ('{"id": 1, "reference": "4", "completions": []}', "non-empty list of strings"),
        ("not json", "not valid JSON"),
    ],
)
def test_bad_completions_rows_are_named(tmp_path, capsys, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 0, "reference": "1", "completions": ["\\\\boxed{1}"]}\n' + line + "\n")
    assert eval_main(["--completions", str(path), "--output-dir", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2" in err and message in err


# ------------------------------------------------------------------------------------------------------ bad input


def test_unknown_benchmark_lists_the_known_ones(capsys) -> None:
    assert eval_main(["--model", "x", "--benchmarks", "math500,math5000"]) == 2
    err = capsys.readouterr().err
    assert "unknown benchmark 'math5000'" in err
    for known in ("aime24", "aime25", "amc23", "gsm8k", "math500", "minerva_math", "olympiadbench"):
        assert known in err


def test_a_missing_data_file_names_the_path(tmp_path, capsys) -> None:
    (tmp_path / "gsm8k").mkdir()
    assert eval_main(["--model", "x", "--benchmarks", "gsm8k", "--data-dir", str(tmp_path)]) == 2
    assert str(tmp_path / "gsm8k" / "test.jsonl") in capsys.readouterr().err


@needs_data
def test_a_model_that_cannot_be_loaded_says_why(tmp_path, capsys) -> None:
    empty = tmp_path / "not_a_model"
    empty.mkdir()
    for model, hint in [(str(empty), "the folder exists"), (str(tmp_path / "nowhere"), "no folder")]:
        assert eval_main(["--model", model, "--benchmarks", "aime24", "--data-dir", DATA, "--limit", "1",
                               "--output-dir", str(tmp_path / "o"), "--backend", "hf"]) == 2  # fmt: skip
        err = capsys.readouterr().err
        assert f"could not load model {model!r}" in err and hint in err


def test_vllm_backend_without_vllm_says_what_to_do(capsys) -> None:
    pytest.importorskip("torch")
    if generation._vllm_usable():
        pytest.skip("vLLM and a GPU are present here")
    assert eval_main(["--model", "x", "--benchmarks", "aime24", "--backend", "vllm"]) == 2
    assert "--backend hf" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- training callback


@needs_data
@pytest.mark.slow
def test_eval_callback_logs_the_protocol_during_real_training(tiny: str, tmp_path) -> None:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

    tok = AutoTokenizer.from_pretrained(tiny)
    model = AutoModelForCausalLM.from_pretrained(tiny)
    before = [p.detach().clone() for p in model.parameters()]
    enc = tok(["The answer is \\boxed{18}."] * 8)
    data = Dataset.from_dict({"input_ids": enc["input_ids"], "labels": enc["input_ids"]})
    cb = EvalCallback("gsm8k", tok, every_n_steps=2, samples=2, temperature=1.0, max_tokens=8, limit=3, data_dir=DATA)
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=4, per_device_train_batch_size=2, learning_rate=1e-2,
                             report_to=[], logging_steps=1, save_strategy="no", use_cpu=True, disable_tqdm=True)  # fmt: skip
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[cb])
    cb.bind(trainer)
    trainer.train()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))  # it really trained
    logged = [h for h in trainer.state.log_history if "eval/gsm8k/accuracy" in h]
    assert [h["step"] for h in logged] == [0, 2, 4]  # start, every 2 steps; the end (step 4) is not repeated
    assert [h["step"] for h in trainer.state.log_history if "loss" in h] == [1, 2, 3, 4]  # none lost to the eval log
    for h in logged:
        assert 0.0 <= h["eval/gsm8k/ci95_low"] <= h["eval/gsm8k/accuracy"] <= h["eval/gsm8k/ci95_high"] <= 1.0
        assert 0.0 <= h["eval/gsm8k/pass_at_k"] <= 1.0 and 0.0 <= h["eval/gsm8k/maj_at_k"] <= 1.0
    assert [s["step"] for s in cb.history] == [0, 2, 4] and cb.history[0]["problems"] == 3
    assert cb.history[0]["samples_per_problem"] == 2
    model.train()
    cb.run(model, tok, step=99)
    assert model.training  # evaluation puts the model back in the mode it found


def test_eval_callback_fails_early_on_missing_data(tmp_path) -> None:
    from rlvr.files import UsageError

    with pytest.raises(UsageError, match="test.jsonl"):
        EvalCallback("math500", None, data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="every_n_steps"):
        EvalCallback("math500", None, every_n_steps=0, data_dir=str(tmp_path))


def test_problem_ids_fall_back_to_positions_when_not_unique(tmp_path) -> None:
    from rlvr.tasks import load_task

    path = tmp_path / "dup.jsonl"
    path.write_text("".join(json.dumps({"id": 1, "problem": "p", "answer": str(i)}) + "\n" for i in range(3)))
    problems = rlvr_eval.problems_of(load_task("aime24", data_files=str(path)))
    assert [p.id for p in problems] == ["row0", "row1", "row2"]
    assert all(isinstance(p, Problem) for p in problems)
