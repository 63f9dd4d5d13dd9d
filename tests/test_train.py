"""``rlvr train``: bad input fails fast with exit status 2; real (tiny) runs write checkpoints, summary.json and the curve;
a run killed with SIGKILL resumes from its last checkpoint; two CPU processes under ``accelerate launch`` train as one.

Every run here is the real thing at toy size: the demo's tiny model built in code, the real ``demo`` task, the real
``math`` verifier through the scoring engine, and ``RLVRTrainer`` (TRL's GRPOTrainer) steps.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from rlvr.cli import main as cli_main
from rlvr.train import last_checkpoint

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES = os.path.join(REPO, "examples", "recipes")
# A demo run small enough for tests: a few warm-start steps, a few RL steps, 20 held-out problems.
SMALL = [
    "--warm_start_steps",
    "20",
    "--eval_problems",
    "20",
    "--per_device_train_batch_size",
    "16",
    "--num_generations",
    "4",
    "--logging_steps",
    "2",
]


def main(argv: list[str]) -> int:
    return cli_main(["train", *argv])


def env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": REPO, "OMP_NUM_THREADS": "1"}


def summary(folder) -> dict:
    with open(os.path.join(folder, "summary.json")) as f:
        return json.load(f)


# ----------------------------------------------------------------------------------------------------- bad input


def run_bad(argv, capsys) -> str:
    started = time.time()
    assert main([*argv, "--max_steps", "1"]) == 2  # (a bug here costs one step, not a whole demo)
    assert time.time() - started < 60  # refused before any model is built or any step taken
    return capsys.readouterr().err


def test_unknown_task(tmp_path, capsys):
    err = run_bad(
        ["--task", "no_such_task", "--model_name_or_path", "some/model", "--output_dir", str(tmp_path)], capsys
    )
    assert "unknown task 'no_such_task'" in err and "rlvr tasks" in err
    assert not os.listdir(tmp_path)


def test_missing_dataset_file(tmp_path, capsys):
    missing = str(tmp_path / "nope.jsonl")
    err = run_bad(
        [
            "--task",
            "math_train",
            "--data_files",
            missing,
            "--model_name_or_path",
            "some/model",
            "--output_dir",
            str(tmp_path / "out"),
        ],
        capsys,
    )
    assert f"data file not found: {missing}" in err
    assert not (tmp_path / "out").exists()


def test_reward_function_with_wrong_number_of_values(tmp_path, capsys, monkeypatch):
    (tmp_path / "my_rewards.py").write_text("def one_for_all(prompts, completions, **kwargs):\n    return [1.0]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "out"
    err = run_bad(["--reward_funcs", "my_rewards:one_for_all", "--output_dir", str(out), *SMALL], capsys)
    assert "reward function 'one_for_all' returned 1 values for 2 completions" in err
    assert not (out / "warm_start").exists()  # the demo's warm start never began


MY_TASKS = '''
import rlvr


@rlvr.register_task("test_sums", replace=True)
class Sums(rlvr.Task):
    """Tiny sums from a local file."""

    split = "train"
    verifiers = {"math": 1.0, "no_such_verifier": 0.5}
'''


def test_imports_register_a_task_before_it_is_looked_up(tmp_path, capsys, monkeypatch):
    (tmp_path / "my_tasks.py").write_text(MY_TASKS)
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"problem": "1+1", "answer": 2}\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    err = run_bad(
        [
            "--imports",
            "my_tasks",
            "--task",
            "test_sums",
            "--data_files",
            str(rows),
            "--model_name_or_path",
            "some/model",
            "--output_dir",
            str(tmp_path / "out"),
        ],
        capsys,
    )
    assert "unknown verifier 'no_such_verifier'" in err  # the task was found; its bad verifier is named


def test_unknown_config_key(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text("max_steps: 3\nlearning_rat: 1.0e-5\n")
    err = run_bad(["--config", str(config), "--output_dir", str(tmp_path / "out")], capsys)
    assert "unknown config key 'learning_rat'" in err and str(config) in err


def test_unknown_flag_even_a_prefix_of_a_known_one(tmp_path, capsys):
    err = run_bad(["--learning_rat", "1e-5", "--output_dir", str(tmp_path)], capsys)
    assert "unknown flag --learning_rat" in err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--task_options", '{"no_such_option": 1}'], "has no option 'no_such_option'"),
        (["--task_options", "[1]"], "expected a JSON object"),
        (["--resume"], "no complete checkpoint-N folder"),
        (["--model_name_or_path", "", "--task", "math500"], "needs a model"),
        (["--reward_weights", "1.0", "2.0"], "reward_weights has 2 values but there are 1 reward functions"),
        (["--reward_funcs", "no_such_module:f"], "cannot import it"),
        (["--imports", "no_such_module"], "--imports 'no_such_module': cannot import it"),
        (["--eval_task", "no_such_benchmark"], "unknown task 'no_such_benchmark'"),
        (["--model_name_or_path", "/nonexistent/model"], "could not load model '/nonexistent/model'"),
    ],
    ids=[
        "task_option",
        "task_options_json",
        "resume_nothing",
        "task_without_model",
        "weights",
        "import",
        "imports",
        "eval_task",
        "model",
    ],
)
def test_other_bad_input(tmp_path, capsys, extra, message):
    err = run_bad(["--output_dir", str(tmp_path / "out"), *SMALL, *extra], capsys)
    assert message in err


def test_missing_config_file(tmp_path, capsys):
    assert "config file not found" in run_bad(["--config", str(tmp_path / "nope.yaml")], capsys)


def test_every_recipe_parses():
    """Recipes name real models and hub data; their keys must all be known to the parser (no download here)."""
    from rlvr.cli.train import parse

    recipes = sorted(f for f in os.listdir(RECIPES) if f.endswith(".yaml"))
    assert len(recipes) >= 3
    for name in recipes:
        run = parse(
            [
                "--config",
                os.path.join(RECIPES, name),
                "--output_dir",
                "/tmp/unused",
                "--use_cpu",
                "true",
                "--bf16",
                "false",
                "--use_vllm",
                "false",
            ]
        )
        assert run.config.max_steps > 0, name


def test_a_bare_rlvr_train_runs_the_packaged_demo_recipe():
    """No config, no model: every setting of rlvr/recipes/demo.yaml (package data) reaches the run; the examples copy
    is the same recipe; a flag still overrides it."""
    from rlvr import demo
    from rlvr.cli.train import parse

    recipe = demo.recipe_settings()
    run = parse(["--output_dir", "/tmp/unused"])
    parsed = {**vars(run.config), **vars(run.task), **vars(run.recipe_args)}
    assert run.recipe is demo.RECIPE and len(recipe) > 20
    recipe["report_to"] = [] if recipe["report_to"] == "none" else recipe["report_to"]  # as TrainingArguments keeps it
    wrong = {k: (v, parsed[k]) for k, v in recipe.items() if k != "output_dir" and parsed[k] != v}
    assert not wrong, wrong
    example = parse(["--config", os.path.join(RECIPES, "demo.yaml"), "--output_dir", "/tmp/unused"])
    assert example.config.to_dict() == run.config.to_dict() and example.task == run.task
    assert parse(["--max_steps", "7", "--warm_start_steps", "3"]).config.max_steps == 7


def test_warm_start_stops_at_the_validation_target_and_lowers_the_loss():
    from rlvr import demo
    from rlvr.tasks import load_task

    model, tokenizer = demo.build(demo.DemoModel(hidden_size=32, layers=1))
    task = load_task("demo", size=64)
    examples = task.examples()
    checks: list[int] = []
    gold = [task.solution(e) for e in examples]
    untrained = demo.warm_start(model, tokenizer, examples, gold, max_steps=1, batch_size=8)["loss"]

    def validate(m) -> float:  # reaches the target at the third check
        checks.append(1)
        return 0.1 * len(checks)

    result = demo.warm_start(
        model,
        tokenizer,
        examples,
        gold,
        max_steps=100,
        target=0.3,
        validate=validate,
        check_every=6,
        batch_size=8,
        lr=1e-2,
    )
    assert result["steps"] == 18 and len(checks) == 3 and result["validation"] == pytest.approx(0.3)
    assert result["loss"] < untrained - 0.5
    assert demo.greedy_accuracy(model, tokenizer, examples[:8], max_tokens=12) == 0.0  # 19 steps know no sums


def test_last_checkpoint_skips_an_incomplete_one(tmp_path):
    for step, complete in [(10, True), (20, True), (30, False)]:
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        if complete:
            (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    (tmp_path / "checkpoint-40").write_text("not a folder")
    assert last_checkpoint(str(tmp_path)) == str(tmp_path / "checkpoint-20")
    assert last_checkpoint(str(tmp_path / "missing")) is None


# ------------------------------------------------------------------------------------------------------ real runs


@pytest.mark.slow
def test_small_demo_run_writes_checkpoints_summary_and_curve(tmp_path):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "rlvr",
        "train",
        "--output_dir",
        str(out),
        "--max_steps",
        "4",
        "--save_steps",
        "2",
        "--eval_steps",
        "2",
        *SMALL,
    ]
    proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = summary(out)
    assert s["steps"] == 4 and s["world_size"] == 1 and s["resumed_from_step"] is None
    assert s["eval_problems"] == 20 and 0.0 <= s["accuracy_before"] <= 1.0 and 0.0 <= s["accuracy_after"] <= 1.0
    assert [e["step"] for e in s["eval_history"]] == [0, 2, 4]
    assert s["wall_time_s"] > 0 and s["task"] == "demo"
    assert (out / "checkpoint-4" / "trainer_state.json").is_file() and (out / "model.safetensors").is_file()
    assert (out / "curve.png").stat().st_size > 5000
    assert "[rlvr train] step 4/4" in proc.stderr and "held-out accuracy" in proc.stderr


@pytest.mark.slow
def test_sigkill_after_first_checkpoint_then_resume_finishes(tmp_path):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "rlvr",
        "train",
        "--output_dir",
        str(out),
        "--max_steps",
        "30",
        "--save_steps",
        "10",
        *SMALL,
    ]
    proc = subprocess.Popen(
        cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )  # its own process group: the kill takes the grader workers too
    first = out / "checkpoint-10" / "trainer_state.json"
    deadline = time.time() + 300
    while not first.is_file() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert first.is_file(), proc.stderr.read().decode()[-3000:] if proc.poll() is not None else "no checkpoint"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL and not (out / "summary.json").exists()

    resumed = subprocess.run([*cmd, "--resume"], env=env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    s = summary(out)
    assert s["steps"] == 30 and 10 <= s["resumed_from_step"] < 30
    assert "accuracy_before" in s and "accuracy_after" in s  # the demo's before-RL figure survives the kill


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes(tmp_path):
    out = tmp_path / "run"
    cmd = [
        "accelerate",
        "launch",
        "--cpu",
        "--num_processes",
        "2",
        "--main_process_port",
        "29517",
        "-m",
        "rlvr",
        "train",
        "--output_dir",
        str(out),
        "--max_steps",
        "4",
        *SMALL,
    ]
    proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = summary(out)
    assert s["world_size"] == 2 and s["steps"] == 4


@pytest.mark.slow
def test_yaml_config_with_a_checkpoint_and_flag_overrides(tmp_path):
    """The general path: a model by path, a YAML recipe, flags that override it, periodic eval on another split."""
    from rlvr.tiny import save_tiny_checkpoint

    model = save_tiny_checkpoint(str(tmp_path / "tiny"), hidden_size=32, layers=1)
    config = tmp_path / "recipe.yaml"
    config.write_text(
        "\n".join(
            [
                f"model_name_or_path: {model}",
                "task: demo",
                "task_options: {size: 64, max_operand: 9}",
                "eval_task: demo",
                "eval_split: test",
                "eval_problems: 8",
                "eval_steps: 1",
                "max_steps: 50",
                "max_completion_length: 8",
                "per_device_train_batch_size: 8",
                "num_generations: 4",
                "learning_rate: 1.0e-3",
                "bf16: false",
                "activation_checkpointing: false",
                "report_to: none",
                "policy_loss: gspo",
                "save_steps: 100",
                "logging_steps: 1",
            ]
        )
    )
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "rlvr",
        "train",
        "--config",
        str(config),
        "--max_steps",
        "2",
        "--output_dir",
        str(out),
    ]
    proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = summary(out)
    assert s["steps"] == 2 and s["policy_loss"] == "gspo" and s["model"] == model  # the flag beat the YAML
    assert s["eval_task"] == "demo" and [e["step"] for e in s["eval_history"]] == [0, 1, 2]
    assert "accuracy_before" not in s or s["accuracy_before"] == s["eval_history"][0]["accuracy"]


# Measured over seeds 0-4 on this CPU's kernels and on AVX2 kernels (another CPU's rounding; README,
# benchmarks/results/demo_seeds_cosine.json): +27.6 points at the least on this CPU (the default seed 0: +40.4, with
# 1 or 2 threads alike), but +7.4 for seed 0 on AVX2 kernels, where the run takes another path. The test asks for a
# margin below the smallest gain measured anywhere, so a machine that rounds like the AVX2 runs does not fail CI;
# a trainer that does not learn (gain about 0) still fails it.
DEMO_MIN_MEASURED = 0.074
DEMO_MIN_GAIN = 0.05


@pytest.mark.slow
def test_the_default_demo_learns_robustly_within_15_minutes_and_prints_only_its_own_lines(tmp_path):
    """The README's main job, exactly as a user runs it: `rlvr train --output_dir D` with no config."""
    out = tmp_path / "demo"
    started = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "rlvr", "train", "--output_dir", str(out)],
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": REPO},
        capture_output=True,
        text=True,
        timeout=15 * 60,
    )
    wall = time.time() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = summary(out)
    assert s["eval_problems"] >= 200
    gain = s["accuracy_after"] - s["accuracy_before"]
    assert gain >= DEMO_MIN_GAIN, (
        f"held-out accuracy {s['accuracy_before']:.3f} -> {s['accuracy_after']:.3f} in {wall:.0f}s"
    )
    assert wall < 15 * 60
    noise = [line for line in proc.stderr.splitlines() if "Warning" in line or line.startswith("  warnings.warn")]
    assert not noise, noise[:4]  # third-party warnings are silenced at their source, not shown to the user
