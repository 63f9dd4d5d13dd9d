"""A training run: a recipe (YAML) and flags -> checks -> ``RLVRTrainer`` -> checkpoints, summary and curve.

``run(argv)`` is what ``rlvr train`` does (``rlvr.cli.train`` adds the command-line parts):

    rlvr train --config examples/recipes/qwen2.5-math-1.5b-math-gspo.yaml --max_steps 200 --learning_rate 2e-6

Arguments are TRL-style (``TrlParser``): a YAML file of defaults, then ``--key value`` flags that override it, over
the fields of ``RLVRConfig`` (TRL's GRPOConfig + rlvr's), ``ModelArguments`` and ``TaskArguments``. A ``Recipe``
(the one hook) adds its own settings and builds the policy itself when no model is named: that is how the embedded
CPU demo (``rlvr.demo``) runs on this module without it knowing anything about the demo.

Everything that can be wrong with the input is checked before any training time is spent, and raised as
``rlvr.files.UsageError`` (exit status 2 from the command): an unknown config key or flag, an unknown task or task
option, a missing data file, a reward function that cannot be imported or that returns the wrong number of values on
a probe batch, a bad eval task.

Outputs in ``output_dir``: ``checkpoint-N/`` (every ``save_steps``), the final model, ``summary.json`` (steps,
world_size, resumed_from_step, wall time, rewards; with an eval task accuracy_before/after and eval_problems),
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
from typing import Any, Protocol

from rlvr.files import UsageError


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


class Recipe(Protocol):
    """The one hook for a run that brings its own policy and settings (the embedded demo: ``rlvr.demo.RECIPE``).

    ``arguments`` is the recipe's dataclass of settings, parsed with the others. When no model is named (neither
    flag nor YAML), the recipe applies: ``defaults()`` go in before the YAML and the flags, ``check(run)`` may refuse
    the run (``UsageError``), and ``policy(run, plan)`` returns ``(model, tokenizer, eval_before_rl or None)``.
    """

    name: str  # shown as the run's model in summary.json
    arguments: type

    def defaults(self) -> dict[str, Any]: ...

    def check(self, run: Run) -> None: ...

    def policy(self, run: Run, plan: Plan) -> tuple[Any, Any, dict[str, Any] | None]: ...


@dataclass
class Run:
    """Everything parsed from the command line and the YAML file."""

    config: Any  # RLVRConfig
    model: ModelArguments
    task: TaskArguments
    recipe_args: Any  # the recipe's settings (None without a recipe)
    recipe: Recipe | None  # the recipe, when it applies (no model named)


@dataclass
class Plan:
    """Everything checked and loaded before training starts."""

    task: Any
    dataset: Any
    reward_funcs: list[Callable[..., Any]]
    evaluator: Any | None  # rlvr.callbacks.EvalCallback
    checkpoint: str | None
    resumed_from_step: int | None


# ----------------------------------------------------------------------------------------------------------- entry


def run(argv: list[str], *, recipe: Recipe | None = None, started: float | None = None) -> dict[str, Any] | None:
    """Parse, check, train; the summary on the main process, None on the others. Bad input: ``UsageError``."""
    started = time.time() if started is None else started
    parsed = parse(argv, recipe=recipe)
    plan = prepare(parsed)
    return execute(parsed, plan, started)  # a model that does not load is still bad input (before any step)


# ----------------------------------------------------------------------------------------------------------- parse


def _parser(recipe: Recipe | None):
    from trl import TrlParser

    from rlvr.trainer import RLVRConfig

    types = (RLVRConfig, ModelArguments, TaskArguments) + ((recipe.arguments,) if recipe is not None else ())
    # allow_abbrev=False: argparse would otherwise take a misspelt `--learning_rat` as `--learning_rate`
    return TrlParser(types, prog="rlvr train", allow_abbrev=False)


def parse(argv: list[str], *, recipe: Recipe | None = None) -> Run:
    """The run's settings; ``recipe`` applies when no model is named (without one, a model must be named)."""
    applies = recipe is not None and _names_no_model(argv)
    parser = _parser(recipe)
    parser.set_defaults(activation_checkpointing=True)  # TRL's default, by its new name (the old one warns)
    if not _has_cuda():
        parser.set_defaults(bf16=False)  # GRPOConfig defaults to bf16, which a CPU-only machine refuses
        # Pinned memory only exists with an accelerator; left on, torch's DataLoader warns at every epoch.
        parser.set_defaults(dataloader_pin_memory=False)
    if applies:
        parser.set_defaults(**recipe.defaults())  # before the YAML and the flags, which both override them
    try:
        config, model_args, task_args, *recipe_args = parser.parse_args_and_config(argv)
    except ValueError as exc:
        raise UsageError(_config_error(exc, argv, recipe)) from None
    if isinstance(task_args.task_options, str):
        task_args.task_options = _json_object(task_args.task_options, "--task_options")
    run = Run(config, model_args, task_args, recipe_args[0] if recipe_args else None, recipe if applies else None)
    if run.recipe is not None:
        run.recipe.check(run)
    elif not model_args.model_name_or_path:
        raise UsageError("no model: pass --model_name_or_path (a hub id or a local checkpoint)")
    return run


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _names_no_model(argv: list[str]) -> bool:
    """True when neither the flags nor the YAML file name a model: the recipe applies."""
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
        raise UsageError(f"config file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a YAML mapping of config keys")
    return data


