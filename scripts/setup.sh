#!/usr/bin/env bash
# Create (or reuse) the virtual environment .venv inside the checkout and install the
# toolkit with its test extras and the peers (the field's optimizers, whose tests run in the
# suite). torch is pinned and installed first: an unpinned torch would pull a multi-GB CUDA
# build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
PYTHON=.venv/bin/python sh scripts/install_peers.sh >/dev/null
# A 'compat' editable install puts the checkout on sys.path through a plain .pth line; the
# default one (also the peers script's) imports a finder (and pathlib) in Python's own
# start-up: 10 ms in which a Ctrl-C lands before any hpo code can handle it (docs/tuning.md).
# Setuptools calls the mode transitional: the default is the fallback.
.venv/bin/python -m pip install --quiet -e ".[test]" --config-settings editable_mode=compat 2>/dev/null \
    || .venv/bin/python -m pip install --quiet -e ".[test]"
