#!/usr/bin/env bash
# Install the optional mmpose + mmdet detector stack (`--detector mmpose`,
# detectors/mmpose_backend.py) into the project's venv: `make mmpose` runs this.
#
# Why not `pip install -e ".[mmpose]"`: mmcv 2.1.0 has no wheel for this torch, so its ops are
# compiled from source (about 11 minutes on 2 cores, once per machine: pip's wheel cache keeps the
# built wheel), and mmcv, mmengine and mmpose declare `opencv-python` (which would go next to the
# project's opencv-contrib-python and shadow it), mmpose also `torchvision` (no CPU build for this
# torch; the backend avoids every module that imports it) and `chumpy` (not needed). So the four
# OpenMMLab packages go in with --no-deps, and only the runtime dependencies they import are added,
# with torch and numpy held at the versions already installed.
#
# Idempotent: a quick no-op when everything already imports at the pinned versions.
# Environment: VENV (default .venv), MAX_JOBS (compile jobs, default: the number of CPUs),
# FORCE_CUDA (1: also compile the CUDA ops, with a CUDA build of torch; default 0).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
MMCV=2.1.0
MMENGINE=0.10.7
MMDET=3.3.0
MMPOSE=1.3.2
XTCOCOTOOLS=1.14.3
# What the backend's imports of the four packages need (found by importing them with less):
# mmengine: addict, rich, termcolor, yapf, and pkg_resources at run time (mmengine resolves
# "mmdet::" config bases with it; setuptools 81 removed it); mmdet: pycocotools, shapely, six,
# terminaltables; mmpose: munkres, xtcocotools. matplotlib, scipy, numpy, pillow, pyyaml,
# packaging and tqdm are already dependencies of this project. Not installed: opencv-python
# (opencv-contrib-python provides cv2), torchvision, chumpy, json-tricks (unused here).
RUNTIME_DEPS=("setuptools<81" addict rich termcolor yapf pycocotools shapely six terminaltables munkres)

say() { echo "[install_mmpose] $*"; }

if [ ! -x "$PY" ]; then
    echo "[install_mmpose] $PY not found: run 'make venv' first" >&2
    exit 1
fi

check() {
    "$PY" - "$MMCV" "$MMENGINE" "$MMDET" "$MMPOSE" <<'EOF'
import importlib.util
import sys
import mmcv, mmengine, mmdet, mmpose
from mmcv.ops import nms  # the compiled ops, built for the torch in use
import xtcocotools.mask, pycocotools.mask  # compiled against the numpy in use
want = dict(zip(("mmcv", "mmengine", "mmdet", "mmpose"), sys.argv[1:]))
got = {"mmcv": mmcv.__version__, "mmengine": mmengine.__version__, "mmdet": mmdet.__version__,
       "mmpose": mmpose.__version__}
bad = {k: v for k, v in got.items() if v != want[k]}
if bad:
    raise SystemExit(f"wrong versions: {bad}, want {want}")
missing = [m for m in ("pkg_resources", "addict", "rich", "termcolor", "yapf", "shapely", "six",
                       "terminaltables", "munkres") if importlib.util.find_spec(m) is None]
if missing:
    raise SystemExit(f"missing modules: {missing}")
EOF
}

if check >/dev/null 2>&1; then
    say "mmcv $MMCV (with ops), mmengine $MMENGINE, mmdet $MMDET, mmpose $MMPOSE already installed in $VENV"
    exit 0
fi

start=$(date +%s)
# torch and numpy stay as they are: every install below is constrained to them.
constraints="$(mktemp)"
tools="$(mktemp -d)"
trap 'rm -rf "$constraints" "$tools"' EXIT
"$PY" - > "$constraints" <<'EOF'
from importlib.metadata import version
for name in ("torch", "numpy", "opencv-contrib-python"):
    print(f"{name}=={version(name)}")
EOF
say "holding: $(tr '\n' ' ' < "$constraints")"
pip_install() { "$PY" -m pip install --disable-pip-version-check -c "$constraints" "$@"; }

say "runtime dependencies: ${RUNTIME_DEPS[*]}"
say "(pip's notes that mmengine/mmcv/mmpose 'require opencv-python' or xtcocotools 'cython' are expected)"
pip_install -q "${RUNTIME_DEPS[@]}"

say "mmengine $MMENGINE (--no-deps)"
pip_install -q --no-deps "mmengine==$MMENGINE"

mmcv_ok() { "$PY" -c "import mmcv, mmcv.ops, sys; sys.exit(mmcv.__version__ != '$MMCV')" >/dev/null 2>&1; }
build_mmcv() {  # extra pip options in "$@"
    # mmcv's setup.py imports torch (so no build isolation: it builds against the venv's torch,
    # with the venv's setuptools<81, whose pkg_resources it imports); ninja (in a throw-away
    # folder put on PATH) compiles MAX_JOBS files at a time.
    [ -x "$tools/bin/ninja" ] || "$PY" -m pip install -q --disable-pip-version-check --target "$tools" ninja
    say "mmcv $MMCV with ops, from source unless pip's wheel cache has it" \
        "(about 11 minutes on 2 cores the first time)"
    local mmcv_start
    mmcv_start=$(date +%s)
    PATH="$tools/bin:$PATH" MMCV_WITH_OPS=1 FORCE_CUDA="${FORCE_CUDA:-0}" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
        pip_install --no-build-isolation --no-deps "$@" "mmcv==$MMCV"
    say "mmcv took $(( $(date +%s) - mmcv_start )) s"
}
if mmcv_ok; then
    say "mmcv $MMCV with ops already installed"
else
    build_mmcv
    if ! mmcv_ok; then
        # An mmcv (installed, or from pip's wheel cache) built for another torch: build it again.
        say "this mmcv does not load with torch $("$PY" -c 'import torch; print(torch.__version__)'): rebuilding it"
        build_mmcv --no-cache-dir --force-reinstall
    fi
fi

say "mmdet $MMDET and mmpose $MMPOSE (--no-deps: no opencv-python, torchvision, chumpy)"
pip_install -q --no-deps "mmdet==$MMDET" "mmpose==$MMPOSE"

say "xtcocotools $XTCOCOTOOLS"
pip_install -q --no-deps "xtcocotools==$XTCOCOTOOLS"
if ! "$PY" -c "import xtcocotools.mask" >/dev/null 2>&1; then
    # The wheel was compiled against another numpy ABI: rebuild it against the one in use.
    say "xtcocotools' wheel does not load with this numpy: rebuilding it from source"
    "$PY" -m pip install -q --disable-pip-version-check --target "$tools" cython
    PATH="$tools/bin:$PATH" PYTHONPATH="$tools${PYTHONPATH:+:$PYTHONPATH}" pip_install -q --no-deps --force-reinstall \
        --no-build-isolation --no-binary xtcocotools "xtcocotools==$XTCOCOTOOLS"
fi

if ! check; then
    echo "[install_mmpose] the installed stack does not import (see above)" >&2
    exit 1
fi
if "$PY" -m pip list 2>/dev/null | grep -iE '^(opencv-python|opencv-python-headless) '; then
    echo "[install_mmpose] warning: opencv-python is installed next to opencv-contrib-python" \
        "(both provide cv2): pip uninstall it" >&2
fi
say "done in $(( $(date +%s) - start )) s"