def _config_error(exc: ValueError, argv: list[str], recipe: Recipe | None) -> str:
    text = str(exc)
    known = (
        f"RLVRConfig (TRL's GRPOConfig + rlvr's), the model, task{f' or {recipe.name}' if recipe else ''} arguments"
    )
    if text.startswith("Unknown arguments from config file"):
        keys = [item[2:] for item in _listed(text) if item.startswith("--")]
        path = argv[argv.index("--config") + 1] if "--config" in argv else "the config file"
        return (
            f"unknown config key{'s' if len(keys) > 1 else ''} {', '.join(map(repr, keys))} in {path}: not a "
            f"field of {known} (see `rlvr train --help`)"
        )
    if text.startswith("Some specified arguments are not used"):
        flags = [item for item in _listed(text) if item.startswith("-")] or _listed(text)
        return (
            f"unknown flag{'s' if len(flags) > 1 else ''} {', '.join(flags)}: not a field of {known} "
            "(see `rlvr train --help`)"
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
        raise UsageError(f"{flag}: not valid JSON ({exc.msg}): {text!r}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{flag}: expected a JSON object, got {text!r}")
    return value


# --------------------------------------------------------------------------------------------------------- prepare


def prepare(run: Run) -> Plan:
    """Load and check the task, its data, the reward functions, the eval task and the checkpoint to resume."""
    for module in run.task.imports or []:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise UsageError(f"--imports {module!r}: cannot import it ({exc})") from None
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
        raise UsageError(f"{exc} (see `rlvr tasks`)") from None
    except TypeError as exc:
        raise UsageError(f"task {name!r}: {exc}") from None


def _dataset(task: Any) -> Any:
    from rlvr.tasks import TaskDataError

    try:
        dataset = task.dataset()
    except (TaskDataError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from None
    if len(dataset) == 0:
        raise UsageError(f"task {task.name!r}: the dataset is empty (split {task.split!r}, limit {task.limit})")
    return dataset


def _task_rewards(task: Any) -> list[Callable[..., Any]]:
    from rlvr.registry import RegistryError

    try:
        return task.reward_funcs()
    except (RegistryError, TypeError, ValueError) as exc:
        raise UsageError(f"task {task.name!r}, verifiers {task.verifiers}: {exc}") from None


def _import_reward(spec: str) -> Callable[..., Any]:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"--reward_funcs {spec!r}: expected 'module:function'")
    try:
        func = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"--reward_funcs {spec!r}: cannot import it ({exc})") from None
    if not callable(func):
        raise UsageError(f"--reward_funcs {spec!r}: not callable")
    return func


