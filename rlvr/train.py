"""``rlvr train``: one command from a task and a model to a trained checkpoint, a summary and a learning curve.

    rlvr train                                             # the embedded CPU demo (rlvr.demo): no download
    rlvr train --config examples/recipes/qwen2.5-math-1.5b-math-gspo.yaml --max_steps 200 --learning_rate 2e-6
    accelerate launch -m rlvr train --config recipe.yaml   # unchanged under accelerate (one process per device)
    rlvr train --config recipe.yaml --resume               # continue from the last checkpoint in output_dir

Arguments are TRL-style (``TrlParser``): a YAML file of defaults, then ``--key value`` flags that override it, over
the fields of ``RLVRConfig`` (TRL's GRPOConfig + rlvr's), ``ModelArguments``, ``TaskArguments`` and
``DemoArguments``. Without ``model_name_or_path`` the run is the demo: a tiny model built in code, a supervised warm
start, then RL on the ``demo`` task, with greedy held-out accuracy measured before and after.

Everything that can be wrong with the input is checked before any training time is spent, and reported with exit
status 2: an unknown config key or flag, an unknown task or task option, a missing data file, a reward function that
cannot be imported or that returns the wrong number of values on a probe batch, a bad eval task.

Outputs in ``output_dir``: ``checkpoint-N/`` (every ``save_steps``), the final model, ``summary.json`` (steps,
world_size, resumed_from_step, wall time, rewards; for the demo accuracy_before/after and eval_problems),
``log_history.jsonl`` and ``curve.png`` (reward and held-out accuracy against step); see ``rlvr.report``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

DEMO_DEFAULTS: dict[str, Any] = {
    "output_dir": "runs/demo",
    "max_steps": 1000,
    "learning_rate": 3e-4,
    "lr_scheduler_type": "constant",
    "per_device_train_batch_size": 64,  # 8 prompts x 8 samples per process and step
    "num_generations": 8,
    "max_completion_length": 12,  # "\boxed{198}" + end of sequence
    "temperature": 1.0,
    "beta": 0.0,
    "logging_steps": 20,
    "save_steps": 200,
    "save_total_limit": 2,
    "eval_steps": 200,
    "bf16": False,
    "activation_checkpointing": False,
    "report_to": "none",
    "disable_tqdm": True,
    "log_level": "warning",
    "seed": 0,
}


class TrainInputError(Exception):
    """Bad input to ``rlvr train`` (unknown key, task or file; a broken reward function): exit status 2."""


@dataclass
class ModelArguments:
    model_name_or_path: str | None = field(
        default=None,
        metadata={"help": "Hub id or local checkpoint of the policy. Unset: the demo's tiny model built in code."},
    )
    dtype: str = field(
        default="auto", metadata={"help": "Weights dtype when loading model_name_or_path: auto, bfloat16, float32."}
    )


@dataclass
class TaskArguments:
    task: str = field(default="demo", metadata={"help": "Registered task to train on (see `rlvr tasks`)."})
    imports: list[str] | None = field(
        default=None,
        metadata={
            "help": "Python modules to import first: they register your tasks, verifiers or losses.",
            "nargs": "+",
        },
    )
    data_dir: str | None = field(default=None, metadata={"help": "Folder of local task data (<task>/<split>.jsonl)."})
    data_files: list[str] | None = field(
        default=None, metadata={"help": "Local .jsonl/.json/.parquet file(s) with the task's rows.", "nargs": "+"}
    )
    split: str | None = field(default=None, metadata={"help": "Dataset split (default: the task's own)."})
    limit: int | None = field(default=None, metadata={"help": "Use only the first N rows."})
    system_prompt: str | None = field(default=None, metadata={"help": "Replace the task's system prompt."})
    task_options: dict[str, Any] | str | None = field(
        default=None, metadata={"help": "Task options as a JSON object, e.g. '{\"max_operand\": 20}'."}
    )
    reward_funcs: list[str] | None = field(
        default=None,
        metadata={"help": "Extra reward functions 'module:function', added after the task's verifiers.", "nargs": "+"},
    )
    eval_task: str | None = field(
        default=None,
        metadata={"help": "Held-out task evaluated every eval_steps with the `rlvr eval` protocol (demo: 'demo')."},
    )
    eval_split: str | None = field(default=None, metadata={"help": "Split of eval_task (demo: 'test')."})
    eval_data_dir: str | None = field(default=None, metadata={"help": "data_dir for eval_task (default: data_dir)."})
    eval_problems: int | None = field(
        default=None, metadata={"help": "Held-out problems per evaluation (demo: 500; default: all)."}
    )
    eval_samples: int = field(default=1, metadata={"help": "Samples per problem at each evaluation."})
    eval_temperature: float = field(default=0.0, metadata={"help": "Sampling temperature for evaluation (0: greedy)."})
    eval_max_tokens: int | None = field(
        default=None, metadata={"help": "Max new tokens per evaluation sample (default: max_completion_length)."}
    )
    resume: bool = field(default=False, metadata={"help": "Continue from the last checkpoint-N in output_dir."})


@dataclass
class DemoArguments:
    warm_start_steps: int = field(
        default=2000,
        metadata={"help": "Demo: most supervised warm-start steps before RL (0: start RL from the random model)."},
    )
    warm_start_target: float = field(
        default=0.25,
        metadata={
            "help": "Demo: stop the warm start once greedy accuracy on 200 train-split problems it does not "
            "learn from reaches this (checked every 50 steps; 0: always run warm_start_steps)."
        },
    )
    warm_start_problems: int = field(
        default=2000, metadata={"help": "Demo: train-split problems the warm start learns from."}
    )
    demo_hidden_size: int = field(default=128, metadata={"help": "Demo: hidden size of the tiny model."})
    demo_layers: int = field(default=2, metadata={"help": "Demo: layers of the tiny model."})


@dataclass
class Run:
    """Everything parsed from the command line and the YAML file."""

    config: Any  # RLVRConfig
    model: ModelArguments
    task: TaskArguments
    demo: DemoArguments
    is_demo: bool


@dataclass
class Plan:
    """Everything checked and loaded before training starts."""

    task: Any
    dataset: Any
    reward_funcs: list[Callable[..., Any]]
    evaluator: Any | None  # rlvr.eval.EvalCallback
    checkpoint: str | None
    resumed_from_step: int | None


# ----------------------------------------------------------------------------------------------------------- entry


def main(argv: Sequence[str] | None = None) -> int:
    started = time.time()
    argv = list(sys.argv[1:] if argv is None else argv)
    workers = cpu_launch_processes()
    if workers:
        return _launch_cpu_workers(workers, argv)
    try:
        run = parse(argv)
        plan = prepare(run)
        summary = execute(run, plan, started)  # a model that does not load is still bad input (before any step)
    except SystemExit as exc:  # argparse has printed the usage and the offending flag
        return exc.code if isinstance(exc.code, int) else 2
    except TrainInputError as exc:
        print(f"rlvr train: error: {exc}", file=sys.stderr)
        return 2
    if summary is not None:
        from rlvr.report import summary_line

        print(summary_line(summary), file=sys.stderr)
    return 0


def cpu_launch_processes() -> int | None:
    """N when this process is the single one that ``accelerate launch --cpu --num_processes N`` (N > 1) started.

    accelerate (up to 1.15 at least) starts CPU workers only through mpirun: without ``--mpirun_hostfile`` its simple
    launcher runs the script once, with MASTER_ADDR set (only done for N > 1) and no RANK, so training would
    silently run on one process. N is read from the launcher's command line (our parent process).
    """
    env = os.environ
    if env.get("ACCELERATE_USE_CPU", "").lower() != "true" or "MASTER_ADDR" not in env:
        return None
    if any(k in env for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE")):
        return None
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
            parent = [a.decode(errors="replace") for a in f.read().split(b"\0")]
    except OSError:
        return None
    if not any("accelerate" in a for a in parent[:3]):
        return None
    for i, arg in enumerate(parent):
        value = arg.split("=", 1)[1] if arg.startswith("--num_processes=") else None
        if arg == "--num_processes" and i + 1 < len(parent):
            value = parent[i + 1]
        if value is not None and value.isdigit() and int(value) > 1:
            return int(value)
    return None


def _launch_cpu_workers(n: int, argv: list[str]) -> int:
    """Start ``n`` CPU workers with torch.distributed.run (gloo), as accelerate does for GPUs; return their status."""
    import subprocess

    port = os.environ.get("MASTER_PORT", "29500")
    print(
        f"rlvr train: accelerate launch --cpu started 1 process for --num_processes {n}; starting {n} CPU workers "
        "with torch.distributed.run",
        file=sys.stderr,
        flush=True,
    )
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        str(n),
        "--master_addr",
        os.environ["MASTER_ADDR"],
        "--master_port",
        port,
        "-m",
        "rlvr",
        "train",
        *argv,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    return subprocess.call(cmd, env=env)


# ----------------------------------------------------------------------------------------------------------- parse


def _parser():
    from trl import TrlParser

    from rlvr.trainer import RLVRConfig

    # allow_abbrev=False: argparse would otherwise take a misspelt `--learning_rat` as `--learning_rate`
    return TrlParser((RLVRConfig, ModelArguments, TaskArguments, DemoArguments), prog="rlvr train", allow_abbrev=False)


def parse(argv: list[str]) -> Run:
    is_demo = _names_no_model(argv)
    parser = _parser()
    parser.set_defaults(activation_checkpointing=True)  # TRL's default, by its new name (the old one warns)
    if not _has_cuda():
        parser.set_defaults(bf16=False)  # GRPOConfig defaults to bf16, which a CPU-only machine refuses
    if is_demo:
        parser.set_defaults(**DEMO_DEFAULTS)  # before the YAML and the flags, which both override them
    try:
        config, model_args, task_args, demo_args = parser.parse_args_and_config(argv)
    except ValueError as exc:
        raise TrainInputError(_config_error(exc, argv)) from None
    if is_demo and task_args.task != "demo":
        raise TrainInputError(
            f"task {task_args.task!r} needs a model: pass --model_name_or_path (without one, rlvr train runs the "
            "built-in demo, whose tiny model only learns the 'demo' task)"
        )
    if isinstance(task_args.task_options, str):
        task_args.task_options = _json_object(task_args.task_options, "--task_options")
    return Run(config, model_args, task_args, demo_args, is_demo)


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _names_no_model(argv: list[str]) -> bool:
    """True when neither the flags nor the YAML file name a model: the run is the demo."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    pre.add_argument("--model_name_or_path", "--model-name-or-path")
    known, _ = pre.parse_known_args(argv)
    if known.model_name_or_path:
        return False
    if known.config:
        return not _read_yaml(known.config).get("model_name_or_path")
    return True


