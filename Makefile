# Two commands do all set-up: `make demo` and `make test` (see README).
PYTHON ?= python3
VENV   ?= .venv
# torch is installed first so that nothing pulls a multi-GB CUDA build by accident.
# GPU users: make TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128" demo
TORCH  ?= torch==2.13.0
VIDEO  ?= sample_videos/demo.mp4
PY      = $(VENV)/bin/python

.PHONY: venv test test-fast demo samples bench weights eval-weights clean mmpose

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

# The README's benchmarks, with its commands; each JSON records the machine's load
# (a run on a busy machine is marked "valid": false; add --require-idle to refuse it instead).
bench: $(VENV)/.installed samples mmpose
	$(PY) bench/lifter_speed.py --json bench/lifter_speed.json --rounds 2
	$(PY) bench/pipeline_speed.py --video sample_videos/cam01.mp4 --max-people 1 --two-people sample_videos/demo.mp4 --sizes 720x1280 --long-size 720x1280 --loops 5 --repeat 3 --json bench/pipeline_speed.json
	$(PY) bench/identity_check.py --json bench/identity_check.json
	$(PY) bench/detector_threads.py --json bench/detector_threads.json
	$(PY) bench/motion_quality.py --json bench/motion_quality.json
	$(PY) bench/camera_check.py --json bench/camera_check.json
	$(PY) bench/live_latency.py --video sample_videos/demo.mp4 --json bench/live_latency.json
	$(PY) bench/pipeline_speed.py --compare-detectors blazepose mmpose --video sample_videos/demo.mp4 --sizes 1280x720 --max-people 2 --frames 90 --json bench/detector_speed.json
	if command -v xvfb-run >/dev/null; then xvfb-run -a -s "-screen 0 2400x1000x24" $(PY) bench/live_latency.py --video sample_videos/demo.mp4 --people 1 --window --json bench/live_latency_window.json; else echo "xvfb-run not found (apt-get install xvfb): the window run is skipped"; fi

# The shipped weights (weights/), trained on ../shared/data (not in git; README "The open mocap
# data") with the epochs the shipped runs finished (weights/*.json, MODEL_CARD.md; kept in step by
# tests/test_figures.py). EPOCHS applies to PGFormer and the MLP baseline.
EPOCHS ?= 8
weights: $(VENV)/.installed
	$(PY) lifter/train.py --preset openmocap_pgformer --epochs $(EPOCHS) --out runs/openmocap_pgformer
	$(PY) lifter/train.py --preset openmocap_diffpyramid --pose-model runs/openmocap_pgformer/best.safetensors \
		--epochs 3 --out runs/openmocap_diffpyramid
	$(PY) lifter/train.py --preset openmocap_mlp --epochs $(EPOCHS) --out runs/openmocap_mlp
	$(PY) weights/ship.py
	$(MAKE) eval-weights

eval-weights: $(VENV)/.installed
	$(PY) bench/evaluate_shipped.py --mlp runs/openmocap_mlp/best.safetensors
	$(PY) weights/make_model_card.py


# The optional mmpose + mmdet detector (--detector mmpose) in the same venv: mmcv's ops are
# compiled from source the first time (about 11 minutes on 2 cores; pip's wheel cache keeps the
# wheel), then this is a quick no-op. See .ci/install_mmpose.sh.
mmpose: $(VENV)/.installed
	VENV=$(VENV) .ci/install_mmpose.sh

clean:
	rm -rf $(VENV) outputs .pytest_cache
