# The two commands: `make run` (the whole system) and `make test` (every test).
# Both install what is missing first. PYTHON picks the interpreter (3.11).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
DEPS   := requirements.txt requirements-dev.txt
STAMP  := $(VENV)/.installed-$(shell cat $(DEPS) 2>/dev/null | sha1sum | cut -c1-12)

.PHONY: run test test-services install openapi bench clean-data help

help:
	@echo "make run    - start API (and, as they land, worker, beat, bot) on embedded defaults"
	@echo "make test   - install, start what the tests need, run every test"
	@echo "make openapi - regenerate mobile_contracts/openapi.json"
	@echo "make bench  - run the benchmarks in bench/"

run: $(STAMP)
	$(PY) -m scripts.run

test: $(STAMP)
	$(PY) -m scripts.test

install: $(STAMP)

$(STAMP): $(DEPS)
	@echo "==> installing Python dependencies into $(VENV) (first time: a few minutes)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --progress-bar on -r requirements.txt -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

openapi: $(STAMP)
	$(PY) -m scripts.export_openapi

bench: $(STAMP)
	$(PY) bench/photos.py
	$(PY) bench/api_load.py

clean-data:
	rm -rf .data