def _check_weights(config: Any, task: Any, funcs: list[Any]) -> None:
    if config.reward_weights is None:
        config.reward_weights = task.reward_weights + [1.0] * (len(funcs) - len(task.reward_weights))
    elif len(config.reward_weights) != len(funcs):
        names = [_func_name(f) for f in funcs]
        raise UsageError(
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
            raise UsageError(
                f"reward function {name!r} failed on a probe batch: {type(exc).__name__}: {exc}"
            ) from None
        n = len(out) if isinstance(out, (list, tuple)) else None
        if n != len(batch):
            got = f"{n} values" if n is not None else f"a {type(out).__name__}"
            raise UsageError(
                f"reward function {name!r} returned {got} for {len(batch)} completions; it must return a list with "
                "one reward (a float, or None for 'could not grade') per completion"
            )
        bad = [v for v in out if v is not None and not isinstance(v, (int, float))]
        if bad:
            raise UsageError(f"reward function {name!r} returned {bad[0]!r}; rewards must be floats or None")


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None


def _func_name(func: Any) -> str:
    return getattr(func, "__name__", type(func).__name__)


def _evaluator(run: Run) -> Any | None:
    name = run.task.eval_task
    if name is None:
        return None
    from rlvr.callbacks import EvalCallback

    options: dict[str, Any] = {"split": run.task.eval_split}
    if name == run.task.task and run.task.task_options:
        options.update({k: v for k, v in run.task.task_options.items() if k not in ("split", "limit")})
    options["data_dir"] = run.task.eval_data_dir or run.task.data_dir
    task = _load_task(name, {k: v for k, v in options.items() if v is not None} | {"limit": run.task.eval_problems})
    every = int(run.config.eval_steps) if run.config.eval_steps and run.config.eval_steps >= 1 else 10**9
    try:
        return EvalCallback(
            task,
            every_n_steps=every,
            samples=run.task.eval_samples,
            temperature=run.task.eval_temperature,
            max_tokens=run.task.eval_max_tokens or run.config.max_completion_length or 512,
            seed=run.config.seed,
        )
    except Exception as exc:  # TaskDataError, ValueError...: the eval task's data is bad; say so now
        raise UsageError(f"eval task {name!r}: {exc}") from None


def _checkpoint(run: Run) -> tuple[str | None, int | None]:
    explicit = run.config.resume_from_checkpoint
    if explicit:
        if _checkpoint_step(explicit) is None:
            raise UsageError(
                f"resume_from_checkpoint: {explicit} is not a complete checkpoint (no trainer_state.json)"
            )
        return explicit, _checkpoint_step(explicit)
    if not run.task.resume:
        return None, None
    last = last_checkpoint(run.config.output_dir)
    if last is None:
        raise UsageError(
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
    _install_callbacks(trainer, plan, before)
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
    """(model, tokenizer, eval before RL or None): the recipe's own policy, or the named model loaded."""
    if run.recipe is not None:
        return run.recipe.policy(run, plan)
    from rlvr.generation import load_pretrained

    model, tokenizer = load_pretrained(run.model.model_name_or_path, run.model.dtype)
    return model, tokenizer, None


def _warn_existing_checkpoints(folder: str) -> None:
    if last_checkpoint(folder):
        print(
            f"rlvr train: warning: {folder} already has checkpoints; this run starts from step 0 "
            "(pass --resume to continue from the last one)",
            file=sys.stderr,
        )


def _install_callbacks(trainer: Any, plan: Plan, before: dict[str, Any] | None) -> None:
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from rlvr.report import Progress

    trainer.remove_callback(PrinterCallback)  # their raw metric dicts are replaced by one readable line per log
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(Progress(plan.task.name))
    if plan.evaluator is not None:
        plan.evaluator.tokenizer = trainer.processing_class
        plan.evaluator.at_start = before is None  # a recipe that measured "before" itself is not measured again
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
        "model": run.model.model_name_or_path or (run.recipe.name if run.recipe else None),
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
        for point in (before, after):  # a recipe's before-RL figure is measured outside the trainer
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
