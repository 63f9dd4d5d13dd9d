"""Generation back ends: prompts in, sampled completions out, for ``rlvr eval``, ``EvalCallback`` and the demo.

Two back ends share one interface (``problems_per_call(sampling)``, ``render(prompt)``, ``generate(prompts,
sampling, seed)``): vLLM when it is installed and a CUDA GPU is present (``--backend auto``), otherwise batched
``transformers`` generation (chat template when the tokenizer has one, left padding, sampling seeded per batch,
greedy at temperature 0). The vLLM path is a thin optional layer that the test suite does not exercise.

Loading a checkpoint lives here too (``load_pretrained``, ``load_tokenizer``, ``torch_dtype``): ``rlvr train`` and
``rlvr eval`` load models the same way, with one dtype rule. Nothing here imports torch until a model is used, so
grading saved generations never pays for it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rlvr.files import UsageError


@dataclass(frozen=True)
class Sampling:
    """How completions are drawn. ``temperature == 0`` is greedy decoding."""

    samples: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int = 0


@dataclass(frozen=True)
class Generation:
    text: str
    tokens: int  # generated tokens, the end-of-sequence token excluded
    truncated: bool  # stopped by max_tokens rather than by the model


# ------------------------------------------------------------------------------------------------------- loading


def load_tokenizer(path_or_id: str) -> Any:
    """``AutoTokenizer.from_pretrained``, except for a local checkpoint whose tokenizer is a plain ``tokenizer.json``
    (``rlvr.tiny``'s, or any ``PreTrainedTokenizerFast`` saved as such).

    With transformers 5, AutoTokenizer picks the tokenizer class from the *model* type: a qwen2 config gets
    ``Qwen2Tokenizer``, which rebuilds a byte-level tokenizer from the vocabulary and silently drops characters
    ("\\n", spaces) of a character-level one. The saved ``tokenizer.json`` is the faithful copy, so it is loaded as is.
    """
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    config = os.path.join(path_or_id, "tokenizer_config.json")
    if os.path.isfile(config):
        with open(config, encoding="utf-8") as f:
            if json.load(f).get("tokenizer_class") in ("TokenizersBackend", "PreTrainedTokenizerFast"):
                return PreTrainedTokenizerFast.from_pretrained(path_or_id)
    return AutoTokenizer.from_pretrained(path_or_id)


def torch_dtype(name: str) -> Any:
    """The one dtype rule for loading weights: a torch dtype by name, or ``auto``.

    ``auto`` is float32 on a CPU (which has no fast half-precision matmul), and on a CUDA GPU bfloat16 where it is
    supported, else float16.
    """
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    value = getattr(torch, name, None)
    if not isinstance(value, torch.dtype):
        raise UsageError(f"dtype {name!r} is not a torch dtype (try auto, bfloat16 or float32)")
    return value


def load_pretrained(model_id: str, dtype: str = "auto") -> tuple[Any, Any]:
    """(model, tokenizer) from a local checkpoint folder or a hub id, on the CPU; a model that cannot be used is a
    ``UsageError`` that says why (missing folder, offline without a cached copy...)."""
    from transformers import AutoModelForCausalLM

    weights = torch_dtype(dtype)
    try:
        tokenizer = load_tokenizer(model_id)
        model = AutoModelForCausalLM.from_pretrained(model_id, dtype=weights)
    except Exception as exc:  # OSError, ValueError, EnvironmentError...: all mean "cannot use this model"
        raise UsageError(f"could not load model {model_id!r}: {_first_line(exc)}{_model_hint(model_id)}") from None
    return model, tokenizer


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:400]


def _model_hint(model_id: str) -> str:
    if os.path.isdir(model_id):
        return " (the folder exists; does it hold config.json, the weights and the tokenizer files?)"
    if model_id.startswith((".", "/", "~")) or os.sep in model_id.strip("/").split("/", 1)[-1]:
        return f" (no folder {model_id} exists)"
    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    return " (offline: HF_HUB_OFFLINE=1 and no cached copy)" if offline else " (not a local folder; tried the hub)"


# ---------------------------------------------------------------------------------------------------- back ends


def render_prompt(tokenizer: Any, prompt: Any) -> str:
    """Chat messages through the tokenizer's chat template; without one, the messages' text joined (the raw prompt)."""
    if isinstance(prompt, str):
        return prompt
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    return "\n\n".join(str(m["content"]) for m in prompt) + "\n"


class _Generator:
    """What both back ends share: prompts rendered with the tokenizer's chat template when it has one."""

    tokenizer: Any

    @property
    def chat_template(self) -> str | None:
        return getattr(self.tokenizer, "chat_template", None) or None

    def render(self, prompt: Any) -> str:
        return render_prompt(self.tokenizer, prompt)


class HFGenerator(_Generator):
    """Batched ``transformers`` generation for a loaded model and tokenizer (also used by ``EvalCallback``)."""

    backend = "hf"

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 32) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size  # sequences (prompts x samples) per generate() call
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token

    @classmethod
    def load(cls, model_id: str, *, batch_size: int = 32, dtype: str = "auto") -> HFGenerator:
        import torch

        model, tokenizer = load_pretrained(model_id, dtype)
        model.to("cuda" if torch.cuda.is_available() else "cpu")
        model.eval()
        return cls(model, tokenizer, batch_size=batch_size)

    def problems_per_call(self, sampling: Sampling) -> int:
        per_prompt = sampling.samples if sampling.temperature > 0 else 1
        return max(1, self.batch_size // per_prompt)

    def generate(self, prompts: Sequence[str], sampling: Sampling, seed: int) -> list[list[Generation]]:
        """``sampling.samples`` generations for each prompt; greedy decoding runs once and is repeated."""
        import torch

        tok = self.tokenizer
        side, tok.padding_side = tok.padding_side, "left"  # decoder-only models continue from the right edge
        try:
            enc = tok(list(prompts), return_tensors="pt", padding=True, add_special_tokens=self.chat_template is None)
        finally:
            tok.padding_side = side
        enc = {k: v.to(self.model.device) for k, v in enc.items()}
        greedy = sampling.temperature <= 0
        n = 1 if greedy else sampling.samples
        options: dict[str, Any] = (
            {"do_sample": False}
            if greedy
            else {
                "do_sample": True,
                "temperature": sampling.temperature,
                "top_p": sampling.top_p,
                "top_k": 0,
            }
        )
        torch.manual_seed(seed)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                out = self.model.generate(
                    **enc,
                    max_new_tokens=sampling.max_tokens,
                    num_return_sequences=n,
                    use_cache=True,
                    pad_token_id=tok.pad_token_id,
                    **options,
                )  # (B * n, T_prompt + T_new)
        finally:
            self.model.train(was_training)
        new = out[:, enc["input_ids"].shape[1] :]  # (B * n, T_new)
        stops = _stop_ids(self.model, tok)
        gens = [self._decode(row.tolist(), stops, sampling.max_tokens) for row in new]
        grouped = [gens[i * n : (i + 1) * n] for i in range(len(prompts))]
        return [g * sampling.samples if greedy else g for g in grouped]

    def _decode(self, ids: list[int], stops: set[int], max_tokens: int) -> Generation:
        end = next((i for i, t in enumerate(ids) if t in stops), None)
        kept = ids if end is None else ids[:end]
        text = self.tokenizer.decode(kept, skip_special_tokens=True)
        return Generation(text, len(kept), end is None and len(ids) >= max_tokens)


class VLLMGenerator(_Generator):
    """vLLM generation (needs ``pip install 'rlvr[vllm]'`` and a CUDA GPU). Not exercised by the test suite."""

    backend = "vllm"

    def __init__(self, model_id: str, *, seed: int = 0, batch_size: int = 256) -> None:
        try:
            from vllm import LLM

            self.llm = LLM(model=model_id, seed=seed)
        except Exception as exc:
            raise UsageError(f"could not load model {model_id!r} with vLLM: {_first_line(exc)}") from None
        self.tokenizer = self.llm.get_tokenizer()
        self.batch_size = batch_size  # problems per call: the resume granularity

    def problems_per_call(self, sampling: Sampling) -> int:
        return self.batch_size

    def generate(self, prompts: Sequence[str], sampling: Sampling, seed: int) -> list[list[Generation]]:
        from vllm import SamplingParams

        params = SamplingParams(
            n=sampling.samples,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_tokens,
            seed=seed,
        )
        outputs = self.llm.generate(list(prompts), params, use_tqdm=False)
        return [
            [Generation(o.text, len(o.token_ids), o.finish_reason == "length") for o in out.outputs] for out in outputs
        ]


def resolve_backend(backend: str) -> str:
    """``auto`` -> ``vllm`` when it is installed and a CUDA GPU is present, else ``hf``; a bad explicit choice fails."""
    if backend == "auto":
        return "vllm" if _vllm_usable() else "hf"
    if backend == "vllm" and not _vllm_usable():
        raise UsageError(
            "--backend vllm needs the vllm package and a CUDA GPU; install 'rlvr[vllm]' or use --backend hf"
        )
    return backend


def make_generator(model: str, backend: str, *, seed: int, batch_size: int | None) -> HFGenerator | VLLMGenerator:
    if resolve_backend(backend) == "vllm":
        return VLLMGenerator(model, seed=seed, batch_size=batch_size or 256)
    return HFGenerator.load(model, batch_size=batch_size or 32)


def _vllm_usable() -> bool:
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


def _stop_ids(model: Any, tokenizer: Any) -> set[int]:
    stops = {tokenizer.eos_token_id, tokenizer.pad_token_id}
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    stops.update(eos if isinstance(eos, list) else [eos])
    return {s for s in stops if s is not None}
