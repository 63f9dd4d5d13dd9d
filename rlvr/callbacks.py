"""Callbacks for ``transformers``/TRL trainers: ``EvalCallback`` runs the ``rlvr eval`` protocol during training.

Apart from ``rlvr.eval`` because its audience differs: this module subclasses ``transformers.TrainerCallback``
(importing transformers, and with it torch), which grading a file of saved generations must never pay for.
"""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

from rlvr.eval import evaluate, problems_of, summarize_records, task_verifier
from rlvr.generation import HFGenerator, Sampling


class EvalCallback(TrainerCallback):
    """Runs the ``rlvr eval`` protocol on a held-out task every ``every_n_steps`` optimizer steps during training.

        cb = EvalCallback("math500", tokenizer, every_n_steps=50, samples=4, temperature=0.6, limit=100,
                          data_dir="../shared/data")
        trainer = RLVRTrainer(..., callbacks=[cb]); cb.bind(trainer); trainer.train()

    Same task, same template, same grader and same metrics as ``rlvr eval``; generation uses the model being trained
    (``transformers`` generate, on the main process only; not for ZeRO-3/FSDP-sharded models). Metrics are logged
    as ``eval/<task>/accuracy`` (avg@k), ``.../pass_at_k``, ``.../maj_at_k``, ``.../ci95_low``, ``.../ci95_high``:
    appended to ``state.log_history`` and, once ``bind(trainer)`` was called, sent to the trainer's reporters
    (``on_log``). ``history`` keeps every full summary (with its step) for the caller.
    """

    def __init__(
        self,
        task: Any,
        tokenizer: Any = None,
        *,
        every_n_steps: int = 50,
        samples: int = 1,
        temperature: float = 0.0,
        top_p: float = 1.0,
        max_tokens: int = 512,
        limit: int | None = None,
        data_dir: str | None = None,
        batch_size: int = 32,
        seed: int = 0,
        at_start: bool = True,
        at_end: bool = True,
        prefix: str = "eval",
    ) -> None:
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be at least 1, got {every_n_steps}")
        if isinstance(task, str):
            from rlvr.tasks import load_task

            task = load_task(task, data_dir=data_dir, limit=limit)
        elif limit is not None:
            task.limit = limit
        self.task = task
        self.tokenizer = tokenizer
        self.every_n_steps = every_n_steps
        self.sampling = Sampling(samples, temperature, top_p, max_tokens, seed)
        self.batch_size = batch_size
        self.at_start, self.at_end = at_start, at_end
        self.prefix = prefix
        self.problems = problems_of(task)  # read the data now: a missing file fails before training starts
        self.verifier = task_verifier(task)
        self.history: list[dict[str, Any]] = []
        self._trainer: Any = None
        self._last_step: int | None = None

    def bind(self, trainer: Any) -> EvalCallback:
        """Let the callback send its metrics through ``trainer.callback_handler.on_log`` (TensorBoard, W&B...)."""
        self._trainer = trainer
        return self

    def run(self, model: Any, tokenizer: Any = None, step: int = 0) -> dict[str, Any]:
        """Evaluate ``model`` now and return the summary (also usable outside a trainer)."""
        from rlvr.scoring import get_scorer

        tokenizer = tokenizer or self.tokenizer
        if tokenizer is None:
            raise ValueError("EvalCallback needs a tokenizer (pass one, or let the trainer hand its processing_class)")
        generator = HFGenerator(model, tokenizer, batch_size=self.batch_size)
        scorer = get_scorer(self.verifier)  # shared with the training rewards: warm workers, shared cache
        per_problem = evaluate(self.problems, generator, scorer.score, self.sampling, progress=False)
        summary = {"step": step, "task": self.task.name, **summarize_records(per_problem, seed=self.sampling.seed)}
        self.history.append(summary)
        self._last_step = step
        return summary

    def metrics(self, summary: dict[str, Any]) -> dict[str, float]:
        base = f"{self.prefix}/{self.task.name}"
        return {
            f"{base}/accuracy": summary["accuracy"],
            f"{base}/pass_at_k": summary["pass_at_k"],
            f"{base}/maj_at_k": summary["maj_at_k"],
            f"{base}/ci95_low": summary["ci95"][0],
            f"{base}/ci95_high": summary["ci95"][1],
        }

    def _evaluate_and_log(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero or self._last_step == state.global_step:
            return
        model = kwargs.get("model")
        summary = self.run(model, self.tokenizer or kwargs.get("processing_class"), step=state.global_step)
        logs = self.metrics(summary)
        state.log_history.append({**logs, "step": state.global_step})
        if self._trainer is not None:
            # CallbackHandler.on_log clears control.should_log: the trainer's own log of this step (loss, reward)
            # would be silently dropped whenever eval_steps is a multiple of logging_steps.
            should_log = control.should_log
            self._trainer.callback_handler.on_log(args, state, control, logs)
            control.should_log = should_log

    def on_train_begin(self, args, state, control, **kwargs):
        if self.at_start:
            self._evaluate_and_log(args, state, control, **kwargs)

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % self.every_n_steps == 0:
            self._evaluate_and_log(args, state, control, **kwargs)

    def on_train_end(self, args, state, control, **kwargs):
        if self.at_end:
            self._evaluate_and_log(args, state, control, **kwargs)