def _read_yaml(path: str) -> dict[str, Any]:
    import yaml

    if not os.path.isfile(path):
        raise TrainInputError(f"config file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as exc:
        raise TrainInputError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise TrainInputError(f"{path}: expected a YAML mapping of config keys")
    return data


def _config_error(exc: ValueError, argv: list[str]) -> str:
    text = str(exc)
    if text.startswith("Unknown arguments from config file"):
        keys = [item[2:] for item in _listed(text) if item.startswith("--")]
        path = argv[argv.index("--config") + 1] if "--config" in argv else "the config file"
        return (
            f"unknown config key{'s' if len(keys) > 1 else ''} {', '.join(map(repr, keys))} in {path}: not a "
            "field of RLVRConfig (TRL's GRPOConfig + rlvr's), the model, task or demo arguments "
            "(see `rlvr train --help`)"
        )
    if text.startswith("Some specified arguments are not used"):
        flags = [item for item in _listed(text) if item.startswith("-")] or _listed(text)
        return (
            f"unknown flag{'s' if len(flags) > 1 else ''} {', '.join(flags)}: not a field of RLVRConfig, the "
            "model, task or demo arguments (see `rlvr train --help`)"
        )
    return f"bad configuration: {text}"


def _listed(text: str) -> list[str]:
    import ast

    try:
        return [str(x) for x in ast.literal_eval(text[text.index("[") : text.index("]") + 1])]
    except (ValueError, SyntaxError):
        return []


def _json_object(text: str, flag: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrainInputError(f"{flag}: not valid JSON ({exc.msg}): {text!r}") from None
    if not isinstance(value, dict):
        raise TrainInputError(f"{flag}: expected a JSON object, got {text!r}")
    return value


# --------------------------------------------------------------------------------------------------------- prepare


def prepare(run: Run) -> Plan:
    """Load and check the task, its data, the reward functions, the eval task and the checkpoint to resume."""
    for module in run.task.imports or []:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise TrainInputError(f"--imports {module!r}: cannot import it ({exc})") from None
    task = _load_task(run.task.task, _task_options(run.task))
    dataset = _dataset(task)
    funcs = _task_rewards(task) + [_import_reward(spec) for spec in run.task.reward_funcs or []]
    _check_weights(run.config, task, funcs)
    probe_rewards(funcs, dataset)
    evaluator = _evaluator(run)
    checkpoint, step = _checkpoint(run)
    return Plan(task, dataset, funcs, evaluator, checkpoint, step)


def _task_options(args: TaskArguments) -> dict[str, Any]:
    options = dict(args.task_options or {})
    for key in ("data_dir", "data_files", "split", "limit", "system_prompt"):
        value = getattr(args, key)
        if value is not None:
            options[key] = value
    return options


def _load_task(name: str, options: dict[str, Any]) -> Any:
    from rlvr.registry import RegistryError
    from rlvr.tasks import load_task

    try:
        return load_task(name, **options)
    except RegistryError as exc:
        raise TrainInputError(f"{exc} (see `rlvr tasks`)") from None
    except TypeError as exc:
        raise TrainInputError(f"task {name!r}: {exc}") from None


def _dataset(task: Any) -> Any:
    from rlvr.tasks import TaskDataError

    try:
        dataset = task.dataset()
    except (TaskDataError, FileNotFoundError) as exc:
        raise TrainInputError(str(exc)) from None
    if len(dataset) == 0:
        raise TrainInputError(f"task {task.name!r}: the dataset is empty (split {task.split!r}, limit {task.limit})")
    return dataset


def _task_rewards(task: Any) -> list[Callable[..., Any]]:
    from rlvr.registry import RegistryError

    try:
        return task.reward_funcs()
    except (RegistryError, TypeError, ValueError) as exc:
        raise TrainInputError(f"task {task.name!r}, verifiers {task.verifiers}: {exc}") from None


def _import_reward(spec: str) -> Callable[..., Any]:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise TrainInputError(f"--reward_funcs {spec!r}: expected 'module:function'")
    try:
        func = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise TrainInputError(f"--reward_funcs {spec!r}: cannot import it ({exc})") from None
    if not callable(func):
        raise TrainInputError(f"--reward_funcs {spec!r}: not callable")
    return func


def _check_weights(config: Any, task: Any, funcs: list[Any]) -> None:
    if config.reward_weights is None:
        config.reward_weights = task.reward_weights + [1.0] * (len(funcs) - len(task.reward_weights))
    elif len(config.reward_weights) != len(funcs):
        names = [_func_name(f) for f in funcs]
        raise TrainInputError(
            f"reward_weights has {len(config.reward_weights)} values but there are {len(funcs)} reward functions "
            f"({', '.join(names)})"
        )


def probe_rewards(funcs: Sequence[Callable[..., Any]], dataset: Any, rows: int = 2) -> None:
    """Call every reward function as TRL will, on a few rows with empty completions; check what comes back.

    A function that returns the wrong number of values would otherwise fail at the first step, after the model is
    loaded and the first batch generated.
    """
    batch = [dataset[i] for i in range(min(rows, len(dataset)))]
    prompts = [row["prompt"] for row in batch]
    empty: Any = [{"role": "assistant", "content": ""}] if isinstance(prompts[0], list) else ""
    kwargs = {key: [row[key] for row in batch] for key in batch[0] if key != "prompt"}
    for func in funcs:
        name = _func_name(func)
        try:
            out = func(
                prompts=prompts,
                completions=[empty] * len(batch),
                completion_ids=[[] for _ in batch],
                trainer_state=None,
                log_extra=_ignore,
                log_metric=_ignore,
                **kwargs,
            )
        except Exception as exc:  # a reward function may raise anything; name it and stop before training
            raise TrainInputError(
                f"reward function {name!r} failed on a probe batch: {type(exc).__name__}: {exc}"
            ) from None
        n = len(out) if isinstance(out, (list, tuple)) else None
        if n != len(batch):
            got = f"{n} values" if n is not None else f"a {type(out).__name__}"
            raise TrainInputError(
                f"reward function {name!r} returned {got} for {len(batch)} completions; it must return a list with "
                "one reward (a float, or None for 'could not grade') per completion"
            )
        bad = [v for v in out if v is not None and not isinstance(v, (int, float))]
        if bad:
            raise TrainInputError(f"reward function {name!r} returned {bad[0]!r}; rewards must be floats or None")


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None


def _func_name(func: Any) -> str:
    return getattr(func, "__name__", type(func).__name__)


def _evaluator(run: Run) -> Any | None:
    name = run.task.eval_task or ("demo" if run.is_demo else None)
    if name is None:
        return None
    from rlvr.eval import EvalCallback

    options: dict[str, Any] = {"split": run.task.eval_split or ("test" if name == "demo" else None)}
    if name == run.task.task and run.task.task_options:
        options.update({k: v for k, v in run.task.task_options.items() if k not in ("split", "limit")})
    options["data_dir"] = run.task.eval_data_dir or run.task.data_dir
    problems = run.task.eval_problems or (500 if run.is_demo else None)
    task = _load_task(name, {k: v for k, v in options.items() if v is not None} | {"limit": problems})
    every = int(run.config.eval_steps) if run.config.eval_steps and run.config.eval_steps >= 1 else 10**9
    try:
        return EvalCallback(
            task,
            every_n_steps=every,
            samples=run.task.eval_samples,
            temperature=run.task.eval_temperature,
            max_tokens=run.task.eval_max_tokens or run.config.max_completion_length or 512,
            seed=run.config.seed,
            at_start=not run.is_demo,  # the demo measures "before" itself, right after the warm start
        )
    except Exception as exc:  # TaskDataError, ValueError...: the eval task's data is bad; say so now
        raise TrainInputError(f"eval task {name!r}: {exc}") from None


def _checkpoint(run: Run) -> tuple[str | None, int | None]:
    explicit = run.config.resume_from_checkpoint
    if explicit:
        if _checkpoint_step(explicit) is None:
            raise TrainInputError(
                f"resume_from_checkpoint: {explicit} is not a complete checkpoint (no trainer_state.json)"
            )
        return explicit, _checkpoint_step(explicit)
    if not run.task.resume:
        return None, None
    last = last_checkpoint(run.config.output_dir)
    if last is None:
        raise TrainInputError(
            f"--resume: no complete checkpoint-N folder in {run.config.output_dir}; run without --resume to start fresh"
        )
    return last, _checkpoint_step(last)


def last_checkpoint(folder: str) -> str | None:
    """The newest *complete* checkpoint-N in ``folder``.

    transformers writes a checkpoint in place, trainer_state.json last, and its own ``get_last_checkpoint`` returns
    the highest N even when a SIGKILL cut that save short; resuming from it would crash. A checkpoint counts here
    only once its trainer_state.json parses.
    """
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    if not os.path.isdir(folder):
        return None
    found = []
    for name in os.listdir(folder):
        prefix, _, number = name.rpartition("-")
        if prefix == PREFIX_CHECKPOINT_DIR and number.isdigit() and os.path.isdir(os.path.join(folder, name)):
            found.append((int(number), os.path.join(folder, name)))
    for _, path in sorted(found, reverse=True):
        if _checkpoint_step(path) is not None:
            return path
        print(f"rlvr train: warning: skipping {path}: incomplete (the run stopped while saving it)", file=sys.stderr)
    return None


def _checkpoint_step(path: str) -> int | None:
    try:
        with open(os.path.join(path, "trainer_state.json"), encoding="utf-8") as f:
            return int(json.load(f)["global_step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --------------------------------------------------------------------------------------------------------- execute


def execute(run: Run, plan: Plan, started: float) -> dict[str, Any] | None:
    """Build the model and trainer, train, and (on the main process) write the summary and the curve."""
    from rlvr.trainer import RLVRTrainer

    if plan.checkpoint is None:
        _warn_existing_checkpoints(run.config.output_dir)
    if run.config.disable_tqdm:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Writing model shards" bars at every checkpoint
    model, tokenizer, before = _policy(run, plan)
    trainer = RLVRTrainer(
        model=model,
        args=run.config,
        processing_class=tokenizer,
        reward_funcs=plan.reward_funcs,
        train_dataset=plan.dataset,
    )
    _install_callbacks(trainer, run, plan)
    train_started = time.time()
    trainer.train(resume_from_checkpoint=plan.checkpoint)
    train_seconds = time.time() - train_started
    trainer.save_model(run.config.output_dir)
    if not trainer.is_world_process_zero():
        return None
    after = _final_eval(trainer, plan)
    summary = _summary(run, plan, trainer, before, after, started, train_seconds)
    from rlvr.report import write_outputs

    write_outputs(run.config.output_dir, summary, trainer.state.log_history)
    return summary


def _policy(run: Run, plan: Plan) -> tuple[Any, Any, dict[str, Any] | None]:
    """(model, tokenizer, eval before RL). The demo builds and warm-starts its own model; otherwise load by name."""
    if run.is_demo:
        return _demo_policy(run, plan)
    from transformers import AutoModelForCausalLM

    try:
        from rlvr.tiny import load_tokenizer

        tokenizer = load_tokenizer(run.model.model_name_or_path)
        kwargs = {} if run.model.dtype == "auto" else {"dtype": _dtype(run.model.dtype)}
        model = AutoModelForCausalLM.from_pretrained(run.model.model_name_or_path, **kwargs)
    except (OSError, ValueError) as exc:
        raise TrainInputError(f"could not load model {run.model.model_name_or_path!r}: {exc}") from None
    return model, tokenizer, None


def _dtype(name: str) -> Any:
    import torch

    value = getattr(torch, name, None)
    if not isinstance(value, torch.dtype):
        raise TrainInputError(f"--dtype {name!r} is not a torch dtype (try bfloat16 or float32)")
    return value


def _demo_policy(run: Run, plan: Plan) -> tuple[Any, Any, dict[str, Any]]:
    """Rank 0 builds, warm-starts, evaluates and saves the model; the other ranks (and --resume) load that copy."""
    from accelerate import PartialState

    from rlvr import demo

    folder = os.path.join(run.config.output_dir, demo.WARM_START_DIR)
    settings = {
        "steps": run.demo.warm_start_steps,
        "target": run.demo.warm_start_target,
        "problems": run.demo.warm_start_problems,
        "hidden_size": run.demo.demo_hidden_size,
        "layers": run.demo.demo_layers,
        "seed": run.config.seed,
        "eval_problems": len(plan.evaluator.problems),
    }
    with PartialState().main_process_first():
        saved = demo.load_warm_start(folder, settings)
        if saved is None:
            model, tokenizer = demo.build(
                demo.DemoModel(run.demo.demo_hidden_size, run.demo.demo_layers, seed=run.config.seed)
            )
            _demo_warm_start(run, model, tokenizer)
            before = plan.evaluator.run(model, tokenizer, step=0)
            print(
                f"[rlvr demo] held-out accuracy before RL: {before['accuracy']:.3f} on {before['problems']} "
                "problems (greedy)",
                file=sys.stderr,
                flush=True,
            )
            demo.save_warm_start(folder, model, tokenizer, {"settings": settings, "before": before})
        else:
            model, tokenizer, info = saved
            before = info["before"]
    return model, tokenizer, before


def _demo_warm_start(run: Run, model: Any, tokenizer: Any) -> None:
    """Fine-tune on the first ``warm_start_problems`` train problems; validate on the next 200 (never the test split)."""
    from rlvr import demo
    from rlvr.tasks import load_task

    if run.demo.warm_start_steps <= 0:
        return
    task = load_task("demo", size=run.demo.warm_start_problems + 200, seed=run.config.seed)
    examples = task.examples()
    train, validation = examples[: run.demo.warm_start_problems], examples[run.demo.warm_start_problems :]
    max_tokens = run.config.max_completion_length or 12
    result = demo.warm_start(
        model,
        tokenizer,
        train,
        [task.solution(ex) for ex in train],
        max_steps=run.demo.warm_start_steps,
        target=run.demo.warm_start_target or None,
        validate=lambda m: demo.greedy_accuracy(m, tokenizer, validation, max_tokens),
        seed=run.config.seed,
    )
    demo._say(f"warm start done after {result['steps']} steps (loss {result['loss']:.3f})")


def _warn_existing_checkpoints(folder: str) -> None:
    if last_checkpoint(folder):
        print(
            f"rlvr train: warning: {folder} already has checkpoints; this run starts from step 0 "
            "(pass --resume to continue from the last one)",
            file=sys.stderr,
        )


def _install_callbacks(trainer: Any, run: Run, plan: Plan) -> None:
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from rlvr.report import Progress

    trainer.remove_callback(PrinterCallback)  # their raw metric dicts are replaced by one readable line per log
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(Progress(plan.task.name))
    if plan.evaluator is not None:
        plan.evaluator.tokenizer = trainer.processing_class
        trainer.add_callback(plan.evaluator.bind(trainer))


def _final_eval(trainer: Any, plan: Plan) -> dict[str, Any] | None:
    evaluator = plan.evaluator
    if evaluator is None:
        return None
    step = trainer.state.global_step
    if evaluator.history and evaluator.history[-1]["step"] == step:
        return evaluator.history[-1]
    return evaluator.run(trainer.model, trainer.processing_class, step=step)


# --------------------------------------------------------------------------------------------------------- report


def _summary(
    run: Run,
    plan: Plan,
    trainer: Any,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    started: float,
    train_seconds: float,
) -> dict[str, Any]:
    rewards = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    summary: dict[str, Any] = {
        "steps": trainer.state.global_step,
        "max_steps": trainer.state.max_steps,
        "world_size": trainer.accelerator.num_processes,
        "resumed_from_step": plan.resumed_from_step,
        "wall_time_s": round(time.time() - started, 1),
        "train_time_s": round(train_seconds, 1),
        "task": plan.task.name,
        "model": run.model.model_name_or_path or "rlvr.tiny (demo, built in code)",
        "policy_loss": getattr(run.config, "policy_loss", None),
        "reward_first": rewards[0] if rewards else None,
        "reward_last": rewards[-1] if rewards else None,
        "output_dir": run.config.output_dir,
    }
    if plan.evaluator is not None:
        summary["eval_task"] = plan.evaluator.task.name
        summary["eval_problems"] = len(plan.evaluator.problems)
        key = f"{plan.evaluator.prefix}/{plan.evaluator.task.name}/accuracy"
        evals = {h["step"]: h[key] for h in trainer.state.log_history if key in h}  # restored by --resume too
        for point in (before, after):  # the demo's before-RL figure is measured outside the trainer
            if point is not None:
                evals.setdefault(point.get("step", 0), point["accuracy"])
        summary["eval_history"] = [{"step": k, "accuracy": v} for k, v in sorted(evals.items())]
    if before is None and plan.checkpoint is None and summary.get("eval_history"):
        first = summary["eval_history"][0]
        before = first if first["step"] == 0 else None
    if before is not None:
        summary["accuracy_before"] = before["accuracy"]
    if after is not None:
        summary["accuracy_after"] = after["accuracy"]
    if before is not None and after is not None:
        summary["accuracy_gain"] = round(after["accuracy"] - before["accuracy"], 4)
    return summary


if __name__ == "__main__":
    sys.exit(main())
