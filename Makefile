# Each target creates .venv with Python 3.12 when it is missing.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON312 := $(shell ./.ci/find-python312)

.PHONY: test demo lint bench bench-full docs clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

# compileall: lagnest's own modules as bytecode once, so that the suite's many processes
# (commands, notebook kernels, chain workers) load them instead of compiling them each time
# where PYTHONDONTWRITEBYTECODE is set
test: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m compileall -q src
	$(PY) -m pytest -q --durations=25 -n 2 --dist loadfile --no-loadscope-reorder

demo: $(VENV)/.installed
	$(VENV)/bin/lagnest demo

$(VENV)/.bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test,bench]"
	touch $@

# Benchmarks (benchmarks/run_all.py): MODE=quick (default) reruns the short scripts at small
# sizes into a temporary folder and rebuilds benchmarks/RESULTS.md; MODE=full reruns every
# script at the sizes of the committed results (hours) and rewrites benchmarks/results/.
MODE ?= quick
bench: $(VENV)/.bench
	$(PY) benchmarks/run_all.py --mode $(MODE)

bench-full: $(VENV)/.bench
	$(PY) benchmarks/run_all.py --mode full

$(VENV)/.docs: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test,docs]"
	touch $@

# The documentation site (Sphinx + MyST + numpydoc) in docs/_build/html; warnings are errors.
docs: $(VENV)/.docs
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) docs/_build docs/generated
