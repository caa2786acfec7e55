# The README's two commands: `make demo` and `make test`. Both set up what they need themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# a venv with only what the image installs (no dev tools, no scikit-learn): what bench/ measures
IMAGE_VENV ?= .venv-image
IMAGE_STAMP := $(IMAGE_VENV)/.installed

.PHONY: demo test lint typecheck unit contract bench bench-hosts clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "xgboost-byoc needs Python >= 3.11; run make PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# sagemaker-training (a dev/script dependency) ships a console script also named `train`:
	# reinstalling ours last makes bin/train ours, and the check fails loudly if it is not.
	$(BIN)/python -m pip install --quiet --no-deps --force-reinstall -e .
	@grep -q xgboost_byoc $(BIN)/train || { echo "$(BIN)/train is not xgboost-byoc's entry point"; exit 1; }
	@touch $@

$(IMAGE_STAMP): pyproject.toml $(shell find src -name '*.py')
	$(PYTHON) -m venv $(IMAGE_VENV)
	$(IMAGE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(IMAGE_VENV)/bin/python -m pip install --quiet .
	@touch $@

demo: $(STAMP)
	PYTHON=$(BIN)/python local_test/demo.sh

SHELL_SCRIPTS := build_and_push.sh container/install.sh .ci/run $(wildcard local_test/*.sh)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/shellcheck $(SHELL_SCRIPTS)

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest tests/unit

contract: $(STAMP)
	$(BIN)/pytest tests/contract

bench: $(IMAGE_STAMP) $(STAMP)
	$(IMAGE_VENV)/bin/python bench/train.py
	$(BIN)/python bench/tune.py
	@command -v wrk >/dev/null || { echo "bench/serve.py needs wrk: apt-get install wrk"; exit 1; }
	$(IMAGE_VENV)/bin/python bench/serve.py

bench-hosts: $(IMAGE_STAMP)
	$(IMAGE_VENV)/bin/python bench/hosts.py

clean:
	rm -rf $(VENV) $(IMAGE_VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
	rm -rf local_test/test_dir/input/data local_test/test_dir/model local_test/test_dir/output
