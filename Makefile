# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install what they need.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
            if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; \
            then echo $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

# FOCUS conformance (docs/attribution.md): the FinOps Foundation's focus-validator 2.2.x needs Python 3.12+, so it
# gets its own venv, .venv-focus, from the first python3.13 / python3.12 on PATH or in ~/.pyenv/versions. CI runs
# it through `make test` (.ci/run calls it): `test` builds .venv-focus first, and the suite's
# tests/export/test_focus_conformance.py validates the demo company's chargeback and FOCUS exports. Without
# Python 3.12+ the venv is not made, this says so, and that test is skipped with the reason.
FOCUS_VALIDATOR := focus-validator==2.2.1
FOCUS_PYTHON ?= $(shell for p in python3.13 python3.12 $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python; do \
            if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; \
            then echo $$p; break; fi; done)
FOCUS_VENV := .venv-focus
FOCUS_STAMP := $(FOCUS_VENV)/.installed-2.2.1

.PHONY: install demo test test-fast bench clean help focus-venv focus-check

help:
	@echo "make demo    generate the demo company, load it, open the dashboard"
	@echo "make test    install and run the whole test suite"
	@echo "make bench   run the benchmarks (benchmarks/README.md)"
	@echo "make focus-check  validate the demo's FOCUS exports with focus-validator (needs Python 3.12+)"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed (python3.11 or later on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/costwarden demo

test: $(STAMP) focus-venv
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || test -n "$$COSTWARDEN_CHROMIUM" || \
	  echo "NOTE: the dashboard browser test will not run: no Chromium found (as root: apt-get install -y chromium; or set COSTWARDEN_CHROMIUM)"
	$(BIN)/python -m pytest $(PYTEST_ARGS)

focus-venv:
	@if [ -z "$(FOCUS_PYTHON)" ]; then \
	  echo "FOCUS conformance check cannot run: focus-validator needs Python 3.12 or newer, and none was found (looked for python3.13 and python3.12 on PATH and in ~/.pyenv/versions). Install one to run it."; \
	elif [ ! -f $(FOCUS_STAMP) ]; then \
	  $(FOCUS_PYTHON) -m venv $(FOCUS_VENV) && \
	  $(FOCUS_VENV)/bin/python -m pip install --quiet '$(FOCUS_VALIDATOR)' && \
	  echo "focus-validator pins numpy<2 but the current pyarrow needs numpy 2 (it runs fine on it):" && \
	  $(FOCUS_VENV)/bin/python -m pip install --quiet 'numpy>=2,<3' 2>&1 | grep -v "dependency resolver\|requires numpy<2" ; \
	  (cd $(FOCUS_VENV) && bin/focus-validator --help >/dev/null) && touch $(FOCUS_STAMP); \
	fi

focus-check: $(STAMP) focus-venv
	$(BIN)/python -m pytest -q -rs tests/export/test_focus_conformance.py

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(FOCUS_VENV) build *.egg-info .pytest_cache
