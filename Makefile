# Two commands do all set-up: `make demo` and `make test` (see README).
PYTHON ?= python3
VENV   ?= .venv
# torch is installed first so that nothing pulls a multi-GB CUDA build by accident.
# GPU users: make TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128" demo
TORCH  ?= torch==2.13.0
VIDEO  ?= sample_videos/demo.mp4
PY      = $(VENV)/bin/python

.PHONY: venv test test-fast demo samples bench clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[test]"
	touch $@

venv: $(VENV)/.installed

test: $(VENV)/.installed
	$(PY) -m pytest

test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not heavy"

samples: $(VENV)/.installed
	$(PY) sample_videos/fetch.py

demo: $(VENV)/.installed samples
	$(PY) demo/vis.py --video $(VIDEO)

bench: $(VENV)/.installed
	$(PY) bench/lifter_speed.py --json bench/lifter_speed.json

clean:
	rm -rf $(VENV) outputs .pytest_cache
