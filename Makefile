# The two commands: `make run` (the whole system) and `make test` (every test).
# Both install what is missing first. PYTHON picks the interpreter (3.11).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
DEPS   := requirements.txt requirements-dev.txt
STAMP  := $(VENV)/.installed-$(shell cat $(DEPS) 2>/dev/null | sha1sum | cut -c1-12)
# The chatbot's own environment: Rasa's pins conflict with the API's (bot/README.md).
BOT_VENV := bot/.venv
BOT_DEPS := bot/requirements.lock $(wildcard bot/requirements-test.txt)
BOT_STAMP := $(BOT_VENV)/.installed-$(shell cat $(BOT_DEPS) 2>/dev/null | sha1sum | cut -c1-12)

.PHONY: run test test-services install install-bot train-bot openapi bench clean-data help chaos

help:
	@echo "make run    - start API (and, as they land, worker, beat, bot) on embedded defaults"
	@echo "make test   - install, start what the tests need, run every test"
	@echo "make openapi - regenerate mobile_contracts/openapi.json"
	@echo "make bench  - run the benchmarks in bench/"
	@echo "make chaos  - faults under load (worker kill -9, Redis/PostgreSQL/bot restarts), then reconcile; CHAOS_ARGS=\"--short\" for CI"

run: $(STAMP) $(BOT_STAMP)
	$(PY) -m scripts.run

test: $(STAMP) $(BOT_STAMP)
	$(PY) -m scripts.test

install: $(STAMP) $(BOT_STAMP)

install-bot: $(BOT_STAMP)

train-bot: $(STAMP) $(BOT_STAMP)
	$(PY) -m scripts.bot train

$(STAMP): $(DEPS)
	@echo "==> installing Python dependencies into $(VENV) (first time: a few minutes)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --progress-bar on -r requirements.txt -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

# Rasa 3.6.21 declares Python <3.11 but runs on 3.11 with the locked tree; it is installed
# without dependency resolution on top of the lock (see bot/README.md).
$(BOT_STAMP): $(BOT_DEPS)
	@echo "==> installing the chatbot (Rasa 3.6.21) into $(BOT_VENV) (first time: ~2.7 GB, several minutes)"
	@test -x $(BOT_VENV)/bin/python || $(PYTHON) -m venv $(BOT_VENV)
	$(BOT_VENV)/bin/python -m pip install --disable-pip-version-check --progress-bar on -r bot/requirements.lock
	$(BOT_VENV)/bin/python -m pip install --disable-pip-version-check --progress-bar on --no-deps --ignore-requires-python rasa==3.6.21 rasa-sdk==3.6.2
	@if [ -f bot/requirements-test.txt ]; then $(BOT_VENV)/bin/python -m pip install --disable-pip-version-check -r bot/requirements-test.txt; fi
	@rm -f $(BOT_VENV)/.installed-* && touch $@

openapi: $(STAMP)
	$(PY) -m scripts.export_openapi

# Its own embedded PostgreSQL and Redis, which it stops and starts (scripts/chaos.py).
chaos: $(STAMP)
	$(PY) scripts/chaos.py $(CHAOS_ARGS)

bench: $(STAMP)
	$(PY) bench/photos.py
	$(PY) bench/api_load.py

clean-data:
	rm -rf .data
